"""Serving over stdio, what MCP clients launch for every session (``--transport http`` is :mod:`.http.run`)."""

from __future__ import annotations

from hfjobs_mcp.config import Settings
from hfjobs_mcp.serve.backend import open_client
from hfjobs_mcp.serve.context import base_context


async def serve(settings: Settings) -> None:
    """Run the MCP server over stdio until stdin ends."""
    from hfjobs_mcp.serve.server import build_server  # the MCP SDK, imported when serving (start-up time)

    async with open_client(settings) as client:
        server = build_server(base_context(settings, client), toolsets=settings.toolsets, read_only=settings.read_only)
        await server.run_stdio_async()
