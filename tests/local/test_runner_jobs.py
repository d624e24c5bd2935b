"""Running jobs for real: exit codes, start failures, environment, secrets, retries, cancel, timeout, no orphans."""

from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import httpx2
import pytest

from .util import PY, alive, host_pid, log_events, log_text, py, run, spec, wait_gone, wait_stage

pytestmark = pytest.mark.timeout(60)


@pytest.mark.slow
def test_a_failing_job_is_error_with_its_exit_code(api: httpx2.Client) -> None:
    job = run(api, py("import sys; print('bye'); sys.exit(3)"))
    done = wait_stage(api, job["id"])
    assert done["status"]["stage"] == "ERROR"
    assert done["status"]["message"] == "Job failed with exit code: 3"
    assert log_text(api, job["id"]) == ["bye"]


@pytest.mark.slow
def test_a_job_killed_by_a_signal_reports_128_plus_the_signal(api: httpx2.Client) -> None:
    job = run(api, py("import os, signal; os.kill(os.getpid(), signal.SIGKILL)"))
    assert wait_stage(api, job["id"])["status"]["message"] == "Job failed with exit code: 137"


@pytest.mark.slow
def test_an_unknown_executable_is_error_saying_so(api: httpx2.Client) -> None:
    job = run(api, spec("no-such-program-hfjobs", "--flag"))
    done = wait_stage(api, job["id"])
    assert done["status"]["stage"] == "ERROR"
    assert "executable not found" in done["status"]["message"]
    assert "no-such-program-hfjobs" in done["status"]["message"]
    assert any("executable not found" in line for line in log_text(api, job["id"]))


@pytest.mark.slow
def test_a_job_without_command_is_error_explaining_why(api: httpx2.Client) -> None:
    body = spec()
    del body["command"]
    job = run(api, body)
    done = wait_stage(api, job["id"])
    assert done["status"]["stage"] == "ERROR"
    assert "no command" in done["status"]["message"]


