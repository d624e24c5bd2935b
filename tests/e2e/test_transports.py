"""The real command over its real transports: ``hfjobs-mcp --local`` as a stdio subprocess and over streamable
HTTP on 127.0.0.1, each on both protocol eras (``hfjobs-mcp demo`` is in ``test_demo.py``).

These spawn the installed console script (or ``python -m hfjobs_mcp``), so they also prove that stdout carries
only the protocol and that ``--local`` starts (or attaches to) its detached backend; ``test_detached_backend``
covers that backend's own life.
"""

from __future__ import annotations

import json
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
from mcp.client.stdio import StdioServerParameters, stdio_client

from hfjobs_mcp.tools.registry import select_tools
from tests.e2e.conftest import MODES, text
from tests.e2e.http_util import LOCAL_AUTH, http_client, mcp_client
from tests.local.util import wait_gone
from tests.visibility import model_visible

pytestmark = pytest.mark.anyio

BIN = Path(sys.executable).parent / "hfjobs-mcp"


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update({"HFJOBS_MCP_HOME": str(tmp / "home"), "HF_HOME": str(tmp / "hf")})
    return env


async def _exercise(client: mcp.Client) -> None:
    tools = await client.list_tools()
    assert len(model_visible(tools.tools)) == len(select_tools())  # the default toolsets
    started = await client.call_tool(
        "run_job", {"image": "python:3.12", "command": ["python", "-c", "print('over the wire')"]}
    )
    assert not started.is_error, text(started)
    job = (started.structured_content or {})["job"]
    waited = await client.call_tool("wait_for_job", {"job_id": job["id"], "timeout_seconds": 60})
    assert (waited.structured_content or {})["job"]["stage"] == "COMPLETED"
    logs = await client.call_tool("fetch_logs", {"job_id": job["id"]})
    assert [ln["text"] for ln in (logs.structured_content or {})["lines"]] == ["over the wire"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_stdio_subprocess(tmp_path: Path, mode: str) -> None:
    params = StdioServerParameters(
        command=str(BIN), args=["--local", "--state-dir", str(tmp_path / "state")], env=_env(tmp_path)
    )
    async with mcp.Client(params, mode=mode) as client:  # type: ignore[arg-type]
        await _exercise(client)


@pytest.mark.slow
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
        [
            *(str(BIN), "--transport", "http", "--port", str(port)),
            *("--local", "--auth", "token", "--state-dir", str(tmp_path / "state")),
        ],
        env={**_env(tmp_path), "HFJOBS_MCP_AUTH_TOKEN": LOCAL_AUTH},
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


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_streamable_http(http_server: str, mode: str) -> None:
    async with http_client(LOCAL_AUTH) as http, mcp_client(http_server, client=http, mode=mode) as client:
        await _exercise(client)


@pytest.mark.slow
async def test_stdio_server_exits_when_the_client_goes(tmp_path: Path) -> None:
    """Closing stdin stops the server (the detached backend it started stops on its own once idle)."""
    proc = await anyio.open_process([str(BIN), "--local", "--state-dir", str(tmp_path / "state")], env=_env(tmp_path))
    assert proc.stdin is not None
    await proc.stdin.aclose()
    with anyio.fail_after(20):
        code = await proc.wait()
    assert code == 0


@pytest.mark.slow
async def test_stdio_secrets_file_value_never_reaches_stderr_or_results(tmp_path: Path) -> None:
    """The real process with --secrets-file and DEBUG logging: the job gets the value, stderr and results never."""
    value = "file-secret-value-9d2e71c4"
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"FILE_SECRET={value}\n", encoding="utf-8")
    secrets_file.chmod(0o600)
    params = StdioServerParameters(
        command=str(BIN),
        args=[
            *("--local", "--state-dir", str(tmp_path / "state")),
            *("--secrets-file", str(secrets_file), "--log-level", "DEBUG"),
        ],
        env=_env(tmp_path),
    )
    approvals: list[str] = []

    async def approve(context: object, params: object) -> object:
        from mcp_types import ElicitResult

        approvals.append(getattr(params, "message", ""))
        return ElicitResult(action="accept", content={"approve": True})

    seen: list[str] = []
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("w") as errlog:
        async with mcp.Client(stdio_client(params, errlog=errlog), elicitation_callback=approve) as client:  # type: ignore[arg-type]
            await _secret_job(client, seen)
    assert len(approvals) == 1
    assert "FILE_SECRET" in approvals[0]
    err = stderr_path.read_text()
    assert "audit: run_job forwarded secrets [FILE_SECRET]" in err
    assert "HTTP Request" in err, "DEBUG logging should have produced request lines"
    assert value not in err
    assert not [s for s in seen if value in s]


async def _secret_job(client: mcp.Client, seen: list[str]) -> None:
    """Run a job printing FILE_SECRET, wait, read its logs; record every text the server returned."""
    code = "import os; print('value:', os.environ['FILE_SECRET'])"
    started = await client.call_tool(
        "run_job", {"image": "python:3.12", "command": ["python", "-c", code], "secrets": ["FILE_SECRET"]}
    )
    seen.append(text(started) + repr(started.structured_content))
    assert not started.is_error, text(started)
    job_id = (started.structured_content or {})["job"]["id"]
    waited = await client.call_tool("wait_for_job", {"job_id": job_id, "timeout_seconds": 60})
    seen.append(text(waited))
    logs = await client.call_tool("fetch_logs", {"job_id": job_id})
    seen.append(text(logs) + repr(logs.structured_content))
    assert [ln["text"] for ln in (logs.structured_content or {})["lines"]] == ["value: ***"]


@pytest.mark.slow
async def test_two_local_servers_share_one_backend(tmp_path: Path) -> None:
    """Two MCP clients configured with --local on the same state folder: the second attaches to the first's
    backend (the store is locked to one process) and both see the same jobs."""
    state = str(tmp_path / "state")
    first = StdioServerParameters(command=str(BIN), args=["--local", "--state-dir", state], env=_env(tmp_path))
    second = StdioServerParameters(command=str(BIN), args=["--local", "--state-dir", state], env=_env(tmp_path))
    async with mcp.Client(first) as one, mcp.Client(second) as two:
        started = await two.call_tool("run_job", {"image": "python:3.12", "command": ["python", "-c", "print(2)"]})
        assert not started.is_error, text(started)
        job = (started.structured_content or {})["job"]
        seen = await one.call_tool("wait_for_job", {"job_id": job["id"], "timeout_seconds": 60})
        assert not seen.is_error, text(seen)
        assert (seen.structured_content or {})["job"]["stage"] == "COMPLETED"
    # One backend process served both; it stops by itself once both clients are gone and nothing runs.
    pid = json.loads((tmp_path / "state" / "backend.json").read_text())["pid"]
    assert wait_gone(pid, timeout=30)
    assert not (tmp_path / "state" / "backend.json").exists(), "the discovery file outlived its backend"
