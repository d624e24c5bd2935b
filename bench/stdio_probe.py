"""Cold start without an MCP client library: spawn, ``initialize``, ``tools/list``, wall and CPU time side by side.

Why besides ``cold_start.py``: the SDK client adds about 150 ms to every start, the same for both servers, which
hides part of the difference; and the child's CPU time (``os.wait4``) is steadier than wall time on a shared
machine. Each run writes the two requests to a fresh server's stdin as a client would, times the answers, then
closes stdin and reaps the process (its CPU time covers start, the two answers and shutdown). The three servers
alternate: the bare ``MCPServer`` hello-world, hfjobs-mcp, and hfjobs-mcp ``--local`` on a new state folder.

Run: ``.venv/bin/python bench/stdio_probe.py [runs]`` (default 30). Informative: the target is ``cold_start.py``'s.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from benchlib import HELLO

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "probe", "version": "1"}},
}
LIST = [{"jsonrpc": "2.0", "method": "notifications/initialized"}, {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}]


def _once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    assert proc.stdin is not None
    assert proc.stdout is not None
    proc.stdin.write((json.dumps(INIT) + "\n").encode())
    proc.stdin.flush()
    proc.stdout.readline()
    proc.stdin.write("".join(json.dumps(m) + "\n" for m in LIST).encode())
    proc.stdin.flush()
    answer = json.loads(proc.stdout.readline())
    elapsed = time.perf_counter() - started
    assert "tools" in answer["result"], answer
    proc.stdin.close()
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0  # reaped above
    return elapsed, usage.ru_utime + usage.ru_stime


def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello.py"
        hello.write_text(HELLO, encoding="utf-8")
        env = {"HF_TOKEN": "hf_bench_fake_token_000000", "HF_ENDPOINT": "http://127.0.0.1:9", "PATH": "/usr/bin:/bin"}
        ours = [sys.executable, "-m", "hfjobs_mcp", "--log-level", "WARNING"]
        cases: dict[str, Callable[[int], list[str]]] = {
            "bare MCPServer hello-world": lambda n: [sys.executable, str(hello)],
            "hfjobs-mcp": lambda n: ours,
            "hfjobs-mcp --local (new folder)": lambda n: [*ours, "--local", "--state-dir", f"{tmp}/state-{n}"],
        }
        for make in cases.values():  # warm the OS file cache and the schema cache
            _once(make(-1), env)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for n in range(runs):
            for name, make in cases.items():
                results[name].append(_once(make(n), env))
    wall0 = statistics.median(w for w, _ in results["bare MCPServer hello-world"])
    cpu0 = statistics.median(c for _, c in results["bare MCPServer hello-world"])
    print(f"spawn to tools/list over raw stdio, median of {runs} alternating runs (CPU: the whole process)")
    for name, got in results.items():
        wall, cpu = statistics.median(w for w, _ in got), statistics.median(c for _, c in got)
        wall_part = f"wall {wall * 1000:6.1f} ms ({wall / wall0:.3f}x)"
        print(f"  {name:34}: {wall_part}   CPU {cpu * 1000:6.1f} ms ({cpu / cpu0:.3f}x)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
