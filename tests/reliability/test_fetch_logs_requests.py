"""``fetch_logs`` of a finished job costs at most 2 requests, whatever the tail and the log (issue 19).

Counted at the backend (every HTTP request that reaches it): one to read the job (its stage, and its secrets to
mask), one to read the tail. One-line logs, burst logs (every line in one write, so one timestamp) and long logs,
tails shorter and longer than the log. A running job's cursor, which must name its line exactly, is still exact.
"""

from __future__ import annotations

import pytest

from tests.reliability.conftest import Counted, mcp_session
from tests.reliability.test_fetch_logs_bursts import _full_count

pytestmark = pytest.mark.anyio

JOBS = {
    "one line": "print('only line')",
    "burst": "import sys; sys.stdout.write(''.join(f'b{i}\\n' for i in range(5000))); sys.stdout.flush()",
    "long": "import time\nfor i in range(3000):\n    print(f'l{i}')\n    if i % 500 == 0: time.sleep(0.01)",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(JOBS))
async def test_any_tail_of_a_finished_job_costs_two_requests(backend: Counted, kind: str) -> None:
    async with mcp_session(backend) as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["python", "-c", JOBS[kind]]}))["job"]
        await s.ok("wait_for_job", {"job_id": job["id"], "timeout_seconds": 120})
        total = len(await _full_count(s.api, job["id"]))
        await s.ok("list_hardware", {})  # warm the per-client caches (whoami, prices): not fetch_logs' requests
        for tail in sorted({1, 10, 100, 1000, total, total + 5}):
            mark = backend.counter.count
            out = await s.ok("fetch_logs", {"job_id": job["id"], "tail": min(tail, 1000)})
            sent = backend.counter.since(mark)
            assert len(sent) <= 2, f"{kind}, tail={tail}: {sent}"
            assert len(out["lines"]) == min(tail, 1000, total)
            again = await s.ok("fetch_logs", {"job_id": job["id"], "cursor": out["cursor"]})
            assert again["lines"] == [], f"{kind}, tail={tail}: the cursor of the last line has lines after it"


@pytest.mark.slow
async def test_a_running_burst_keeps_an_exact_cursor(backend: Counted) -> None:
    code = (
        "import sys, time; sys.stdout.write(''.join(f'r{i}\\n' for i in range(2000))); sys.stdout.flush(); "
        "time.sleep(60)"
    )
    async with mcp_session(backend) as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["python", "-c", code]}))["job"]
        out: dict[str, object] = {}
        for _ in range(100):
            out = await s.ok("fetch_logs", {"job_id": job["id"], "tail": 10})
            if len(out["lines"]) == 10:  # type: ignore[arg-type]
                break
        positions = await _full_count(s.api, job["id"])
        assert out["cursor"] == positions[-1].encode(job["id"])
        await s.ok("cancel_job", {"job_id": job["id"]})
