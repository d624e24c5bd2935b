"""Local state is the user's own (issue 14, item 8): squatted folders refused, files 0600 and folders 0700.

A state folder (``--state-dir``), the HTTP approvals folder (``$HFJOBS_MCP_HOME/http``) or a ``--secrets-file``
owned by another user, or writable by group or others, stops the server at start with a message saying how to
fix it. "Another user" is real: these tests run as root (as CI does) and hand folders to uid 65534 (nobody).
A folder that existed before with looser modes is tightened, and every file the backend writes is 0600.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import mcp
import pytest
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.e2e.conftest import text
from tests.e2e.http_util import BIN, clean_env
from tests.local.util import wait_gone

pytestmark = pytest.mark.anyio

NOBODY = 65534
ROOT = Path(__file__).resolve().parents[2]
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="handing a folder to another user needs root")


def _start(tmp: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Start the stdio server with no client: one that refuses its state exits at once, with status 2."""
    return subprocess.run(
        [str(BIN), *args],
        env=clean_env(tmp, env),
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.slow
@needs_root
def test_a_state_folder_of_another_user_is_refused(tmp_path: Path) -> None:
    squatted = tmp_path / "shared" / "state"
    squatted.mkdir(parents=True)
    os.chown(squatted, NOBODY, NOBODY)
    done = _start(tmp_path, "--local", "--state-dir", str(squatted))
    assert done.returncode == 2, done.stderr
    assert "belongs to another user" in done.stderr
    assert "--state-dir" in done.stderr
    assert list(squatted.iterdir()) == [], "the server wrote into a folder it refused"


@pytest.mark.slow
def test_a_state_folder_others_may_write_to_is_refused(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    done = _start(tmp_path, "--local", "--state-dir", str(loose))
    assert done.returncode == 2, done.stderr
    assert "writable by group or others" in done.stderr
    assert f"chmod 700 {loose}" in done.stderr
    # The standalone backend refuses it the same way.
    local = _start(tmp_path, "local", "--port", "0", "--state-dir", str(loose))
    assert local.returncode == 2, local.stderr
    assert "writable by group or others" in local.stderr


@needs_root
def test_a_discovery_file_planted_by_another_user_is_not_followed(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    planted = state / "backend.json"
    planted.write_text('{"url": "http://127.0.0.1:9", "token": "t", "pid": 1}', encoding="utf-8")
    os.chown(planted, NOBODY, NOBODY)
    from hfjobs_mcp.local import UnsafeStateDirError, find_running

    with pytest.raises(UnsafeStateDirError, match="belongs to another user"):
        find_running(state)


@pytest.mark.slow
@needs_root
@pytest.mark.parametrize("problem", ["owner", "mode"])
def test_a_secrets_file_another_user_controls_is_refused(tmp_path: Path, problem: str) -> None:
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text("MY_SECRET=value-from-the-file-0123\n", encoding="utf-8")
    if problem == "owner":
        os.chown(secrets_file, NOBODY, NOBODY)
        says = "belongs to another user"
    else:
        secrets_file.chmod(0o666)
        says = "writable by group or others"
    done = _start(tmp_path, "--local", "--state-dir", str(tmp_path / "state"), "--secrets-file", str(secrets_file))
    assert done.returncode == 2, done.stderr
    assert says in done.stderr
    assert "value-from-the-file" not in done.stderr


@pytest.mark.slow
def test_the_http_approvals_folder_must_be_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "http").mkdir(parents=True)
    (home / "http").chmod(0o777)
    env = {"HFJOBS_MCP_AUTH_TOKEN": "static-bearer-for-state-tests-1234", "HFJOBS_MCP_HOME": str(home)}
    args = ["--transport", "http", "--port", "0", "--auth", "token", "--local", "--state-dir", str(tmp_path / "st")]
    done = _start(tmp_path, *args, env=env)
    assert done.returncode == 2, done.stderr
    assert "the approvals folder" in done.stderr
    assert "writable by group or others" in done.stderr


@pytest.mark.slow
async def test_files_are_private_whatever_existed_before(tmp_path: Path) -> None:
    """A state folder made by an older version, under a loose umask: tightened, and new files are 0600."""
    state = tmp_path / "state"
    old_job = state / "jobs" / "0123456789abcdef01234567"
    old_job.mkdir(parents=True)
    state.chmod(0o755)
    (state / "jobs").chmod(0o755)
    old_job.chmod(0o755)
    old_log = old_job / "logs.jsonl"
    old_log.write_text("", encoding="utf-8")
    old_log.chmod(0o644)
    old_mask = os.umask(0o022)
    try:
        params = StdioServerParameters(
            command=str(BIN), args=["--local", "--state-dir", str(state)], env=clean_env(tmp_path)
        )
        async with mcp.Client(stdio_client(params)) as client:  # type: ignore[arg-type]
            started = await client.call_tool("run_job", {"image": "python:3.12", "command": ["echo", "hello"]})
            assert not started.is_error, text(started)
            job_id = started.structured_content["job"]["id"]  # type: ignore[index]
            await client.call_tool("wait_for_job", {"job_id": job_id, "timeout_seconds": 60})
            pid = json.loads((state / "backend.json").read_text(encoding="utf-8"))["pid"]
    finally:
        os.umask(old_mask)
    assert wait_gone(pid, timeout=30), "the detached backend did not stop once its client left"
    assert _mode(state) == 0o700
    assert _mode(state / "jobs") == 0o700
    # The old job folder has no record in this store: retention (issue 22) may remove it as an orphan; if it
    # is kept, it is private.
    if old_job.exists():
        assert _mode(old_job) == 0o700
        assert _mode(old_log) == 0o600
    new_log = state / "jobs" / job_id / "logs.jsonl"
    assert "hello" in new_log.read_text(encoding="utf-8")
    assert _mode(new_log) == 0o600
    assert _mode(state / "jobs" / job_id) == 0o700
    for name in ("state.db", "backend.lock", "clients.lock", "spawn.lock", "backend.log"):
        assert _mode(state / name) == 0o600, name


def test_no_example_puts_a_token_on_the_command_line() -> None:
    """A command line is visible to every user of the machine: tokens go in the environment."""
    docs = [ROOT / "README.md", *sorted((ROOT / "manifests").rglob("*")), *sorted((ROOT / "bench").glob("*.py"))]
    for path in docs:
        if not path.is_file():
            continue
        content = path.read_text(encoding="utf-8", errors="replace")
        for line in content.splitlines():
            invokes = "hfjobs-mcp" in line or "hfjobs_mcp" in line or '"local"' in line
            assert not (invokes and "--token" in line), f"{path.name}: {line.strip()}"
