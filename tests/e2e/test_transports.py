"""The real command over its real transports: ``hfjobs-mcp --local`` as a stdio subprocess and over streamable
HTTP on 127.0.0.1, each on both protocol eras; and ``hfjobs-mcp demo`` as a user would run it.

These spawn the installed console script (or ``python -m hfjobs_mcp``), so they also prove that stdout carries
only the protocol and that the embedded backend starts and stops with the server.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import anyio
import mcp
import pytest
from mcp.client.stdio import StdioServerParameters

from tests.e2e.conftest import MODES, text

pytestmark = pytest.mark.anyio

BIN = Path(sys.executable).parent / "hfjobs-mcp"


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update({"HFJOBS_MCP_HOME": str(tmp / "home"), "HF_HOME": str(tmp / "hf")})
    return env


async def _exercise(client: mcp.Client) -> None:
    tools = await client.list_tools()
    assert len(tools.tools) == 19
    started = await client.call_tool(
        "run_job", {"image": "python:3.12", "command": ["python", "-c", "print('over the wire')"]}
    )
    assert not started.is_error, text(started)
    job = (started.structured_content or {})["job"]
    waited = await client.call_tool("wait_for_job", {"job_id": job["id"], "timeout_seconds": 60})
    assert (waited.structured_content or {})["job"]["stage"] == "COMPLETED"
    logs = await client.call_tool("fetch_logs", {"job_id": job["id"]})
    assert [ln["text"] for ln in (logs.structured_content or {})["lines"]] == ["over the wire"]


@pytest.mark.parametrize("mode", MODES)
async def test_stdio_subprocess(tmp_path: Path, mode: str) -> None:
    params = StdioServerParameters(
        command=str(BIN), args=["--local", "--state-dir", str(tmp_path / "state")], env=_env(tmp_path)
    )
    async with mcp.Client(params, mode=mode) as client:  # type: ignore[arg-type]
        await _exercise(client)


async def test_python_dash_m_is_the_same_command(tmp_path: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "hfjobs_mcp", "--local", "--state-dir", str(tmp_path / "state"), "--read-only"],
        env=_env(tmp_path),
    )
    async with mcp.Client(params) as client:
        names = [t.name for t in (await client.list_tools()).tools]
        assert "run_job" not in names
        assert "fetch_logs" in names


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [str(BIN), "--transport", "http", "--port", str(port), "--local", "--state-dir", str(tmp_path / "state")],
        env=_env(tmp_path),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None:
                pytest.fail(f"server exited: {(tmp_path / 'server.log').read_text()}")
            time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


@pytest.mark.parametrize("mode", MODES)
async def test_streamable_http(http_server: str, mode: str) -> None:
    async with mcp.Client(http_server, mode=mode) as client:  # type: ignore[arg-type]
        await _exercise(client)


def test_demo_runs_on_a_fresh_home(tmp_path: Path) -> None:
    done = subprocess.run(
        [str(BIN), "demo"], env=_env(tmp_path), capture_output=True, text=True, timeout=240, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for step in ("list_hardware", "dry_run", "run_uv_job", "wait_for_job", "fetch_logs", "run_job", "schedule_job"):
        assert step in out, f"demo did not show {step}"
    assert "hello from a UV job" in out
    assert "DRY RUN: nothing was sent" in out
    assert "Deleted scheduled job" in out


async def test_stdio_server_exits_when_the_client_goes(tmp_path: Path) -> None:
    """Closing stdin stops the server and the embedded backend (no process left behind)."""
    proc = await anyio.open_process([str(BIN), "--local", "--state-dir", str(tmp_path / "state")], env=_env(tmp_path))
    assert proc.stdin is not None
    await proc.stdin.aclose()
    with anyio.fail_after(20):
        code = await proc.wait()
    assert code == 0
