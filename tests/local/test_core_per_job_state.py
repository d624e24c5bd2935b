"""Per-job in-memory state lives only as long as the job and its readers (issue 22, item 5).

Before, ``LocalCore`` kept a signal for every job whose logs or metrics were ever streamed (about 3 KB each,
never removed): a long-running backend grew by 0.25-0.3 GB per 100,000 jobs. Here 2,000 real jobs (short
``sleep`` processes) run through real HTTP, each watched by a logs stream that follows it to the end and a
metrics stream, while a quarter of the readers hang up early (a client that goes away must release what it
held too). While they run, the structures are in use (the test would prove nothing otherwise); after the last
job and stream end, every per-job structure (``LocalCore.per_job_state()``) is back to empty.

Why 2,000 and real processes rather than more jobs through ``LocalCore`` alone: the leak was in what the HTTP
streams create and the runner notifies, so the test goes through both; 2,000 jobs take about 30 s on 2 cores,
and the leak, if back, would show as thousands of entries, not a rounding error.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import anyio
import httpx2
import pytest

from hfjobs_mcp.local import LocalBackend
from tests.backends import backend_config

from .util import TERMINAL, TOKEN

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

JOBS = 2000
CONCURRENT = 32


async def _follow_logs(http: httpx2.AsyncClient, job_id: str, *, hang_up: bool) -> int:
    events = 0
    async with http.stream("GET", f"/api/jobs/alice/{job_id}/logs") as r:
        assert r.status_code == 200
        async for line in r.aiter_lines():
            if line.startswith("data: {"):
                json.loads(line[6:])
                events += 1
                if hang_up:
                    break
    return events


async def _metrics(http: httpx2.AsyncClient, job_id: str, *, hang_up: bool) -> int:
    samples = 0
    async with http.stream("GET", f"/api/jobs/alice/{job_id}/metrics") as r:
        if r.status_code == 406:  # already over: nothing to watch
            return 0
        assert r.status_code == 200
        async for line in r.aiter_lines():
            if line.startswith("event: metric"):
                samples += 1
                if hang_up:
                    break
    return samples


async def test_per_job_structures_return_to_empty_after_thousands_of_streamed_jobs(tmp_path: Path) -> None:
    cfg = backend_config(
        state_dir=tmp_path / "state",
        token=TOKEN,
        user="alice",
        metrics_interval=0.05,
        keepalive_interval=0.5,
        kill_grace_seconds=1.0,
    )
    limits = httpx2.Limits(max_connections=3 * CONCURRENT, max_keepalive_connections=3 * CONCURRENT)
    peak = {"log signals": 0, "stage signals": 0}
    totals = {"log events": 0, "metric samples": 0}
    async with LocalBackend(cfg) as backend:
        core = backend.core
        headers = {"authorization": f"Bearer {TOKEN}"}
        async with httpx2.AsyncClient(base_url=backend.url, headers=headers, timeout=60, limits=limits) as http:

            async def one(i: int) -> None:
                command = ["sleep", "0.1"] if i % 2 else ["true"]
                body = {"command": command, "flavor": "cpu-basic", "dockerImage": "python:3.12"}
                job = (await http.post("/api/jobs/alice", json=body)).json()
                hang_up = i % 4 == 0
                async with anyio.create_task_group() as tg:

                    async def logs() -> None:
                        events = await _follow_logs(http, job["id"], hang_up=hang_up)
                        totals["log events"] += events  # not `+= await`: that reads the total before awaiting

                    async def metrics() -> None:
                        samples = await _metrics(http, job["id"], hang_up=hang_up)
                        totals["metric samples"] += samples

                    tg.start_soon(logs)
                    tg.start_soon(metrics)
                state = core.per_job_state()
                for key in peak:
                    peak[key] = max(peak[key], state[key])

            limiter = anyio.CapacityLimiter(CONCURRENT)

            async def limited(i: int) -> None:
                async with limiter:
                    await one(i)

            started = time.monotonic()
            async with anyio.create_task_group() as tg:
                for i in range(JOBS):
                    tg.start_soon(limited, i)
            elapsed = time.monotonic() - started

            # Every job is over (the followers saw each one end), and the hung-up readers are gone.
            count = (await http.get("/api/jobs/alice/count")).json()["count"]
            assert count == JOBS
            over = await http.get("/api/jobs/alice/count", params=[("stage", stage) for stage in TERMINAL])
            assert over.json()["count"] == JOBS
            with anyio.move_on_after(10):  # the last streams and runner tasks wind down
                while any(core.per_job_state().values()):
                    await anyio.sleep(0.05)
            empty = {"log signals": 0, "stage signals": 0, "runner handles": 0, "runner tasks": 0}
            assert core.per_job_state() == empty
    # The structures were really used on the way (streams waited on signals), and the streams really streamed.
    assert peak["log signals"] > 0
    assert peak["stage signals"] > 0
    assert totals["log events"] >= JOBS  # at least every banner
    assert totals["metric samples"] > 0
    print(f"{JOBS} jobs in {elapsed:.1f} s; peak {peak}; {totals}")
