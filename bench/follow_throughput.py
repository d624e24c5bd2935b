"""Log follow throughput: our client against huggingface_hub 2.4's ``fetch_job_logs(follow=True)``, on the same local
backend and the same finished job, side by side in one run.

Why: following a job's log is what an agent does most while a job runs, and a long job's log is long; issue 9 set
the target at 3x huggingface_hub's throughput, issue 15 a batch path to reach it. Four readers, each in a fresh
subprocess (huggingface_hub with ``HF_ENDPOINT`` and ``HF_TOKEN`` set before it is imported, as the CLI runs it),
each timing only its read loop, from the first request to the end of the follow, and touching every line:

- ``hf``: huggingface_hub 2.4, a ``str`` per line (the baseline);
- ``batches``: ``JobsClient.log_batches(follow=True)``, the batch path: each batch's ``texts`` iterated, line by
  line (the same strings huggingface_hub hands out, with each line's timestamp beside them in ``timestamps``);
- ``lines``: ``JobsClient.stream_logs(follow=True)``, a ``LogLine`` (timestamp and text) per line;
- ``raw``: no client at all, a bare ``httpx2`` read of the same stream counting its bytes: what the backend and the
  connection allow, the ceiling of any client here.

Runs alternate between the readers so machine noise hits all alike; medians are reported, with each reader's CPU
time per line (what its own process spent, waits excluded). The job printed ``--lines`` lines and has been over
for a few seconds, so every reader reads the whole log at full speed and stops when the job's end is confirmed.

Run: ``.venv/bin/python bench/follow_throughput.py [--lines 200000] [--runs 7]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import TOKEN, USER, api_client, emit, local_backend, median, printer_command, run_to_end

TARGET = 3.0

# argv: endpoint, token, namespace, job id. Each prints {"lines", "seconds", "cpu"} for its read loop alone.
BATCHES = """
import json, sys, time, anyio
from hfjobs_mcp.api import JobsClient

