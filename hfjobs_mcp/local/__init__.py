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
(processes), ``sandbox`` (bubblewrap), ``volumes`` (what a job mounts), ``buckets/`` (the bucket API
and the Xet storage), ``logs``/``sse`` (log files and streams), ``metrics``, ``scheduler`` (cron),
``faults`` (fault injection), ``auth``, ``hardware`` (flavors), ``server`` (uvicorn), ``discovery``
(``backend.json``), ``detached``/``daemon`` (the backend that outlives ``--local``), ``cli``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .config import LocalConfig
    from .core import StateDirBusyError
    from .faults import FaultInjector, FaultSpecError
    from .private import UnsafeStateDirError
    from .server import LocalBackend, find_running, serve_in_thread

# Imported on first use: ``hfjobs-mcp --local`` only attaches to a backend process (``detached``) and must
# not pay for uvicorn, Starlette and the backend's modules at start-up.
_WHERE = {
    "create_app": "app",
    "LocalConfig": "config",
    "StateDirBusyError": "core",
    "FaultInjector": "faults",
    "FaultSpecError": "faults",
    "LocalBackend": "server",
    "UnsafeStateDirError": "private",
    "find_running": "server",
    "serve_in_thread": "server",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "FaultInjector",
    "FaultSpecError",
    "LocalBackend",
    "LocalConfig",
    "StateDirBusyError",
    "UnsafeStateDirError",
    "create_app",
    "find_running",
    "serve_in_thread",
]
