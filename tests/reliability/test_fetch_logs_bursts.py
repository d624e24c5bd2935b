"""``fetch_logs`` on a long log written in bursts (many lines per millisecond): the tail comes back fast and its
cursor names the same line a full count from the start would.

Why: a cursor position is (timestamp, ordinal among the lines with that timestamp), so when a whole tail window
shares one timestamp its ordinals must be counted from the start of that run. The tool used to replay the whole log
for that (5 s for ``tail=100`` of a 1,000,000-line job in bench/fetch_logs_tool.py); it now asks for longer tails
until one starts before the run. This checks the answer is the one the full replay gives, and that it is quick.
"""

from __future__ import annotations

import time

import pytest

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.tools.logs import Position, _Positioner
from tests.reliability.conftest import Counted, mcp_session

pytestmark = pytest.mark.anyio

LINES = 200_000
BURST = f"import sys; sys.stdout.write(''.join(f'line {{i}}\\n' for i in range({LINES}))); sys.stdout.flush()"


async def _full_count(client: JobsClient, job_id: str) -> list[Position]:
    positioner = _Positioner()
    return [positioner.place(line) async for line in client.stream_logs(job_id)]


@pytest.mark.slow
async def test_tail_of_a_burst_log_is_fast_and_its_cursor_exact(backend: Counted) -> None:
    async with mcp_session(backend) as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["python", "-c", BURST]}))["job"]
        await s.ok("wait_for_job", {"job_id": job["id"], "timeout_seconds": 120})
        positions = await _full_count(s.api, job["id"])
        for tail in (1, 100, 1000):
            mark = backend.counter.count
            started = time.monotonic()
            out = await s.ok("fetch_logs", {"job_id": job["id"], "tail": tail})
            took = time.monotonic() - started
            reads = [q for method, path, q in backend.counter.since(mark) if path.endswith("/logs")]
            again = await s.ok("fetch_logs", {"job_id": job["id"], "cursor": out["cursor"]})
            assert [ln["text"] for ln in out["lines"]] == [f"line {i}" for i in range(LINES - tail, LINES)]
            # The job is over: its cursor says "after the last line" (same timestamp, an ordinal past any line),
            # which needs no count of the run; the continuation from it is empty.
            cursor = Position.decode(out["cursor"], job["id"])
            assert cursor.ts == positions[-1].ts
            assert cursor.k >= positions[-1].k
            assert again["lines"] == []
            assert again["more"] is False
            assert len(reads) == 1, f"tail={tail}: {reads}"
            assert all("tail=" in q for q in reads), f"tail={tail}: a full replay was read ({reads})"
            assert took < 1.0, f"tail={tail} of a {LINES}-line burst took {took:.2f} s"
