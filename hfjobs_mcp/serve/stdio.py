"""Serving over stdio, what MCP clients launch for every session (``--transport http`` is :mod:`.http.run`).

The command line imports this module only to serve; the MCP SDK and the tools come with it, before ``--local``
attaches to (or starts) the local backend, as they always did. Importing them after the backend was started
measured no better: 908 against 999 ms to ``tools/list`` (median of 20 alternating runs on 2 busy cores, with
the backend opening on first use).
"""

from __future__ import annotations

from hfjobs_mcp.config import Settings
from hfjobs_mcp.serve.backend import open_client
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server


async def serve(settings: Settings) -> None:
    """Run the MCP server over stdio until stdin ends."""
    async with open_client(settings) as client:
        server = build_server(base_context(settings, client), toolsets=settings.toolsets, read_only=settings.read_only)
        await server.run_stdio_async()
