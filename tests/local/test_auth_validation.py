"""Auth (401/403), unknown ids (404) and request validation (400 naming the field) of the local backend."""

from __future__ import annotations

from typing import Any

import httpx2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hfjobs_mcp.local import LocalBackend

from .util import py, spec

pytestmark = pytest.mark.timeout(60)

ROUTES = [
    ("GET", "/api/whoami-v2"),
    ("GET", "/api/jobs/alice"),
    ("POST", "/api/jobs/alice"),
    ("GET", "/api/jobs/alice/count"),
    ("GET", "/api/jobs/alice/0123456789abcdef01234567"),
    ("GET", "/api/jobs/alice/0123456789abcdef01234567/logs"),
    ("POST", "/api/jobs/alice/0123456789abcdef01234567/cancel"),
    ("GET", "/api/scheduled-jobs/alice"),
    ("POST", "/api/scheduled-jobs/alice/0123456789abcdef01234567/run"),
    ("GET", "/api/settings/webhooks"),
]


@pytest.mark.slow
def test_missing_or_wrong_token_is_401(backend: LocalBackend) -> None:
    for method, path in ROUTES:
        for auth in (None, "Bearer wrong-token", "Basic abc", "Bearer", f"bearer {backend.token}x"):
            headers = {"authorization": auth} if auth is not None else {}
            r = httpx2.request(method, backend.url + path, headers=headers, json={})
            assert r.status_code == 401, (method, path, auth)
            assert isinstance(r.json()["error"], str)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/jobs/bob"),
        ("POST", "/api/jobs/bob"),
        ("GET", "/api/jobs/bob/count"),
        ("GET", "/api/jobs/bob/0123456789abcdef01234567"),
        ("GET", "/api/scheduled-jobs/bob"),
        ("POST", "/api/scheduled-jobs/otherorg"),
    ],
)
def test_a_namespace_that_is_not_the_users_nor_its_orgs_is_403(sapi: httpx2.Client, method: str, path: str) -> None:
    r = sapi.request(method, path, json=spec("true"))
    assert r.status_code == 403
    assert "bob" in r.json()["error"] or "otherorg" in r.json()["error"]


@pytest.mark.slow
def test_the_users_org_is_a_namespace(api: httpx2.Client) -> None:
    r = api.post("/api/jobs/myorg", json=py("print(1)"))
    assert r.status_code == 200
    assert r.json()["owner"] == {**r.json()["owner"], "name": "myorg", "type": "org"}


@pytest.mark.parametrize(
    "path",
    [
        "/api/jobs/alice/0123456789abcdef01234567",
        "/api/jobs/alice/nope/logs",
        "/api/jobs/alice/nope/metrics",
        "/api/scheduled-jobs/alice/nope",
        "/api/settings/webhooks/nope",
    ],
)
def test_unknown_ids_are_404_with_an_error(sapi: httpx2.Client, path: str) -> None:
    r = sapi.get(path)
    assert r.status_code == 404
    assert "not found" in r.json()["error"].lower()


@pytest.mark.slow
def test_a_job_is_not_found_under_another_namespace(api: httpx2.Client) -> None:
    job = api.post("/api/jobs/alice", json=py("print(1)")).json()
    assert api.get(f"/api/jobs/myorg/{job['id']}").status_code == 404


def test_unknown_routes_answer_json_404(sapi: httpx2.Client) -> None:
    r = sapi.get("/api/nothing-here")
    assert r.status_code == 404
    assert "error" in r.json()


