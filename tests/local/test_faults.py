"""Fault injection: the grammar, each fault kind over real HTTP, and run-time add/clear."""

from __future__ import annotations

import json
import math
import time

import httpx2
import pytest

from hfjobs_mcp.local import FaultSpecError, LocalBackend, LocalConfig
from hfjobs_mcp.local.faults import parse_spec
from tests.backends import serve_backend

from .util import py, run, wait_stage

pytestmark = pytest.mark.timeout(60)


def test_the_grammar() -> None:
    rules = parse_spec(" 429:retry_after=2:times=3 , 503:path=/api/jobs/*:method=get:skip=1,drop-after-create,cut-logs")
    assert [r.kind for r in rules] == ["429", "503", "drop-after-create", "cut-logs"]
    assert (rules[0].retry_after, rules[0].times, rules[0].method, rules[0].path) == (2, 3, None, None)
    assert (rules[1].method, rules[1].path, rules[1].skip, rules[1].times) == ("GET", "/api/jobs/*", 1, 1)
    assert (rules[2].method, rules[2].path) == ("POST", "/api/jobs/*")
    assert (rules[3].path, rules[3].after) == ("/api/jobs/*/*/logs", 1)
    assert parse_spec("500:times=inf")[0].times == math.inf
    assert parse_spec("") == []
    assert rules[1].matches("GET", "/api/jobs/alice")
    assert not rules[1].matches("GET", "/api/jobs/alice/123")
    assert parse_spec("502:path=/api/**")[0].matches("PUT", "/api/jobs/a/b/labels")


@pytest.mark.parametrize(
    "bad", ["418", "429:retry_after", "429:retry_after=soon", "500:color=red", "cut-logs:after=-1"]
)
def test_bad_specs_are_refused(bad: str) -> None:
    with pytest.raises(FaultSpecError):
        parse_spec(bad)


@pytest.mark.slow
def test_429_has_retry_after_then_the_request_passes(api: httpx2.Client, backend: LocalBackend) -> None:
    backend.faults.add("429:retry_after=3:times=2:path=/api/whoami-v2")
    for _ in range(2):
        r = api.get("/api/whoami-v2")
        assert r.status_code == 429
        assert r.headers["retry-after"] == "3"
        assert "error" in r.json()
        assert "date" in r.headers
    assert api.get("/api/whoami-v2").status_code == 200
    assert backend.faults.history == [("429", "GET", "/api/whoami-v2")] * 2


@pytest.mark.slow
@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx(api: httpx2.Client, backend: LocalBackend, status: int) -> None:
    backend.faults.add(f"{status}:method=GET:path=/api/jobs/*:skip=1")
    assert api.get("/api/jobs/alice").status_code == 200  # skipped
    assert api.get("/api/jobs/hardware").status_code == status
    assert api.post("/api/jobs/alice", json={}).status_code == 400  # method does not match
    assert api.get("/api/jobs/alice").status_code == 200  # times=1 by default


@pytest.mark.slow
def test_faults_from_the_config_and_clear(tmp_path: object, fast_config: LocalConfig) -> None:
    import dataclasses

    cfg = dataclasses.replace(fast_config, faults="503:times=inf:path=/api/whoami-v2")
    with (
        serve_backend(cfg) as b,
        httpx2.Client(base_url=b.url, headers={"authorization": f"Bearer {b.token}"}) as api,
    ):
        assert [api.get("/api/whoami-v2").status_code for _ in range(3)] == [503] * 3
        b.faults.clear()
        assert api.get("/api/whoami-v2").status_code == 200


@pytest.mark.slow
def test_drop_after_create_is_a_transport_error_but_the_job_exists(api: httpx2.Client, backend: LocalBackend) -> None:
    backend.faults.add("drop-after-create")
    with pytest.raises(httpx2.RemoteProtocolError):
        api.post("/api/jobs/alice", json=py("print('created anyway')", labels={"submission": "abc123"}))
    (job,) = api.get("/api/jobs/alice", params={"label": "submission=abc123"}).json()
    assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED"
    # Fired once: the next submission gets its answer.
    assert api.post("/api/jobs/alice", json=py("print(2)")).status_code == 200


@pytest.mark.slow
def test_drop_after_create_waits_for_a_request_that_creates_something(
    api: httpx2.Client, backend: LocalBackend
) -> None:
    backend.faults.add("drop-after-create")
    assert api.post("/api/jobs/alice", json={"command": ["x"]}).status_code == 400  # nothing created: no drop
    assert api.post("/api/jobs/alice/abc/cancel").status_code == 404  # not the create path
    with pytest.raises(httpx2.RemoteProtocolError):
        api.post("/api/jobs/alice", json=py("print(1)"))
    assert backend.faults.history == [("drop-after-create", "POST", "/api/jobs/alice")]


@pytest.mark.slow
def test_cut_logs_closes_the_stream_abruptly_after_n_events(api: httpx2.Client, backend: LocalBackend) -> None:
    job = run(api, py("for i in range(10): print(i)"))
    wait_stage(api, job["id"])
    backend.faults.add("cut-logs:after=3")
    events = []
    with pytest.raises(httpx2.RemoteProtocolError), api.stream("GET", f"/api/jobs/alice/{job['id']}/logs") as r:  # noqa: PT012
        for line in r.iter_lines():
            if line.startswith("data: "):
                events.append(json.loads(line[6:])["data"])
    assert events[1:] == ["0", "1"]
    # The next connection replays everything.
    with api.stream("GET", f"/api/jobs/alice/{job['id']}/logs") as r:
        assert len([x for x in r.iter_lines() if x.startswith("data: ")]) == 11


@pytest.mark.slow
def test_cut_logs_on_a_live_stream(api: httpx2.Client, backend: LocalBackend) -> None:
    backend.faults.add("cut-logs:after=2")
    job = run(api, py("import time\nfor i in range(3):\n    print(i, flush=True); time.sleep(0.3)"))
    start = time.monotonic()
    with pytest.raises(httpx2.RemoteProtocolError), api.stream("GET", f"/api/jobs/alice/{job['id']}/logs") as r:
        for _ in r.iter_lines():
            pass
    assert time.monotonic() - start < 5
    assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED"
