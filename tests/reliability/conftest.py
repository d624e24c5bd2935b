"""Fixtures for the reliability suite (issue 9, design §8): a local backend whose requests are counted, MCP sessions
on it whose API client sleeps are recorded, and helpers to read tool results.

Why a counting backend: the fuzz tests must show that invalid input never reaches the Jobs API, and the only
honest place to count that is the backend itself. The counter is an ASGI middleware around the backend's own app
(faults and all), installed before uvicorn starts, so every HTTP request that arrives is seen, whatever sent it.

Why a recording sleep: retries and log-stream reconnects wait (Retry-After, backoff); the suite records each
requested delay (to check that the waits asked for are the waits taken) and sleeps only a fraction of it, so a
hundred reconnects stay within CI time.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import mcp
import pytest
from mcp_types import CallToolResult
from starlette.types import ASGIApp, Receive, Scope, Send

from hfjobs_mcp.api import JobsClient, RetryPolicy
from hfjobs_mcp.config import TOOLSETS, Settings
from hfjobs_mcp.local import LocalBackend
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server
from tests.backends import backend_config
from tests.e2e.conftest import Session, text

TOKEN = "hf_local_reliability_token_0123456789"  # a fake token for throwaway backends
USER = "alice"
ORG = "myorg"


class RequestCounter:
    """ASGI middleware: records ``(method, path, query)`` of every HTTP request reaching the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.requests: list[tuple[str, str, str]] = []
        self._lock = threading.Lock()

    @property
    def count(self) -> int:
        with self._lock:
            return len(self.requests)

    def since(self, mark: int) -> list[tuple[str, str, str]]:
        with self._lock:
            return list(self.requests[mark:])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            with self._lock:
                query = bytes(scope.get("query_string", b"")).decode("latin-1")
                self.requests.append((str(scope["method"]), str(scope["path"]), query))
        await self.app(scope, receive, send)


@dataclass
class Counted:
    """A local backend served from a thread, with its request counter and fault injector at hand."""

    backend: LocalBackend
    counter: RequestCounter
    state_dir: Path

    @property
    def url(self) -> str:
        return self.backend.url

    @property
    def token(self) -> str:
        return self.backend.token

    @property
    def faults(self) -> Any:
        return self.backend.faults


@contextmanager
def counted_backend(state_dir: Path, **config: Any) -> Iterator[Counted]:
    """A backend on 127.0.0.1 (free port) whose app is wrapped by a :class:`RequestCounter` before it serves."""
    cfg = backend_config(state_dir=state_dir, token=TOKEN, user=USER, orgs=(ORG,), host="127.0.0.1", port=0, **config)
    backend = LocalBackend(cfg)
    counter = RequestCounter(backend.app)
    backend.app = counter  # type: ignore[assignment]  # uvicorn serves whatever ASGI app this holds
    try:
        backend.start_in_thread()
    except BaseException:
        backend.core.close()
        raise
    try:
        yield Counted(backend=backend, counter=counter, state_dir=state_dir)
    finally:
        backend.stop_thread()


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Counted]:
    with counted_backend(tmp_path / "state") as served:
        yield served


@dataclass
class RecordingSleep:
    """Records every delay the client asks for; sleeps at most ``cap`` seconds of it (0: not at all)."""

    cap: float = 0.02
    delays: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await anyio.sleep(min(seconds, self.cap))

    @property
    def total(self) -> float:
        return sum(self.delays)


@asynccontextmanager
async def mcp_session(
    backend: Counted,
    *,
    sleep: Any = None,
    retry: RetryPolicy | None = None,
    environ: dict[str, str] | None = None,
    **settings: Any,
) -> AsyncIterator[Session]:
    """An in-memory ``mcp.Client`` on ``build_server``, wired as the command line wires it (``base_context``), with
    an API client whose sleep and retry policy the test chooses."""
    conf = Settings(endpoint=backend.url, **{"toolsets": TOOLSETS, **settings})
    async with JobsClient(
        token=backend.token, endpoint=backend.url, sleep=sleep or anyio.sleep, retry=retry or RetryPolicy()
    ) as api:
        ctx = base_context(conf, api, environ=environ or {})
        server = build_server(ctx, toolsets=conf.toolsets, read_only=conf.read_only)
        async with mcp.Client(server) as client:
            yield Session(client=client, api=api, context=ctx, results=[])


def error_of(result: CallToolResult) -> dict[str, Any]:
    """The structured ``error`` of an ``isError`` result produced by our server (not by the SDK)."""
    assert result.is_error, text(result)
    assert result.structured_content is not None, text(result)
    error: dict[str, Any] = result.structured_content["error"]
    return error


def printer_code(n: int, pause: float) -> str:
    """Python printing ``line 0`` .. ``line n-1``, one every ``pause`` seconds, flushed line by line."""
    return f"import time\nfor i in range({n}):\n    print('line', i, flush=True)\n    time.sleep({pause})\n"
