"""Using a local backend that outlives its clients: attach to the one serving a state folder, or start it.

``hfjobs-mcp --local`` calls :func:`attach`. If a backend serves the folder (``backend.json`` names a live
process), it is used. Otherwise one is started as a detached process (``python -m
hfjobs_mcp.local.daemon``, its own session, stderr to ``backend.log``) on a socket this process binds
and listens on first, so the URL is known at once and the first requests wait in the socket's queue
while the backend starts: the MCP server does not wait for it. A provisional ``backend.json`` (the
child's pid) lets a second client attach meanwhile.

Every attached client holds a shared lock on ``clients.lock`` for as long as it lives (the OS drops
it when the process ends, ``kill -9`` included); the backend stops by itself once nobody holds it, no
job runs and no connection is open for its quiet period (see ``daemon``). While it stops it holds that
lock exclusively, so a client arriving then waits and starts a fresh backend instead of attaching to
one going away. ``spawn.lock`` lets one client at a time start a backend. :func:`stop` stops it.

The backend gets a short list of environment variables (where things are, not the caller's secrets);
its token travels through a pipe, not its environment.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

from .discovery import read_discovery, write_discovery
from .private import private_dir, private_file

log = logging.getLogger("hfjobs_mcp.local")

CLIENTS_LOCK = "clients.lock"
SPAWN_LOCK = "spawn.lock"
BACKEND_LOG = "backend.log"
STORE_LOCK = "backend.lock"
IDLE_ENV = "HFJOBS_LOCAL_IDLE_SECONDS"
SANDBOX_ENV = "HFJOBS_LOCAL_SANDBOX"
START_DELAY_ENV = "HFJOBS_LOCAL_START_DELAY"  # see ``daemon``: it opens the backend on first use or after this
DEFAULT_IDLE_SECONDS = 600
_LOG_MAX_BYTES = 10 * 1024 * 1024
_PASSED_ENV = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "PYTHONPATH",
    "VIRTUAL_ENV",
    "XDG_CACHE_HOME",
    "HF_HOME",
    "HF_HUB_CACHE",
    "HF_XET_CACHE",
    "HFJOBS_MCP_HOME",
    IDLE_ENV,
    SANDBOX_ENV,
    START_DELAY_ENV,
)


@dataclass
class Attached:
    """A backend this process uses: ``url`` and ``token``; ``pid`` of its process; ``started`` if we started it.

    Keep it open while using the backend; :meth:`release` (or process exit) lets it stop when idle.
    """

    url: str
    token: str
    pid: int
    started: bool
    _lease: IO[str] | None = field(default=None, repr=False)

    def release(self) -> None:
        if self._lease is not None:
            self._lease.close()
            self._lease = None


def _locked(path: Path, mode: int) -> IO[str]:
    private_file(path)  # 0600 whatever the umask
    f = open(path, "a+")  # noqa: SIM115 (returned: the lock lives as long as the file stays open)
    try:
        fcntl.flock(f.fileno(), mode)
    except BaseException:
        f.close()
        raise
    return f


def _store_busy(state_dir: Path) -> bool:
    """True if a backend process holds the state folder's store lock (running, starting or stopping)."""
    try:
        probe = _locked(state_dir / STORE_LOCK, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    probe.close()
    return False


def attach(state_dir: Path, *, user: str = "local-user", timeout: float = 60.0) -> Attached:
    """The backend serving ``state_dir``, started detached if none is; holds a client lease until released."""
    state_dir = Path(state_dir)
    private_dir(state_dir)  # refuses a folder another user owns or may write to (UnsafeStateDirError)
    lease = _locked(state_dir / CLIENTS_LOCK, fcntl.LOCK_SH)  # waits while a backend is stopping
    try:
        with contextlib.closing(_locked(state_dir / SPAWN_LOCK, fcntl.LOCK_EX)):
            deadline = time.monotonic() + timeout
            while True:
                found = read_discovery(state_dir)
                if found is not None and _listening(found[0]):
                    url, token, pid = found
                    return Attached(url=url, token=token, pid=pid, started=False, _lease=lease)
                if not _store_busy(state_dir):
                    break
                # A backend holds the folder but has not said where it is yet (starting), or is going away.
                if time.monotonic() > deadline:
                    raise RuntimeError(f"a local backend holds {state_dir} but does not answer; see {BACKEND_LOG}")
                time.sleep(0.05)
            url, token, pid = _spawn(state_dir, user=user)
            return Attached(url=url, token=token, pid=pid, started=True, _lease=lease)
    except BaseException:
        lease.close()
        raise


def _listening(url: str) -> bool:
    """Something accepts connections at ``url`` (a stale discovery file may name a reused pid)."""
    host, _, port = url.removeprefix("http://").rpartition(":")
    try:
        with socket.create_connection((host.strip("[]"), int(port)), timeout=2):
            return True
    except (OSError, ValueError):
        return False


def _spawn(state_dir: Path, *, user: str) -> tuple[str, str, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)  # requests queue here until the backend accepts them
    sock.set_inheritable(True)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    token = secrets.token_urlsafe(32)
    log_path = state_dir / BACKEND_LOG
    with contextlib.suppress(OSError):
        if log_path.stat().st_size > _LOG_MAX_BYTES:
            log_path.unlink()
    env = {k: v for k, v in os.environ.items() if k in _PASSED_ENV}
    argv = [sys.executable, "-m", "hfjobs_mcp.local.daemon", "--state-dir", str(state_dir)]
    argv += ["--listen-fd", str(sock.fileno()), "--user", user]
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=fd,
            env=env,
            cwd=str(state_dir),
            pass_fds=(sock.fileno(),),
            start_new_session=True,  # not in this process's group: signals sent to the MCP server spare it
        )
    finally:
        os.close(fd)
        sock.close()
    assert proc.stdin is not None
    proc.stdin.write(token.encode() + b"\n")
    proc.stdin.close()
    # Reap it if it ends while we live, so its pid never looks alive as a zombie.
    threading.Thread(target=proc.wait, name="hfjobs-local-backend-reaper", daemon=True).start()
    write_discovery(state_dir, url, token, proc.pid)  # provisional; the backend rewrites it when it serves
    log.info("started a local Jobs backend (pid %d) at %s for %s; its log: %s", proc.pid, url, state_dir, log_path)
    return url, token, proc.pid


def stop(state_dir: Path, *, timeout: float = 30.0) -> int | None:
    """Stop the backend serving ``state_dir`` (its running jobs are stopped too); its pid, or None if none ran."""
    found = read_discovery(Path(state_dir))
    if found is None:
        return None
    pid = found[2]
    try:
        proc = psutil.Process(pid)
        if "hfjobs_mcp" not in " ".join(proc.cmdline()) and "hfjobs-mcp" not in " ".join(proc.cmdline()):
            return None  # the pid was reused by an unrelated program
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout)
    except psutil.NoSuchProcess:
        return pid
    except psutil.TimeoutExpired:
        raise RuntimeError(f"the local backend (pid {pid}) did not stop within {timeout:.0f} s") from None
    return pid
