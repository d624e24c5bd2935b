"""Benchmark: serving ``tail=100`` of a 1,000,000-line job log from the local backend.

Why: ``hf jobs logs -n 100`` and the MCP logs tool ask for the end of a log, and a long training job
prints millions of lines. Issue 3 sets the target: ``GET /api/jobs/{ns}/{id}/logs?tail=100`` served in
under 0.2 s, and the backend's memory not growing with the log's length. This script measures it the way
a client sees it (the SSE stream read until the server closes it), next to the full replay for context,
for a short (10,000 lines) and a long (1,000,000 lines) log, and prints a table with ratios.

Run: ``.venv/bin/python bench/logs_tail.py`` (about a minute on 2 cores). It starts its own backend with
``serve_in_thread`` in a temporary state folder, so "the backend's memory" is this process's RSS, sampled
every millisecond while a request is served (the client side only counts lines, it keeps none), and
while the job runs (the backend ingesting its output). Exit status
is non-zero only on errors, never because a target was missed (it prints MISSED instead).
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2
import psutil

TOKEN = "hf_local_bench_token_0123456789"  # a fake token for a throwaway backend
USER = "bench"
TAIL = 100
TARGET_SECONDS = 0.2
SIZES = (10_000, 1_000_000)


def job_command(lines: int) -> list[str]:
    # One big write: the bench measures the backend's ingestion and serving, not Python's print loop.
    code = f"import sys; sys.stdout.write(''.join(f'line {{i}}\\n' for i in range({lines}))); sys.stdout.flush()"
    return ["python", "-c", code]


class PeakRSS:
    """Samples this process's RSS in a thread; ``growth`` is the peak above the level at start."""

    def __init__(self, interval: float = 0.001) -> None:
        self.interval = interval
        self.process = psutil.Process()
        self.baseline = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self.baseline = self.peak = self.process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.process.memory_info().rss)

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def read_stream(client: httpx2.Client, path: str, params: dict[str, Any]) -> tuple[float, int]:
    """Seconds to read the SSE stream until the server closes it, and the number of `data: {` events."""
    events = 0
    start = time.perf_counter()
    with client.stream("GET", path, params=params) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("data: {"):
                events += 1
    return time.perf_counter() - start, events


def measure(fn: Callable[[], tuple[float, int]], repeat: int) -> dict[str, Any]:
    times, growths, events = [], [], 0
    for _ in range(repeat):
        with PeakRSS() as rss:
            seconds, events = fn()
        times.append(seconds)
        growths.append(rss.growth)
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "rss_growth": max(growths),
        "events": events,
    }


def run_job(client: httpx2.Client, lines: int) -> tuple[str, float]:
    body = {
        "command": job_command(lines),
        "arguments": [],
        "environment": {},
        "flavor": "cpu-basic",
        "dockerImage": "python:3.12",
        "labels": {"bench": f"lines-{lines}"},
    }
    start = time.perf_counter()
    response = client.post(f"/api/jobs/{USER}", json=body)
    response.raise_for_status()
    job_id = response.json()["id"]
    while True:
        info = client.get(f"/api/jobs/{USER}/{job_id}").json()
        if info["status"]["stage"] in ("COMPLETED", "ERROR", "CANCELED", "DELETED"):
            break
        time.sleep(0.05)
    if info["status"]["stage"] != "COMPLETED":
        raise RuntimeError(f"the {lines}-line job ended {info['status']['stage']}: {info['status']['message']}")
    return job_id, time.perf_counter() - start


def mib(n: float) -> str:
    return f"{n / 2**20:8.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="tail requests per size (median reported)")
    parser.add_argument("--full-repeat", type=int, default=2, help="full replays per size")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="log lengths in lines")
    args = parser.parse_args()

    from hfjobs_mcp.local import LocalConfig, serve_in_thread

    rows = []
    with tempfile.TemporaryDirectory(prefix="hfjobs-bench-") as state:
        cfg = LocalConfig(state_dir=Path(state), token=TOKEN, user=USER, host="127.0.0.1", port=0)
        with (
            serve_in_thread(cfg) as backend,
            httpx2.Client(base_url=backend.url, headers={"authorization": f"Bearer {TOKEN}"}, timeout=600) as client,
        ):
            for lines in args.sizes:
                with PeakRSS(interval=0.005) as run_rss:
                    job_id, run_secs = run_job(client, lines)
                path = f"/api/jobs/{USER}/{job_id}/logs"
                tail = measure(lambda path=path: read_stream(client, path, {"tail": TAIL}), args.repeat)
                full = measure(lambda path=path: read_stream(client, path, {}), args.full_repeat)
                if tail["events"] != TAIL:
                    raise RuntimeError(f"tail={TAIL} of a {lines}-line log returned {tail['events']} events")
                if full["events"] < lines:
                    raise RuntimeError(f"the full replay of a {lines}-line log returned {full['events']} events")
                rows.append({"lines": lines, "run": run_secs, "run_rss": run_rss.growth, "tail": tail, "full": full})
                print(f"  measured {lines:>9,} lines", file=sys.stderr, flush=True)

    print()
    print(f"GET /api/jobs/{{ns}}/{{id}}/logs, SSE read until the server closes it (median of {args.repeat} for tail)")
    print()
    header = (
        f"{'log lines':>10} | {'job run s':>9} | {'run RSS +MiB':>12} | {'tail=100 s':>10} | {'tail RSS +MiB':>13} |"
        f" {'full replay s':>13} | {'full RSS +MiB':>13}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        print(
            f"{row['lines']:>10,} | {row['run']:>9.2f} | {mib(row['run_rss']):>12} | {row['tail']['median']:>10.4f} |"
            f" {mib(row['tail']['rss_growth']):>13} | {row['full']['median']:>13.2f} |"
            f" {mib(row['full']['rss_growth']):>13}"
        )
    print()
    first, last = rows[0], rows[-1]
    size_ratio = last["lines"] / first["lines"]
    time_ratio = last["tail"]["median"] / max(first["tail"]["median"], 1e-9)
    rss_small, rss_big = first["tail"]["rss_growth"], last["tail"]["rss_growth"]
    print(f"log length ratio {size_ratio:,.0f}x -> tail time ratio {time_ratio:.2f}x")
    print(
        f"tail RSS growth: {mib(rss_small).strip()} MiB at {first['lines']:,} lines,"
        f" {mib(rss_big).strip()} MiB at {last['lines']:,} lines"
    )
    ok_time = last["tail"]["median"] < TARGET_SECONDS
    ok_mem = rss_big <= max(2 * rss_small, 8 * 2**20)  # "not growing": within noise (2x or 8 MiB)
    print(f"target tail=100 < {TARGET_SECONDS} s at {last['lines']:,} lines: {'met' if ok_time else 'MISSED'}")
    print(f"target memory not growing with log length: {'met' if ok_mem else 'MISSED'}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    print(f"peak RSS of the process over the whole run (backend + this client): {mib(peak).strip()} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
