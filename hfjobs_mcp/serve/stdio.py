"""Serving over stdio, what MCP clients launch for every session (``--transport http`` is :mod:`.http.run`).

The MCP SDK and the tools are imported with this module, before ``--local`` starts the local backend: started
first, the backend's own start competes for the CPU with those imports and the first ``tools/list`` comes later
(measured: 950 against 1130 ms on 2 busy cores, though the first call that needs the backend came 80 ms sooner).
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
