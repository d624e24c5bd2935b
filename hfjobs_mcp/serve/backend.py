"""The API client a running server uses: the Hub (or ``--endpoint``), or the local backend with ``--local``.

:func:`attach_local_backend` is the one place that starts the local backend as a detached process or attaches to
the one serving the state folder (stdio, the HTTP server and the HTTP workers' supervisor all go through it).
Tests and the demo use :func:`open_client` to get exactly what the command line gets.
"""

from __future__ import annotations

import logging
import secrets as _random
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, ExitStack, asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
from pydantic import SecretStr

from hfjobs_mcp.api.auth import TokenSource, find_endpoint
from hfjobs_mcp.config import Settings, home_dir
from hfjobs_mcp.errors import TransportError
from hfjobs_mcp.private_paths import UnsafePathError

if TYPE_CHECKING:
    from hfjobs_mcp.api import JobsClient
    from hfjobs_mcp.local.detached import Attached

logger = logging.getLogger("hfjobs_mcp")

LOCAL_USER = "local-user"


def local_state_dir(settings: Settings) -> Path:
    """Where the local backend keeps its jobs: ``--state-dir``, else ``local/`` in the server's home folder."""
    return settings.state_dir or home_dir() / "local"


def attach_local_backend(settings: Settings) -> Attached:
    """The local backend serving the settings' state folder: attached to if one runs, else started detached.

    Its jobs outlive this server; the caller holds the returned lease until it leaves (``release()``). A state folder
    another user owns or may write to is refused (:class:`~hfjobs_mcp.private_paths.UnsafePathError`). Blocking:
    call it from a thread in an event loop.
    """
    # The local backend's code only with --local (start-up time).
    from hfjobs_mcp.local.detached import attach
    from hfjobs_mcp.local.private import UnsafeStateDirError

    state_dir = local_state_dir(settings)
    try:
        attached = attach(state_dir, user=LOCAL_USER)
    except UnsafeStateDirError as exc:  # another user's folder, or one others may write to
        raise UnsafePathError(str(exc)) from None
    how = "started" if attached.started else "attached to"
    logger.info("%s the local Jobs backend at %s (pid %d, state in %s)", how, attached.url, attached.pid, state_dir)
    return attached


@dataclass(frozen=True)
class Connection:
    """Where the API is and the token to use: what a client is made from (:func:`make_client`)."""

    endpoint: str
    token: TokenSource
    namespace: str | None


@asynccontextmanager
async def open_connection(settings: Settings, *, embedded: bool = False) -> AsyncIterator[Connection]:
    """The endpoint and token the settings ask for.

    With ``local``, the local backend serving the state folder is used (:func:`attach_local_backend`); this process
    holds a client lease until it leaves. ``embedded`` instead serves a backend from a thread of this process,
    stopped on leaving (the demo, with its throwaway state folder).
    """
    async with AsyncExitStack() as stack:
        if settings.local:
            if embedded:
                # The backend's server in this process: the demo only (start-up time).
                from hfjobs_mcp.local import LocalConfig, serve_in_thread
                from hfjobs_mcp.local.private import UnsafeStateDirError

                token = _random.token_urlsafe(24)
                config = LocalConfig(
                    state_dir=local_state_dir(settings), token=token, user=LOCAL_USER, host="127.0.0.1", port=0
                )
                try:
                    url = stack.enter_context(serve_in_thread(config)).url
                except UnsafeStateDirError as exc:  # another user's folder, or one others may write to
                    raise UnsafePathError(str(exc)) from None
                yield _local_connection(settings, url, token)
                return
            connect = stack.enter_context(local_connector(settings))
            yield await anyio.to_thread.run_sync(connect)
            return
        # The token found as huggingface_hub finds it; a browser login's token file is refreshed before it expires.
        source = (
            TokenSource(settings.token, origin="the token given to the server")
            if settings.token
            else TokenSource.found()
        )
        if source.token is None:
            logger.warning("no Hugging Face token found: tools will say so until HF_TOKEN is set (or use --local)")
        yield Connection(endpoint=settings.endpoint or find_endpoint(), token=source, namespace=settings.namespace)


def _local_connection(settings: Settings, url: str, token: str) -> Connection:
    local_token = TokenSource(SecretStr(token), origin="the local backend's own token (no cost)")
    return Connection(endpoint=url, token=local_token, namespace=settings.namespace)


@contextmanager
def local_connector(settings: Settings) -> Iterator[Callable[[], Connection]]:
    """``--local``: the state folder checked now, the backend attached to (or started) by the first ``connect()``.

    A stdio server connects with its first call, not before ``tools/list``: a backend process started with the
    server would share the cores with its start (1.17x a bare server's time to ``tools/list``, against 1.02x
    without ``--local``), and attaching costs a lock, a connection and the local backend's client code. A state
    folder another user owns or may write to is refused here, at start. The lease on the backend is held from
    the first ``connect()`` until leaving. ``connect()`` blocks (a spawn, or a wait while a backend of the folder
    is stopping); a failure is a :class:`~hfjobs_mcp.errors.TransportError` the call answers with (nothing sent),
    and the next call tries again.
    """
    from hfjobs_mcp.local.private import UnsafeStateDirError, private_dir  # only with --local (start-up time)

    try:
        private_dir(local_state_dir(settings))
    except UnsafeStateDirError as exc:  # another user's folder, or one others may write to
        raise UnsafePathError(str(exc)) from None
    with ExitStack() as leases:
        made: list[Connection] = []

        def connect() -> Connection:
            if not made:
                try:
                    attached = attach_local_backend(settings)
                except (OSError, RuntimeError, UnsafePathError) as exc:  # a tool result says it (nothing was sent)
                    raise TransportError(
                        f"the local Jobs backend could not be started or reached: {exc}",
                        hint=f"see {local_state_dir(settings) / 'backend.log'}, fix what it says, and call again",
                    ) from None
                leases.callback(attached.release)
                made.append(_local_connection(settings, attached.url, attached.token))
            return made[0]

        yield connect


def make_client(connection: Connection) -> JobsClient:
    """A client of ``connection``; close it with ``aclose()`` (or use it as an async context manager)."""
    # With the first call over stdio, not before tools/list (start-up time).
    from hfjobs_mcp.api.client import JobsClient

    return JobsClient(token=connection.token, endpoint=connection.endpoint, namespace=connection.namespace)


@asynccontextmanager
async def open_client(settings: Settings, *, embedded: bool = False) -> AsyncIterator[JobsClient]:
    """The API client the settings ask for (see :func:`open_connection`), closed on leaving."""
    async with open_connection(settings, embedded=embedded) as connection, make_client(connection) as client:
        yield client


__all__ = [
    "LOCAL_USER",
    "Connection",
    "attach_local_backend",
    "local_connector",
    "local_state_dir",
    "make_client",
    "open_client",
    "open_connection",
]
