"""Scheduled jobs: create, echo, list, suspend/resume, trigger (409 on overlap), reschedule, labels, cron firing."""

from __future__ import annotations

import time
from datetime import datetime

import httpx2
import pytest

from .util import FakeClock, py, spec, wait_stage

pytestmark = pytest.mark.timeout(60)


def _ts(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _create(
    api: httpx2.Client, job: dict[str, object], schedule: str = "@hourly", **extra: object
) -> dict[str, object]:
    r = api.post("/api/scheduled-jobs/alice", json={"jobSpec": job, "schedule": schedule, **extra})
    assert r.status_code == 200, r.text
    body: dict[str, object] = r.json()
    return body


@pytest.mark.slow
def test_create_echoes_the_spec_with_timeout_and_secret_names(api: httpx2.Client) -> None:
    sj = _create(
        api,
        spec("echo", "hi", secrets={"TOK": "value-not-echoed"}, timeoutSeconds=300, labels={"name": "n"}),
        "@hourly",
    )
    assert sj["type"] == "scheduled-job"
    assert sj["schedule"] == "@hourly"
    assert sj["suspend"] is False
    assert sj["concurrency"] is False
    job_spec = sj["jobSpec"]
    assert isinstance(job_spec, dict)
    assert job_spec["timeout"] == 300
    assert "timeoutSeconds" not in job_spec
    assert job_spec["secrets"] == ["TOK"]
    assert "value-not-echoed" not in str(sj)
    status = sj["status"]
    assert isinstance(status, dict)
    assert status["lastJob"] is None
    next_run = _ts(status["nextJobRunAt"])
    assert time.time() < next_run <= time.time() + 3600
    assert datetime.fromtimestamp(next_run).minute == 0
    assert api.get(f"/api/scheduled-jobs/alice/{sj['id']}").json() == sj


@pytest.mark.slow
def test_list_filters_by_label_and_delete_removes(api: httpx2.Client) -> None:
    a = _create(api, spec("true", labels={"team": "a"}))
    b = _create(api, spec("true", labels={"team": "b"}), "0 9 * * 1")
    assert [s["id"] for s in api.get("/api/scheduled-jobs/alice").json()] == [b["id"], a["id"]]
    assert [s["id"] for s in api.get("/api/scheduled-jobs/alice", params={"label": "team=a"}).json()] == [a["id"]]
    assert api.delete(f"/api/scheduled-jobs/alice/{a['id']}").status_code == 200
    assert api.get(f"/api/scheduled-jobs/alice/{a['id']}").status_code == 404
    assert api.delete(f"/api/scheduled-jobs/alice/{a['id']}").status_code == 404
    assert api.get("/api/scheduled-jobs/myorg").json() == []


@pytest.mark.slow
def test_suspend_resume_reschedule_and_labels(api: httpx2.Client) -> None:
    sj = _create(api, spec("true"), "@daily", suspend=True)
    assert sj["suspend"] is True
    path = f"/api/scheduled-jobs/alice/{sj['id']}"
    assert api.post(f"{path}/resume").status_code == 200
    assert api.get(path).json()["suspend"] is False
    assert api.post(f"{path}/suspend").status_code == 200
    assert api.get(path).json()["suspend"] is True
    moved = api.post(f"{path}/schedule", json={"schedule": "30 6 * * *"}).json()
    assert moved["schedule"] == "30 6 * * *"
    assert datetime.fromtimestamp(_ts(moved["status"]["nextJobRunAt"])).minute == 30
    assert api.post(f"{path}/schedule", json={"schedule": "nope"}).status_code == 400
    labeled = api.put(f"{path}/labels", json={"labels": {"x": "y"}}).json()
    assert labeled["jobSpec"]["labels"] == {"x": "y"}


@pytest.mark.slow
def test_trigger_runs_now_and_409s_an_overlap_unless_concurrency(api: httpx2.Client) -> None:
    sj = _create(api, py("import time; time.sleep(30)"))
    r = api.post(f"/api/scheduled-jobs/alice/{sj['id']}/run")
    assert r.status_code == 200
    job = r.json()
    assert job["type"] == "job"
    assert job["initiator"] == {"type": "scheduled-job", "id": sj["id"]}
    wait_stage(api, job["id"], {"RUNNING"})
    again = api.post(f"/api/scheduled-jobs/alice/{sj['id']}/run")
    assert again.status_code == 409
    assert again.json() == {
        "error": "Another job is already running at the same time, set `concurrency` to allow multiple "
        "instances of scheduled jobs to run concurrently"
    }
    last = api.get(f"/api/scheduled-jobs/alice/{sj['id']}").json()["status"]["lastJob"]
    assert last["id"] == job["id"]
    assert last["at"].endswith("Z")
    api.post(f"/api/jobs/alice/{job['id']}/cancel")
    wait_stage(api, job["id"])
    assert api.post(f"/api/scheduled-jobs/alice/{sj['id']}/run").status_code == 200

    parallel = _create(api, py("import time; time.sleep(30)"), concurrency=True)
    first = api.post(f"/api/scheduled-jobs/alice/{parallel['id']}/run").json()
    second = api.post(f"/api/scheduled-jobs/alice/{parallel['id']}/run")
    assert second.status_code == 200
    for j in (first, second.json()):
        api.post(f"/api/jobs/alice/{j['id']}/cancel")


@pytest.mark.slow
def test_a_due_schedule_fires_with_the_scheduled_job_as_initiator(api: httpx2.Client, clock: FakeClock) -> None:
    sj = _create(api, py("print('tick')", labels={"from": "cron"}), "* * * * *")
    idle = _create(api, spec("true", labels={"from": "suspended"}), "* * * * *", suspend=True)
    next_run = _ts(sj["status"]["nextJobRunAt"])
    assert next_run - time.time() <= 60
    clock.offset = next_run - time.time() + 1  # the scheduler's clock passes the due time
    end = time.time() + 10
    while not (jobs := api.get("/api/jobs/alice", params={"label": "from=cron"}).json()):
        assert time.time() < end, "the schedule did not fire"
        time.sleep(0.05)
    (job,) = jobs
    assert job["initiator"] == {"type": "scheduled-job", "id": sj["id"]}
    assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED"
    after = api.get(f"/api/scheduled-jobs/alice/{sj['id']}").json()
    assert after["status"]["lastJob"]["id"] == job["id"]
    assert _ts(after["status"]["nextJobRunAt"]) > next_run
    assert api.get("/api/jobs/alice", params={"label": "from=suspended"}).json() == []
    assert api.get(f"/api/scheduled-jobs/alice/{idle['id']}").json()["status"]["lastJob"] is None


@pytest.mark.slow
def test_a_due_schedule_is_skipped_while_its_last_run_goes_on(api: httpx2.Client, clock: FakeClock) -> None:
    sj = _create(api, py("import time; time.sleep(30)", labels={"s": "busy"}), "* * * * *")
    first = api.post(f"/api/scheduled-jobs/alice/{sj['id']}/run").json()
    wait_stage(api, first["id"], {"RUNNING"})
    clock.offset = 120
    time.sleep(0.5)  # several scheduler ticks
    assert [j["id"] for j in api.get("/api/jobs/alice", params={"label": "s=busy"}).json()] == [first["id"]]
    api.post(f"/api/jobs/alice/{first['id']}/cancel")
