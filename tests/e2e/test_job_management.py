"""Tools that let an agent stop what it started, see what it spent, and learn why a job failed (issue 19).

Real MCP sessions against the local backend, which prices flavors like the Hub and serves the billing-usage route.
"""

from __future__ import annotations

from typing import Any

import pytest

from hfjobs_mcp.api import JobSpec
from tests.e2e.conftest import Asked, text

pytestmark = pytest.mark.anyio

PY = "python:3.12"


def _py(code: str, **extra: Any) -> dict[str, Any]:
    return {"image": PY, "command": ["python", "-c", code], **extra}


async def _ended(s: Any, job_id: str) -> dict[str, Any]:
    return await s.ok("wait_for_job", {"job_id": job_id, "timeout_seconds": 60})


# --- failure triage -----------------------------------------------------------------------------------------------

TRACEBACK = "print('loading data')\ndef step():\n    raise ValueError('bad learning rate: -1')\nstep()\n"


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "kind", "code", "said"),
    [
        (_py(TRACEBACK), "script_error", 1, "ValueError: bad learning rate: -1"),
        (_py("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"), "oom", 137, None),
        (_py("import time; time.sleep(30)", timeout="2s"), "timeout", None, None),
        ({"image": PY, "command": ["hfjobs-no-such-executable"]}, "start_failure", None, None),
    ],
)
async def test_a_failed_job_says_why_without_a_second_call(
    session_factory: Any, args: dict[str, Any], kind: str, code: int | None, said: str | None
) -> None:
    async with session_factory() as s:
        job = (await s.ok("run_job", args))["job"]
        waited = await _ended(s, job["id"])
        assert waited["job"]["stage"] == "ERROR"
        failure = waited["failure"]
        assert failure["kind"] == kind
        assert failure["exit_code"] == code
        assert failure["what_to_do"]
        if said:
            assert failure["last_lines"][0].startswith("Traceback (most recent call last)")
            assert failure["last_lines"][-1] == said
            assert "loading data" not in failure["last_lines"]
        inspected = await s.ok("inspect_job", {"job_id": job["id"]})
        assert inspected["failure"]["kind"] == kind
        assert f"failure: {kind}" in text(s.results[-1])


@pytest.mark.slow
async def test_a_canceled_job_says_who_canceled_it_and_a_completed_one_has_no_failure(session_factory: Any) -> None:
    async with session_factory() as s:
        job = (await s.ok("run_job", _py("import time; time.sleep(60)")))["job"]
        await s.ok("wait_for_job", {"job_id": job["id"], "until_stage": "RUNNING", "timeout_seconds": 30})
        canceled = await s.ok("cancel_job", {"job_id": job["id"]})
        assert canceled["failure"] == {
            **canceled["failure"],
            "kind": "canceled",
            "canceled_by": "user",
        }
        ok = (await s.ok("run_job", _py("print('fine')")))["job"]
        assert (await _ended(s, ok["id"]))["failure"] is None


@pytest.mark.slow
async def test_failure_lines_are_masked(session_factory: Any) -> None:
    secret = "failure-secret-value-31337"
    asked = Asked()
    async with session_factory(elicitation=asked, environ={"MY_SECRET": secret}) as s:
        code = "import os; raise SystemExit('boom ' + os.environ['MY_SECRET'])"
        job = (await s.ok("run_job", {**_py(code), "secrets": ["MY_SECRET"]}))["job"]
        failure = (await _ended(s, job["id"]))["failure"]
        assert failure["last_lines"] == ["boom ***"]


# --- cost and spend ---------------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_every_job_view_carries_its_cost(session_factory: Any) -> None:
    async with session_factory() as s:
        job = (await s.ok("run_job", _py("import time; time.sleep(1.5)", flavor="t4-small", timeout="10m")))["job"]
        assert job["cost"]["price_per_hour_usd"] == 0.4
        assert job["cost"]["ceiling_usd"] == pytest.approx(0.4 * 600 / 3600, abs=1e-4)
        running = await s.ok("wait_for_job", {"job_id": job["id"], "until_stage": "RUNNING", "timeout_seconds": 30})
        if running["job"]["stage"] == "RUNNING":
            assert running["job"]["cost"]["so_far_usd"] is not None
            assert running["job"]["cost"]["actual_usd"] is None
        done = await _ended(s, job["id"])
        cost = done["job"]["cost"]
        assert cost["so_far_usd"] is None
        assert cost["actual_usd"] == pytest.approx(0.4 * done["job"]["running_seconds"] / 3600, rel=0.05, abs=1e-4)
        listed = await s.ok("list_jobs", {"limit": 5})
        assert all(j["cost"] is not None for j in listed["jobs"])


@pytest.mark.slow
async def test_spend_report_sums_by_flavor_and_label_with_schedules(session_factory: Any) -> None:
    async with session_factory() as s:
        for flavor, team in (("t4-small", "a"), ("cpu-upgrade", "b")):
            job = (await s.ok("run_job", _py("import time; time.sleep(1)", flavor=flavor, labels={"team": team})))[
                "job"
            ]
            await _ended(s, job["id"])
        await s.api.create_scheduled_job(
            JobSpec(image=PY, command=["true"], flavor="t4-small", timeout="30m"), schedule="@hourly"
        )
        own = await s.ok("spend_report", {"hours": 1})
        assert own["source"] == "billing usage"
        assert own["by_flavor"]["t4-small"] > 0
        assert own["by_label"]["team=a"] > 0
        assert own["by_label"]["team=b"] > 0
        assert not any(k.startswith("hfjobs-mcp-submission") for k in own["by_label"])
        assert own["spent_usd"] == pytest.approx(sum(own["by_flavor"].values()), abs=1e-5)
        hourly = [sc for sc in own["schedules"] if sc["schedule"] == "@hourly"]
        assert [sc["daily_ceiling_usd"] for sc in hourly] == [pytest.approx(4.8, rel=1e-3)]  # 24 x $0.40 x 30 min
        org = await s.ok("spend_report", {"namespace": "myorg"})
        assert org["source"] == "job list"
        assert any("own account" in n for n in org["notes"])
        for sj in await s.api.list_scheduled_jobs():
            await s.api.delete_scheduled_job(sj.id)


