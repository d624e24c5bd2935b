"""``hfjobs-mcp --local`` and the backend that outlives it: jobs keep running when the server that started them
exits, the next server sees them, the backend stops by itself when quiet, and ``hfjobs-mcp local --stop``.

Real processes throughout: the installed console script over stdio, the detached backend it spawns, and
its jobs. ``HFJOBS_LOCAL_IDLE_SECONDS`` is short (tests/conftest.py) so quiet backends go away quickly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp
import psutil
import pytest
from mcp.client.stdio import StdioServerParameters

from tests.e2e.conftest import text
from tests.local.util import alive, wait_gone

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120), pytest.mark.slow]

BIN = Path(sys.executable).parent / "hfjobs-mcp"
SLOW_JOB = ["python", "-c", "import time; print('begun', flush=True); time.sleep(4); print('finished')"]


def _env(tmp: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update({"HFJOBS_MCP_HOME": str(tmp / "home"), "HF_HOME": str(tmp / "hf"), **extra})
    return env


def _server(state: Path, env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=str(BIN), args=["--local", "--state-dir", str(state)], env=env)


def _backend(state: Path) -> dict[str, Any]:
    info: dict[str, Any] = json.loads((state / "backend.json").read_text(encoding="utf-8"))
    return info


async def _job_stage(state: Path, job_id: str) -> str:
    info = _backend(state)
    async with httpx2.AsyncClient(base_url=info["url"], headers={"authorization": f"Bearer {info['token']}"}) as c:
        r = await c.get(f"/api/jobs/local-user/{job_id}")
        stage: str = r.json()["status"]["stage"]
        return stage


async def test_a_job_outlives_the_server_that_started_it(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = _env(tmp_path)
    async with mcp.Client(_server(state, env)) as first:
        started = await first.call_tool("run_job", {"image": "python:3.12", "command": SLOW_JOB})
        assert not started.is_error, text(started)
        job_id = (started.structured_content or {})["job"]["id"]
    # The first server has exited; its backend (a process of its own) still runs the job.
    backend_pid = _backend(state)["pid"]
    assert alive(backend_pid)
    assert await _job_stage(state, job_id) in ("SCHEDULING", "RUNNING")
    async with mcp.Client(_server(state, env)) as second:
        assert _backend(state)["pid"] == backend_pid  # attached, not restarted
        waited = await second.call_tool("wait_for_job", {"job_id": job_id, "timeout_seconds": 60})
        assert not waited.is_error, text(waited)
        assert (waited.structured_content or {})["job"]["stage"] == "COMPLETED"
        logs = await second.call_tool("fetch_logs", {"job_id": job_id})
        assert [ln["text"] for ln in (logs.structured_content or {})["lines"]] == ["begun", "finished"]
    # Nobody left, nothing runs: it stops by itself after its quiet period.
    assert wait_gone(backend_pid, timeout=30)
    assert not (state / "backend.json").exists()


async def test_a_killed_server_lets_the_backend_go_once_its_job_is_done(tmp_path: Path) -> None:
    state = tmp_path / "state"
    proc = await anyio.open_process([str(BIN), "--local", "--state-dir", str(state)], env=_env(tmp_path))
    async with mcp.Client(_server(state, _env(tmp_path))) as client:
        started = await client.call_tool("run_job", {"image": "python:3.12", "command": SLOW_JOB})
        job_id = (started.structured_content or {})["job"]["id"]
    proc.kill()  # the other server dies without a word: the OS drops its lease
    await proc.wait()
    backend_pid = _backend(state)["pid"]
    assert alive(backend_pid)  # the job still runs
    assert wait_gone(backend_pid, timeout=40)
    assert not (state / "backend.json").exists()
    # The next server starts a new backend on the same folder and finds the job completed.
    async with mcp.Client(_server(state, _env(tmp_path))) as client:
        seen = await client.call_tool("inspect_job", {"job_id": job_id})
        assert (seen.structured_content or {})["job"]["stage"] == "COMPLETED"
        assert _backend(state)["pid"] != backend_pid


async def test_servers_starting_together_share_one_backend(tmp_path: Path) -> None:
    state = tmp_path / "state"
    pids: list[int] = []

    async def one() -> None:
        async with mcp.Client(_server(state, _env(tmp_path))) as client:
            listed = await client.call_tool("list_jobs", {})
            assert not listed.is_error, text(listed)
            pids.append(_backend(state)["pid"])

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(one)
    assert len(set(pids)) == 1
    daemons = [p for p in psutil.process_iter(["cmdline"]) if str(state) in " ".join(p.info["cmdline"] or [])]
    assert [p.pid for p in daemons] == pids[:1]


async def test_the_backend_gets_none_of_the_servers_secrets(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = _env(tmp_path, HF_TOKEN="hf_server_own_token_must_stay_0000", MY_API_KEY="sk-server-secret-0000")
    async with mcp.Client(_server(state, env)) as client:
        await client.call_tool("list_jobs", {})
        info = _backend(state)
        environ = psutil.Process(info["pid"]).environ()
    assert "HF_TOKEN" not in environ
    assert "MY_API_KEY" not in environ
    assert info["token"] not in " ".join(environ.values())  # the backend's token came through a pipe
    assert environ["HFJOBS_MCP_HOME"] == str(tmp_path / "home")


def test_local_stop_stops_it_and_its_jobs(tmp_path: Path) -> None:
    state = tmp_path / "state"

    async def start_one() -> str:
        async with mcp.Client(_server(state, _env(tmp_path))) as client:
            started = await client.call_tool(
                "run_job", {"image": "python:3.12", "command": ["python", "-c", "import time; time.sleep(300)"]}
            )
            return str((started.structured_content or {})["job"]["id"])

    job_id = anyio.run(start_one)
    backend_pid = _backend(state)["pid"]
    stop = [str(BIN), "local", "--stop", "--state-dir", str(state)]
    done = subprocess.run(stop, capture_output=True, text=True, timeout=60, env=_env(tmp_path), check=False)
    assert done.returncode == 0, done.stderr
    assert f"stopped the backend (pid {backend_pid})" in done.stderr
    assert not alive(backend_pid)
    assert not [p for p in psutil.process_iter() if _job_env(p) == job_id]  # its job's processes are gone too
    again = subprocess.run(stop, capture_output=True, text=True, timeout=60, env=_env(tmp_path), check=False)
    assert again.returncode == 0
    assert "no backend serves" in again.stderr


def _job_env(proc: psutil.Process) -> str | None:
    try:
        return proc.environ().get("JOB_ID")
    except psutil.Error:
        return None


def _eventually(check: Any, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _serving(state: Path) -> bool:
    log = state / "backend.log"
    return log.exists() and "serving http://" in log.read_text(encoding="utf-8", errors="replace")


def test_the_backend_opens_on_its_first_request_not_before(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Started by ``--local``, the backend's process waits (it does not import the backend) until a request comes."""
    from hfjobs_mcp.local.detached import START_DELAY_ENV, attach, stop

    state = tmp_path / "state"
    monkeypatch.setenv(START_DELAY_ENV, "120")  # far beyond this test: only a request can open it
    attached = attach(state, user="local-user")
    try:
        assert attached.started
        assert alive(attached.pid)
        time.sleep(2.0)
        assert not _serving(state), "the backend opened before anyone called it"
        with httpx2.Client(base_url=attached.url, headers={"authorization": f"Bearer {attached.token}"}) as api:
            r = api.get("/api/whoami-v2", timeout=30)  # waits in the socket's queue while the backend opens
        assert r.status_code == 200, r.text
        assert r.json()["name"] == "local-user"
        assert _eventually(lambda: _serving(state))  # logged just after it began to serve
    finally:
        attached.release()
        stop(state)


def test_the_backend_opens_by_itself_after_the_start_delay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a request, it still opens after the delay: schedules fire without waiting for a call."""
    from hfjobs_mcp.local.detached import START_DELAY_ENV, attach, stop

    state = tmp_path / "state"
    monkeypatch.setenv(START_DELAY_ENV, "0.5")
    attached = attach(state, user="local-user")
    try:
        assert _eventually(lambda: _serving(state)), "the backend did not open after its start delay"
    finally:
        attached.release()
        stop(state)
