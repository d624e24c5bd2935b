"""An agent reading a running job whose log stream is cut 40 times (design §8): ``fetch_logs`` following it
(``follow_seconds``), then paging on with the cursor, gets every line once, in order.

The backend's ``cut-logs:after=N`` fault ends a logs stream abruptly after N events (the connection is dropped,
no clean end of the chunked body). Every connection replays the log from the start, so the i-th rule cuts after
``10 * i`` events: each reconnection gets a little further, some cuts land in the replay of old lines, later ones
in live lines as the job prints them. The client's reconnect waits are recorded and shortened.

The follower itself (``hfjobs_mcp.api.logs``) is tested in tests/api/test_logs.py, 100 cuts included.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.conftest import text
from tests.reliability.conftest import Counted, RecordingSleep, mcp_session, printer_code

pytestmark = pytest.mark.anyio


def _cut_rules(cuts: int, step: int) -> str:
    return ",".join(f"cut-logs:after={step * (i + 1)}" for i in range(cuts))


@pytest.mark.slow
async def test_fetch_logs_follow_with_cuts_then_cursor_reads_everything_once(backend: Counted) -> None:
    lines, cuts = 400, 40
    async with mcp_session(backend, sleep=RecordingSleep(cap=0.02)) as s:
        started = await s.ok(
            "run_job", {"image": "python:3.12", "command": ["python", "-c", printer_code(lines, 0.005)]}
        )
        job_id = started["job"]["id"]
        backend.faults.add(_cut_rules(cuts, step=lines // cuts))
        seen: list[str] = []
        first = await s.ok("fetch_logs", {"job_id": job_id, "tail": 1000, "follow_seconds": 60})
        seen += [ln["text"] for ln in first["lines"]]
        cursor = first["cursor"]
        while True:  # an agent paging on with the cursor until the job is over and nothing more follows
            page = await s.ok("fetch_logs", {"job_id": job_id, "tail": 50, "cursor": cursor})
            seen += [ln["text"] for ln in page["lines"]]
            cursor = page["cursor"]
            if page["finished"] and not page["more"]:
                break
        done = await s.call("wait_for_job", {"job_id": job_id, "timeout_seconds": 30})
        assert not done.is_error, text(done)
    assert first["finished"] is True  # the follow lasted until the job's end, through every cut
    assert seen == [f"line {i}" for i in range(lines)]
    assert Counter(kind for kind, _, _ in backend.faults.history) == {"cut-logs": cuts}
