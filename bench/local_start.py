"""``hfjobs-mcp --local`` start-up: the detached backend (started, or attached to) against the embedded one.

Before jobs outlived their server, ``--local`` served the backend from a thread of the MCP server itself.
Now it attaches to a backend process serving the state folder, or starts one in the background. This
spawns the server as MCP clients do (stdio) and times spawn -> ``tools/list`` and spawn -> the first tool
call that needs the backend (``list_jobs``), in three ways, alternating:

- ``embedded``: the old way (``serve.backend.open_client(..., embedded=True)``: a backend thread in-process);
- ``detached, cold``: a fresh state folder, so the server starts the backend process (stopped after each run);
- ``detached, attach``: a backend already serves the folder (the usual case after the first start).

Usage: ``.venv/bin/python bench/local_start.py [runs]``.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import mcp
from benchlib import emit
from mcp.client.stdio import StdioServerParameters

EMBEDDED = """
import sys
from pathlib import Path
import anyio
from hfjobs_mcp.config import Settings
from hfjobs_mcp.serve.backend import open_client
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server

async def main():
    settings = Settings(local=True, state_dir=Path(sys.argv[1]))
    async with open_client(settings, embedded=True) as client:
        await build_server(base_context(settings, client)).run_stdio_async()

anyio.run(main)
"""


async def _once(params: StdioServerParameters) -> tuple[float, float]:
    started = time.perf_counter()
    async with mcp.Client(params) as client:
        await client.list_tools()
        listed = time.perf_counter() - started
        result = await client.call_tool("list_jobs", {})
        assert not result.is_error, result
        called = time.perf_counter() - started
    return listed, called


def _stop_backend(state: Path) -> None:
    try:
        pid = int(json.loads((state / "backend.json").read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return
    os.kill(pid, signal.SIGTERM)
    for _ in range(200):
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.05)


async def main(runs: int) -> None:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HF_HUB_DISABLE_TELEMETRY": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        script = root / "embedded.py"
        script.write_text(EMBEDDED, encoding="utf-8")
        shared = root / "shared"
        results: dict[str, list[tuple[float, float]]] = {"embedded": [], "detached, cold": [], "detached, attach": []}
        for i in range(runs + 1):  # the first round warms the OS file cache and is not counted
            fresh = root / f"fresh-{i}"
            embedded = StdioServerParameters(
                command=sys.executable, args=[str(script), str(root / f"emb-{i}")], env=env
            )
            cold = StdioServerParameters(
                command=sys.executable,
                args=["-m", "hfjobs_mcp", "--local", "--state-dir", str(fresh), "--log-level", "WARNING"],
                env=env,
            )
            attach = StdioServerParameters(
                command=sys.executable,
                args=["-m", "hfjobs_mcp", "--local", "--state-dir", str(shared), "--log-level", "WARNING"],
                env=env,
            )
            if i == 0:
                await _once(attach)  # leaves the shared backend running for the attach runs
            for name, params in (("embedded", embedded), ("detached, cold", cold), ("detached, attach", attach)):
                timing = await _once(params)
                if i:
                    results[name].append(timing)
            _stop_backend(fresh)
        _stop_backend(shared)
    print(f"hfjobs-mcp --local start-up over stdio, median of {runs} alternating runs")
    base_list = statistics.median(t[0] for t in results["embedded"])
    base_call = statistics.median(t[1] for t in results["embedded"])
    rows = []
    for name, timings in results.items():
        listed = statistics.median(t[0] for t in timings)
        called = statistics.median(t[1] for t in timings)
        print(
            f"  {name:17}: tools/list {listed * 1000:7.1f} ms ({listed / base_list:5.2f}x)"
            f"   first list_jobs {called * 1000:7.1f} ms ({called / base_call:5.2f}x)"
        )
        if name != "embedded":
            rows.append(
                {
                    "benchmark": f"--local start to the first list_jobs ({name})",
                    "measured": f"{called * 1000:.0f} ms (tools/list {listed * 1000:.0f} ms)",
                    "baseline": f"{base_call * 1000:.0f} ms (backend embedded in the server, as before)",
                    "ratio": f"{called / base_call:.2f}x",
                    "target": "none set (informative)",
                    "met": None,
                }
            )
    emit(rows)


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 8)
