"""Local backend under load: 100 jobs started at once, and 50 concurrent followers of one job's log; lines lost.

Why: the local backend is where agents rehearse, and an agent (or several) may start many jobs and watch them at
once. Part 1 posts 100 jobs concurrently (each prints 10 numbered lines) and measures the POST latencies, the time
until all are over, and checks every job's log holds its 10 lines; side by side, one job started alone. Part 2
starts one job that prints ``--lines`` numbered lines over a few seconds while 50 clients follow its log
(``JobsClient.stream_logs(follow=True)``, the client the MCP tools use) from before its first line; each must see
every line exactly once, in order (target: 0 lines lost), and the time from the job's end to the last follower's
end is compared with a single follower's. The backend is ``hfjobs-mcp local`` in its own process, so the load
generated here does not share an interpreter with it.

Run: ``.venv/bin/python bench/local_load.py [--jobs 100] [--followers 50] [--lines 20000]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import anyio
import httpx2
from benchlib import TOKEN, USER, emit, job_body, median, standalone_backend

from hfjobs_mcp.api import JobsClient

TERMINAL = {"COMPLETED", "ERROR", "CANCELED", "DELETED"}


def _printer(n: int, pause: float = 0.0, delay: float = 0.0) -> list[str]:
    code = f"import time\ntime.sleep({delay})\nfor i in range({n}):\n    print('line', i, flush={pause > 0})\n" + (
        f"    time.sleep({pause})\n" if pause > 0 else ""
    )
    return ["python", "-c", code]


async def _wait_over(http: httpx2.AsyncClient, ids: list[str], timeout: float = 300) -> None:
    with anyio.fail_after(timeout):
        pending = set(ids)
        while pending:
            for job_id in list(pending):
                info = (await http.get(f"/api/jobs/{USER}/{job_id}")).json()
                if info["status"]["stage"] in TERMINAL:
                    pending.discard(job_id)
            await anyio.sleep(0.1)


async def start_many(url: str, count: int) -> dict[str, Any]:
    """``count`` jobs posted at once: POST latencies, seconds until all are over, lines missing from their logs."""
    limits = httpx2.Limits(max_connections=count, max_keepalive_connections=count)
    headers = {"authorization": f"Bearer {TOKEN}"}
    async with httpx2.AsyncClient(base_url=url, headers=headers, timeout=120, limits=limits) as http:
        latencies: list[float] = [0.0] * count
        ids: list[str] = [""] * count

        async def post(i: int) -> None:
            t0 = time.perf_counter()
            response = await http.post(f"/api/jobs/{USER}", json=job_body(_printer(10), n=str(i)))
            latencies[i] = time.perf_counter() - t0
            response.raise_for_status()
            ids[i] = response.json()["id"]

        started = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for i in range(count):
                tg.start_soon(post, i)
        accepted = time.perf_counter() - started
        await _wait_over(http, ids)
        over = time.perf_counter() - started
    missing = 0
    failed = 0
    async with JobsClient(token=TOKEN, endpoint=url, namespace=USER) as client:
        for job_id in ids:
            if (await client.inspect_job(job_id)).status.stage != "COMPLETED":
                failed += 1
            lines = [line.text async for line in client.stream_logs(job_id)]
            missing += len({f"line {i}" for i in range(10)} - set(lines))
    return {"latencies": latencies, "accepted": accepted, "over": over, "missing": missing, "failed": failed}


async def follow_one(url: str, followers: int, lines: int) -> dict[str, Any]:
    """``followers`` clients following one job printing ``lines`` numbered lines: lines lost, and lag after its end."""
    async with (
        JobsClient(token=TOKEN, endpoint=url, namespace=USER) as api,
        httpx2.AsyncClient(base_url=url, headers={"authorization": f"Bearer {TOKEN}"}) as http,
    ):
        pause = 4.0 / lines  # about four seconds of printing, after a second for every follower to connect
        response = await http.post(f"/api/jobs/{USER}", json=job_body(_printer(lines, pause, delay=1.0)))
        response.raise_for_status()
        job_id = response.json()["id"]
        seen: list[list[str]] = [[] for _ in range(followers)]
        done_at: list[float] = [0.0] * followers

        async def follow(i: int) -> None:
            async with JobsClient(token=TOKEN, endpoint=url, namespace=USER) as client:
                async for line in client.stream_logs(job_id, follow=True):
                    seen[i].append(line.text)
            done_at[i] = time.time()

        async with anyio.create_task_group() as tg:
            for i in range(followers):
                tg.start_soon(follow, i)
        job = await api.inspect_job(job_id)
    expected = [f"line {i}" for i in range(lines)]
    lost = sum(len(set(expected) - set(s)) for s in seen)
    extra = sum(max(0, len(s) - len(set(s))) for s in seen)  # repeated lines
    disordered = sum(1 for s in seen if s != expected and set(s) == set(expected))
    ended = job.finished_at.timestamp() if job.finished_at else time.time()
    lag = max(done_at) - ended  # the backend runs on this machine: one clock
    return {"lost": lost, "repeated": extra, "disordered": disordered, "lag": lag, "stage": job.status.stage}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=100)
    parser.add_argument("--followers", type=int, default=50)
    parser.add_argument("--lines", type=int, default=20_000)
    args = parser.parse_args()
    with standalone_backend() as url:
        alone = anyio.run(start_many, url, 1)
        many = anyio.run(start_many, url, args.jobs)
        one = anyio.run(follow_one, url, 1, args.lines)
        crowd = anyio.run(follow_one, url, args.followers, args.lines)

    p50 = median(many["latencies"])
    p99 = sorted(many["latencies"])[min(len(many["latencies"]) - 1, int(0.99 * len(many["latencies"])))]
    print(f"{args.jobs} jobs posted at once (each prints 10 lines) vs one job alone")
    print(f"  one job: POST {alone['latencies'][0] * 1000:.1f} ms, over after {alone['over']:.2f} s")
    print(
        f"  {args.jobs} jobs: POST p50 {p50 * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms; all accepted in"
        f" {many['accepted']:.2f} s, all over after {many['over']:.2f} s ({many['over'] / alone['over']:.1f}x one job)"
    )
    print(f"  jobs not COMPLETED: {many['failed']}; log lines missing: {many['missing']} (target 0)")
    print(f"{args.followers} followers of one job printing {args.lines:,} lines over ~4 s vs one follower")
    print(f"  one follower: lost {one['lost']}, done {one['lag']:.2f} s after the job's end")
    print(
        f"  {args.followers} followers: lost {crowd['lost']}, repeated {crowd['repeated']}, out of order"
        f" {crowd['disordered']} (target 0); last one done {crowd['lag']:.2f} s after the job's end"
    )
    lost = crowd["lost"] + crowd["repeated"] + crowd["disordered"] + one["lost"]
    emit(
        [
            {
                "benchmark": f"local backend: {args.jobs} jobs started at once",
                "measured": f"all over in {many['over']:.2f} s (POST p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms)",
                "baseline": f"one job alone: {alone['over']:.2f} s",
                "ratio": f"{many['over'] / alone['over']:.1f}x",
                "target": "all COMPLETED, 0 lines missing",
                "met": many["failed"] == 0 and many["missing"] == 0,
            },
            {
                "benchmark": f"local backend: {args.followers} followers of one {args.lines:,}-line log",
                "measured": f"{lost} lines lost/repeated/disordered; last done {crowd['lag']:.2f} s after the end",
                "baseline": f"one follower: done {one['lag']:.2f} s after the end",
                "ratio": f"{crowd['lag'] / max(one['lag'], 1e-3):.1f}x lag",
                "target": "0 lines lost",
                "met": lost == 0,
            },
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
