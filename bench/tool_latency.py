"""Tool-call latency over stdio: ``inspect_job`` on hfjobs-mcp against a no-op tool on a bare ``MCPServer``, plus one
raw HTTP GET of the same job from the backend, side by side.

Why: every tool call an agent makes pays the MCP round trip (stdio, JSON-RPC, the SDK's validation) plus the Jobs
API request. ``inspect_job`` does exactly one API request, so its latency minus the no-op's and minus the raw GET's
is what hfjobs-mcp itself adds (argument and result models, rendering, redaction). Both servers are real
subprocesses driven by a real MCP client (``mcp.Client`` over stdio), against a local backend in this process;
calls alternate (no-op, inspect_job, raw GET) so machine noise hits all three alike. Medians are reported.

Run: ``.venv/bin/python bench/tool_latency.py [--calls 200]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import anyio
import mcp
from benchlib import TOKEN, USER, api_client, emit, local_backend, median, run_to_end
from mcp.client.stdio import StdioServerParameters

NOOP = '''
from mcp.server.mcpserver import MCPServer
server = MCPServer("noop")

@server.tool()
def noop() -> str:
    """Do nothing."""
    return "ok"

server.run("stdio")
'''


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def measure(url: str, job_id: str, calls: int, tmp: Path) -> dict[str, list[float]]:
    noop_py = tmp / "noop.py"
    noop_py.write_text(NOOP, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "HFJOBS_MCP_"))}
    env.update({"HF_TOKEN": TOKEN, "HF_ENDPOINT": url, "HF_HOME": str(tmp / "hf"), "HFJOBS_MCP_HOME": str(tmp)})
    ours = StdioServerParameters(command=sys.executable, args=["-m", "hfjobs_mcp", "--log-level", "WARNING"], env=env)
    bare = StdioServerParameters(command=sys.executable, args=[str(noop_py)], env=env)
    out: dict[str, list[float]] = {"noop": [], "inspect_job": [], "get": []}
    with api_client(url) as http:
        async with mcp.Client(ours) as client, mcp.Client(bare) as noop:
            for _ in range(20):  # warm up: imports, caches, connections
                await noop.call_tool("noop", {})
                await client.call_tool("inspect_job", {"job_id": job_id})
                http.get(f"/api/jobs/{USER}/{job_id}").raise_for_status()
            for _ in range(calls):
                t0 = time.perf_counter()
                await noop.call_tool("noop", {})
                t1 = time.perf_counter()
                result = await client.call_tool("inspect_job", {"job_id": job_id})
                t2 = time.perf_counter()
                http.get(f"/api/jobs/{USER}/{job_id}").raise_for_status()
                t3 = time.perf_counter()
                if result.is_error:
                    raise RuntimeError(f"inspect_job failed: {result.content}")
                out["noop"].append(t1 - t0)
                out["inspect_job"].append(t2 - t1)
                out["get"].append(t3 - t2)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hfjobs-bench-latency-") as tmp_name, local_backend() as backend:
        with api_client(backend.url) as http:
            job_id = run_to_end(http, ["true"])
        out = anyio.run(measure, backend.url, job_id, args.calls, Path(tmp_name))
    noop, inspect, get = (median(out[k]) * 1000 for k in ("noop", "inspect_job", "get"))
    added = inspect - noop - get
    ratio = inspect / (noop + get)
    print(f"tool call latency over stdio, median of {args.calls} alternating rounds (ms)")
    print(f"{'':34} {'p50':>7} {'p90':>7}")
    for label, key in (
        ("bare MCPServer no-op tool", "noop"),
        ("raw GET of the job", "get"),
        ("inspect_job", "inspect_job"),
    ):
        print(f"  {label:32} {median(out[key]) * 1000:7.2f} {percentile(out[key], 0.9) * 1000:7.2f}")
    print(f"  added by hfjobs-mcp (inspect - no-op - GET): {added:.2f} ms")
    print(f"  ratio inspect_job / (no-op + GET)          : {ratio:.2f}x")
    emit(
        [
            {
                "benchmark": "tool call over stdio: inspect_job",
                "measured": f"{inspect:.2f} ms",
                "baseline": f"no-op tool {noop:.2f} ms + raw GET {get:.2f} ms",
                "ratio": f"{ratio:.2f}x (+{added:.2f} ms)",
                "target": "none set (informative)",
                "met": None,
            }
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
