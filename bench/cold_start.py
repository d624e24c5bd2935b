"""Cold start to ``tools/list`` over stdio, hfjobs-mcp against a bare ``MCPServer`` hello-world, side by side.

Both servers are spawned as fresh Python processes by a real MCP client (``mcp.Client`` over stdio), the
same way Claude Desktop or VS Code launch them; the time is from spawn to a completed ``tools/list``. Runs
alternate between the two so that machine noise hits both alike. Also prints the byte size of hfjobs-mcp's
``tools/list`` result (what every agent session pays for in context).

Targets: ratio <= 1.05, tools/list <= 30 kB. Usage: ``.venv/bin/python bench/cold_start.py [runs]``.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import anyio
import mcp
from mcp.client.stdio import StdioServerParameters

HELLO = '''
from mcp.server.mcpserver import MCPServer
server = MCPServer("hello")

@server.tool()
def hello(name: str) -> str:
    """Say hello."""
    return f"hello {name}"

server.run("stdio")
'''


async def _once(params: StdioServerParameters) -> tuple[float, int]:
    started = time.perf_counter()
    async with mcp.Client(params) as client:
        result = await client.list_tools()
    elapsed = time.perf_counter() - started
    size = len(json.dumps(result.model_dump(mode="json", by_alias=True, exclude_none=True), separators=(",", ":")))
    return elapsed, size


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        hello = Path(tmp) / "hello.py"
        hello.write_text(HELLO, encoding="utf-8")
        env = {"HF_TOKEN": "hf_bench_fake_token_000000", "HF_ENDPOINT": "http://127.0.0.1:9", "PATH": "/usr/bin:/bin"}
        ours = StdioServerParameters(
            command=sys.executable, args=["-m", "hfjobs_mcp", "--log-level", "WARNING"], env=env
        )
        bare = StdioServerParameters(command=sys.executable, args=[str(hello)], env=env)
        await _once(ours)  # warm the OS file cache for both before measuring
        await _once(bare)
        t_ours: list[float] = []
        t_bare: list[float] = []
        size = 0
        for _ in range(runs):
            elapsed, size = await _once(ours)
            t_ours.append(elapsed)
            t_bare.append((await _once(bare))[0])
    m_ours, m_bare = statistics.median(t_ours), statistics.median(t_bare)
    print(f"cold start to tools/list over stdio, median of {runs} alternating runs")
    print(f"  bare MCPServer hello-world : {m_bare * 1000:7.1f} ms")
    print(f"  hfjobs-mcp (19 tools)      : {m_ours * 1000:7.1f} ms")
    print(f"  ratio                      : {m_ours / m_bare:7.3f}   (target <= 1.05)")
    print(f"tools/list result size       : {size} bytes ({size / 1000:.1f} kB; target <= 30 kB)")


if __name__ == "__main__":
    anyio.run(main, int(sys.argv[1]) if len(sys.argv) > 1 else 10)
