"""End-to-end fixtures: a real local Jobs backend on 127.0.0.1 and real MCP client sessions against our server.

``session(...)`` opens an in-memory ``mcp.Client`` on ``build_server`` wired exactly as the command line wires
it (``serve.context.base_context``), with a chosen protocol era (``auto`` negotiates 2026-07-28, ``legacy`` the
2025-11-25 handshake), an optional elicitation callback, optionally declaring MCP Apps, and a fake server
environment for secrets.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mcp
import pytest
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp_types import CallToolResult, ElicitResult, TextContent

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.config import TOOLSETS, Settings
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server
from hfjobs_mcp.tools.base import ToolContext
from tests.backends import backend_config, serve_backend

TOKEN = "hf_local_e2e_token_0123456789abcdef"
USER = "alice"
MODES = ["auto", "legacy"]


@dataclass
class Backend:
    url: str
    token: str
    state_dir: Path
    faults: Any


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    state = tmp_path_factory.mktemp("e2e") / "state"
    config = backend_config(state_dir=state, token=TOKEN, user=USER, orgs=("myorg",), host="127.0.0.1", port=0)
    with serve_backend(config) as served:
        yield Backend(url=served.url, token=served.token, state_dir=state, faults=served.faults)


@dataclass
class Asked:
    """An elicitation callback that answers with ``action`` (and approve for accept), recording the prompts."""

    action: str = "accept"
    approve: bool = True
    prompts: list[str] = field(default_factory=list)

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        self.prompts.append(params.message)
        if self.action == "accept":
            return ElicitResult(action="accept", content={"approve": self.approve})
        return ElicitResult(action=self.action)  # type: ignore[arg-type]


@dataclass
class Session:
    client: mcp.Client
    api: JobsClient
    context: ToolContext
    results: list[CallToolResult]

    async def call(self, name: str, args: dict[str, Any], **kwargs: Any) -> CallToolResult:
        result = await self.client.call_tool(name, args, **kwargs)
        self.results.append(result)
        return result

    async def ok(self, name: str, args: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        result = await self.call(name, args, **kwargs)
        assert not result.is_error, text(result)
        assert result.structured_content is not None
        return result.structured_content


def text(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


# Every session opened by a test; the leak scan below reads them all after the test.
_SESSIONS: list[Session] = []
# Values that must never appear in anything the server returns or logs: the server's own token, and every fake
# secret value a test puts in the server's environment (tests add theirs through `forbid`).
FORBIDDEN: set[str] = {TOKEN}


def forbid(*values: str) -> None:
    FORBIDDEN.update(values)


@pytest.fixture(autouse=True)
def leak_scan(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """After every end-to-end test: no forbidden value in any tool result or log record of the test."""
    caplog.set_level(logging.DEBUG)
    _SESSIONS.clear()
    yield
    leaks: list[str] = []
    for session in _SESSIONS:
        for i, result in enumerate(session.results):
            blob = text(result) + repr(result.structured_content)
            leaks += [f"tool result #{i}" for value in FORBIDDEN if value in blob]
    for record in caplog.records:
        message = record.getMessage()
        leaks += [f"log record of {record.name}" for value in FORBIDDEN if value in message]
    _SESSIONS.clear()
    assert not leaks, f"secret values leaked into: {leaks}"


@asynccontextmanager
async def open_session(
    backend: Backend,
    *,
    mode: str = "auto",
    elicitation: Asked | None = None,
    environ: dict[str, str] | None = None,
    apps: bool = False,
    **settings: Any,
) -> AsyncIterator[Session]:
    # Every toolset: the tests exercise webhooks too (served only when asked for).
    conf = Settings(endpoint=backend.url, **{"toolsets": TOOLSETS, **settings})
    async with JobsClient(token=backend.token, endpoint=backend.url) as api:
        ctx = base_context(conf, api, environ=environ or {})
        server = build_server(ctx, toolsets=conf.toolsets, read_only=conf.read_only)
        kwargs: dict[str, Any] = {"mode": mode}
        if elicitation is not None:
            kwargs["elicitation_callback"] = elicitation
        if apps:  # an MCP Apps host (Claude Desktop, Claude.ai...): it renders ui:// pages
            kwargs["extensions"] = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]
        async with mcp.Client(server, **kwargs) as client:
            session = Session(client=client, api=api, context=ctx, results=[])
            _SESSIONS.append(session)
            yield session


@pytest.fixture
def session_factory(backend: Backend) -> Any:
    def make(**kwargs: Any) -> Any:
        return open_session(backend, **kwargs)

    return make