@pytest.mark.slow
def test_environment_secrets_and_platform_variables_reach_the_job(
    api: httpx2.Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_backend_own_token_must_not_leak")
    monkeypatch.setenv("BACKEND_ONLY_VAR", "leak")
    code = (
        "import os, json, shutil, sys; keys = ['FOO', 'MY_SECRET', 'JOB_ID', 'ACCELERATOR', 'CPU_CORES', 'MEMORY',"
        " 'HF_TOKEN', 'BACKEND_ONLY_VAR', 'PYTHONUNBUFFERED', 'UV_PYTHON_DOWNLOADS'];"
        " print(json.dumps({k: os.environ.get(k) for k in keys}));"
        " print(json.dumps({'python': sys.executable, 'uv': shutil.which('uv'), 'cwd': os.getcwd(),"
        " 'home': os.environ['HOME'], 'tmp': os.environ['TMPDIR'], 'path0': os.environ['PATH'].split(':')[0]}))"
    )
    body = py(code, environment={"FOO": "bar"}, secrets={"MY_SECRET": "s3cr3t-value"}, flavor="a10g-small")
    job = run(api, body)
    assert job["secrets"] == ["MY_SECRET"]
    assert "s3cr3t-value" not in str(job)
    wait_stage(api, job["id"])
    env_line, where_line = log_text(api, job["id"])
    env = json.loads(env_line)
    assert env == {
        "FOO": "bar",
        "MY_SECRET": "s3cr3t-value",
        "JOB_ID": job["id"],
        "ACCELERATOR": "a10g-small",
        "CPU_CORES": "4",
        "MEMORY": "15Gi",
        "HF_TOKEN": None,
        "BACKEND_ONLY_VAR": None,
        "PYTHONUNBUFFERED": "1",
        "UV_PYTHON_DOWNLOADS": "never",
    }
    where = json.loads(where_line)
    bin_dir = os.path.dirname(sys.executable)
    assert where["path0"] == bin_dir
    assert where["uv"] == os.path.join(bin_dir, "uv")
    assert Path(where["cwd"]).name == "work"
    assert Path(where["cwd"]).parent.name == job["id"]
    assert Path(where["home"]).parent == Path(where["cwd"]).parent
    assert Path(where["tmp"]).parent == Path(where["cwd"]).parent
    # Secret values never come back: not in inspect, not in the list.
    assert "s3cr3t-value" not in api.get(f"/api/jobs/alice/{job['id']}").text
    assert "s3cr3t-value" not in api.get("/api/jobs/alice").text


@pytest.mark.slow
def test_cpu_flavor_has_an_empty_accelerator(api: httpx2.Client) -> None:
    job = run(
        api, py("import os; print(repr(os.environ['ACCELERATOR']), os.environ['CPU_CORES'], os.environ['MEMORY'])")
    )
    wait_stage(api, job["id"])
    assert log_text(api, job["id"]) == ["'' 2 16Gi"]


@pytest.mark.slow
def test_uv_runs_from_the_products_environment(api: httpx2.Client) -> None:
    job = run(api, spec("uv", "--version", dockerImage="ghcr.io/astral-sh/uv:python3.12-bookworm"))
    done = wait_stage(api, job["id"])
    assert done["status"]["stage"] == "COMPLETED", log_text(api, job["id"])
    assert log_text(api, job["id"])[0].startswith("uv ")
    events = log_events(api, job["id"])
    assert "ghcr.io/astral-sh/uv:python3.12-bookworm is recorded, not pulled" in events[0]["data"]


@pytest.mark.slow
def test_stdout_and_stderr_lines_are_all_logged_in_order(api: httpx2.Client) -> None:
    code = (
        "import sys\nfor i in range(5):\n    print('out', i, flush=True); print('err', i, file=sys.stderr, flush=True)"
    )
    job = run(api, py(code))
    wait_stage(api, job["id"])
    assert log_text(api, job["id"]) == [f"{s} {i}" for i in range(5) for s in ("out", "err")]


@pytest.mark.slow
def test_long_lines_are_split_and_a_last_line_without_newline_is_kept(api: httpx2.Client) -> None:
    code = "import sys; sys.stdout.write('x' * 150000 + '\\n' + 'é' * 3 + '\\n' + 'tail-without-newline')"
    job = run(api, py(code))
    wait_stage(api, job["id"])
    lines = log_text(api, job["id"])
    assert [len(x) for x in lines[:3]] == [65536, 65536, 150000 - 2 * 65536]
    assert lines[3:] == ["ééé", "tail-without-newline"]


@pytest.mark.slow
def test_attempts_retry_a_failed_run(api: httpx2.Client) -> None:
    # Fails on the first run, succeeds on the second (the working folder persists between runs).
    code = (
        "import os, sys\n"
        "if os.path.exists('ran'): print('second'); sys.exit(0)\n"
        "open('ran', 'w'); print('first'); sys.exit(1)"
    )
    job = run(api, py(code, attempts=3))
    assert job["retry"] == 2
    done = wait_stage(api, job["id"])
    assert done["status"]["stage"] == "COMPLETED"
    assert done["status"]["failureCount"] == 1
    texts = [e["data"] for e in log_events(api, job["id"])]
    assert sum(t.startswith("===== Job started") for t in texts) == 2
    assert "first" in texts
    assert texts[-1] == "second"


@pytest.mark.slow
def test_attempts_exhausted_is_error(api: httpx2.Client) -> None:
    job = run(api, py("import sys; sys.exit(2)", attempts=2))
    done = wait_stage(api, job["id"])
    assert done["status"]["stage"] == "ERROR"
    assert done["status"]["message"] == "Job failed with exit code: 2"
    assert done["status"]["failureCount"] == 2


def _sleeper(marker: str) -> tuple[str, str]:
    """A ``sleep`` command line no other process has: the test finds its host pid (the job sees another)."""
    return ("sleep", f"300.{marker}")


def _grandchild(marker: str) -> str:
    cmd = list(_sleeper(marker))
    return f"import subprocess, time\np = subprocess.Popen({cmd!r})\nprint('started', flush=True)\ntime.sleep(300)\n"


@pytest.mark.slow
def test_cancel_kills_the_whole_group_including_grandchildren(api: httpx2.Client) -> None:
    job = run(api, py(_grandchild("101")))
    pid = host_pid(*_sleeper("101"))
    assert alive(pid)
    canceled = api.post(f"/api/jobs/alice/{job['id']}/cancel")
    assert canceled.status_code == 200
    assert canceled.json()["status"]["stage"] == "CANCELED"
    assert wait_gone(pid)
    done = wait_stage(api, job["id"])
    assert done["status"]["stage"] == "CANCELED"
    assert done["finishedAt"]
    # Canceling a finished job changes nothing.
    assert api.post(f"/api/jobs/alice/{job['id']}/cancel").json()["status"]["stage"] == "CANCELED"


@pytest.mark.slow
def test_processes_left_behind_by_a_finished_job_are_killed(api: httpx2.Client) -> None:
    code = "import subprocess, time; p = subprocess.Popen(['sleep', '300.102']); time.sleep(0.5)"
    job = run(api, py(code))
    pid = host_pid("sleep", "300.102")
    assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED"
    assert wait_gone(pid)


@pytest.mark.slow
def test_a_process_that_left_the_group_is_killed_too(api: httpx2.Client) -> None:
    # start_new_session puts the grandchild outside the job's group; the runner saw it while the job ran.
    code = (
        "import subprocess, time; p = subprocess.Popen(['sleep', '300.103'], start_new_session=True); time.sleep(1.5)"
    )
    job = run(api, py(code))
    pid = host_pid("sleep", "300.103")
    assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED"
    assert wait_gone(pid)


TRAPS_SIGTERM = (
    "import signal, subprocess, time\n"
    "def on_term(*_):\n"
    "    print('got SIGTERM, ignoring it', flush=True)\n"
    "signal.signal(signal.SIGTERM, on_term)\n"
    "p = subprocess.Popen(['sleep', '300.104'])\n"
    "print('started', flush=True)\n"
    "while True:\n"
    "    time.sleep(0.1)\n"
)


@pytest.mark.slow
def test_a_timeout_terminates_then_kills_the_group(api: httpx2.Client) -> None:
    job = run(api, py(TRAPS_SIGTERM, timeoutSeconds=1))
    assert job["timeout"] == 1
    pid = host_pid("sleep", "300.104")
    done = wait_stage(api, job["id"], timeout=20)
    assert done["status"]["stage"] == "ERROR"
    assert "timed out after 1 second" in done["status"]["message"]
    lines = log_text(api, job["id"])
    assert "got SIGTERM, ignoring it" in lines  # SIGTERM first...
    assert wait_gone(pid)  # ...then SIGKILL for everyone
    assert done["durations"]["runningSecs"] >= 2  # 1 s timeout + 1 s grace


@pytest.mark.slow
def test_default_timeout_is_echoed(api: httpx2.Client) -> None:
    job = run(api, py("print(1)"))
    assert job["timeout"] == 30 * 60


@pytest.mark.slow
def test_python_is_the_products_interpreter(api: httpx2.Client) -> None:
    job = run(api, py("import sys; print(sys.prefix)"))
    wait_stage(api, job["id"])
    assert log_text(api, job["id"]) == [sys.prefix]
    assert PY


@pytest.mark.slow
def test_an_inline_uv_script_runs_offline(api: httpx2.Client) -> None:
    # How this server's run_uv_job ships an inline script: base64 in the environment, decoded by bash.
    script = "# /// script\n# dependencies = []\n# ///\nimport sys\nprint('uv ran', sys.version_info >= (3, 11))\n"
    command = 'echo "$SCRIPT_B64" | base64 -d > script.py && uv run script.py'
    body = spec("bash", "-c", command, environment={"SCRIPT_B64": base64.b64encode(script.encode()).decode()})
    job = run(api, body)
    assert wait_stage(api, job["id"])["status"]["stage"] == "COMPLETED", log_text(api, job["id"])
    assert log_text(api, job["id"]) == ["uv ran True"]


@pytest.mark.slow
def test_a_nul_character_in_the_environment_is_a_start_failure(api: httpx2.Client) -> None:
    job = run(api, py("print(1)", environment={"BAD_VALUE": "a\x00b"}))
    done = wait_stage(api, job["id"])
    assert done["status"]["stage"] == "ERROR"
    assert done["status"]["message"].startswith("Job failed to start")
