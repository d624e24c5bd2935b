"""``hfjobs-mcp demo``: a real MCP client walks through what an agent does, on the embedded local backend.

No token, no network, no cost: the server runs with ``--local`` semantics and jobs run as local processes. Each
tool call and its text result are printed, so a new user sees in one minute what the tools look like to an
agent: a call whole, or its long arguments cut at a word with an ellipsis; a result whole, or its first lines.
Where the local run differs from what Hugging Face would run (the job's Python is this machine's, not the
image's), a one-line note says so. It is an MCP client: the one module besides ``hfjobs_mcp.serve`` allowed to
import the SDK.
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import mcp
from mcp_types import CallToolResult, TextContent

from hfjobs_mcp.config import Settings
from hfjobs_mcp.serve.backend import open_client
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server

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
DOCKER_COMMAND = [
    "python",
    "-c",
    "import platform; print('hi from a Docker-image job on Python', platform.python_version())",
]

# An argument longer than this is echoed cut at a word, with an ellipsis; a result longer than RESULT_CHARS is
# shown up to the last whole line that fits. The demo shows what the calls look like, not every byte.
ARG_CHARS = 100
RESULT_CHARS = 2500
ELLIPSIS = "…"


def _say(text: str = "") -> None:
    print(text, flush=True)


def _text(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


def _boundary(text: str, at: int) -> bool:
    """True when cutting ``text`` at ``at`` splits no word (words are what whitespace separates, so
    ``range(1_000_000)`` or ``3.12`` stay whole) and leaves something before the cut."""
    return (text[at - 1].isspace() or text[at].isspace()) and bool(text[:at].strip())


def shorten(text: str, limit: int = ARG_CHARS) -> str:
    """``text`` whole when it fits in ``limit`` characters, else cut at the end of a word with an ellipsis.

    A first word longer than ``limit`` is kept whole rather than cut.
    """
    if len(text) <= limit:
        return text
    at = next((i for i in range(limit, 0, -1) if _boundary(text, i)), 0)
    if at == 0:
        at = next((i for i in range(limit + 1, len(text)) if _boundary(text, i)), len(text))
    if at >= len(text):
        return text
    return text[:at].rstrip() + ELLIPSIS


def _shorten_all(value: Any) -> Any:
    if isinstance(value, str):
        return shorten(value)
    if isinstance(value, list):
        return [_shorten_all(v) for v in value]
    if isinstance(value, dict):
        return {k: _shorten_all(v) for k, v in value.items()}
    return value


def echo(name: str, args: dict[str, Any]) -> str:
    """How a call is shown: the tool and its arguments as JSON, long strings cut at a word."""
    return f"{name}({json.dumps(_shorten_all(args), ensure_ascii=False)})"


def clip(body: str, limit: int = RESULT_CHARS) -> str:
    """``body`` whole when it fits, else its first whole lines that fit and how many more there are."""
    if len(body) <= limit:
        return body
    lines = body.splitlines()
    kept: list[str] = []
    size = 0
    for line in lines:
        if kept and size + len(line) + 1 > limit:
            break
        kept.append(line)
        size += len(line) + 1
    left = len(lines) - len(kept)
    if left == 0:  # one line longer than the limit: shown whole, never cut inside
        return body
    return "\n".join([*kept, f"{ELLIPSIS} ({left} more line{'' if left == 1 else 's'})"])


def python_of_image(image: str) -> str | None:
    """The Python version an image name announces (``python:3.12``, ``uv:python3.12-bookworm``), if any."""
    found = re.search(r"python:?(\d+\.\d+)", image)
    return found.group(1) if found else None


def local_difference(image: str, log_text: str) -> str | None:
    """A one-line note when the local run differs from what Hugging Face would run: the Python version the job
    printed here (this machine's, through uv or PATH) against the one of the image it names."""
    ran = re.search(r"on Python (\d+\.\d+)(\.\d+)?", log_text)
    wanted = python_of_image(image)
    if ran is None or wanted is None or ran.group(1) == wanted:
        return None
    return (
        f"note: locally this ran on this machine's Python {ran.group(1)}{ran.group(2) or ''}; "
        f"on Hugging Face it runs in the image {image} (Python {wanted})."
    )


async def _call(client: mcp.Client, name: str, args: dict[str, Any], *, note: str) -> CallToolResult:
    _say(f"\n## {note}")
    _say(f"> {echo(name, args)}")

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        _say(f"  {ELLIPSIS} progress {progress:.0f}/{total or 0:.0f}s {message or ''}")

    result = await client.call_tool(name, args, progress_callback=progress)
    body = _text(result)
    _say(textwrap.indent(clip(body), "  "))
    if result.is_error:
        raise RuntimeError(f"{name} failed: {body}")
    return result


async def _logs_with_note(client: mcp.Client, job_id: str, image: str, args: dict[str, Any], *, note: str) -> None:
    """fetch_logs, then the note on what differs locally (see :func:`local_difference`), if anything does."""
    logs = await _call(client, "fetch_logs", {"job_id": job_id, **args}, note=note)
    lines = (logs.structured_content or {}).get("lines") or []
    difference = local_difference(image, "\n".join(str(line.get("text", "")) for line in lines))
    if difference:
        _say(f"  {difference}")


async def run_demo(state_dir: Path | None = None) -> int:
    """Run the walkthrough; returns the process exit code."""
    with tempfile.TemporaryDirectory(prefix="hfjobs-mcp-demo-") as tmp:
        settings = Settings(local=True, state_dir=state_dir or Path(tmp) / "state")
        async with open_client(settings, embedded=True) as api:
            server = build_server(base_context(settings, api))
            async with mcp.Client(server) as client:
                tools = [t for t in (await client.list_tools()).tools if not _app_only(t.meta)]
                _say(f"# hfjobs-mcp demo: {len(tools)} tools, local backend at {api.endpoint} (free)")
                await _call(client, "list_hardware", {"kind": "gpu", "max_price_per_hour": 1.0}, note="GPUs under $1/h")
                await _call(
                    client,
                    "run_uv_job",
                    {"script": SCRIPT, "flavor": "a10g-small", "timeout": "10m", "dry_run": True},
                    note="Dry run: the exact request and its price ceiling; nothing is sent",
                )
                started = await _call(client, "run_uv_job", {"script": SCRIPT}, note="Run a UV job from inline source")
                job_id, image = _job_ref(started)
                await _call(
                    client, "wait_for_job", {"job_id": job_id, "timeout_seconds": 120}, note="Wait, with progress"
                )
                await _logs_with_note(client, job_id, image, {"tail": 20}, note="Read what it printed")
                docker = await _call(
                    client,
                    "run_job",
                    {"image": "python:3.12", "command": DOCKER_COMMAND},
                    note="A Docker-image job (locally the image is recorded and the command runs as a process)",
                )
                docker_id, docker_image = _job_ref(docker)
                await _call(client, "wait_for_job", {"job_id": docker_id, "timeout_seconds": 60}, note="Wait for it")
                await _logs_with_note(client, docker_id, docker_image, {}, note="Its output")
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


def _app_only(meta: dict[str, Any] | None) -> bool:
    """A tool only an MCP App calls (``_meta.ui.visibility: ["app"]``, the approval card's): not one the model sees,
    so not counted in the tools the demo announces."""
    ui = (meta or {}).get("ui") or {}
    return isinstance(ui, dict) and ui.get("visibility") == ["app"]


def _job_ref(result: CallToolResult) -> tuple[str, str]:
    """The started job's ``namespace/id`` and image."""
    job = (result.structured_content or {}).get("job") or {}
    if not job:
        print("no job in the result", file=sys.stderr)
        raise RuntimeError("expected a job in the tool result")
    return f"{job['namespace']}/{job['id']}", str(job.get("image") or "")
