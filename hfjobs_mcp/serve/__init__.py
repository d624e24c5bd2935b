"""Serving the tools over MCP: the only package that imports the MCP SDK (besides the demo, an MCP client).

One job per module, like :mod:`hfjobs_mcp.local`:

- :mod:`~hfjobs_mcp.serve.server`: ``build_server``, the selected tools as one ``MCPServer``;
- :mod:`~hfjobs_mcp.serve.adapter`: one :class:`~hfjobs_mcp.tools.base.ToolDef` as an SDK tool;
- :mod:`~hfjobs_mcp.serve.consent`: the plan phase and the user's yes of a writing tool, then the gate;
- :mod:`~hfjobs_mcp.serve.sdk_shim`: the one place that relies on SDK internals (each use documented and tested);
- :mod:`~hfjobs_mcp.serve.results`: tool outcomes as ``CallToolResult`` (masked, then cut);
- :mod:`~hfjobs_mcp.serve.app_page`: the MCP Apps job page and its app-only answer tool;
- :mod:`~hfjobs_mcp.serve.context`: the context every call starts from, and each call's own;
- :mod:`~hfjobs_mcp.serve.backend`: the API client the settings ask for (remote, or the local backend);
- :mod:`~hfjobs_mcp.serve.stdio`: serving over stdio;
- :mod:`~hfjobs_mcp.serve.http`: the HTTP deployment (``auth``, ``app``, ``run``, ``keys``).

Nothing is imported here: the command line imports only the module it needs (start-up time).
"""

from __future__ import annotations
