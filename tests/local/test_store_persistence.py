"""Restarts lose nothing: jobs, logs and schedules come back; jobs that were running become ERROR.

Both a clean stop of an embedded backend and a ``kill -9`` of the ``hfjobs-mcp local`` command.
"""

from __future__ import annotations

import dataclasses
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest

from hfjobs_mcp.local import LocalConfig, StateDirBusyError
from tests.backends import serve_backend

from .conftest import check_against_openapi
from .util import TOKEN, alive, first_events, host_pid, job_pid, local_command, log_text, py, run, wait_gone, wait_stage

pytestmark = pytest.mark.timeout(90)

RESTARTED = "The local backend restarted while this job was running"


def _client(url: str) -> httpx2.Client:
    return httpx2.Client(
        base_url=url,
        headers={"authorization": f"Bearer {TOKEN}"},
        timeout=30,
        event_hooks={"response": [check_against_openapi]},
    )


@pytest.mark.slow
def test_stop_and_start_again_on_the_same_state(fast_config: LocalConfig) -> None:
    with serve_backend(fast_config) as first, _client(first.url) as api:
        done = run(api, py("print('kept')", labels={"k": "v"}))
        wait_stage(api, done["id"])
        running = run(
            api,
            py(
                "import subprocess, time; p = subprocess.Popen(['sleep', '300.201']);"
                " print('up', flush=True); time.sleep(300)"
            ),
        )
        pid = host_pid("sleep", "300.201")
        sched = api.post("/api/scheduled-jobs/alice", json={"jobSpec": py("print(1)"), "schedule": "@daily"}).json()
        before = api.get(f"/api/jobs/alice/{done['id']}").json()
    assert wait_gone(pid)  # stopping the backend stopped the job's processes
    with serve_backend(fast_config) as second, _client(second.url) as api:
        assert api.get(f"/api/jobs/alice/{done['id']}").json() == before
        assert log_text(api, done["id"]) == ["kept"]
        after = api.get(f"/api/jobs/alice/{running['id']}").json()
        assert after["status"] == {"stage": "ERROR", "message": RESTARTED}
        assert after["finishedAt"]
        assert api.get(f"/api/scheduled-jobs/alice/{sched['id']}").json()["schedule"] == "@daily"
        assert api.get("/api/jobs/alice", params={"label": "k=v"}).json()[0]["id"] == done["id"]
        # The restarted backend runs new jobs as usual.
        again = run(api, py("print('new')"))
        assert wait_stage(api, again["id"])["status"]["stage"] == "COMPLETED"


@pytest.mark.slow
def test_two_backends_cannot_share_a_state_folder(fast_config: LocalConfig) -> None:
    with serve_backend(fast_config), pytest.raises(StateDirBusyError), serve_backend(fast_config):
        pass
    other = dataclasses.replace(fast_config, state_dir=fast_config.state_dir.parent / "other")
    with serve_backend(fast_config), serve_backend(other):
        pass


@pytest.mark.slow
def test_the_local_command_survives_kill_9(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with local_command(state, "--token", TOKEN) as (proc, url, _), _client(url) as api:
        assert api.get("/api/whoami-v2").json()["name"] == "alice"
        done = run(api, py("print('before the crash')"))
        wait_stage(api, done["id"])
        running = run(api, py("import time; print('up', flush=True); time.sleep(300)"))
        first_events(api, running["id"], 2)
        seen = api.get(f"/api/jobs/alice/{running['id']}").json()
        pid = job_pid(running["id"])
        sandboxed = "in a sandbox" in first_events(api, running["id"], 1)[0]["data"]
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert seen["status"]["stage"] == "RUNNING"
    if sandboxed:
        assert wait_gone(pid)  # a sandboxed job dies with the backend (bubblewrap's --die-with-parent)...
    else:
        assert alive(pid)  # unsandboxed, the crash leaves the job's process behind...
    with local_command(state, "--token", TOKEN) as (_, url, _), _client(url) as api:
        assert log_text(api, done["id"]) == ["before the crash"]
        assert api.get(f"/api/jobs/alice/{done['id']}").json()["status"]["stage"] == "COMPLETED"
        after = api.get(f"/api/jobs/alice/{running['id']}").json()
        assert after["status"] == {"stage": "ERROR", "message": RESTARTED}
        assert "up" in log_text(api, running["id"])
        assert wait_gone(pid)  # ...and the restart marks it ERROR (killing what is left)


@pytest.mark.slow
def test_the_local_command_prints_its_url_and_a_generated_token(tmp_path: Path) -> None:
    env = {"HFJOBS_LOCAL_TOKEN": "", "HFJOBS_LOCAL_FAULTS": "503:path=/api/whoami-v2"}
    with local_command(tmp_path / "state", env=env) as (proc, url, lines):
        while not any("generated token" in line for line in lines):
            assert proc.stderr is not None
            lines.append(proc.stderr.readline())
        token = re.search(r"generated token .*: (\S+)$", "".join(lines), re.M)
        assert token
        with httpx2.Client(base_url=url, headers={"authorization": f"Bearer {token.group(1)}"}) as api:
            assert api.get("/api/whoami-v2").status_code == 503  # HFJOBS_LOCAL_FAULTS was read
            assert api.get("/api/whoami-v2").json()["name"] == "alice"
            assert api.get("/api/jobs/alice").status_code == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0


@pytest.mark.slow
def test_the_local_command_refuses_a_bad_fault_spec(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hfjobs_mcp", "local", "--state-dir", str(tmp_path), "--faults", "418"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "unknown kind" in done.stderr
