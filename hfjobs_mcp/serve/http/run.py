"""Running the HTTP deployment: one process, or uvicorn's supervisor over ``--workers N`` processes.

Workers: ``--workers N`` runs uvicorn's process supervisor on an import string (:data:`APP_FACTORY`, a factory
that reads its settings from the environment). Every worker shares the request-state key
(``HFJOBS_MCP_STATE_KEY``, generated once by the supervisor when unset) and the approvals store of
:mod:`hfjobs_mcp.serve.http.keys`, so a confirmation round trip may land on any worker. With ``--local`` the
supervisor runs the one local backend and the workers call it. SIGTERM stops accepting connections and lets
running calls finish (up to ``--shutdown-grace`` seconds).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets as _random
import signal
import sys
import threading
from collections.abc import Generator
from typing import Any

import anyio
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from uvicorn.supervisors import Multiprocess

from hfjobs_mcp import logsetup
from hfjobs_mcp.api import JobsClient, find_endpoint
from hfjobs_mcp.api.auth import TokenSource
from hfjobs_mcp.config import Settings
from hfjobs_mcp.errors import PolicyError
from hfjobs_mcp.private_paths import UnsafePathError
from hfjobs_mcp.serve.backend import attach_local_backend, open_client
from hfjobs_mcp.serve.http.app import MCP_PATH, create_app
from hfjobs_mcp.serve.http.auth import DeploymentError, check_deployment
from hfjobs_mcp.serve.http.keys import STATE_KEY_ENV, state_key

logger = logging.getLogger("hfjobs_mcp.web")  # the name log lines have always shown

APP_FACTORY = "hfjobs_mcp.serve.http.run:app_from_env"  # what uvicorn's workers import
SETTINGS_ENV = "HFJOBS_MCP_SERVE_SETTINGS"  # the supervisor hands each worker its settings through this
BACKEND_TOKEN_ENV = "HFJOBS_MCP_WORKER_BACKEND_TOKEN"  # noqa: S105 (the backend token, read then removed)


class _Server(uvicorn.Server):
    """uvicorn, with SIGTERM/SIGINT starting the graceful shutdown and the process then exiting normally.

    uvicorn re-raises the signal after its shutdown, which would kill the process before its clean-up ran (the
    local backend's lease released); here the signal only asks for the shutdown.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if not _in_main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _in_main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _uvicorn_config(settings: Settings, app: Any, **extra: Any) -> uvicorn.Config:
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=level if level in ("debug", "info", "warning", "error", "critical") else "info",
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        lifespan="on",
        **extra,
    )


async def serve_http(settings: Settings) -> None:
    """One process: the app in this event loop until SIGTERM/SIGINT (then running calls finish)."""
    check_deployment(settings)
    async with open_client(settings) as client:
        app = create_app(settings, client=client)
        logger.info(
            "serving MCP over streamable HTTP at http://%s:%d%s (auth: %s)",
            settings.host,
            settings.port,
            MCP_PATH,
            settings.auth,
        )
        await _Server(_uvicorn_config(settings, app)).serve()


def app_from_env() -> Starlette:
    """The worker factory (:data:`APP_FACTORY`): settings, backend token and keys from the environment."""
    if not logging.getLogger().handlers:
        logsetup.configure(os.environ.get("HFJOBS_MCP_LOG_LEVEL", "INFO"))
    logsetup.demote_access_lines()
    settings = Settings.model_validate_json(os.environ[SETTINGS_ENV])
    backend_token = os.environ.pop(BACKEND_TOKEN_ENV, None)
    token = (
        TokenSource(SecretStr(backend_token) if backend_token else settings.token)
        if backend_token or settings.token
        else TokenSource.found()
    )
    endpoint = settings.endpoint or find_endpoint()
    client = JobsClient(token=token, endpoint=endpoint, namespace=settings.namespace)
    return create_app(settings, client=client, own_client=True)


def run_workers(settings: Settings) -> int:
    """``--workers N``: uvicorn's supervisor over N worker processes sharing one socket and one state key."""
    check_deployment(settings)
    os.environ.setdefault(STATE_KEY_ENV, _random.token_urlsafe(48))
    state_key(os.environ)  # refuse a bad configured key here, not in every worker
    os.environ["HFJOBS_MCP_LOG_LEVEL"] = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    with contextlib.ExitStack() as stack:
        worker_settings = settings
        if settings.local:
            attached = attach_local_backend(settings)  # its jobs outlive this server, as with --local alone
            stack.callback(attached.release)
            logger.info("the workers use the local Jobs backend at %s", attached.url)
            worker_settings = settings.model_copy(update={"local": False, "endpoint": attached.url})
            os.environ[BACKEND_TOKEN_ENV] = attached.token
        os.environ[SETTINGS_ENV] = json.dumps(worker_settings.model_dump(mode="json", exclude={"token"}))
        config = _uvicorn_config(settings, APP_FACTORY, factory=True, workers=settings.workers)
        sock = config.bind_socket()
        logger.info(
            "serving MCP over streamable HTTP at http://%s:%d%s with %d workers (auth: %s)",
            settings.host,
            settings.port,
            MCP_PATH,
            settings.workers,
            settings.auth,
        )
        Multiprocess(config, sockets=[sock]).run()
    return 0


def run_http(settings: Settings) -> int:
    """The command line's entry for ``--transport http``: one process, or a supervisor of workers."""
    try:
        if settings.workers > 1:
            return run_workers(settings)
        anyio.run(serve_http, settings)
    except (DeploymentError, UnsafePathError) as exc:
        print(f"hfjobs-mcp: {exc}", file=sys.stderr)
        return 2
    except PolicyError as exc:  # e.g. the secrets file
        print(f"hfjobs-mcp: {exc.message}", file=sys.stderr)
        return 2
    return 0


__all__ = ["APP_FACTORY", "app_from_env", "run_http", "run_workers", "serve_http"]
