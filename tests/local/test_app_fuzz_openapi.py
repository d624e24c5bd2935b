"""Schemathesis over the Hub's own OpenAPI document, against a real local backend: no 5xx, every body schema-valid.

Every operation of ``tests/data/openapi-jobs.json`` gets requests that schemathesis generates from the document,
valid ones (positive) and invalid ones (negative: wrong types, missing fields, out-of-range values), sent over
real HTTP to a backend on 127.0.0.1. Each answer must be below 500, and its body must match the document (the
``check_against_openapi`` hook of the local tests' client; 4xx bodies are ``{"error": ...}``). A manual run of
about 131,000 such requests found no 5xx, and the issue-22 probes found four by hand; this keeps the search in
the suite, bounded (:data:`EXAMPLES` per operation, about 20 s in all).

To reach past the 401/403/404 checks, most cases are sent with the right token, the user's namespace and ids that
exist (a job, a scheduled job, a webhook made first); the rest keep what schemathesis generated. Job-creating
operations run what they are given, so a command that could be valid is replaced by ``/bin/true`` (a harmless
program that ignores its arguments) before it is sent; an invalid one is left as it is, refused with a 400.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import schemathesis
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from hfjobs_mcp.local import LocalBackend
from tests.backends import backend_config, serve_backend
from tests.openapi import OAS_FILE

from .conftest import client
from .util import TOKEN, spec

EXAMPLES = 30
TRUE = shutil.which("true") or "/bin/true"
SCHEMA = schemathesis.openapi.from_path(OAS_FILE)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalBackend, dict[str, str]]]:
    """A backend of its own, with one job, one scheduled job and one webhook whose ids the cases may use."""
    cfg = backend_config(
        state_dir=tmp_path_factory.mktemp("fuzz") / "state",
        token=TOKEN,
        user="alice",
        orgs=("myorg",),
        keepalive_interval=0.2,
        metrics_interval=0.1,
        kill_grace_seconds=0.5,
    )
    with serve_backend(cfg) as backend, client(backend) as api:
        job = api.post("/api/jobs/alice", json=spec(TRUE)).json()
        sched = api.post("/api/scheduled-jobs/alice", json={"jobSpec": spec(TRUE), "schedule": "0 3 1 1 *"}).json()
        hook = api.post(
            "/api/settings/webhooks",
            json={"watched": [{"type": "user", "name": "alice"}], "domains": ["repo"], "url": "https://example.org/h"},
        ).json()["webhook"]
        yield backend, {"job": job["id"], "scheduled": sched["id"], "webhook": hook["id"]}


def _harmless(spec_: Any) -> None:
    """Make a job spec that the backend could accept run ``/bin/true`` (its arguments are ignored)."""
    command = spec_.get("command") if isinstance(spec_, dict) else None
    if isinstance(command, list) and all(isinstance(part, str) for part in command):
        spec_["command"] = [TRUE]


def _prepare(case: Any, ids: dict[str, str], use_real: bool, namespace: str) -> None:
    if use_real:
        params = case.path_parameters
        if "namespace" in params:
            params["namespace"] = namespace
        if "jobId" in params:
            params["jobId"] = ids["scheduled"] if case.path.startswith("/api/scheduled-jobs") else ids["job"]
        if "webhookId" in params:
            params["webhookId"] = ids["webhook"]
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKEN}"}
    body = case.body
    if isinstance(body, dict):
        _harmless(body)
        _harmless(body.get("jobSpec"))
        _harmless(body.get("job"))


def _send(api: httpx2.Client, case: Any) -> httpx2.Response:
    """The request schemathesis would send (its own serialization: JSON, raw bytes, no body), through httpx2."""
    sent = case.as_transport_kwargs(base_url=str(api.base_url).rstrip("/"))
    kwargs: dict[str, Any] = {"headers": sent.get("headers"), "params": sent.get("params") or None}
    if "json" in sent:
        kwargs["json"] = sent["json"]
    elif "data" in sent:
        kwargs["content"] = sent["data"]
    if case.path.endswith(("/logs", "/metrics")):
        kwargs["timeout"] = 10  # a stream of a running job stays open until the job ends
    return api.request(sent["method"], sent["url"], **kwargs)


@pytest.mark.slow
@pytest.mark.parametrize("operation", OPERATIONS, ids=[f"{op.method.upper()} {op.path}" for op in OPERATIONS])
def test_generated_requests_get_no_5xx_and_schema_valid_answers(
    fuzzed: tuple[LocalBackend, dict[str, str]], operation: Any
) -> None:
    backend, ids = fuzzed
    # One keep-alive client for all the cases of an operation: a 413 or 500 that closes its connection must not
    # fail the next case. The token goes only with the cases that keep it (see _prepare).
    api = client(backend)
    api.headers.pop("authorization")
    cases = st.one_of(
        operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )

    @given(case=cases, use_real=st.booleans() | st.just(True), namespace=st.sampled_from(["alice", "myorg", "bob"]))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    def check(case: Any, use_real: bool, namespace: str) -> None:
        _prepare(case, ids, use_real, namespace)
        try:
            response = _send(api, case)  # the client's hook checks the body against the document
        except httpx2.LocalProtocolError:
            reject()  # a header value no HTTP client can send (h11 refuses it before it leaves)
        assert response.status_code < 500, (case.method, case.formatted_path, case.query, case.body, response.text)

    with api:
        check()


def test_every_operation_of_the_document_is_fuzzed() -> None:
    assert len(OPERATIONS) >= 30  # the document was read whole (a broken load would fuzz nothing)
    assert Path(OAS_FILE).is_file()
