"""A long job, read as an agent reads it: ``fetch_logs`` following it for a while, again from the cursor, then
``wait_for_job`` to its end and one last ``fetch_logs``: every line once, in order, and each call inside its time.

The issue asks for a job printing "for minutes"; CI time is shared, so the job prints for about 40 s (a line every
quarter second), longer than any single follow, so the job outlives the first two calls and the wait really waits.
The tool calls are timed: a follow must return after about ``follow_seconds`` (the job still running), and report
progress while it waits (an MCP client with a 60 s timeout needs that).
"""

from __future__ import annotations

import time

import pytest

from tests.reliability.conftest import Counted, mcp_session, printer_code

pytestmark = pytest.mark.anyio

LINES, PAUSE = 160, 0.25  # about 40 s


@pytest.mark.slow
async def test_follow_a_40_second_job_then_wait_for_its_end(backend: Counted) -> None:
    progress: list[float] = []

    async def collect(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with mcp_session(backend) as s:
        job = (
            await s.ok("run_job", {"image": "python:3.12", "command": ["python", "-c", printer_code(LINES, PAUSE)]})
        )["job"]
        seen: list[str] = []

        started = time.monotonic()
        first = await s.ok(
            "fetch_logs", {"job_id": job["id"], "tail": 1000, "follow_seconds": 12}, progress_callback=collect
        )
        took = time.monotonic() - started
        assert 11.5 <= took < 20, took
        assert first["finished"] is False
        assert first["stage"] == "RUNNING"
        assert len(progress) >= 8  # about once a second while following
        seen += [ln["text"] for ln in first["lines"]]
        assert len(seen) >= 20

        second = await s.ok("fetch_logs", {"job_id": job["id"], "cursor": first["cursor"], "follow_seconds": 8})
        assert second["finished"] is False
        seen += [ln["text"] for ln in second["lines"]]

        progress.clear()
        waited = await s.ok("wait_for_job", {"job_id": job["id"], "timeout_seconds": 120}, progress_callback=collect)
        assert waited["reached"] is True
        assert waited["job"]["stage"] == "COMPLETED"
        assert waited["waited_seconds"] >= 5
        assert progress

        cursor = second["cursor"]
        while True:
            page = await s.ok("fetch_logs", {"job_id": job["id"], "cursor": cursor, "tail": 1000})
            seen += [ln["text"] for ln in page["lines"]]
            cursor = page["cursor"]
            if not page["more"]:
                break
        assert page["finished"] is True
    assert seen == [f"line {i}" for i in range(LINES)]
