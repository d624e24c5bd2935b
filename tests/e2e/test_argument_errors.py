"""Argument mistakes agents make, answered with what to fix (issue 19), through a real MCP session.

Each refusal names the field, what was given (short, never a secret), what is expected and the closest valid
name or value; there is no pydantic dump and no errors.pydantic.dev link; and nothing is sent.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.conftest import text

pytestmark = pytest.mark.anyio

SECRETISH = "hf_abcdefghijklmnopqrstuvwxyz0123456789"


def _problems(result: Any) -> list[dict[str, Any]]:
    assert result.is_error, text(result)
    error = (result.structured_content or {})["error"]
    assert error["type"] == "InvalidArgumentsError", error
    said = text(result)
    assert "pydantic" not in said
    assert "validation error" not in said
    return list(error["problems"])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("tool", "args", "field", "suggestion"),
    [
        ("list_jobs", {"stage": "RUNNING"}, "stage", "stages"),
        ("run_job", {"image": "x", "command": ["true"], "flavor": "A10G-Small"}, "flavor", "a10g-small"),
        ("run_job", {"image": "x", "command": ["true"], "flavour": "t4-small"}, "flavour", "flavor"),
        (
            "run_job",
            {"image": "x", "command": ["true"], "volumes": [{"type": "buckett", "source": "a/b", "mount_path": "/d"}]},
            "volumes.0.type",
            "bucket",
        ),
        ("wait_for_job", {"job_id": "x", "until_stage": "completed"}, "until_stage", "COMPLETED"),
        (
            "schedule_job",
            {"schedule": "0 9 * * 1", "image": "x", "command": ["true"], "dryrun": True},
            "dryrun",
            "dry_run",
        ),
    ],
)
async def test_a_mistake_names_the_field_and_the_closest_valid_one(
    session_factory: Any, tool: str, args: dict[str, Any], field: str, suggestion: str
) -> None:
    async with session_factory() as s:
        before = len(await s.api.list_jobs())
        problems = _problems(await s.call(tool, args))
        assert [p["field"] for p in problems] == [field]
        assert problems[0]["suggestion"] == suggestion
        assert len(await s.api.list_jobs()) == before


async def test_a_malformed_cron_says_what_a_schedule_looks_like(session_factory: Any) -> None:
    async with session_factory() as s:
        problems = _problems(await s.call("schedule_job", {"schedule": "every day", "image": "x", "command": ["true"]}))
        assert problems[0]["field"] == "schedule"
        assert "cron expression of 5 fields" in problems[0]["expected"]
        assert problems[0]["given"] == "'every day'"


async def test_every_problem_is_listed_at_once(session_factory: Any) -> None:
    async with session_factory() as s:
        problems = _problems(await s.call("run_job", {"command": ["true"], "env": {"K": 3}, "attempts": 0}))
        assert {p["field"] for p in problems} == {"image", "env.K", "attempts"}


async def test_a_secret_pasted_into_the_wrong_field_is_not_echoed(session_factory: Any) -> None:
    async with session_factory() as s:
        result = await s.call("list_jobs", {"limit": SECRETISH})
        problems = _problems(result)
        assert problems[0]["given"] == "a value that looks like a secret (not shown)"
        assert SECRETISH not in text(result)
        assert SECRETISH not in repr(result.structured_content)


@pytest.mark.slow
async def test_a_command_given_as_one_string_is_split_as_a_shell_would(session_factory: Any) -> None:
    async with session_factory() as s:
        out = await s.ok("run_job", {"image": "python:3.12", "command": "python -c 'print(\"split ok\")'"})
        assert out["job"]["command"] == ["python", "-c", 'print("split ok")']
        await s.ok("wait_for_job", {"job_id": out["job"]["id"], "timeout_seconds": 60})
        logs = await s.ok("fetch_logs", {"job_id": out["job"]["id"]})
        assert [ln["text"] for ln in logs["lines"]] == ["split ok"]
        problems = _problems(await s.call("run_job", {"image": "x", "command": "echo 'unterminated"}))
        assert problems[0]["field"] == "command"
        assert "split" in problems[0]["expected"]


@pytest.mark.slow
async def test_a_list_or_an_object_sent_as_json_text_is_read_as_one(session_factory: Any) -> None:
    """Some clients send lists and objects as JSON text; a field that takes no string reads it as JSON."""
    async with session_factory() as s:
        as_json = await s.ok("list_jobs", {"stages": '["RUNNING", "COMPLETED"]', "labels": '{"team": "none-such"}'})
        as_values = await s.ok("list_jobs", {"stages": ["RUNNING", "COMPLETED"], "labels": {"team": "none-such"}})
        assert as_json == as_values
        problems = _problems(await s.call("list_jobs", {"stages": '["RUNING"]'}))
        assert problems[0]["field"] == "stages.0"
