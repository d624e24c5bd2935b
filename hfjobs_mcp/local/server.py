"""Serving the backend with uvicorn: in the current event loop (``LocalBackend``) or in a thread (``serve_in_thread``).

``async with LocalBackend(cfg) as backend`` binds the port (``port=0``: a free one) before
uvicorn starts, so ``backend.url`` is known at once; leaving the block stops every job's process
group, then the server, then closes the store. ``serve_in_thread(cfg)`` does the same on a
private event loop in a daemon thread, for synchronous tests and subprocess clients.
Neither touches signal handlers or the logging configuration of the embedding program.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from .app import build_app
from .config import LocalConfig
from .core import LocalCore
from .discovery import read_discovery, remove_discovery, write_discovery
from .faults import FaultInjector, QuietAbortFilter

log = logging.getLogger("hfjobs_mcp.local")

_STARTUP_TIMEOUT = 30.0
KEEP_ALIVE_SECONDS = 65
"""How long an idle keep-alive connection stays open. uvicorn's default (5 s) equals httpx's client-side expiry,
so a client could send on a connection at the moment the server closed it, and see its request fail
(``ReadError``; found by ``bench/soak.py``). Longer than any httpx client keeps an idle connection, the client
always retires it first."""


class _AccessLinesAtDebug(logging.Filter):
    """uvicorn's access lines (one per request) become DEBUG records, kept only when ``uvicorn.access`` is at DEBUG.

    INFO is for lifecycle events; an access line per request filled logs (about 0.4 KB per MCP tool call).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the embedding program owns signals."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto=IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only when the listening
    # socket says TCP, and without it h11's separate header and body writes meet delayed ACKs (~40 ms per
    # response on a reused connection; found by bench/logs_tail.py).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def find_running(state_dir: Path) -> tuple[str, str] | None:
    """``(url, token)`` of the backend serving ``state_dir`` from another process, if one is running."""
    found = read_discovery(state_dir)
    return (found[0], found[1]) if found is not None else None


class LocalBackend:
    """A running local backend: ``url`` (use as ``HF_ENDPOINT``), ``token``, ``faults``, ``core``."""

    def __init__(self, cfg: LocalConfig, *, access_log: bool = False, sock: socket.socket | None = None) -> None:
        self.config = cfg
        self._sock = sock  # an already bound (and maybe listening) socket to serve on, instead of binding one
        self.core = LocalCore(cfg)
        self.app: Starlette = build_app(self.core)
        self.token = cfg.token
        self.faults: FaultInjector = self.core.faults
        self.url = ""
        self.port = 0
        self._access_log = access_log
        self._server: _Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        # Thread mode
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self._thread_stop: asyncio.Event | None = None

    @property
    def state_dir(self) -> str:
        return str(self.config.state_dir)

    async def start(self) -> None:
        """Serve on the current event loop until :meth:`aclose`."""
        sock = self._sock if self._sock is not None else _bind(self.config.host, self.config.port)
        self.port = int(sock.getsockname()[1])
        self.url = _url(self.config.host, self.port)
        uvicorn_log = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, QuietAbortFilter) for f in uvicorn_log.filters):
            uvicorn_log.addFilter(QuietAbortFilter())
        access = logging.getLogger("uvicorn.access")
        if self._access_log and not any(isinstance(f, _AccessLinesAtDebug) for f in access.filters):
            access.addFilter(_AccessLinesAtDebug())
        config = uvicorn.Config(
            self.app,
            log_config=None,
            access_log=self._access_log,
            date_header=False,  # the app sets Date itself (also when served in-process)
            server_header=False,
            lifespan="on",
            http="h11",
            timeout_graceful_shutdown=3,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        self._server = _Server(config)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]), name="hfjobs-local-uvicorn")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _STARTUP_TIMEOUT
        while not self._server.started:
            if self._task.done():
                sock.close()
                await self.core.aclose()
                self._task.result()  # raises what uvicorn raised
                raise RuntimeError("the local backend's HTTP server stopped during start-up")
            if loop.time() > deadline:
                raise RuntimeError("the local backend's HTTP server did not start")
            await asyncio.sleep(0.01)
        self.core.buckets.transfer.base_url = self.url  # the backend reaches its own Xet storage over HTTP
        log.info("local Jobs backend serving %s (state in %s)", self.url, self.config.state_dir)
        self._write_discovery()

    def _write_discovery(self) -> None:
        """Tell other processes on this machine where this backend is (owner-only file: it holds the token).

        A second ``hfjobs-mcp --local`` on the same state folder (say, Claude Desktop and Claude Code both
        configured with it) cannot open the locked store, so it attaches to this backend instead.
        """
        write_discovery(Path(self.config.state_dir), self.url, self.token, os.getpid())

    def _remove_discovery(self) -> None:
        remove_discovery(Path(self.config.state_dir), self.url)

    async def aclose(self) -> None:
        """Stop every job's process group, then the HTTP server; close the store. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._remove_discovery()
        await self.core.stop_jobs()
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        self.core.close()
        if self.url:
            log.info("local Jobs backend at %s stopped", self.url)

    def open_connections(self) -> int:
        """HTTP connections open right now (clients keep idle ones a few seconds)."""
        if self._server is None:
            return 0
        return len(self._server.server_state.connections)

    async def __aenter__(self) -> LocalBackend:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    # Thread mode

    def start_in_thread(self) -> None:
        """Serve from a daemon thread with its own event loop; returns once the server accepts requests."""
        started = threading.Event()
        failure: list[BaseException] = []

        async def main() -> None:
            self._thread_stop = asyncio.Event()
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                started.set()
                return
            started.set()
            await self._thread_stop.wait()
            await self.aclose()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._thread_loop = loop
            try:
                loop.run_until_complete(main())
            finally:
                loop.close()

        self._thread = threading.Thread(target=run, name="hfjobs-local-backend", daemon=True)
        self._thread.start()
        if not started.wait(_STARTUP_TIMEOUT):
            raise RuntimeError("the local backend did not start in time")
        if failure:
            raise failure[0]

    def stop_thread(self, timeout: float = 30.0) -> None:
        """Stop a backend started with :meth:`start_in_thread` (jobs, server, store) and join its thread."""
        loop, stop, thread = self._thread_loop, self._thread_stop, self._thread
        if loop is None or stop is None or thread is None:
            return
        self.core.request_shutdown()
        with contextlib.suppress(RuntimeError):  # the loop may already be closed
            loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
        if thread.is_alive():
            log.error("the local backend thread did not stop within %.0f s", timeout)


@contextlib.contextmanager
def serve_in_thread(cfg: LocalConfig) -> Iterator[LocalBackend]:
    """``with serve_in_thread(cfg) as backend:`` a backend served from a daemon thread, stopped on exit."""
    backend = LocalBackend(cfg)
    try:
        backend.start_in_thread()
    except BaseException:
        backend.core.close()
        raise
    try:
        yield backend
    finally:
        backend.stop_thread()
