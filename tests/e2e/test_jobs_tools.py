"""Every job tool through a real MCP client session against the local backend, on both protocol eras.

Real jobs run as local processes; results are read back through the tools, as an agent would read them.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import MODES, Asked, text

pytestmark = pytest.mark.anyio


async def _finished(s: Any, job_ref: str) -> dict[str, Any]:
    out = await s.ok("wait_for_job", {"job_id": job_ref, "timeout_seconds": 60})
    assert out["finished"], out
    return out["job"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_run_wait_logs_round_trip(session_factory: Any, mode: str) -> None:
    async with session_factory(mode=mode) as s:
        started = await s.ok(
            "run_job",
            {
                "image": "python:3.12",
                "command": ["python", "-c", "import os; print('hello', os.environ['GREETING'], os.environ['JOB_ID'])"],
                "env": {"GREETING": "world"},
                "labels": {"team": "e2e"},
            },
        )
        job = started["job"]
        assert started["dry_run"] is False
        assert job["stage"] in ("SCHEDULING", "RUNNING", "COMPLETED")
        ref = f"{job['namespace']}/{job['id']}"
        final = await _finished(s, ref)
        assert final["stage"] == "COMPLETED"
        logs = await s.ok("fetch_logs", {"job_id": ref})
        assert [ln["text"] for ln in logs["lines"]] == [f"hello world {job['id']}"]
        assert logs["finished"] is True
        assert logs["truncated"] is False
        listed = await s.ok("list_jobs", {"labels": {"team": "e2e"}, "stages": ["COMPLETED"]})
        assert job["id"] in [j["id"] for j in listed["jobs"]]
        inspected = await s.ok("inspect_job", {"job_id": job["id"]})
        assert inspected["job"]["labels"]["team"] == "e2e"
        assert inspected["finished"] is True


@pytest.mark.slow
async def test_failed_job_says_why(session_factory: Any) -> None:
    async with session_factory() as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["python", "-c", "raise SystemExit(3)"]}))[
            "job"
        ]
        final = await _finished(s, job["id"])
        assert final["stage"] == "ERROR"
        assert "3" in (final["message"] or "")


@pytest.mark.slow
async def test_uv_job_inline_script_with_args(session_factory: Any) -> None:
    script = "import sys\nprint('args:', sys.argv[1:])\n"
    async with session_factory() as s:
        job = (await s.ok("run_uv_job", {"script": script, "script_args": ["--x", "1 2", "$HOME"], "python": "3.11"}))[
            "job"
        ]
        assert (await _finished(s, job["id"]))["stage"] == "COMPLETED"
        logs = await s.ok("fetch_logs", {"job_id": job["id"]})
        assert logs["lines"][-1]["text"] == "args: ['--x', '1 2', '$HOME']"


@pytest.mark.slow
async def test_fast_agent_reference_job_is_expressible(session_factory: Any, backend: Any) -> None:
    """The fast-agent seed: `hf jobs uv run --python 3.13 --with fast-agent-mcp --flavor cpu-basic --timeout 2h
    --secrets HF_TOKEN -- fast-agent go --model kimi --message ... --results result.json`."""
    async with session_factory(environ={"HF_TOKEN": "hf_fake_user_token_for_e2e_0001"}) as s:
        before = len(await s.api.list_jobs())
        out = await s.ok(
            "run_uv_job",
            {
                "script": "fast-agent",
                "dependencies": ["fast-agent-mcp"],
                "python": "3.13",
                "flavor": "cpu-basic",
                "timeout": "2h",
                "secrets": ["HF_TOKEN"],
                "script_args": ["go", "--model", "kimi", "--message", "hi", "--results", "result.json"],
                "dry_run": True,
            },
        )
        body = out["request"]
        assert body["command"] == [
            "uv", "run", "--with", "fast-agent-mcp", "--python", "3.13",
            "fast-agent", "go", "--model", "kimi", "--message", "hi", "--results", "result.json",
        ]  # fmt: skip
        assert body["timeoutSeconds"] == 7200
        assert body["flavor"] == "cpu-basic"
        assert body["secrets"] == {"HF_TOKEN": "***"}
        assert body["dockerImage"] == "ghcr.io/astral-sh/uv:python3.12-bookworm"
        assert out["cost"]["ceiling_usd"] == pytest.approx(0.02, abs=0.001)
        assert len(await s.api.list_jobs()) == before, "a dry run sent something"


@pytest.mark.slow
async def test_dry_run_shows_payload_and_price_and_sends_nothing(session_factory: Any) -> None:
    async with session_factory() as s:
        before = len(await s.api.list_jobs())
        out = await s.ok(
            "run_job",
            {"image": "hf.co/spaces/lhoestq/duckdb", "command": ["duckdb"], "flavor": "a10g-small", "dry_run": True},
        )
        assert out["request"]["spaceId"] == "lhoestq/duckdb"
        assert "dockerImage" not in out["request"]
        assert out["cost"] == {
            "flavor": "a10g-small",
            "price_per_hour_usd": 1.0,
            "timeout_seconds": 1800,
            "attempts": 1,
            "ceiling_usd": 0.5,
            "needs_approval": [],
        }
        assert len(await s.api.list_jobs()) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ({"env": {"A": "1"}}, "env"),
        ({"expose": [70000]}, "expose"),
        ({"timeout": "5M"}, "timeout"),
        ({"flavor": "no-such-gpu"}, "flavor"),
        ({"labels": {"bad key": "x"}}, "label"),
        ({"volumes": [{"type": "model", "source": "a/b", "mount_path": "relative"}]}, "mount_path"),
        ({"attempts": 0}, "attempts"),
        ({"secrets": ["hf_abcdefghijklmnopqrstuvwxyz0123"]}, "secrets"),
        ({"env": {"TOKEN": "hf_abcdefghijklmnopqrstuvwxyz0123"}}, "env"),
        ({"unknown_field": 1}, "unknown_field"),
    ],
)
async def test_invalid_input_is_an_error_result_and_sends_nothing(
    session_factory: Any, args: dict[str, Any], needle: str
) -> None:
    async with session_factory() as s:
        before = len(await s.api.list_jobs())
        result = await s.call("run_job", {"image": "python:3.12", "command": ["true"], **args})
        assert result.is_error
        assert needle in text(result)
        assert "hf_abcdefghijklmnopqrstuvwxyz0123" not in text(result), "a secret-looking value was echoed"
        assert len(await s.api.list_jobs()) == before


@pytest.mark.slow
async def test_fetch_logs_tail_grep_and_cursor(session_factory: Any) -> None:
    async with session_factory() as s:
        job = (
            await s.ok(
                "run_job",
                {"image": "python:3.12", "command": ["python", "-c", "for i in range(50): print(f'line {i}')"]},
            )
        )["job"]
        await _finished(s, job["id"])
        tail = await s.ok("fetch_logs", {"job_id": job["id"], "tail": 5})
        assert [ln["text"] for ln in tail["lines"]] == [f"line {i}" for i in range(45, 50)]
        assert tail["truncated"] is True
        grep = await s.ok("fetch_logs", {"job_id": job["id"], "grep": r"line 1\d$", "regex": True, "tail": 3})
        assert [ln["text"] for ln in grep["lines"]] == ["line 17", "line 18", "line 19"]
        first = await s.ok("fetch_logs", {"job_id": job["id"], "tail": 1, "grep": "line 0"})
        page = await s.ok("fetch_logs", {"job_id": job["id"], "cursor": first["cursor"], "tail": 10})
        assert [ln["text"] for ln in page["lines"]] == [f"line {i}" for i in range(1, 11)]
        assert page["more"] is True
        rest = await s.ok("fetch_logs", {"job_id": job["id"], "cursor": page["cursor"], "tail": 100})
        assert [ln["text"] for ln in rest["lines"]] == [f"line {i}" for i in range(11, 50)]
        assert rest["more"] is False
        bad = await s.call("fetch_logs", {"job_id": job["id"], "cursor": "not-a-cursor"})
        assert bad.is_error
        assert "cursor" in text(bad)


@pytest.mark.slow
async def test_follow_and_wait_report_throttled_progress(session_factory: Any) -> None:
    progress: list[tuple[float, float | None, str | None]] = []

    async def collect(progress_value: float, total: float | None, message: str | None) -> None:
        progress.append((progress_value, total, message))

    code = "import time\nfor i in range(40):\n    print(i, flush=True)\n    time.sleep(0.05)\n"
    async with session_factory() as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["python", "-c", code]}))["job"]
        out = await s.ok(
            "fetch_logs", {"job_id": job["id"], "follow_seconds": 10, "tail": 1000}, progress_callback=collect
        )
        assert [ln["text"] for ln in out["lines"]] == [str(i) for i in range(40)]
        assert out["finished"] is True
        assert 1 <= len(progress) <= 15, f"progress not throttled: {len(progress)} notifications for 40 lines"
        progress.clear()
        slow = (
            await s.ok("run_job", {"image": "python:3.12", "command": ["python", "-c", "import time; time.sleep(3)"]})
        )["job"]
        waited = await s.ok("wait_for_job", {"job_id": slow["id"], "timeout_seconds": 30}, progress_callback=collect)
        assert waited["reached"]
        assert waited["job"]["stage"] == "COMPLETED"
        assert 1 <= len(progress) <= 10


@pytest.mark.slow
async def test_wait_gives_up_at_its_cap_and_says_so(session_factory: Any) -> None:
    async with session_factory() as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["sleep", "30"]}))["job"]
        out = await s.ok("wait_for_job", {"job_id": job["id"], "timeout_seconds": 1.5})
        assert out["reached"] is False
        assert out["finished"] is False
        assert "wait_for_job again" in out["next_step"]
        cancelled = await s.ok("cancel_job", {"job_id": job["id"]})
        assert cancelled["job"]["stage"] == "CANCELED"


@pytest.mark.slow
async def test_cancel_and_rerun(session_factory: Any) -> None:
    async with session_factory() as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["sleep", "60"]}))["job"]
        await s.ok("wait_for_job", {"job_id": job["id"], "until_stage": "RUNNING", "timeout_seconds": 30})
        out = await s.ok("cancel_job", {"job_id": f"{job['namespace']}/{job['id']}"})
        assert out["job"]["stage"] == "CANCELED"
        assert out["finished"] is True
        again = await s.ok("rerun_job", {"job_id": job["id"]})
        assert again["job"]["id"] != job["id"]
        assert again["job"]["initiator"] == f"duplicated-job:{job['id']}"
        await s.ok("cancel_job", {"job_id": again["job"]["id"]})


@pytest.mark.slow
async def test_metrics_of_a_running_job(session_factory: Any) -> None:
    async with session_factory() as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["sleep", "20"]}))["job"]
        await s.ok("wait_for_job", {"job_id": job["id"], "until_stage": "RUNNING", "timeout_seconds": 30})
        out = await s.ok("fetch_metrics", {"job_id": job["id"], "samples": 2})
        assert len(out["samples"]) == 2
        assert out["finished"] is False
        assert out["samples"][0]["memory_used_bytes"] > 0
        await s.ok("cancel_job", {"job_id": job["id"]})
        done = await s.ok("fetch_metrics", {"job_id": job["id"]})
        assert done["finished"] is True
        assert done["samples"] == []


async def test_not_found_is_an_actionable_error(session_factory: Any) -> None:
    async with session_factory() as s:
        result = await s.call("inspect_job", {"job_id": "0123456789abcdef01234567"})
        assert result.is_error
        err = (result.structured_content or {})["error"]
        assert err["type"] == "NotFoundError"
        assert "namespace" in err["hint"]
        other = await s.call("list_jobs", {"namespace": "someone-else"})
        assert other.is_error
        assert (other.structured_content or {})["error"]["type"] == "ForbiddenError"


async def test_hardware_with_filters(session_factory: Any) -> None:
    async with session_factory() as s:
        everything = await s.ok("list_hardware", {})
        names = [f["name"] for f in everything["flavors"]]
        assert "cpu-basic" in names
        assert "a100-large" in names
        cheap_gpus = await s.ok("list_hardware", {"kind": "gpu", "max_price_per_hour": 1.0})
        assert cheap_gpus["flavors"]
        assert all(f["kind"] == "gpu" and f["price_per_hour_usd"] <= 1.0 for f in cheap_gpus["flavors"])
        prices = [f["price_per_hour_usd"] for f in cheap_gpus["flavors"]]
        assert prices == sorted(prices)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_scheduled_cycle(session_factory: Any, mode: str) -> None:
    async with session_factory(mode=mode) as s:
        created = await s.ok(
            "schedule_job",
            {"schedule": "0 9 * * 1", "image": "python:3.12", "command": ["python", "-c", "print('tick')"]},
        )
        sj = created["scheduled_job"]
        assert created["runs_per_day"] in (0, 1)
        assert sj["next_run_at"].endswith("Z")
        ref = f"{sj['namespace']}/{sj['id']}"
        listed = await s.ok("list_scheduled_jobs", {})
        assert sj["id"] in [x["id"] for x in listed["scheduled_jobs"]]
        assert (await s.ok("suspend_scheduled_job", {"scheduled_job_id": ref}))["scheduled_job"]["suspended"]
        assert not (await s.ok("resume_scheduled_job", {"scheduled_job_id": ref}))["scheduled_job"]["suspended"]
        run = await s.ok("trigger_scheduled_job", {"scheduled_job_id": ref})
        assert run["job"]["initiator"] == f"scheduled-job:{sj['id']}"
        assert (await _finished(s, run["job"]["id"]))["stage"] == "COMPLETED"
        inspected = await s.ok("inspect_scheduled_job", {"scheduled_job_id": ref})
        assert inspected["scheduled_job"]["last_job_id"] == run["job"]["id"]
        deleted = await s.ok("delete_scheduled_job", {"scheduled_job_id": ref})
        assert deleted["deleted"] is True
        gone = await s.call("inspect_scheduled_job", {"scheduled_job_id": ref})
        assert gone.is_error


@pytest.mark.slow
async def test_schedule_refuses_bad_cron_and_uv_schedule_dry_run(session_factory: Any) -> None:
    async with session_factory() as s:
        bad = await s.call("schedule_job", {"schedule": "* * * * MON", "image": "x", "command": ["true"]})
        assert bad.is_error
        assert "cron" in text(bad)
        dry = await s.ok("schedule_uv_job", {"schedule": "@hourly", "script": "print(1)", "dry_run": True})
        assert dry["runs_per_day"] == 24
        assert dry["request"]["schedule"] == "@hourly"
        assert dry["request"]["jobSpec"]["command"] == ["uv", "run", "/data/script.py"]
        assert dry["request"]["jobSpec"]["volumes"][0]["mountPath"] == "/data"


@pytest.mark.slow
async def test_webhook_creation(session_factory: Any) -> None:
    asked = Asked()
    async with session_factory(elicitation=asked) as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["true"]}))["job"]
        hook = await s.ok("create_job_webhook", {"job_id": job["id"], "watched": [{"type": "model", "name": "a/m"}]})
        # Events are unbounded: a webhook on paid hardware (cpu-basic costs $0.01/h) always asks.
        assert len(asked.prompts) == 1
        assert "no limit on events" in asked.prompts[0]
        assert hook["webhook"]["id"]
        assert hook["webhook"]["job_source_id"] == job["id"]
        hooks = await s.api.list_webhooks()
        assert hook["webhook"]["id"] in [h.id for h in hooks]
