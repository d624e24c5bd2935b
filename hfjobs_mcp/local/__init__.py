"""The local Jobs backend: the Jobs REST API on loopback, running jobs as local processes.

It imports nothing else from ``hfjobs_mcp``, so a misreading of the wire format cannot be shared by
the client and the backend. Embedding API::

    cfg = LocalConfig(state_dir=Path(...), token="...", user="alice", orgs=("myorg",))
    app = create_app(cfg)                     # Starlette ASGI app (core: app.state.core)
    async with LocalBackend(cfg) as backend:  # uvicorn in the current loop
        backend.url, backend.token, backend.faults
    with serve_in_thread(cfg) as backend:     # uvicorn in a daemon thread
        ...

Modules: ``config`` (settings), ``app`` (routes), ``validation`` (request schemas), ``render``
(response shapes), ``core`` (operations), ``store`` (SQLite), ``runner``/``procs``/``jobenv``
(processes), ``logs``/``sse`` (log files and streams), ``metrics``, ``scheduler`` (cron),
``faults`` (fault injection), ``auth``, ``hardware`` (flavors), ``server`` (uvicorn), ``cli``.
"""

from __future__ import annotations

from .app import create_app
from .config import LocalConfig
from .core import StateDirBusyError
from .faults import FaultInjector, FaultSpecError
from .server import LocalBackend, find_running, serve_in_thread

__all__ = [
    "FaultInjector",
    "FaultSpecError",
    "LocalBackend",
    "LocalConfig",
    "StateDirBusyError",
    "create_app",
    "find_running",
    "serve_in_thread",
]
