"""Serving over stdio, what MCP clients launch for every session (``--transport http`` is :mod:`.http.run`).

Every session starts with ``initialize`` and ``tools/list``, timed by the client that launched the server, so
those are answered from the cached listing before anything a call needs exists: the API client, its models and
retry library, and the secrets machinery come with the first request that needs a context
(:class:`~hfjobs_mcp.serve.context.LazyContext`; issue 15's start-up floor), and so does ``--local``'s backend
(:func:`~hfjobs_mcp.serve.backend.local_connector`). A state folder another user controls is still refused at
start, as is a bad ``--secrets-file``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from mcp.server.mcpserver import MCPServer

from hfjobs_mcp.config import Settings
from hfjobs_mcp.serve.backend import Connection, local_connector, make_client, open_connection
from hfjobs_mcp.serve.context import LazyContext, base_context
from hfjobs_mcp.serve.server import build_server


def stdio_server(settings: Settings, connect: Callable[[], Connection]) -> tuple[MCPServer[Any], LazyContext]:
    """The server a stdio session gets, and its context (made, on ``connect()``, by the first request needing it)."""
    context = LazyContext(settings, lambda: base_context(settings, make_client(connect())))
    if settings.secrets_file is not None:
        context.get()  # the secrets file is read and checked before serving: refused at start, not at a call
    return build_server(context, toolsets=settings.toolsets, read_only=settings.read_only), context


@asynccontextmanager
async def connector(settings: Settings) -> AsyncIterator[Callable[[], Connection]]:
    """How the first call connects: ``--local`` attaches then (the folder is checked now), else the endpoint and
    token found now."""
    if settings.local:
        with local_connector(settings) as connect:
            yield connect
        return
    async with open_connection(settings) as connection:
        yield lambda: connection


async def serve(settings: Settings) -> None:
    """Run the MCP server over stdio until stdin ends."""
    async with connector(settings) as connect:
        server, context = stdio_server(settings, connect)
        try:
            await server.run_stdio_async()
        finally:
            if context.made is not None:
                await context.made.client.aclose()
