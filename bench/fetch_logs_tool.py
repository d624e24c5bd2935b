"""``fetch_logs tail=100`` through the tool on a 1,000,000-line job: time and peak memory, side by side with the same
on a 10,000-line job and with the backend's own answer (one raw ``GET .../logs?tail=100``).

Why: an agent asks for the end of a training log far more often than for anything else, and a long job prints
millions of lines. bench/logs_tail.py measures the backend's side (issue 3: under 0.2 s, memory not growing with
the log); this measures what the agent gets, through the MCP server over stdio: the tool asks the API for the tail
(plus one line, to say whether earlier lines exist), builds the cursor and inspects the job. The server is a real
subprocess; its RSS is sampled every 2 ms during the calls (peak above its level before them). Calls alternate
between the two jobs and the raw GET; medians are reported.

Run: ``.venv/bin/python bench/fetch_logs_tool.py [--lines 1000000] [--calls 10]`` (about a minute: the
backend ingests the 1M-line job first).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import mcp
import psutil
from benchlib import TOKEN, USER, PeakRSS, api_client, emit, local_backend, median, mib, printer_command, run_to_end
from mcp.client.stdio import StdioServerParameters

TAIL = 100
TARGET_SECONDS = 0.2
SMALL = 10_000


def server_pid() -> int:
    """The hfjobs-mcp stdio server spawned by this process's MCP client."""
    for child in psutil.Process().children(recursive=True):
        if "hfjobs_mcp" in " ".join(child.cmdline()):
            return int(child.pid)
    raise RuntimeError("the hfjobs-mcp server process was not found")


def raw_tail(http: Any, job_id: str) -> tuple[float, int]:
    start = time.perf_counter()
    events = 0
    with http.stream("GET", f"/api/jobs/{USER}/{job_id}/logs", params={"tail": TAIL}) as response:
        response.raise_for_status()
        events = sum(1 for line in response.iter_lines() if line.startswith("data: {"))
    return time.perf_counter() - start, events


async def measure(url: str, jobs: dict[int, str], calls: int, tmp: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "HFJOBS_MCP_"))}
    env.update({"HF_TOKEN": TOKEN, "HF_ENDPOINT": url, "HF_HOME": str(tmp / "hf"), "HFJOBS_MCP_HOME": str(tmp)})
    params = StdioServerParameters(command=sys.executable, args=["-m", "hfjobs_mcp", "--log-level", "WARNING"], env=env)
    times: dict[int, list[float]] = {n: [] for n in jobs}
    raw: dict[int, list[float]] = {n: [] for n in jobs}
    growth: dict[int, int] = dict.fromkeys(jobs, 0)
    with api_client(url) as http:
        async with mcp.Client(params) as client:
            pid = server_pid()
            for job_id in jobs.values():  # warm up: imports, the hardware and whoami caches
                await client.call_tool("fetch_logs", {"job_id": job_id, "tail": TAIL})
            for _ in range(calls):
                for n, job_id in jobs.items():
                    with PeakRSS(pid) as rss:
                        t0 = time.perf_counter()
                        result = await client.call_tool("fetch_logs", {"job_id": job_id, "tail": TAIL})
                        times[n].append(time.perf_counter() - t0)
                    growth[n] = max(growth[n], rss.growth)
                    content = result.structured_content or {}
                    if result.is_error or len(content.get("lines", [])) != TAIL or not content.get("truncated"):
                        raise RuntimeError(f"fetch_logs on the {n}-line job: {result.content}")
                    seconds, events = raw_tail(http, job_id)
                    if events != TAIL:
                        raise RuntimeError(f"raw tail={TAIL} returned {events} events")
                    raw[n].append(seconds)
            peak = psutil.Process(pid).memory_info().rss
    return {"times": times, "raw": raw, "growth": growth, "server_rss": peak}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--calls", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hfjobs-bench-fetch-") as tmp_name, local_backend() as backend:
        with api_client(backend.url) as http:
            jobs = {n: run_to_end(http, printer_command(n)) for n in (SMALL, args.lines)}
        out = anyio.run(measure, backend.url, jobs, args.calls, Path(tmp_name))
    big, small = args.lines, SMALL
    t_big, t_small = median(out["times"][big]), median(out["times"][small])
    r_big = median(out["raw"][big])
    print(f"fetch_logs tail={TAIL} through the tool over stdio, median of {args.calls} alternating calls")
    print(f"{'log lines':>10} | {'tool s':>8} | {'raw GET s':>9} | {'server RSS +MiB':>15}")
    for n in (small, big):
        print(
            f"{n:>10,} | {median(out['times'][n]):>8.4f} | {median(out['raw'][n]):>9.4f} |"
            f" {mib(out['growth'][n]):>15.1f}"
        )
    print(f"server RSS after the calls: {mib(out['server_rss']):.1f} MiB")
    ok_time = t_big < TARGET_SECONDS
    ok_mem = out["growth"][big] <= max(2 * out["growth"][small], 8 * 2**20)
    print(f"target < {TARGET_SECONDS} s at {big:,} lines: {'met' if ok_time else 'MISSED'}")
    print(f"target memory not growing with the log: {'met' if ok_mem else 'MISSED'}")
    emit(
        [
            {
                "benchmark": f"fetch_logs tail={TAIL} via the tool, {big:,}-line job",
                "measured": f"{t_big * 1000:.1f} ms, server RSS +{mib(out['growth'][big]):.1f} MiB",
                "baseline": f"raw GET tail={TAIL} {r_big * 1000:.1f} ms; {small:,}-line job {t_small * 1000:.1f} ms,"
                f" +{mib(out['growth'][small]):.1f} MiB",
                "ratio": f"{t_big / r_big:.1f}x raw GET; {t_big / t_small:.2f}x the {small:,}-line job",
                "target": f"< {TARGET_SECONDS} s, memory flat",
                "met": ok_time and ok_mem,
            }
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
