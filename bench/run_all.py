"""Run every benchmark and write the results table (``bench/results.md``), the one the README shows.

Why one command: the figures in the README must be reproducible as a set, from one run on one machine. Each
benchmark runs as its own subprocess (a fresh interpreter: no warm caches or threads carried from one to the next),
and each measures its subject side by side with its baseline in that same run, alternating the two and reporting
medians, because the machine is shared and noisy. Benchmarks written for this suite print a ``BENCH-RESULT`` line
(``benchlib.emit``); the older ones (cold start, backend tail, HTTP load) are read from their printed summary.

Run: ``.venv/bin/python bench/run_all.py`` (about 7 minutes on 2 cores, 4 of them the soak), or ``--quick`` for
a smaller, faster pass (fewer runs, smaller logs) that checks everything still works. A ``--quick`` table goes to
``.bench-out/results-quick.md`` (gitignored), never to the committed ``bench/results.md``: its figures are a smoke
test's, not the ones the README quotes. The exit status is non-zero only when a benchmark failed to run, never
because a target was missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results.md"
QUICK_RESULTS = HERE.parent / ".bench-out" / "results-quick.md"
RESULT_PREFIX = "BENCH-RESULT "

Parser = Callable[[str], list[dict[str, Any]]]


def _num(pattern: str, text: str) -> float:
    found = re.search(pattern, text)
    if not found:
        raise ValueError(f"no match for {pattern!r}")
    return float(found.group(1).replace(",", ""))


def parse_cold_start(out: str) -> list[dict[str, Any]]:
    bare = _num(r"bare MCPServer hello-world\s*:\s*([\d.]+) ms", out)
    size = _num(r"tools/list result size\s*:\s*(\d+) bytes", out)
    rows = []
    line = r"^\s*(hfjobs-mcp[^:]*?)\s*:\s*([\d.]+) ms\s+ratio\s+([\d.]+)(?:, paired\s+([\d.]+))?"
    for name, ours, ratio, paired in re.findall(line, out, re.M):
        # Met only if both the ratio of the medians and the median of the paired ratios are.
        worst = max(float(ratio), float(paired or ratio))
        rows.append(
            {
                "benchmark": f"cold start to tools/list over stdio, {name}",
                "measured": f"{float(ours):.0f} ms",
                "baseline": f"{bare:.0f} ms (bare MCPServer hello-world)",
                "ratio": f"{float(ratio):.3f}x" + (f" (paired {float(paired):.3f}x)" if paired else ""),
                "target": "<= 1.05x",
                "met": worst <= 1.05,
            }
        )
    if not rows:
        raise ValueError("no hfjobs-mcp cold start line")
    rows.append(
        {
            "benchmark": "tools/list result size",
            "measured": f"{size / 1000:.1f} kB",
            "baseline": "",
            "ratio": "",
            "target": "<= 30 kB",
            "met": size <= 30_000,
        }
    )
    return rows


def parse_logs_tail(out: str) -> list[dict[str, Any]]:
    rows = re.findall(
        r"^\s*([\d,]+) \|\s*([\d.]+) \|\s*([\d.]+) \|\s*([\d.]+) \|\s*([\d.]+) \|\s*([\d.]+) \|\s*([\d.]+)", out, re.M
    )
    if not rows:
        raise ValueError("no table rows")
    lines, _, _, tail, tail_rss, full, _ = rows[-1]
    met = "MISSED" not in out
    return [
        {
            "benchmark": f"backend GET logs?tail=100, {lines}-line log",
            "measured": f"{float(tail) * 1000:.1f} ms, RSS +{float(tail_rss):.1f} MiB",
            "baseline": f"full replay {float(full):.2f} s",
            "ratio": f"{float(full) / max(float(tail), 1e-9):,.0f}x faster than the replay",
            "target": "< 0.2 s, memory flat",
            "met": met,
        }
    ]


def parse_http_load(out: str) -> list[dict[str, Any]]:
    head = re.search(r"(\d+) clients, (\d+) worker", out)
    row = re.search(r"^all\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)", out, re.M)
    errors = _num(r"errors: (\d+)", out)
    if not head or not row:
        raise ValueError("no summary")
    calls, rate, p50, p99 = row.groups()
    return [
        {
            "benchmark": f"HTTP mode, {head.group(1)} clients ({head.group(2)} worker)",
            "measured": f"{float(rate):.0f} tool calls/s, {errors:.0f} errors",
            "baseline": f"p50 {float(p50):.1f} ms, p99 {float(p99):.1f} ms ({calls} calls)",
            "ratio": "",
            "target": "0 errors",
            "met": errors == 0,
        }
    ]


def parse_emitted(out: str) -> list[dict[str, Any]]:
    lines = [line for line in out.splitlines() if line.startswith(RESULT_PREFIX)]
    if not lines:
        raise ValueError("no BENCH-RESULT line")
    rows: list[dict[str, Any]] = json.loads(lines[-1][len(RESULT_PREFIX) :])
    return rows


def suite(quick: bool) -> list[tuple[str, list[str], Parser]]:
    """(script, arguments, parser) of every benchmark, in the order of the table."""
    return [
        ("cold_start.py", ["5" if quick else "31"], parse_cold_start),
        ("local_start.py", ["3" if quick else "8"], parse_emitted),
        ("tool_latency.py", ["--calls", "50" if quick else "300"], parse_emitted),
        ("tool_surface.py", [], parse_emitted),
        ("uv_upload.py", ["--calls", "3" if quick else "15"], parse_emitted),
        ("logs_tail.py", ["--repeat", "3", "--full-repeat", "1"] if quick else [], parse_logs_tail),
        (
            "fetch_logs_tool.py",
            ["--lines", "200000", "--calls", "3"] if quick else ["--calls", "15"],
            parse_emitted,
        ),
        (
            "follow_throughput.py",
            ["--lines", "50000", "--runs", "2"] if quick else ["--lines", "200000", "--runs", "7"],
            parse_emitted,
        ),
        ("http_load.py", ["--seconds", "5" if quick else "15"], parse_http_load),
        ("local_load.py", ["--lines", "5000"] if quick else [], parse_emitted),
        (
            "soak.py",
            ["--seconds", "20", "--backend-jobs", "1000"] if quick else ["--seconds", "120", "--backend-jobs", "4000"],
            parse_emitted,
        ),
    ]


def markdown(rows: list[dict[str, Any]], meta: dict[str, str]) -> str:
    def met(value: Any) -> str:
        return {True: "yes", False: "**no**", None: "n/a"}.get(value, str(value))

    out = [
        "# Benchmark results",
        "",
        f"Produced by `{meta['command']}` on {meta['date']} ({meta['machine']}), {meta['elapsed']}.",
        "Each line compares the subject with its baseline measured side by side in the same run (alternating runs,",
        "medians). Not part of CI's pass/fail.",
        "",
        "| benchmark | measured | side by side | ratio | target | met |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        out.append(
            f"| {r['benchmark']} | {r['measured']} | {r['baseline']} | {r['ratio']} | {r['target']} | {met(r['met'])} |"
        )
    return "\n".join(out) + "\n"


def output_path(quick: bool, given: Path | None) -> Path:
    """Where the table goes: ``bench/results.md`` for a full run, ``.bench-out/results-quick.md`` for ``--quick``.

    A quick table may go anywhere but over the committed one (:class:`ValueError` says so).
    """
    if given is None:
        return QUICK_RESULTS if quick else RESULTS
    if quick and given.resolve() == RESULTS.resolve():
        raise ValueError(f"a --quick table never replaces {RESULTS.relative_to(HERE.parent)}: drop --output")
    return given


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs and smaller logs (a smoke run)")
    parser.add_argument("--only", nargs="+", default=None, metavar="SCRIPT", help="run only these (e.g. cold_start)")
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"where to write the table (default {RESULTS.relative_to(HERE.parent)}; "
        f"with --quick, {QUICK_RESULTS.relative_to(HERE.parent)})",
    )
    args = parser.parse_args(argv)
    try:
        args.output = output_path(args.quick, args.output)
    except ValueError as exc:
        parser.error(str(exc))
    known = {script.removesuffix(".py") for script, _, _ in suite(args.quick)}
    unknown = sorted({o.removesuffix(".py") for o in args.only or []} - known)
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; choose among {', '.join(sorted(known))}")

    started = time.monotonic()
    rows: list[dict[str, Any]] = []
    failures = 0
    for script, extra, parse in suite(args.quick):
        if args.only and script.removesuffix(".py") not in {o.removesuffix(".py") for o in args.only}:
            continue
        print(f"== {script} {' '.join(extra)}", flush=True)
        t0 = time.monotonic()
        done = subprocess.run(
            [sys.executable, str(HERE / script), *extra], capture_output=True, text=True, check=False, cwd=HERE.parent
        )
        print(done.stdout.rstrip(), flush=True)
        try:
            if done.returncode != 0 and script != "http_load.py":  # http_load exits 1 on call errors: a result
                raise ValueError(f"exit status {done.returncode}: {done.stderr[-1500:]}")
            got = parse(done.stdout)
        except ValueError as exc:
            failures += 1
            print(f"!! {script} failed: {exc}", file=sys.stderr, flush=True)
            got = [
                {
                    "benchmark": script,
                    "measured": "failed to run",
                    "baseline": "",
                    "ratio": "",
                    "target": "",
                    "met": None,
                }
            ]
        rows += got
        print(f"   ({time.monotonic() - t0:.0f} s)", flush=True)

    elapsed = time.monotonic() - started
    meta = {
        "command": ".venv/bin/python bench/run_all.py" + (" --quick" if args.quick else ""),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{os.cpu_count()} CPUs, Python {platform.python_version()}, {platform.system()}",
        "elapsed": f"{elapsed / 60:.1f} min",
    }
    table = markdown(rows, meta)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(table, encoding="utf-8")
    print()
    print(table)
    print(f"written to {args.output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
