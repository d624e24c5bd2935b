"""What the real processes write to stderr: lifecycle at INFO, per-request lines only at DEBUG (issue 22, item 6).

At INFO, every tool call used to add httpx2's ``HTTP Request`` line per API request, and every request to a
backend or an HTTP server added uvicorn's access line: about 0.4 KB per call, 4 MiB a minute under a 16-client
soak, written into the MCP client's own log file in stdio mode. Each test here makes many requests and checks
that the default log does not grow with them, that the lifecycle (started, job state changes, stopped) is
still there, and that ``--log-level DEBUG`` brings the per-request lines back.
"""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path

import httpx2
import mcp
import pytest
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.e2e.http_util import BIN, LOCAL_AUTH, clean_env, http_client, local_server, mcp_client

pytestmark = pytest.mark.anyio

TOKEN = "hf_local_logging_test_token_0123"
ACCESS_LINE = re.compile(r'"(GET|POST|PUT|DELETE) /\S* HTTP/1\.1" \d{3}')


def _local_backend_session(tmp_path: Path, *extra: str) -> tuple[str, list[str]]:
    """``hfjobs-mcp local``: run a job, make 60 reads, stop it with SIGINT; (its stderr, the job ids)."""
    command = [str(BIN), "local", "--port", "0", "--state-dir", str(tmp_path / "state"), "--token", TOKEN, *extra]
    log = tmp_path / "local.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=clean_env(tmp_path), stdout=sink, stderr=sink)
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"local backend: (http://127\.0\.0\.1:\d+)", log.read_text())):
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        headers = {"authorization": f"Bearer {TOKEN}"}
        ids = []
        with httpx2.Client(base_url=found.group(1), headers=headers, timeout=30) as api:
            for code in ("print('hi')", "raise SystemExit(4)"):
                body = {"command": ["python", "-c", code], "flavor": "cpu-basic", "dockerImage": "python:3.12"}
                job = api.post("/api/jobs/local-user", json=body).json()
                ids.append(job["id"])
                while api.get(f"/api/jobs/local-user/{job['id']}").json()["status"]["stage"] in (
                    "SCHEDULING",
                    "RUNNING",
                ):
                    time.sleep(0.05)
            for _ in range(60):
                assert api.get("/api/jobs/local-user").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    return log.read_text(), ids


@pytest.mark.slow
def test_local_backend_logs_lifecycle_at_info_and_no_line_per_request(tmp_path: Path) -> None:
    err, (ok, failed) = _local_backend_session(tmp_path)
    assert not ACCESS_LINE.search(err), err
    assert f"job {ok}: RUNNING" in err
    assert f"job {ok}: COMPLETED" in err
    assert f"job {failed}: ERROR (Job failed with exit code: 4)" in err
    assert "local Jobs backend serving" in err
    assert re.search(r"local Jobs backend at \S+ stopped", err)
    assert len(err) < 4000, err  # 64 requests; the access lines alone were about 6 KB


@pytest.mark.slow
def test_local_backend_access_lines_at_debug(tmp_path: Path) -> None:
    err, _ = _local_backend_session(tmp_path, "--log-level", "DEBUG")
    lines = [line for line in err.splitlines() if ACCESS_LINE.search(line)]
    assert len(lines) >= 60
    assert all(" DEBUG uvicorn.access: " in line for line in lines), lines[:3]


async def _calls(client: mcp.Client, count: int) -> None:
    started = await client.call_tool("run_job", {"image": "python:3.12", "command": ["python", "-c", "print(1)"]})
    job = (started.structured_content or {})["job"]
    await client.call_tool("wait_for_job", {"job_id": job["id"], "timeout_seconds": 60})
    for _ in range(count):
        assert not (await client.call_tool("inspect_job", {"job_id": job["id"]})).is_error


@pytest.mark.slow
async def test_stdio_server_writes_no_line_per_tool_call(tmp_path: Path) -> None:
    state = tmp_path / "state"
    params = StdioServerParameters(
        command=str(BIN), args=["--local", "--state-dir", str(state)], env=clean_env(tmp_path)
    )
    stderr_path = tmp_path / "stderr.log"
    with stderr_path.open("w") as errlog:
        async with mcp.Client(stdio_client(params, errlog=errlog)) as client:  # type: ignore[arg-type]
            await _calls(client, 40)
    err = stderr_path.read_text()
    assert "HTTP Request" not in err, err
    assert "local Jobs backend" in err  # lifecycle is still there
    assert len(err) < 3000, err  # 40+ calls; at 0.4 KB a call this was over 16 KB
    # The backend --local started logs to <state>/backend.log: job state changes, no line per request.
    backend_log = (state / "backend.log").read_text()
    assert re.search(r"job [0-9a-f]{24}: COMPLETED", backend_log), backend_log
    assert not ACCESS_LINE.search(backend_log), backend_log
    assert "HTTP Request" not in backend_log


@pytest.mark.slow
async def test_http_server_writes_no_access_line_per_call(tmp_path: Path) -> None:
    with local_server(tmp_path) as server:
        async with http_client(LOCAL_AUTH) as http, mcp_client(server.mcp_url, client=http) as client:
            await _calls(client, 30)
        for _ in range(20):
            assert httpx2.get(f"{server.base_url}/healthz").status_code == 200
        time.sleep(0.2)
        err = server.output()
    assert not ACCESS_LINE.search(err), err
    assert "HTTP Request" not in err, err
    assert "serving MCP over streamable HTTP" in err
