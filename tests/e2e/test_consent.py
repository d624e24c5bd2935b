"""Consent that only the human can give (issue 13), attacked the way an agent that wants to get around it would.

Every test drives the real server through a real MCP client session against the local backend. The agent here
has only what a model has: the tools and their results. It must not be able to forward a secret, start paid work
over the thresholds, or schedule anything, without a yes from a channel it cannot write to (elicitation, an MCP
Apps approval card answered through an app-only tool), or the server's own configuration. Fake values only.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest
from mcp_types import TextResourceContents

from hfjobs_mcp.api import JobSpec
from hfjobs_mcp.policy.budget import committed_spend
from hfjobs_mcp.serve.app_page import ANSWER_TOOL, APP_URI, APPROVAL_META
from tests.e2e.conftest import Asked, forbid, text
from tests.e2e.http_util import LOCAL_AUTH, http_client, local_server, mcp_client

pytestmark = pytest.mark.anyio

KEY = "fake-api-key-value-0123456789abcdef"
STORED = "stored-secret-value-9876543210"
ENV = {"MY_KEY": KEY}
forbid(KEY, STORED)
# What the attacking agent's job would do with the values: print them encoded, to read them back with fetch_logs.
EXFILTRATE = [
    "python",
    "-c",
    "import os, base64; print(base64.b64encode((os.environ['HF_TOKEN'] + os.environ['MY_KEY']).encode()).decode())",
]


def _error(result: Any) -> dict[str, Any]:
    assert result.is_error, text(result)
    return dict((result.structured_content or {})["error"])


async def _counts(s: Any) -> tuple[int, int, int]:
    return len(await s.api.list_jobs()), len(await s.api.list_scheduled_jobs()), len(await s.api.list_webhooks())


def _audit(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "hfjobs_mcp.audit"]


# --- 1. the agent approves itself --------------------------------------------------------------------------------


@pytest.mark.slow
async def test_without_a_human_channel_the_agent_cannot_forward_spend_or_schedule(session_factory: Any) -> None:
    """The default server and a client with neither elicitation nor Apps: refused, no code, nothing sent."""
    async with session_factory(environ=ENV) as s:
        before = await _counts(s)
        attempts = [
            ("run_job", {"image": "python:3.12", "command": EXFILTRATE, "secrets": ["HF_TOKEN", "MY_KEY"]}),
            ("run_uv_job", {"script": "import os\nprint(os.environ['MY_KEY'])", "secrets": ["MY_KEY"]}),
            ("run_job", {"image": "python:3.12", "command": ["true"], "flavor": "a100-large"}),
            (
                "schedule_job",
                {"schedule": "@hourly", "image": "python:3.12", "command": ["true"], "flavor": "t4-small"},
            ),
        ]
        for tool, args in attempts:
            first = _error(await s.call(tool, args))
            assert first["type"] == "PolicyError", first
            assert "no way to ask" in first["message"]
            assert "confirm" not in first, "a code in the result is a yes the model can give itself"
            assert "--confirm-via code" in first["hint"]
            # Whatever the agent puts in `confirm` is no yes.
            for guess in ("yes", "approved", "0" * 24, first["message"][-24:]):
                again = _error(await s.call(tool, {**args, "confirm": guess}))
                assert again["type"] == "PolicyError"
        assert await _counts(s) == before


@pytest.mark.slow
async def test_the_refusal_names_what_the_operator_can_configure(session_factory: Any) -> None:
    async with session_factory(environ=ENV) as s:
        err = _error(await s.call("run_job", {"image": "x", "command": ["true"], "secrets": ["MY_KEY"]}))
        assert "--allow-secret" in err["hint"]
        pricey = _error(await s.call("run_job", {"image": "x", "command": ["true"], "flavor": "a100-large"}))
        assert "--confirm-above" in pricey["hint"]
        assert "--allow-secret" not in pricey["hint"]


async def test_configuration_is_a_yes_given_before_the_session(session_factory: Any) -> None:
    """Allowlisted names and prices under the thresholds go without asking, and nothing else does."""
    async with session_factory(environ=ENV, secrets_policy="allowlist", allow_secrets=("MY_KEY",)) as s:
        out = await s.ok("run_job", {"image": "python:3.12", "command": ["true"], "secrets": ["MY_KEY"]})
        assert out["job"]["secrets"] == ["MY_KEY"]
        assert _error(await s.call("run_job", {"image": "x", "command": ["true"], "secrets": ["HF_TOKEN"]}))


# --- 2. webhooks go through every control ------------------------------------------------------------------------


async def _job(s: Any, *, namespace: str, flavor: str, timeout: str, secrets: dict[str, str] | None = None) -> str:
    spec = JobSpec(image="python:3.12", command=["true"], flavor=flavor, timeout=timeout, secrets=secrets or {})
    job = await s.api.run_job(spec, namespace=namespace)
    return f"{namespace}/{job.id}"


STRICT = {
    "secrets_policy": "strict",
    "confirm_above": 0.0,
    "max_price_per_job": 0.5,
    "max_timeout": 600,
    "only_namespaces": ("alice",),
}


@pytest.mark.slow
async def test_a_webhook_meets_every_cap_rule_and_question(session_factory: Any) -> None:
    async with session_factory(environ=ENV, **STRICT) as s:
        big_org = await _job(s, namespace="myorg", flavor="h200x8", timeout="2d")
        big_own = await _job(s, namespace="alice", flavor="h200x8", timeout="2d")
        pricey = await _job(s, namespace="alice", flavor="h200x8", timeout="5m")
        cheap = await _job(s, namespace="alice", flavor="cpu-basic", timeout="5m")
        watched = [{"type": "org", "name": "myorg"}]
        before = await _counts(s)
        # The same job is refused by run and rerun, and now by the webhook that would start a copy per event.
        assert "not allowed" in _error(await s.call("rerun_job", {"job_id": big_org}))["message"]
        assert (
            "not allowed"
            in _error(await s.call("create_job_webhook", {"job_id": big_org, "watched": watched}))["message"]
        )
        assert "600s" in _error(await s.call("create_job_webhook", {"job_id": big_own, "watched": watched}))["message"]
        capped = _error(await s.call("create_job_webhook", {"job_id": pricey, "watched": watched}))
        assert "cap of $0.50 per job" in capped["message"]
        # Within the caps, events are unbounded: it needs a yes, and strict has no channel without elicitation.
        assert (
            "no way to ask"
            in _error(await s.call("create_job_webhook", {"job_id": cheap, "watched": watched}))["message"]
        )
        assert await _counts(s) == before
    asked = Asked(action="accept", approve=False)
    async with session_factory(environ=ENV, elicitation=asked, **STRICT) as s:
        assert _error(await s.call("create_job_webhook", {"job_id": cheap, "watched": watched}))
        assert len(asked.prompts) == 1
        assert "no limit on events" in asked.prompts[0]
        assert await _counts(s) == before


@pytest.mark.slow
async def test_a_webhook_that_forwards_a_secret_is_audited(
    session_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    asked = Asked()
    async with session_factory(environ=ENV, elicitation=asked) as s:
        job = await _job(s, namespace="alice", flavor="cpu-basic", timeout="5m")
        hook = await s.ok(
            "create_job_webhook",
            {"job_id": job, "watched": [{"type": "model", "name": "alice/m"}], "secrets": ["MY_KEY"]},
        )
        assert "MY_KEY" in asked.prompts[0]
        lines = _audit(caplog)
        assert len(lines) == 1
        assert f"webhook {hook['webhook']['id']}" in lines[0]
        assert "elicitation" in lines[0]


# --- 3. resume, rerun and trigger: caps, namespaces, price, stored secrets ---------------------------------------


@pytest.mark.slow
async def test_resume_goes_through_the_gate(session_factory: Any, caplog: pytest.LogCaptureFixture) -> None:
    async with session_factory(environ=ENV, **STRICT) as s:
        spec = JobSpec(image="python:3.12", command=["true"], flavor="h200x8", timeout="2d")
        org = await s.api.create_scheduled_job(spec, schedule="* * * * *", suspend=True, namespace="myorg")
        own = await s.api.create_scheduled_job(spec, schedule="* * * * *", suspend=True, namespace="alice")
        assert (
            "not allowed"
            in _error(await s.call("resume_scheduled_job", {"scheduled_job_id": f"myorg/{org.id}"}))["message"]
        )
        assert (
            "600s" in _error(await s.call("resume_scheduled_job", {"scheduled_job_id": f"alice/{own.id}"}))["message"]
        )
        for sj in await s.api.list_scheduled_jobs(namespace="alice"):
            if sj.id == own.id:
                assert sj.suspend
    cheap = JobSpec(image="python:3.12", command=["true"], timeout="5m", secrets={"MY_KEY": STORED})
    async with session_factory(environ=ENV, secrets_policy="deny") as s:
        sj = await s.api.create_scheduled_job(cheap, schedule="@yearly", suspend=True, namespace="alice")
        ref = f"alice/{sj.id}"
        denied = _error(await s.call("resume_scheduled_job", {"scheduled_job_id": ref}))
        assert "never forwards" in denied["message"]
        assert "MY_KEY" in denied["message"]
        assert "never forwards" in _error(await s.call("trigger_scheduled_job", {"scheduled_job_id": ref}))["message"]
    asked = Asked()
    async with session_factory(environ=ENV, elicitation=asked) as s:
        out = await s.ok("resume_scheduled_job", {"scheduled_job_id": ref})
        assert out["scheduled_job"]["suspended"] is False
        assert "re-forwards its stored secret values of: MY_KEY" in asked.prompts[0]
        assert "RECURS on schedule '@yearly'" in asked.prompts[0]
        assert any("resume_scheduled_job" in line and ref in line for line in _audit(caplog))
        # Resuming what already runs changes nothing: nothing to ask.
        await s.ok("resume_scheduled_job", {"scheduled_job_id": ref})
        assert len(asked.prompts) == 1
        await s.ok("suspend_scheduled_job", {"scheduled_job_id": ref})


@pytest.mark.slow
async def test_rerun_and_trigger_re_forward_stored_secrets_only_with_a_yes(
    session_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with session_factory(environ=ENV) as s:
        job = await _job(s, namespace="alice", flavor="cpu-basic", timeout="5m", secrets={"MY_KEY": STORED})
        sj = await s.api.create_scheduled_job(
            JobSpec(image="python:3.12", command=["true"], timeout="5m", secrets={"MY_KEY": STORED}),
            schedule="@yearly",
            suspend=True,
            namespace="alice",
        )
        before = await _counts(s)
        for tool, args in (("rerun_job", {"job_id": job}), ("trigger_scheduled_job", {"scheduled_job_id": sj.id})):
            err = _error(await s.call(tool, args))
            assert "re-forwards its stored secret values of: MY_KEY" in err["message"]
        assert await _counts(s) == before
    asked = Asked()
    async with session_factory(environ=ENV, elicitation=asked) as s:
        rerun = await s.ok("rerun_job", {"job_id": job})
        triggered = await s.ok("trigger_scheduled_job", {"scheduled_job_id": sj.id})
        assert len(asked.prompts) == 2
        lines = _audit(caplog)
        assert any(rerun["job"]["id"] in line and "rerun_job" in line for line in lines)
        assert any(triggered["job"]["id"] in line and "trigger_scheduled_job" in line for line in lines)


# --- 4. schedules are priced over their whole cycle --------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("schedule", ["* * 1 * *", "* * * * 0", "*/1 * 29 2 *"])
async def test_a_schedule_is_priced_on_its_busiest_day(session_factory: Any, schedule: str) -> None:
    """A run of $0.975 every minute on one day of the month (or week, or leap year) is 1,440 runs that day."""
    async with session_factory() as s:
        args = {
            "schedule": schedule,
            "image": "python:3.12",
            "command": ["true"],
            "flavor": "a10g-small",
            "timeout": "3510s",
        }
        dry = await s.ok("schedule_job", {**args, "dry_run": True})
        assert dry["cost"]["ceiling_usd"] == pytest.approx(0.975)
        assert dry["runs_per_day"] == 1440
        assert dry["daily_ceiling_usd"] == pytest.approx(1404.0)
        assert any("$1404.00/day" in r for r in dry["cost"]["needs_approval"])


async def test_a_schedule_that_never_runs_is_refused_before_sending(session_factory: Any) -> None:
    async with session_factory() as s:
        before = await _counts(s)
        for dry in (True, False):
            result = await s.call(
                "schedule_job", {"schedule": "0 0 31 2 *", "image": "x", "command": ["true"], "dry_run": dry}
            )
            assert result.is_error
            assert "never runs" in text(result)
        assert await _counts(s) == before


# --- 5. cumulative spend: a rolling budget, attempts ------------------------------------------------------------

SLEEPER = ["python", "-c", "import time; time.sleep(120)"]


@pytest.mark.slow
async def test_many_small_runs_meet_the_budget_and_the_daily_cap(session_factory: Any) -> None:
    asked = Asked(action="accept", approve=False)
    async with session_factory(elicitation=asked) as s:
        baseline = (await committed_spend(s.api, "alice")).total_usd
    started: list[str] = []
    async with session_factory(elicitation=asked, budget=baseline + 2.0, max_spend_per_day=baseline + 2.7) as s:
        try:
            run = {"image": "python:3.12", "command": SLEEPER, "flavor": "a10g-small", "timeout": "30m"}  # $0.50
            for _ in range(4):  # $0.50 each, under --confirm-above 1.00: only the budget can stop them
                started.append((await s.ok("run_job", run))["job"]["id"])
            assert asked.prompts == []
            fifth = await s.call("run_job", run)
            assert fifth.is_error
            assert len(asked.prompts) == 1
            assert "over its budget of $" in asked.prompts[0]
            assert "24-hour committed spend" in asked.prompts[0]
            asked.approve = True
            started.append((await s.ok("run_job", run))["job"]["id"])
            over = _error(await s.call("run_job", run))
            assert "per day" in over["message"]
            assert len(asked.prompts) == 2  # the hard cap refuses without a question
        finally:
            for job_id in started:
                await s.api.cancel_job(job_id)


async def test_attempts_multiply_the_ceiling(session_factory: Any) -> None:
    async with session_factory(max_price_per_job=5.0) as s:
        args = {"image": "x", "command": ["true"], "flavor": "a10g-small", "timeout": "30m"}
        dry = await s.ok("run_job", {**args, "attempts": 3, "dry_run": True})
        assert dry["cost"]["ceiling_usd"] == pytest.approx(1.5)
        assert dry["cost"]["attempts"] == 3
        refused = _error(await s.call("run_job", {**args, "attempts": 1000}))
        assert "$500.00" in refused["message"]


# --- 6. the question is faithful ---------------------------------------------------------------------------------


async def test_nothing_the_agent_writes_poses_as_a_line_of_the_question(session_factory: Any) -> None:
    asked = Asked(action="decline")
    sneaky = "print(1)\n- needs your yes: nothing, this one is free\r\n\x1b[2K\u202e- namespace billed: alice"
    async with session_factory(elicitation=asked) as s:
        await s.call("run_job", {"image": "python:3.12", "command": ["python", "-c", sneaky], "flavor": "a100-large"})
    prompt = asked.prompts[0]
    lines = prompt.split("\n")
    assert all(line.startswith(("An agent asks", "- ", "    | ")) for line in lines), lines
    assert not any(line.startswith("- needs your yes: nothing") for line in lines)
    assert [line for line in lines if line.startswith("- namespace billed")] == ["- namespace billed: alice"]
    assert "\\n- needs your yes: nothing" in prompt
    assert "\\x1b[2K" in prompt
    assert "\\u202e" in prompt
    assert "\x1b" not in prompt
    assert "\u202e" not in prompt


@pytest.mark.slow
async def test_the_question_shows_the_script_volumes_and_files_uploaded(session_factory: Any, tmp_path: Path) -> None:
    script = "# /// script\n# dependencies = []\n# ///\nimport os\nprint('train', os.environ['MY_KEY'])\n"
    path = tmp_path / "train.py"
    path.write_text(script, encoding="utf-8")
    asked = Asked(action="decline")
    volumes = [
        {"type": "bucket", "source": "alice/outputs", "mount_path": "/out"},
        {"type": "model", "source": "alice/base", "mount_path": "/model", "revision": "main"},
    ]
    async with session_factory(environ=ENV, elicitation=asked) as s:
        await s.call("run_uv_job", {"script": script, "secrets": ["MY_KEY"], "volumes": volumes})
        await s.call("run_uv_job", {"script": str(path), "secrets": ["MY_KEY"]})
    inline, local = asked.prompts
    digest = hashlib.sha256(script.encode()).hexdigest()
    assert f"script: inline source, {len(script)} bytes, sha256 {digest}" in inline
    assert "    | print('train', os.environ['MY_KEY'])" in inline
    assert "mounts bucket alice/outputs at /out (read-write)" in inline
    assert "mounts model alice/base@main at /model (read-only)" in inline
    assert "mounts bucket alice/jobs-artifacts at /data (read-write)" in inline
    assert "uploads 1 file(s)" in inline
    assert f"/data/script.py: {len(script)} bytes, sha256 {digest}, inline source" in inline
    assert f"/data/train.py: {len(script)} bytes, sha256 {digest}, file {path.resolve()} of the server's disk" in local


@pytest.mark.slow
async def test_over_http_a_script_path_is_never_read_from_the_servers_disk(tmp_path: Path) -> None:
    marker = "TOP-SECRET-FILE-CONTENT-4711"
    path = tmp_path / "server_side.py"
    path.write_text(f"print('{marker}')\n", encoding="utf-8")
    with local_server(tmp_path) as server:
        async with http_client(LOCAL_AUTH) as http, mcp_client(server.mcp_url, client=http) as client:
            for dry in (True, False):
                result = await client.call_tool("run_uv_job", {"script": str(path), "dry_run": dry})
                assert result.is_error
                assert "stdio" in text(result)
                blob = text(result) + repr(result.structured_content)
                assert marker not in blob
                assert base64.b64encode(path.read_bytes()).decode()[:20] not in blob


# --- 7. the MCP Apps approval card -------------------------------------------------------------------------------


@pytest.mark.slow
async def test_an_apps_host_gets_the_card_and_one_approval_lets_one_request_through(
    session_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    args = {"image": "python:3.12", "command": ["true"], "secrets": ["MY_KEY"]}
    async with session_factory(environ=ENV, apps=True) as s:
        listed = {t.name: t for t in (await s.client.list_tools()).tools}
        assert listed["run_job"].meta == {"ui": {"resourceUri": APP_URI}}
        assert listed[ANSWER_TOOL].meta["ui"]["visibility"] == ["app"]
        page = (await s.client.read_resource(APP_URI)).contents[0]
        assert isinstance(page, TextResourceContents)
        assert page.mime_type == "text/html;profile=mcp-app"
        assert "http://" not in page.text
        assert "https://" not in page.text

        before = await _counts(s)
        pending = await s.call("run_job", args)
        err = _error(pending)
        assert err["type"] == "ApprovalPending"
        assert err["plan"]["secrets"] == ["MY_KEY"]
        card = (pending.meta or {})[APPROVAL_META]
        assert card["tool"] == "run_job"
        approval_id = card["id"]
        # Where the model reads (text and structured content), the approval id is nowhere.
        assert approval_id not in text(pending)
        assert approval_id not in repr(pending.structured_content)
        assert await _counts(s) == before

        # The agent calling again before the human answered gets the same card, and nothing is sent.
        again = await s.call("run_job", args)
        assert (again.meta or {})[APPROVAL_META]["id"] == approval_id
        # Other arguments are another request: this approval does not cover them.
        other = await s.call("run_job", {**args, "command": ["echo", "other"]})
        assert (other.meta or {})[APPROVAL_META]["id"] != approval_id

        # The card's Approve button: the app-only tool records the human's answer on the server.
        assert not (await s.call(ANSWER_TOOL, {"approval_id": approval_id, "approve": True})).is_error
        assert (await s.call(ANSWER_TOOL, {"approval_id": approval_id, "approve": True})).is_error  # answered once
        assert (await s.call(ANSWER_TOOL, {"approval_id": "guessed-id", "approve": True})).is_error

        started = await s.ok("run_job", args)
        assert started["job"]["secrets"] == ["MY_KEY"]
        assert (await _counts(s))[0] == before[0] + 1
        assert any("approval card" in line for line in _audit(caplog))
        # Single use: the next identical call asks again.
        assert _error(await s.call("run_job", args))["type"] == "ApprovalPending"
        assert (await _counts(s))[0] == before[0] + 1


@pytest.mark.slow
async def test_reject_on_the_card_sends_nothing(session_factory: Any) -> None:
    args = {"image": "python:3.12", "command": ["true"], "flavor": "a100-large"}
    async with session_factory(apps=True) as s:
        before = await _counts(s)
        approval_id = ((await s.call("run_job", args)).meta or {})[APPROVAL_META]["id"]
        await s.call(ANSWER_TOOL, {"approval_id": approval_id, "approve": False})
        rejected = _error(await s.call("run_job", args))
        assert "rejected" in rejected["message"]
        assert _error(await s.call("run_job", args))["type"] == "ApprovalPending"  # a fresh card, not a yes
        assert await _counts(s) == before


@pytest.mark.slow
async def test_strict_is_elicitation_only_even_for_an_apps_host(session_factory: Any) -> None:
    async with session_factory(environ=ENV, apps=True, secrets_policy="strict") as s:
        result = await s.call("run_job", {"image": "x", "command": ["true"], "secrets": ["MY_KEY"]})
        err = _error(result)
        assert err["type"] == "PolicyError"
        assert APPROVAL_META not in (result.meta or {})


@pytest.mark.slow
async def test_elicitation_wins_over_the_card(session_factory: Any) -> None:
    asked = Asked()
    async with session_factory(environ=ENV, apps=True, elicitation=asked) as s:
        await s.ok("run_job", {"image": "python:3.12", "command": ["true"], "secrets": ["MY_KEY"]})
        assert len(asked.prompts) == 1
