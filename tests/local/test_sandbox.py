"""The job sandbox, attacked from inside: a job gets nothing of the state folder, other jobs or the backend.

The backend here is the test process itself (``serve_in_thread``), so ``/proc/<its pid>/environ`` holds
this process's whole environment, a fake secret planted in it included.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path

import httpx2
import pytest

from hfjobs_mcp.local import LocalConfig
from hfjobs_mcp.local import sandbox as sandbox_module
from tests.backends import serve_backend

from .conftest import client
from .util import first_events, log_events, log_text, py, run, wait_stage

pytestmark = pytest.mark.timeout(90)

PLANTED = "hf_planted_backend_secret_0123456789abcdef"

ATTACK = r"""
import json, os, sys
targets = json.loads(sys.argv[1])
report = {}
for name, path in targets.items():
    try:
        with open(path, 'rb') as f:
            data = f.read(4096)
        report[name] = 'READ ' + repr(data[:200])
    except OSError as exc:
        report[name] = 'denied ' + type(exc).__name__
    try:
        report[name + ' listing'] = sorted(os.listdir(os.path.dirname(path)))
    except OSError as exc:
        report[name + ' listing'] = 'denied ' + type(exc).__name__
# Look everywhere a job can reach for anything that looks like backend state.
found = []
for root, dirs, files in os.walk('/'):
    if root.startswith(('/proc', '/sys', '/dev', '/usr', '/etc')):
        dirs[:] = []
        continue
    for name in files:
        if name in ('state.db', 'backend.json', 'secrets.env') or name.startswith('state.db'):
            found.append(os.path.join(root, name))
report['found'] = found
report['pids'] = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
environs = []
for pid in report['pids']:
    try:
        environs.append(open(f'/proc/{pid}/environ', 'rb').read())
    except OSError:
        pass
report['planted in any environ'] = any(b'PLANTED_SECRET' in e for e in environs)
try:
    open('/usr/hfjobs-was-here', 'w')
    report['write /usr'] = 'WROTE'
except OSError as exc:
    report['write /usr'] = 'denied ' + type(exc).__name__
