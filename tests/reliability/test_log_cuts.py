"""Log following survives a cut stream without losing or repeating a line (design §8), at the issue's scale: a
stream cut 100 times while following a job that prints numbered lines.

The backend's ``cut-logs:after=N`` fault ends a logs stream abruptly after N events (the connection is dropped,
no clean end of the chunked body). Every connection replays the log from the start, so the i-th rule cuts after
``10 * i`` events: each reconnection gets a little further, some cuts land in the replay of old lines, later ones
in live lines as the job prints them. The client's reconnect waits are recorded and shortened (a real follower
waits about a second after each cut; 100 of them would take minutes).

tests/api/test_client_vs_backend.py cuts a 12-line follow 4 times; this file does 100 cuts on the client and 40
more through the ``fetch_logs`` tool (``follow_seconds``, then the cursor), as an agent reads a running job.
"""

from __future__ import annotations

from collections import Counter

import pytest

from hfjobs_mcp.api import JobsClient, JobSpec
from tests.e2e.conftest import text
from tests.reliability.conftest import Counted, RecordingSleep, mcp_session, printer_code

pytestmark = pytest.mark.anyio


def _cut_rules(cuts: int, step: int) -> str:
    return ",".join(f"cut-logs:after={step * (i + 1)}" for i in range(cuts))


@pytest.mark.slow
async def test_follow_cut_100_times_yields_every_line_once_in_order(backend: Counted) -> None:
    lines, cuts = 1000, 100
    sleep = RecordingSleep(cap=0.02)
    async with JobsClient(token=backend.token, endpoint=backend.url, sleep=sleep) as client:
        job = await client.run_job(JobSpec(image="python:3.12", command=["python", "-c", printer_code(lines, 0.004)]))
        backend.faults.add(_cut_rules(cuts, step=lines // cuts))
        texts = [line.text async for line in client.stream_logs(job.id, follow=True)]
        final = await client.inspect_job(job.id)
    assert texts == [f"line {i}" for i in range(lines)]
    assert final.status.stage == "COMPLETED"
    assert Counter(kind for kind, _, _ in backend.faults.history) == {"cut-logs": cuts}
    # A wait before each reconnect (1 s after a cut that brought lines), except once the job is seen over: then
    # the last pass reconnects at once. None beyond the 10 s cap.
    assert len(sleep.delays) >= cuts - 1
    assert max(sleep.delays) <= 10.0


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
