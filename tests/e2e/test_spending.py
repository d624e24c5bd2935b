"""Spending consent (design §5.1) through real MCP sessions on the local backend.

The local backend prices flavors like the Hub (cpu-basic $0.01/h, a100-large $2.50/h), so the same thresholds
apply in a rehearsal as in a paid run.
"""

from __future__ import annotations

from typing import Any

import pytest

from hfjobs_mcp.api import JobInfo
from hfjobs_mcp.tools.outcomes import next_for
from hfjobs_mcp.tools.views import JobView
from tests.e2e.conftest import MODES, Asked, forbid, text

pytestmark = pytest.mark.anyio

PRICEY = {"image": "python:3.12", "command": ["true"], "flavor": "a100-large"}  # $2.50/h x 30 min = $1.25
CHEAP = {"image": "python:3.12", "command": ["true"]}  # cpu-basic: $0.005 for 30 min
forbid("spend-secret-value-0042")


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_over_threshold_asks_and_under_does_not(session_factory: Any, mode: str) -> None:
    asked = Asked(action="accept")
    async with session_factory(mode=mode, elicitation=asked) as s:
        await s.ok("run_job", CHEAP)
        assert asked.prompts == []
        out = await s.ok("run_job", PRICEY)
        assert out["job"]["flavor"] == "a100-large"
        assert len(asked.prompts) == 1
        assert "may spend up to $1.25 per run (above $1.00)" in asked.prompts[0]
        assert "a100-large" in asked.prompts[0]
        await s.ok("cancel_job", {"job_id": out["job"]["id"]})


@pytest.mark.slow
async def test_decline_sends_nothing(session_factory: Any) -> None:
    asked = Asked(action="decline")
    async with session_factory(elicitation=asked) as s:
        before = len(await s.api.list_jobs())
        result = await s.call("run_job", PRICEY)
        assert result.is_error
        assert "nothing was sent" in text(result)
        assert len(await s.api.list_jobs()) == before


@pytest.mark.slow
async def test_threshold_zero_asks_for_every_paid_job_and_none_never(session_factory: Any) -> None:
    asked = Asked(action="accept")
    async with session_factory(elicitation=asked, confirm_above=0.0) as s:
        await s.ok("run_job", CHEAP)
        assert len(asked.prompts) == 1
    never = Asked(action="decline")
    async with session_factory(elicitation=never, confirm_above=None) as s:
        out = await s.ok("run_job", PRICEY)
        assert never.prompts == []
        await s.ok("cancel_job", {"job_id": out["job"]["id"]})


@pytest.mark.slow
async def test_schedule_daily_ceiling(session_factory: Any) -> None:
    asked = Asked(action="decline")
    async with session_factory(elicitation=asked) as s:
        every_minute = {"schedule": "* * * * *", **CHEAP}
        dry = await s.ok("schedule_job", {**every_minute, "dry_run": True})
        assert dry["runs_per_day"] == 1440
        assert dry["daily_ceiling_usd"] == pytest.approx(7.2)
        assert any("/day" in r for r in dry["cost"]["needs_approval"])
        refused = await s.call("schedule_job", every_minute)
        assert refused.is_error
        assert "up to $7.20/day" in asked.prompts[-1]
        daily = await s.ok("schedule_job", {"schedule": "@daily", **CHEAP})
        assert len(asked.prompts) == 1
        await s.ok("delete_scheduled_job", {"scheduled_job_id": daily["scheduled_job"]["id"]})


async def test_hard_caps_say_which_cap(session_factory: Any) -> None:
    async with session_factory(elicitation=Asked(), max_price_per_job=1.0, max_timeout=600) as s:
        price = await s.call("run_job", {**CHEAP, "flavor": "a100x8", "timeout": "10m"})
        assert price.is_error
        assert "$3.33, above this server's cap of $1.00 per job" in text(price)
        default = await s.call("run_job", CHEAP)
        assert default.is_error
        assert "1800s" in text(default), "the 30-minute default timeout counts against the cap"
        timeout = await s.call("run_job", {**CHEAP, "timeout": "20m"})
        assert timeout.is_error
        assert "600s" in text(timeout)