# --- wait for several jobs --------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_wait_for_jobs_all_any_and_by_label(session_factory: Any) -> None:
    async with session_factory() as s:
        fast = (await s.ok("run_job", _py("print(1)", labels={"sweep": "s1"})))["job"]
        bad = (await s.ok("run_job", _py("raise SystemExit(2)", labels={"sweep": "s1"})))["job"]
        slow = (await s.ok("run_job", _py("import time; time.sleep(60)", labels={"sweep": "s1"})))["job"]
        anyone = await s.ok("wait_for_jobs", {"job_ids": [fast["id"], slow["id"]], "until": "any"})
        assert anyone["done"] is True
        assert [w["job"]["id"] for w in anyone["ended"]] == [fast["id"]]
        assert [v["id"] for v in anyone["pending"]] == [slow["id"]]
        await s.ok("cancel_job", {"job_id": slow["id"]})
        everyone = await s.ok("wait_for_jobs", {"labels": {"sweep": "s1"}, "timeout_seconds": 60})
        assert everyone["done"] is True
        ended = {w["job"]["id"]: w for w in everyone["ended"]}
        assert set(ended) == {fast["id"], bad["id"], slow["id"]}
        assert ended[bad["id"]]["failure"]["kind"] == "script_error"
        assert ended[slow["id"]]["failure"]["kind"] == "canceled"
        assert ended[fast["id"]]["failure"] is None
        short = await s.ok("wait_for_jobs", {"job_ids": [fast["id"]], "timeout_seconds": 0.5})
        assert short["done"] is True
        neither = await s.call("wait_for_jobs", {})
        assert neither.is_error
        assert "either `job_ids` or `labels`" in text(neither)


# --- labels, schedules and webhooks: change and stop what was started -------------------------------------------


async def test_update_job_labels(session_factory: Any) -> None:
    async with session_factory() as s:
        job = (await s.ok("run_job", _py("print(1)", labels={"team": "a"})))["job"]
        out = await s.ok("update_job_labels", {"job_id": job["id"], "labels": {"team": "a", "best": "true"}})
        assert out["job"]["labels"] == {"team": "a", "best": "true"}
        found = await s.ok("list_jobs", {"labels": {"best": "true"}})
        assert [j["id"] for j in found["jobs"]] == [job["id"]]


@pytest.mark.slow
async def test_update_scheduled_job_asks_only_when_it_runs_more_often(session_factory: Any) -> None:
    asked = Asked(action="accept", approve=False)
    async with session_factory(elicitation=asked) as s:
        sj = await s.api.create_scheduled_job(
            JobSpec(image=PY, command=["true"], flavor="a10g-small", timeout="30m"), schedule="@daily"
        )
        slower = await s.ok("update_scheduled_job", {"scheduled_job_id": sj.id, "schedule": "0 0 * * 1"})
        assert slower["scheduled_job"]["schedule"] == "0 0 * * 1"
        assert asked.prompts == []
        faster = await s.call("update_scheduled_job", {"scheduled_job_id": sj.id, "schedule": "*/5 * * * *"})
        assert faster.is_error
        assert "$144.00/day" in asked.prompts[0]
        assert (await s.api.inspect_scheduled_job(sj.id)).schedule == "0 0 * * 1"
        labels = await s.ok("update_scheduled_job", {"scheduled_job_id": sj.id, "labels": {"team": "eval"}})
        assert labels["scheduled_job"]["schedule"] == "0 0 * * 1"
        assert (await s.api.inspect_scheduled_job(sj.id)).job_spec.labels == {"team": "eval"}
        never = await s.call("update_scheduled_job", {"scheduled_job_id": sj.id, "schedule": "0 0 30 2 *"})
        assert "never runs" in text(never)
        await s.api.delete_scheduled_job(sj.id)


@pytest.mark.slow
async def test_webhooks_can_be_listed_disabled_enabled_and_deleted(session_factory: Any) -> None:
    asked = Asked()
    async with session_factory(elicitation=asked) as s:
        job = (await s.ok("run_job", _py("print(1)", flavor="t4-small")))["job"]
        hook = (await s.ok("create_job_webhook", {"job_id": job["id"], "watched": [{"type": "model", "name": "a/m"}]}))[
            "webhook"
        ]
        listed = {w["id"]: w for w in (await s.ok("list_job_webhooks", {}))["webhooks"]}
        assert "t4-small" in listed[hook["id"]]["job"]
        assert listed[hook["id"]]["disabled"] is False
        off = await s.ok("disable_job_webhook", {"webhook_id": hook["id"]})
        assert off["webhook"]["disabled"] is True
        prompts = len(asked.prompts)
        on = await s.ok("enable_job_webhook", {"webhook_id": hook["id"]})
        assert on["webhook"]["disabled"] is False
        assert len(asked.prompts) == prompts + 1  # enabling starts paid runs again: asked like creating
        assert "no limit on events" in asked.prompts[-1]
        await s.ok("delete_job_webhook", {"webhook_id": hook["id"]})
        assert hook["id"] not in {w.id for w in await s.api.list_webhooks()}