async def main():
    async with JobsClient(token=sys.argv[2], endpoint=sys.argv[1], namespace=sys.argv[3]) as client:
        await client.whoami()  # the HTTP client and its connection are made before the clock starts
        start, cpu = time.perf_counter(), time.process_time()
        n = 0
        async for batch in client.log_batches(sys.argv[4], follow=True):
            for _ in batch.texts:
                n += 1
        print(json.dumps({"lines": n, "seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}))

anyio.run(main)
"""

LINES = """
import json, sys, time, anyio
from hfjobs_mcp.api import JobsClient

async def main():
    async with JobsClient(token=sys.argv[2], endpoint=sys.argv[1], namespace=sys.argv[3]) as client:
        await client.whoami()
        start, cpu = time.perf_counter(), time.process_time()
        n = 0
        async for _ in client.stream_logs(sys.argv[4], follow=True):
            n += 1
        print(json.dumps({"lines": n, "seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}))

anyio.run(main)
"""

HF = """
import json, sys, time
from huggingface_hub import HfApi  # HF_ENDPOINT and HF_TOKEN are set in the environment before this import

api = HfApi()
api.whoami()  # the HTTP session and its connection are made before the clock starts
start, cpu = time.perf_counter(), time.process_time()
n = 0
for _ in api.fetch_job_logs(job_id=sys.argv[4], namespace=sys.argv[3], follow=True):
    n += 1
print(json.dumps({"lines": n, "seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu}))
"""

RAW = """
import json, sys, time, anyio, httpx2

async def main():
    headers = {"authorization": "Bearer " + sys.argv[2]}
    async with httpx2.AsyncClient(base_url=sys.argv[1], headers=headers, timeout=60) as client:
        await client.get("/api/whoami-v2")
        start, cpu = time.perf_counter(), time.process_time()
        ends = 0  # each event is one line and a blank line: two line ends (the banner is one event more)
        async with client.stream("GET", f"/api/jobs/{sys.argv[3]}/{sys.argv[4]}/logs") as response:
            async for chunk in response.aiter_bytes():
                ends += chunk.count(b"\\n")
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(json.dumps({"lines": ends // 2 - 1, "seconds": seconds, "cpu": cpu}))

anyio.run(main)
"""

READERS = {"hf": HF, "batches": BATCHES, "lines": LINES, "raw": RAW}


def read_once(script: Path, url: str, job_id: str, home: Path) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update({"HF_ENDPOINT": url, "HF_TOKEN": TOKEN, "HF_HOME": str(home), "HF_HUB_DISABLE_TELEMETRY": "1"})
    out = subprocess.run(
        [sys.executable, str(script), url, TOKEN, USER, job_id], env=env, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        raise RuntimeError(f"{script.name} failed: {out.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    rates: dict[str, list[float]] = {name: [] for name in READERS}
    cpu: dict[str, list[float]] = {name: [] for name in READERS}
    with tempfile.TemporaryDirectory(prefix="hfjobs-bench-follow-") as tmp_name:
        tmp = Path(tmp_name)
        scripts = {name: tmp / f"{name}.py" for name in READERS}
        for name, code in READERS.items():
            scripts[name].write_text(code, encoding="utf-8")
        with local_backend() as backend, api_client(backend.url) as client:
            job_id = run_to_end(client, printer_command(args.lines))
            # Our client re-reads a log once more when the job ended within ~2 s of the stream's opening (on the Hub
            # the log may still be catching up); the bench measures the steady case, a job over for a while.
            time.sleep(3)
            for script in scripts.values():  # warm the file cache and the interpreters' bytecode for all
                read_once(script, backend.url, job_id, tmp)
            for _ in range(args.runs):
                for name, script in scripts.items():
                    got = read_once(script, backend.url, job_id, tmp)
                    if got["lines"] != args.lines:
                        raise RuntimeError(f"{name} read {got['lines']} lines of {args.lines}")
                    rates[name].append(got["lines"] / got["seconds"])
                    cpu[name].append(got["cpu"] / got["lines"] * 1e6)

    m = {name: median(values) for name, values in rates.items()}
    c = {name: median(values) for name, values in cpu.items()}
    ratio, ratio_lines = m["batches"] / m["hf"], m["lines"] / m["hf"]
    print(f"follow a finished {args.lines:,}-line log to its end, median of {args.runs} alternating runs")
    print(f"  huggingface_hub 2.4 fetch_job_logs(follow=True)  : {m['hf']:>10,.0f} lines/s  CPU {c['hf']:.2f} us/line")
    print(
        f"  hfjobs-mcp log_batches(follow=True)              : {m['batches']:>10,.0f} lines/s  "
        f"CPU {c['batches']:.2f} us/line  ratio {ratio:.2f}x (target >= {TARGET:.0f}x)"
    )
    print(
        f"  hfjobs-mcp stream_logs(follow=True), per line    : {m['lines']:>10,.0f} lines/s  "
        f"CPU {c['lines']:.2f} us/line  ratio {ratio_lines:.2f}x"
    )
    print(
        f"  raw httpx2 read of the stream (the ceiling)      : {m['raw']:>10,.0f} lines/s  "
        f"CPU {c['raw']:.2f} us/line  ({m['raw'] / m['hf']:.2f}x huggingface_hub)"
    )
    print(
        f"  CPU per line, huggingface_hub / batches          : {c['hf'] / c['batches']:>10.2f}x  "
        "(the readers' own work, steadier than wall time on a shared machine)"
    )
    paired = sorted(b / h for b, h in zip(rates["batches"], rates["hf"], strict=True))
    print(
        f"  batches / huggingface_hub, run by run            : {paired[0]:.2f}x to {paired[-1]:.2f}x  "
        "(each run against the huggingface_hub read just before it)"
    )
    emit(
        [
            {
                "benchmark": f"log follow throughput, {args.lines:,} lines (batches)",
                "measured": f"{m['batches']:,.0f} lines/s",
                "baseline": f"{m['hf']:,.0f} lines/s (huggingface_hub 2.4); raw read {m['raw']:,.0f} lines/s; "
                f"CPU {c['batches']:.2f} vs {c['hf']:.2f} us/line",
                "ratio": f"{ratio:.2f}x",
                "target": f">= {TARGET:.0f}x",
                "met": ratio >= TARGET,
            },
            {
                "benchmark": f"log follow throughput, {args.lines:,} lines (a LogLine per line)",
                "measured": f"{m['lines']:,.0f} lines/s",
                "baseline": f"{m['hf']:,.0f} lines/s (huggingface_hub 2.4)",
                "ratio": f"{ratio_lines:.2f}x",
                "target": "none set (informative)",
                "met": None,
            },
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