@pytest.mark.slow
async def test_namespace_rules(session_factory: Any) -> None:
    asked = Asked(action="decline")
    async with session_factory(elicitation=asked) as s:
        before = len(await s.api.list_jobs(namespace="myorg"))
        other = await s.call("run_job", {**CHEAP, "namespace": "myorg"})
        assert other.is_error
        assert "bills namespace 'myorg', not your default 'alice'" in asked.prompts[-1]
        assert len(await s.api.list_jobs(namespace="myorg")) == before
    quiet = Asked(action="decline")
    async with session_factory(elicitation=quiet, allowed_namespaces=("myorg",)) as s:
        out = await s.ok("run_job", {**CHEAP, "namespace": "myorg"})
        assert out["job"]["namespace"] == "myorg"
        assert quiet.prompts == []
    async with session_factory(elicitation=Asked(), only_namespaces=("alice",)) as s:
        refused = await s.call("run_job", {**CHEAP, "namespace": "myorg"})
        assert refused.is_error
        assert "not allowed" in text(refused)


async def test_one_prompt_lists_every_reason(session_factory: Any) -> None:
    asked = Asked(action="decline")
    env = {"SPEND_SECRET": "spend-secret-value-0042"}
    async with session_factory(elicitation=asked, environ=env) as s:
        args = {**PRICEY, "namespace": "myorg", "secrets": ["SPEND_SECRET"]}
        dry = await s.ok("run_job", {**args, "dry_run": True})
        reasons = dry["cost"]["needs_approval"]
        assert len(reasons) == 3
        result = await s.call("run_job", args)
        assert result.is_error
        assert len(asked.prompts) == 1
        prompt = asked.prompts[0]
        assert "SPEND_SECRET" in prompt
        assert "may spend" in prompt
        assert "bills namespace 'myorg'" in prompt


@pytest.mark.slow
async def test_rerun_and_trigger_spend_under_the_same_rules(session_factory: Any) -> None:
    yes = Asked(action="accept")
    async with session_factory(elicitation=yes) as s:
        job = (await s.ok("run_job", {**PRICEY, "command": ["sleep", "30"]}))["job"]
        await s.ok("cancel_job", {"job_id": job["id"]})
        sched = (await s.ok("schedule_job", {"schedule": "@yearly", **PRICEY}))["scheduled_job"]
    no = Asked(action="decline")
    async with session_factory(elicitation=no) as s:
        before = len(await s.api.list_jobs())
        rerun = await s.call("rerun_job", {"job_id": job["id"]})
        assert rerun.is_error
        assert "copy of job" in no.prompts[-1]
        trigger = await s.call("trigger_scheduled_job", {"scheduled_job_id": sched["id"]})
        assert trigger.is_error
        assert "one run of scheduled job" in no.prompts[-1]
        assert len(await s.api.list_jobs()) == before
        await s.ok("delete_scheduled_job", {"scheduled_job_id": sched["id"]})


@pytest.mark.slow
async def test_no_credits_is_a_clear_result(session_factory: Any, backend: Any) -> None:
    async with session_factory() as s:
        backend.faults.add("402:method=POST:path=/api/jobs/*")
        try:
            result = await s.call("run_job", CHEAP)
        finally:
            backend.faults.clear()
        assert result.is_error
        error = (result.structured_content or {})["error"]
        assert error["type"] == "PaymentRequiredError"
        assert "huggingface.co/settings/billing" in error["hint"]


@pytest.mark.slow
def test_a_job_canceled_for_credits_says_where_to_add_them() -> None:
    job = JobInfo.model_validate(
        {
            "id": "abc",
            "owner": {"id": "1", "name": "alice", "type": "user"},
            "status": {"stage": "CANCELED", "message": None, "cancelReason": "NO_CREDITS"},
            "flavor": "a10g-small",
        }
    )
    step = next_for(JobView.of(job, endpoint="http://x"))
    assert "huggingface.co/settings/billing" in step
    assert "no credits" in step
