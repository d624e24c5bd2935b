"""``hfjobs-mcp demo``: a real MCP client walks through what an agent does, on the embedded local backend.

No token, no network, no cost: the server runs with ``--local`` semantics and jobs run as local processes. Each
tool call and its text result are printed, so a new user sees in one minute what the tools look like to an
agent. It is an MCP client, so (with ``server``) it is one of the two modules allowed to import the SDK.
"""

from __future__ import annotations

import json
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import mcp
from mcp_types import CallToolResult, TextContent

from hfjobs_mcp.config import Settings
from hfjobs_mcp.runtime import base_context, open_client
from hfjobs_mcp.server import build_server

SCRIPT = textwrap.dedent(
    """\
    # /// script
    # dependencies = []
    # ///
    import platform, sys
    total = sum(i * i for i in range(1_000_000))
    print(f"hello from a UV job on Python {platform.python_version()}")
    print(f"sum of squares below one million: {total}")
    """
)


def _say(text: str = "") -> None:
    print(text, flush=True)


def _text(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


async def _call(client: mcp.Client, name: str, args: dict[str, Any], *, note: str) -> CallToolResult:
    _say(f"\n## {note}")
    _say(f"> {name}({json.dumps(args)[:300]})")

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        _say(f"  … progress {progress:.0f}/{total or 0:.0f}s {message or ''}")

    result = await client.call_tool(name, args, progress_callback=progress)
    body = _text(result)
    _say(textwrap.indent(body if len(body) < 2500 else body[:2500] + "\n…", "  "))
    if result.is_error:
        raise RuntimeError(f"{name} failed: {body}")
    return result


async def run_demo(state_dir: Path | None = None) -> int:
    """Run the walkthrough; returns the process exit code."""
    with tempfile.TemporaryDirectory(prefix="hfjobs-mcp-demo-") as tmp:
        settings = Settings(local=True, state_dir=state_dir or Path(tmp) / "state")
        async with open_client(settings, embedded=True) as api:
            server = build_server(base_context(settings, api))
            async with mcp.Client(server) as client:
                tools = await client.list_tools()
                _say(f"# hfjobs-mcp demo: {len(tools.tools)} tools, local backend at {api.endpoint} (free)")
                await _call(client, "list_hardware", {"kind": "gpu", "max_price_per_hour": 1.0}, note="GPUs under $1/h")
                await _call(
                    client,
                    "run_uv_job",
                    {"script": SCRIPT, "flavor": "a10g-small", "timeout": "10m", "dry_run": True},
                    note="Dry run: the exact request and its price ceiling; nothing is sent",
                )
                started = await _call(client, "run_uv_job", {"script": SCRIPT}, note="Run a UV job from inline source")
                job_id = _job_ref(started)
                await _call(
                    client, "wait_for_job", {"job_id": job_id, "timeout_seconds": 120}, note="Wait, with progress"
                )
                await _call(client, "fetch_logs", {"job_id": job_id, "tail": 20}, note="Read what it printed")
                docker = await _call(
                    client,
                    "run_job",
                    {"image": "python:3.12", "command": ["python", "-c", "print('hi from a Docker-image job')"]},
                    note="A Docker-image job (locally the image is recorded and the command runs as a process)",
                )
                docker_id = _job_ref(docker)
                await _call(client, "wait_for_job", {"job_id": docker_id, "timeout_seconds": 60}, note="Wait for it")
                await _call(client, "fetch_logs", {"job_id": docker_id}, note="Its output")
                scheduled = await _call(
                    client,
                    "schedule_job",
                    {"schedule": "@daily", "image": "python:3.12", "command": ["python", "-c", "print('nightly')"]},
                    note="Schedule a job every day",
                )
                sid = (scheduled.structured_content or {}).get("scheduled_job", {}).get("id")
                await _call(client, "delete_scheduled_job", {"scheduled_job_id": sid}, note="And delete the schedule")
        _say("\nDone. Connect an MCP client with `hfjobs-mcp --local` to do the same from your agent.")
    return 0


def _job_ref(result: CallToolResult) -> str:
    job = (result.structured_content or {}).get("job") or {}
    if not job:
        print("no job in the result", file=sys.stderr)
        raise RuntimeError("expected a job in the tool result")
    return f"{job['namespace']}/{job['id']}"