report['uid'] = os.getuid()
print(json.dumps(report))
"""


@pytest.fixture
def planted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLANTED_SECRET", PLANTED)


@pytest.mark.slow
def test_a_job_reads_nothing_of_the_state_folder_other_jobs_or_the_backend(
    api: httpx2.Client, fast_config: LocalConfig, tmp_path: Path, planted: None
) -> None:
    state = fast_config.state_dir
    assert (state / "backend.json").exists()
    assert (state / "state.db").exists()
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f"MY_TOKEN={PLANTED}\n", encoding="utf-8")
    # Another job leaves a file in its working folder, and keeps running while the attacker looks.
    loot = "open('loot.txt', 'w').write('victim data'); print('ready', flush=True); import time; time.sleep(60)"
    victim = run(api, py(loot))
    assert first_events(api, victim["id"], 2)[1]["data"] == "ready"
    victim_file = state / "jobs" / victim["id"] / "work" / "loot.txt"
    assert victim_file.read_text() == "victim data"
    targets = {
        "state.db": str(state / "state.db"),
        "backend.json": str(state / "backend.json"),
        "other job": str(victim_file),
        "other job sandbox path": f"/jobs/{victim['id']}/work/loot.txt",
        "backend environ": f"/proc/{os.getpid()}/environ",
        "secrets file": str(secrets_file),
    }
    body = py(ATTACK, secrets={"MY_SECRET": "its-own-secret-value"}) | {"arguments": [json.dumps(targets)]}
    attacker = run(api, body)
    done = wait_stage(api, attacker["id"])
    assert done["status"]["stage"] == "COMPLETED", log_text(api, attacker["id"])
    banner = log_events(api, attacker["id"])[0]["data"]
    assert "running locally in a sandbox" in banner, banner
    (line,) = log_text(api, attacker["id"])
    report = json.loads(line)
    for name in targets:
        assert report[name].startswith("denied"), (name, report[name])
    assert report["found"] == []
    assert os.getpid() not in report["pids"]
    assert max(report["pids"]) < 100  # a PID namespace of its own: only the job's few processes
    assert report["planted in any environ"] is False
    assert report["write /usr"].startswith("denied")
    if os.geteuid() == 0:
        assert report["uid"] == 65534  # a root backend drops its jobs to nobody
    assert PLANTED not in api.get(f"/api/jobs/alice/{attacker['id']}/logs").text
    api.post(f"/api/jobs/alice/{victim['id']}/cancel")


@pytest.mark.slow
def test_a_job_still_has_its_own_folders_the_toolchain_and_tmp(api: httpx2.Client) -> None:
    code = (
        "import os, subprocess, sys, tempfile\n"
        "open('here.txt', 'w').write('w'); open(os.path.expanduser('~/h.txt'), 'w').write('h')\n"
        "fd, path = tempfile.mkstemp(); os.close(fd)\n"
        "open('/tmp/t.txt', 'w').write('t')\n"
        "uv = subprocess.run(['uv', '--version'], capture_output=True, text=True).stdout.strip()\n"
        "print(os.getcwd(), os.environ['HOME'], path.startswith(os.environ['TMPDIR']), uv.startswith('uv '))\n"
    )
    job = run(api, py(code))
    done = wait_stage(api, job["id"])
    assert done["status"]["stage"] == "COMPLETED", log_text(api, job["id"])
    assert log_text(api, job["id"]) == [f"/jobs/{job['id']}/work /jobs/{job['id']}/home True True"]


@pytest.mark.slow
def test_without_a_sandbox_the_job_runs_and_its_banner_says_why(
    fast_config: LocalConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "_which", lambda name: None)
    with serve_backend(fast_config) as backend, client(backend) as api:
        assert backend.core.runner.sandbox.enabled is False
        job = run(api, py("print('ran anyway')"))
        assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED"
        banner = log_events(api, job["id"])[0]["data"]
        assert "WITHOUT a sandbox (bubblewrap is not installed: `apt-get install bubblewrap`" in banner
        assert log_text(api, job["id"]) == ["ran anyway"]


@pytest.mark.slow
def test_require_refuses_to_run_a_job_unsandboxed(fast_config: LocalConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_module, "_which", lambda name: None)
    with serve_backend(dataclasses.replace(fast_config, sandbox="require")) as backend, client(backend) as api:
        job = run(api, py("print('must not run')"))
        done = wait_stage(api, job["id"])
        assert done["status"]["stage"] == "ERROR"
        assert "the backend requires a sandbox and none can be made" in done["status"]["message"]
        assert "must not run" not in log_text(api, job["id"])


@pytest.mark.slow
def test_sandbox_off_says_so(fast_config: LocalConfig) -> None:
    with serve_backend(dataclasses.replace(fast_config, sandbox="off")) as backend, client(backend) as api:
        job = run(api, py("import os; print(os.getcwd() == os.path.realpath(os.getcwd()))"))
        assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED"
        assert "WITHOUT a sandbox (the sandbox is turned off" in log_events(api, job["id"])[0]["data"]


@pytest.mark.slow  # makes a venv
def test_a_python_environment_under_tmp_reached_through_a_link_still_runs_jobs(tmp_path: Path) -> None:
    """A throwaway ``uv tool install`` (or a CI checkout) lives under /tmp, and is often reached through a linked
    folder (pytest's ``pytest-current``): the job's own /tmp must not hide it, and ``python`` must be found at
    its real path. Probed from a venv made there, run through the link."""
    import subprocess
    import sys

    real = tmp_path / "real"
    real.mkdir()
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(real / "venv")], check=True, timeout=120)
    (tmp_path / "linked").symlink_to(real, target_is_directory=True)
    python = tmp_path / "linked" / "venv" / "bin" / "python"
    site = next(p for p in sys.path if p.endswith("site-packages"))
    code = (
        "import tempfile; from pathlib import Path; from hfjobs_mcp.local.sandbox import Sandbox; "
        "print(Sandbox(state_dir=Path(tempfile.mkdtemp())).status)"
    )
    root = Path(__file__).resolve().parents[2]
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": f"{root}:{site}"}
    done = subprocess.run([str(python), "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    if "bubblewrap is not installed" in done.stdout:
        pytest.skip("no bubblewrap")
    assert "enabled=True" in done.stdout, done.stdout
