"""The secrets policy end to end (design §5): by name only, the user's yes first, never leaked.

Real jobs on the local backend print the secret they received; the tests check the job got the value and that
nothing the server returned or logged shows it. Values here are fake.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from hfjobs_mcp.policy.approvals import Approvals
from tests.e2e.conftest import MODES, Asked, forbid, text

pytestmark = pytest.mark.anyio

SECRET = "s3cret-value-for-e2e-7f3a9c"
ENV = {"MY_SECRET": SECRET, "SHORT": "abc"}
PRINT_IT = ["python", "-c", "import os; print('got', os.environ['MY_SECRET'])"]
forbid(SECRET, "another-secret-value-1234")


def _leaks(s: Any, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every place the secret value shows up in what the server returned or logged."""
    found = []
    for i, result in enumerate(s.results):
        if SECRET in text(result) or SECRET in repr(result.structured_content):
            found.append(f"tool result #{i}")
    found += [f"log: {r.name}" for r in caplog.records if SECRET in r.getMessage()]
    return found


async def _raw_log_lines(s: Any, job_id: str) -> list[str]:
    return [line.text async for line in s.api.stream_logs(job_id)]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_accepted_secret_reaches_the_job_and_is_masked_everywhere(
    session_factory: Any, mode: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    asked = Asked(action="accept")
    async with session_factory(mode=mode, elicitation=asked, environ=ENV) as s:
        out = await s.ok("run_job", {"image": "python:3.12", "command": PRINT_IT, "secrets": ["MY_SECRET"]})
        job_id = out["job"]["id"]
        assert len(asked.prompts) == 1
        prompt = asked.prompts[0]
        assert "MY_SECRET" in prompt
        assert "alice" in prompt
        assert "python:3.12" in prompt
        assert SECRET not in prompt
        assert out["job"]["secrets"] == ["MY_SECRET"]
        await s.ok("wait_for_job", {"job_id": job_id, "timeout_seconds": 60})
        assert f"got {SECRET}" in await _raw_log_lines(s, job_id), "the job did not receive the value"
        logs = await s.ok("fetch_logs", {"job_id": job_id})
        assert [ln["text"] for ln in logs["lines"]] == ["got ***"]
        audit = [r.getMessage() for r in caplog.records if r.name == "hfjobs_mcp.audit"]
        assert len(audit) == 1
        assert "MY_SECRET" in audit[0]
        assert job_id in audit[0]
        assert "elicitation" in audit[0]
        assert not _leaks(s, caplog)
    # A new server process knows nothing of what was forwarded, but masks it all the same.
    async with session_factory(mode=mode, environ=ENV) as fresh:
        logs = await fresh.ok("fetch_logs", {"job_id": job_id})
        assert [ln["text"] for ln in logs["lines"]] == ["got ***"]
        assert not _leaks(fresh, caplog)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("answer", ["decline", "cancel", "no"])
async def test_declined_or_cancelled_sends_nothing(session_factory: Any, mode: str, answer: str) -> None:
    asked = Asked(action="accept", approve=False) if answer == "no" else Asked(action=answer)
    async with session_factory(mode=mode, elicitation=asked, environ=ENV) as s:
        before = len(await s.api.list_jobs())
        result = await s.call("run_job", {"image": "python:3.12", "command": PRINT_IT, "secrets": ["MY_SECRET"]})
        assert result.is_error
        assert "nothing was sent" in text(result)
        assert len(asked.prompts) == 1
        assert len(await s.api.list_jobs()) == before


@pytest.mark.slow
async def test_no_elicitation_code_round_trip(session_factory: Any) -> None:
    args = {"image": "python:3.12", "command": PRINT_IT, "secrets": ["MY_SECRET"]}
    async with session_factory(environ=ENV, confirm_via="code") as s:
        before = len(await s.api.list_jobs())
        first = await s.call("run_job", args)
        assert first.is_error
        err = (first.structured_content or {})["error"]
        assert err["type"] == "ConfirmationRequired"
        assert err["plan"]["secrets"] == ["MY_SECRET"]
        assert "confirm=" in err["hint"]
        code = err["confirm"]
        changed = await s.call("run_job", {**args, "flavor": "cpu-upgrade", "confirm": code})
        assert changed.is_error
        assert "different request" in text(changed)
        assert len(await s.api.list_jobs()) == before
        # The mismatch burnt that code: a fresh one is needed.
        second = (await s.call("run_job", args)).structured_content or {}
        code2 = second["error"]["confirm"]
        ok = await s.ok("run_job", {**args, "confirm": code2})
        assert ok["job"]["secrets"] == ["MY_SECRET"]
        assert len(await s.api.list_jobs()) == before + 1
        reused = await s.call("run_job", {**args, "confirm": code2})
        assert reused.is_error
        assert "already used" in text(reused)
        assert len(await s.api.list_jobs()) == before + 1


async def test_expired_code_is_refused(session_factory: Any) -> None:
    now = [1000.0]
    args = {"image": "python:3.12", "command": PRINT_IT, "secrets": ["MY_SECRET"]}
    async with session_factory(environ=ENV, confirm_via="code") as s:
        # The server copies the base context per call, so it picks up the clocked approvals from the same object.
        s.context.approvals = Approvals(clock=lambda: now[0])
        first = await s.call("run_job", args)
        code = (first.structured_content or {})["error"]["confirm"]
        now[0] += 601
        late = await s.call("run_job", {**args, "confirm": code})
        assert late.is_error
        assert "expired" in text(late)


async def test_strict_policy_refuses_without_elicitation(session_factory: Any) -> None:
    async with session_factory(environ=ENV, secrets_policy="strict") as s:
        result = await s.call("run_job", {"image": "python:3.12", "command": PRINT_IT, "secrets": ["MY_SECRET"]})
        assert result.is_error
        assert "elicitation" in text(result)
        assert "confirm=" not in text(result)


async def test_strict_policy_with_elicitation_asks(session_factory: Any) -> None:
    asked = Asked(action="accept")
    async with session_factory(environ=ENV, secrets_policy="strict", elicitation=asked) as s:
        await s.ok("run_job", {"image": "python:3.12", "command": PRINT_IT, "secrets": ["MY_SECRET"]})
        assert len(asked.prompts) == 1


async def test_allowlist_forwards_listed_names_without_asking(session_factory: Any) -> None:
    asked = Asked(action="decline")
    async with session_factory(
        environ={**ENV, "OTHER": "another-secret-value-1234"},
        secrets_policy="allowlist",
        allow_secrets=("MY_SECRET",),
        elicitation=asked,
    ) as s:
        out = await s.ok("run_job", {"image": "python:3.12", "command": PRINT_IT, "secrets": ["MY_SECRET"]})
        assert out["job"]["secrets"] == ["MY_SECRET"]
        assert asked.prompts == []
        before = len(await s.api.list_jobs())
        refused = await s.call("run_job", {"image": "python:3.12", "command": ["true"], "secrets": ["OTHER"]})
        assert refused.is_error
        assert "allow list" in text(refused)
        assert len(await s.api.list_jobs()) == before


async def test_deny_policy_never_forwards(session_factory: Any) -> None:
    asked = Asked(action="accept")
    async with session_factory(environ=ENV, secrets_policy="deny", elicitation=asked) as s:
        before = len(await s.api.list_jobs())
        result = await s.call("run_job", {"image": "python:3.12", "command": PRINT_IT, "secrets": ["MY_SECRET"]})
        assert result.is_error
        assert "never forwards" in text(result)
        assert len(await s.api.list_jobs()) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    "entry",
    [
        "MY_SECRET=" + SECRET,
        "hf_abcdefghijklmnopqrstuvwxyzABCDEF",
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "AKIAIOSFODNN7EXAMPLE",
        "-----BEGIN PRIVATE KEY-----",
        "has space",
    ],
)
async def test_values_in_secrets_are_refused_without_echo(session_factory: Any, entry: str) -> None:
    asked = Asked(action="accept")
    async with session_factory(environ=ENV, elicitation=asked) as s:
        result = await s.call("run_job", {"image": "python:3.12", "command": ["true"], "secrets": [entry]})
        assert result.is_error
        assert entry not in text(result)
        assert entry not in repr(result.structured_content)
        assert asked.prompts == []


