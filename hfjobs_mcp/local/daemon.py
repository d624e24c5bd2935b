"""The detached local backend (``python -m hfjobs_mcp.local.daemon``), started by ``detached.attach``.

It serves on the listening socket it inherits (``--listen-fd``), reads its token from stdin, logs to
stderr (``backend.log``) and runs until SIGTERM/SIGINT or until it has been quiet for its idle period
(``HFJOBS_LOCAL_IDLE_SECONDS``, default 10 minutes): no client holding a lease on ``clients.lock``, no
job scheduling or running, no HTTP connection open. Scheduled jobs do not keep it alive: they fire while
some client uses the backend. When it stops, it takes ``clients.lock`` exclusively first, so no client
attaches to a backend that is going away.

It starts lazily: the process exists at once (its pid is in the provisional ``backend.json``), but it imports
and opens the backend only when the first connection waits on its socket, or after a short delay
(``HFJOBS_LOCAL_START_DELAY``, default 3 s) at the latest. ``hfjobs-mcp --local --transport http`` starts it
while its workers start, on the same few cores: importing uvicorn, Starlette and the backend then would slow
them for a backend nobody has called yet (over stdio the server attaches on its first call instead). A request
never waits for the delay: it wakes the backend, and waits in the socket's queue as before.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import logging
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING

from .detached import CLIENTS_LOCK, DEFAULT_IDLE_SECONDS, IDLE_ENV, SANDBOX_ENV, START_DELAY_ENV

if TYPE_CHECKING:
    from .config import LocalConfig
    from .server import LocalBackend

log = logging.getLogger("hfjobs_mcp.local.daemon")

_CHECK_EVERY = 1.0
_BUSY_RETRY_SECONDS = 15.0
DEFAULT_START_DELAY = 3.0


class IdleWatch:
    """Decides when the backend has been quiet long enough to stop."""

    def __init__(self, backend: LocalBackend, *, idle_seconds: float) -> None:
        self.backend = backend
        self.idle_seconds = idle_seconds
        self._lock_path = Path(backend.config.state_dir) / CLIENTS_LOCK
        self._quiet_since: float | None = None

    def busy(self, *, clients: bool = True) -> str | None:
        """Why the backend must stay up, or None (``clients=False``: leave the clients lock out)."""
        core = self.backend.core
        if core.runner.active_count() or core.store.active_jobs():
            return "a job is running"
        if self.backend.open_connections():
            return "a connection is open"
        if clients and self._clients_attached():
            return "a client is attached"
        return None

    def _clients_attached(self) -> bool:
        with open(self._lock_path, "a+") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False  # closing the file drops the probe's lock

    def take_clients_lock(self) -> IO[str] | None:
        """The exclusive lock on ``clients.lock`` if no client holds it (held while stopping), else None."""
        f = open(self._lock_path, "a+")  # noqa: SIM115 (returned, held while stopping)
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            return None
        return f

    async def run(self, stop: asyncio.Event) -> IO[str] | None:
        """Wait until quiet for ``idle_seconds`` (then return the held clients lock) or until ``stop`` is set."""
        last_reason: str | None = "starting"
        while not stop.is_set():
            now = time.monotonic()
            reason = self.busy()
            if reason != last_reason:
                log.debug("idle watch: %s", reason or "quiet")
                last_reason = reason
            if reason is not None:
                self._quiet_since = None
            elif self._quiet_since is None:
                self._quiet_since = now
            elif now - self._quiet_since >= self.idle_seconds:
                held = self.take_clients_lock()
                if held is not None and self.busy(clients=False) is None:  # we hold the lock: no client can come
                    log.info("quiet for %.0f s (no job, no client, no connection): stopping", self.idle_seconds)
                    return held
                if held is not None:
                    held.close()
                self._quiet_since = None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _CHECK_EVERY)
        return None


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m hfjobs_mcp.local.daemon")
    p.add_argument("--state-dir", type=Path, required=True)
    p.add_argument("--listen-fd", type=int, required=True)
    p.add_argument("--user", default="local-user")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    token = sys.stdin.readline().strip()
    if not token:
        log.error("no token on stdin: this program is started by hfjobs-mcp --local, not by hand")
        return 2
    idle = float(os.environ.get(IDLE_ENV) or DEFAULT_IDLE_SECONDS)
    sock = socket.socket(fileno=args.listen_fd)
    wait_for_first_use(sock, float(os.environ.get(START_DELAY_ENV) or DEFAULT_START_DELAY))
    from .config import LocalConfig  # the backend's modules after the wait (start-up time, see the docstring)

    cfg = LocalConfig(
        state_dir=args.state_dir,
        token=token,
        user=args.user,
        host="127.0.0.1",
        port=0,
        sandbox=os.environ.get(SANDBOX_ENV) or "auto",
    )
    return asyncio.run(_serve(cfg, sock, idle_seconds=idle))


def wait_for_first_use(sock: socket.socket, delay: float) -> bool:
    """Block until a connection waits on ``sock`` (True) or ``delay`` seconds pass (False); accepts nothing."""
    readable, _, _ = select.select([sock], [], [], max(delay, 0.0))
    return bool(readable)


async def _serve(cfg: LocalConfig, sock: socket.socket, *, idle_seconds: float) -> int:
    from .core import StateDirBusyError  # the backend's modules after the wait (start-up time, see the docstring)
    from .server import LocalBackend

    backend = None
    deadline = time.monotonic() + _BUSY_RETRY_SECONDS
    while backend is None:
        try:
            backend = LocalBackend(cfg, sock=sock)
        except StateDirBusyError:
            # The previous backend may still be closing its store after deciding to stop.
            if time.monotonic() > deadline:
                log.error("another backend keeps the state folder %s busy: giving up", cfg.state_dir)
                return 1
            await asyncio.sleep(0.1)
    await backend.start()
    pid, url = os.getpid(), backend.url
    log.info("detached local Jobs backend (pid %d) serving %s; stops after %.0f s quiet", pid, url, idle_seconds)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    held = None
    try:
        held = await IdleWatch(backend, idle_seconds=idle_seconds).run(stop)
    finally:
        await backend.aclose()
        if held is not None:
            held.close()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
