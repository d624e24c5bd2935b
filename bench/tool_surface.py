"""What an agent pays to use the tools: ``tools/list`` bytes per toolset choice, and requests per ``fetch_logs``.

``tools/list`` is in every agent's context for the whole session, so its size is a cost; measured as a client
receives it (compact JSON of every listed tool, the app-only approval tool included) for the default toolsets and
for all of them. ``fetch_logs`` of a finished job should cost 2 requests (the job, the tail), whatever the tail:
counted at a local backend for a one-line log, a burst (one timestamp) and a long log, side by side with what
huggingface_hub's ``fetch_job_logs`` (full replay, then the job) costs for the same logs.

Run: ``.venv/bin/python bench/tool_surface.py``.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import anyio
import mcp
from starlette.types import ASGIApp, Receive, Scope, Send

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchlib import emit
from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.config import DEFAULT_TOOLSETS, TOOLSETS, Settings
from hfjobs_mcp.local import LocalBackend, LocalConfig
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server

TOKEN = "hf_local_bench_token_0123456789"
JOBS = {
    "one-line log": "print('only line')",
    "burst log (5,000 lines, one timestamp)": (
        "import sys; sys.stdout.write(''.join(f'b{i}\\n' for i in range(5000))); sys.stdout.flush()"
    ),
    "long log (20,000 lines)": "for i in range(20000): print(f'l{i}')",
}


class Counter:
    """ASGI middleware counting requests."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.count += 1
        await self.app(scope, receive, send)


async def list_size(toolsets: tuple[str, ...]) -> int:
    async with JobsClient(token="hf_bench_fake_token_000000", endpoint="http://127.0.0.1:9") as client:
        server = build_server(base_context(Settings(), client), toolsets=toolsets)
        async with mcp.Client(server) as session:
            tools = (await session.list_tools()).tools
    listed = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    return len(json.dumps({"tools": listed}, separators=(",", ":")))


def hub_requests(url: str, job_id: str, counter: Counter) -> int:
    """Requests huggingface_hub 2.4 sends for ``hf jobs logs`` of a finished job (read in a subprocess: it reads
    HF_ENDPOINT at import)."""
    import subprocess

    code = (
        f"from huggingface_hub import HfApi; api = HfApi(token={TOKEN!r}); "
        f"[None for _ in api.fetch_job_logs(job_id={job_id!r}, namespace='bench')]"
    )
    before = counter.count
    env = {"HF_ENDPOINT": url, "PATH": "/usr/bin:/bin", "HF_HUB_DISABLE_TELEMETRY": "1"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True, capture_output=True)
    return counter.count - before


async def main() -> None:
    rows: list[dict[str, Any]] = []
    default, everything = await list_size(DEFAULT_TOOLSETS), await list_size(TOOLSETS)
    print(f"tools/list: default toolsets {default} bytes, all toolsets {everything} bytes")
    rows.append(
        {
            "benchmark": "tools/list size, default toolsets",
            "measured": f"{default / 1000:.1f} kB",
            "baseline": f"all toolsets {everything / 1000:.1f} kB (target <= 40 kB)",
            "ratio": "",
            "target": "<= 30 kB",
            "met": default <= 30_000 and everything <= 40_000,
        }
    )
    with tempfile.TemporaryDirectory() as tmp:
        config = LocalConfig(state_dir=Path(tmp) / "state", token=TOKEN, user="bench", host="127.0.0.1", port=0)
        backend = LocalBackend(config)
        counter = Counter(backend.app)
        backend.app = counter  # type: ignore[assignment]  # uvicorn serves whatever ASGI app this holds
        backend.start_in_thread()
        try:
            async with JobsClient(token=TOKEN, endpoint=backend.url) as api:
                server = build_server(base_context(Settings(endpoint=backend.url), api, environ={}))
                async with mcp.Client(server) as session:
                    await session.call_tool("list_hardware", {})
                    for name, code in JOBS.items():
                        started = await session.call_tool(
                            "run_job", {"image": "python:3.12", "command": ["python", "-c", code]}
                        )
                        job_id = (started.structured_content or {})["job"]["id"]
                        await session.call_tool("wait_for_job", {"job_id": job_id, "timeout_seconds": 120})
                        counts = []
                        for tail in (1, 100, 1000):
                            before = counter.count
                            await session.call_tool("fetch_logs", {"job_id": job_id, "tail": tail})
                            counts.append(counter.count - before)
                        hub = hub_requests(backend.url, job_id, counter)
                        print(f"{name}: fetch_logs tail=1/100/1000 -> {counts} requests; huggingface_hub {hub}")
                        rows.append(
                            {
                                "benchmark": f"fetch_logs requests, finished job, {name}",
                                "measured": f"{max(counts)} (tails 1, 100, 1000)",
                                "baseline": f"huggingface_hub fetch_job_logs: {hub} (the whole log, no stage)",
                                "ratio": "",
                                "target": "<= 2",
                                "met": max(counts) <= 2,
                            }
                        )
        finally:
            backend.stop_thread()
    emit(rows)


if __name__ == "__main__":
    anyio.run(main)