async def test_secret_looking_env_value_is_refused_with_a_hint(session_factory: Any) -> None:
    async with session_factory(environ=ENV) as s:
        value = "hf_abcdefghijklmnopqrstuvwxyzABCDEF"
        result = await s.call("run_job", {"image": "python:3.12", "command": ["true"], "env": {"HF_TOKEN": value}})
        assert result.is_error
        assert "secrets" in text(result)
        assert value not in text(result)


async def test_missing_and_short_secrets(session_factory: Any) -> None:
    async with session_factory(environ=ENV, elicitation=Asked()) as s:
        missing = await s.call("run_job", {"image": "x", "command": ["true"], "secrets": ["NOPE", "NADA"]})
        assert missing.is_error
        # Named by position, never repeated: an entry with no value may be a password typed as a name.
        assert "secrets[0], secrets[1]" in text(missing)
        assert "NOPE" not in text(missing)
        assert "NADA" not in text(missing)
        short = await s.call("run_job", {"image": "x", "command": ["true"], "secrets": ["SHORT"]})
        assert short.is_error
        assert "shorter than 8" in text(short)


@pytest.mark.slow
async def test_hf_token_comes_from_the_servers_own_token(session_factory: Any, backend: Any) -> None:
    asked = Asked(action="accept")
    async with session_factory(environ={}, elicitation=asked) as s:
        code = "import os; print('token', os.environ['HF_TOKEN'])"
        out = await s.ok(
            "run_job", {"image": "python:3.12", "command": ["python", "-c", code], "secrets": ["HF_TOKEN"]}
        )
        await s.ok("wait_for_job", {"job_id": out["job"]["id"], "timeout_seconds": 60})
        assert f"token {backend.token}" in await _raw_log_lines(s, out["job"]["id"])
        logs = await s.ok("fetch_logs", {"job_id": out["job"]["id"]})
        assert [ln["text"] for ln in logs["lines"]] == ["token ***"]


