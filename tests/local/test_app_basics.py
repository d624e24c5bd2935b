"""The local backend's account, catalogue and a first job: whoami, hardware, run, inspect, logs."""

from __future__ import annotations

import httpx2
import pytest

from hfjobs_mcp.local import LocalBackend

from .util import log_text, py, run, wait_stage

pytestmark = pytest.mark.timeout(60)


@pytest.mark.slow
def test_whoami_answers_the_configured_user_and_orgs(api: httpx2.Client) -> None:
    me = api.get("/api/whoami-v2").json()
    assert me["name"] == "alice"
    assert [o["name"] for o in me["orgs"]] == ["myorg"]
    for key in ("auth", "type", "id", "name", "fullname", "avatarUrl", "isPro", "orgs"):
        assert key in me


@pytest.mark.slow
def test_hardware_lists_26_priced_flavors_without_auth(backend: LocalBackend) -> None:
    flavors = httpx2.get(f"{backend.url}/api/jobs/hardware").json()
    assert len(flavors) == 26
    basic = next(f for f in flavors if f["name"] == "cpu-basic")
    assert basic["unitCostMicroUSD"] == 167
    assert basic["unitLabel"] == "minute"
    assert basic["accelerator"] is None
    a10g = next(f for f in flavors if f["name"] == "a10g-large")
    assert a10g["accelerator"]["model"] == "A10G"
    assert a10g["unitCostUSD"] == 0.025


@pytest.mark.slow
def test_agent_harnesses_needs_no_auth(backend: LocalBackend) -> None:
    r = httpx2.get(f"{backend.url}/api/agent-harnesses")
    assert r.json() == {"standardEnvVars": [], "harnesses": {}}


@pytest.mark.slow
def test_a_job_runs_to_completed_and_its_output_is_logged(api: httpx2.Client) -> None:
    job = run(api, py("print('hello from a job')"))
    assert job["status"]["stage"] == "SCHEDULING"
    assert job["type"] == "job"
    assert job["owner"]["name"] == "alice"
    done = wait_stage(api, job["id"])
    assert done["status"] == {"stage": "COMPLETED", "message": None}
    assert done["startedAt"]
    assert done["finishedAt"]
    assert set(done["durations"]) == {"schedulingSecs", "runningSecs", "totalSecs"}
    assert log_text(api, job["id"]) == ["hello from a job"]