BAD_BODIES: list[tuple[dict[str, Any], str]] = [
    ({"command": ["x"]}, "flavor"),
    (spec("x", flavor="gpu-huge"), "flavor"),
    (spec("x", environment={"A": "1"}), "environment.A"),
    (spec("x", environment={"1BAD": "1"}), "environment.1BAD"),
    (spec("x", environment={"OK_KEY": 1}), "environment.OK_KEY"),
    (spec("x", secrets={"BAD-NAME": "v"}), "secrets.BAD-NAME"),
    (spec("x", timeoutSeconds=0), "timeoutSeconds"),
    (spec("x", timeoutSeconds="300"), "timeoutSeconds"),
    (spec("x", timeoutSeconds=1.5), "timeoutSeconds"),
    (spec("x", attempts=0), "attempts"),
    (spec("x", labels={"bad key": "v"}), "labels.bad key"),
    (spec("x", labels={"k": "bad value"}), "labels.k"),
    (spec("x", labels={"k": "v" * 101}), "labels.k"),
    (spec("x", volumes=[]), "volumes"),
    (spec("x", volumes=[{"type": "dataset", "source": "a/b", "mountPath": "data"}]), "volumes.0.mountPath"),
    (spec("x", volumes=[{"type": "disk", "source": "a/b", "mountPath": "/d"}]), "volumes.0.type"),
    (spec("x", expose={"ports": [70000]}), "expose.ports.0"),
    (spec("x", expose={"ports": list(range(1, 22))}), "expose.ports"),
    (spec("x", expose={"ports": [8000], "portsPublic": [9000]}), "portsPublic"),
    (spec("x", expose={"portsPublic": []}), "expose.ports"),
    (spec("x", resourceGroupId="xyz"), "resourceGroupId"),
    (spec("x", arch="riscv"), "arch"),
    (spec(), "command"),
    (spec(""), "command.0"),
    ({**spec("x"), "command": "echo hi"}, "command"),
]


@pytest.mark.parametrize(("body", "field"), BAD_BODIES, ids=[f for _, f in BAD_BODIES])
def test_invalid_job_specs_are_400_naming_the_field(sapi: httpx2.Client, body: dict[str, Any], field: str) -> None:
    before = sapi.get("/api/jobs/alice/count").json()["count"]
    r = sapi.post("/api/jobs/alice", json=body)
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]
    assert sapi.get("/api/jobs/alice/count").json()["count"] == before  # nothing was created


def test_invalid_json_and_non_objects_are_400(sapi: httpx2.Client) -> None:
    r = sapi.post("/api/jobs/alice", content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert "JSON" in r.json()["error"]
    assert sapi.post("/api/jobs/alice", json=[1, 2]).status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"jobSpec": spec("x"), "schedule": "every minute"}, "schedule"),
        ({"jobSpec": spec("x"), "schedule": "* * * *"}, "schedule"),
        ({"jobSpec": spec("x"), "schedule": "99 * * * *"}, "schedule"),
        ({"jobSpec": spec("x"), "schedule": "0 0 * * * *"}, "schedule"),
        ({"jobSpec": spec("x", environment={"A": "1"}), "schedule": "@daily"}, "jobSpec.environment.A"),
        ({"jobSpec": spec("x"), "schedule": "@daily", "suspend": "yes"}, "suspend"),
        ({"schedule": "@daily"}, "jobSpec"),
    ],
)
def test_invalid_scheduled_jobs_are_400(sapi: httpx2.Client, body: dict[str, Any], field: str) -> None:
    r = sapi.post("/api/scheduled-jobs/alice", json=body)
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("query", "field"), [({"stage": "FINISHED"}, "stage"), ({"label": "a b"}, "label"), ({"cursor": "x"}, "cursor")]
)
def test_invalid_list_filters_are_400(sapi: httpx2.Client, query: dict[str, str], field: str) -> None:
    r = sapi.get("/api/jobs/alice", params=query)
    assert r.status_code == 400
    assert field in r.json()["error"]


@pytest.mark.slow
def test_invalid_tail_is_400(api: httpx2.Client) -> None:
    job = api.post("/api/jobs/alice", json=py("print(1)")).json()
    r = api.get(f"/api/jobs/alice/{job['id']}/logs", params={"tail": "-1"})
    assert r.status_code == 400
    assert "tail" in r.json()["error"]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
_fields = st.sampled_from(
    ["command", "environment", "secrets", "flavor", "timeoutSeconds", "attempts", "labels", "volumes", "expose"]
)


@pytest.mark.slow
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.dictionaries(_fields, _json, max_size=4))
def test_fuzzed_bodies_get_400_never_a_server_error(sapi: httpx2.Client, body: dict[str, Any]) -> None:
    # Without a valid flavor nothing can be valid, so every fuzzed body must be refused cleanly.
    body.pop("flavor", None)
    r = sapi.post("/api/jobs/alice", json=body)
    assert r.status_code == 400
    assert r.json()["error"]