@pytest.mark.slow
async def test_schedule_and_webhook_ask_too(session_factory: Any) -> None:
    asked = Asked(action="decline")
    async with session_factory(environ=ENV, elicitation=asked) as s:
        sched = await s.call(
            "schedule_job",
            {"schedule": "@daily", "image": "python:3.12", "command": ["true"], "secrets": ["MY_SECRET"]},
        )
        assert sched.is_error
        assert "RECURS" in asked.prompts[-1]
        assert await s.api.list_scheduled_jobs() == [] or all(
            "MY_SECRET" not in sj.job_spec.secrets for sj in await s.api.list_scheduled_jobs()
        )
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["true"]}))["job"]
        hooks_before = len(await s.api.list_webhooks())
        hook = await s.call(
            "create_job_webhook",
            {"job_id": job["id"], "watched": [{"type": "model", "name": "a/m"}], "secrets": ["MY_SECRET"]},
        )
        assert hook.is_error
        assert len(await s.api.list_webhooks()) == hooks_before


@pytest.mark.slow
async def test_spending_above_threshold_needs_a_yes(session_factory: Any) -> None:
    asked = Asked(action="decline")
    async with session_factory(elicitation=asked) as s:
        before = len(await s.api.list_jobs())
        pricey = await s.call("run_job", {"image": "python:3.12", "command": ["true"], "flavor": "a100-large"})
        assert pricey.is_error
        assert "may spend up to $1.25" in asked.prompts[-1]
        assert len(await s.api.list_jobs()) == before
        cheap = await s.ok("run_job", {"image": "python:3.12", "command": ["true"]})
        assert len(asked.prompts) == 1
        assert cheap["job"]["flavor"] == "cpu-basic"


@pytest.mark.slow
async def test_hard_caps_refuse_outright(session_factory: Any) -> None:
    asked = Asked(action="accept")
    async with session_factory(elicitation=asked, max_price_per_job=0.5, max_timeout=3600) as s:
        over = await s.call("run_job", {"image": "x", "command": ["true"], "flavor": "a100-large"})
        assert over.is_error
        assert "cap" in text(over)
        long = await s.call("run_job", {"image": "x", "command": ["true"], "timeout": "2h"})
        assert long.is_error
        assert "3600" in text(long)
        assert asked.prompts == []
