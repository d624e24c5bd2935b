"""What the server says about itself: capabilities that list only what exists, cache hints, icon and website.

The SDK derives capabilities from the handlers ``MCPServer`` always registers, so left alone it advertises
``prompts`` and ``resources`` whether or not any exist, ``resources.subscribe`` and every ``listChanged`` on the
2026-07-28 protocol (through ``subscriptions/listen``), and ``logging`` once a ``logging/setLevel`` handler is
there. Here:

- ``subscriptions=False`` (nothing changes while the server runs: the lists follow its flags; job changes are
  read, not pushed), so no ``listChanged`` and no ``subscribe`` in either era;
- no ``logging/setLevel`` handler: this server sends no log notifications, so ``logging`` is not advertised;
  a handshake-era client that sets a level anyway (the conformance suite does) gets the empty result the
  method defines, from :func:`honest_capabilities`, rather than an error;
- ``prompts``, ``resources`` and ``completions`` are dropped from ``initialize`` and ``server/discover`` when
  the selected toolsets leave none of them (:func:`honest_capabilities`);
- an extension served on 2026-07-28 only (tasks: its ``resultType: "task"`` has no 2025-11-25 form) is dropped
  from the 2025-11-25 ``initialize`` result;
- the lists carry a cache hint (2026-07-28): they only change when the server is restarted with other flags.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from importlib.resources import files
from typing import Any

from mcp.server.caching import CacheableMethod, CacheHint
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp_types import Icon
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

WEBSITE = "https://github.com/hfjobs-mcp/hfjobs-mcp#readme"
LIST_TTL_MS = 60 * 60 * 1000  # an hour: a list changes only with a restart under other flags

# Public: every caller of a deployment gets the same lists (the tools, prompts and templates follow the flags).
CACHE_HINTS: Mapping[CacheableMethod, CacheHint] = {
    method: CacheHint(ttl_ms=LIST_TTL_MS, scope="public")
    for method in ("tools/list", "prompts/list", "resources/list", "resources/templates/list", "server/discover")
}


def icons() -> list[Icon]:
    """The server's icon, inline (``data:``): no request to a third party when a host shows it."""
    svg = files("hfjobs_mcp.ui").joinpath("icon.svg").read_bytes()
    src = "data:image/svg+xml;base64," + base64.b64encode(svg).decode()
    return [Icon(src=src, mime_type="image/svg+xml", sizes=["any"])]


def honest_capabilities(
    *, prompts: bool, resources: bool, completions: bool, modern_only: Sequence[str] = ()
) -> ServerMiddleware[Any]:
    """Middleware: drop what is not served from the advertised capabilities; accept a handshake-era setLevel."""
    unserved = [name for name, served in (("prompts", prompts), ("resources", resources)) if not served]
    if not completions:
        unserved.append("completions")

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "logging/setLevel" and ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            return {}  # no log notifications are sent at any level, so every level is already honoured
        result = await call_next(ctx)
        if ctx.method in ("initialize", "server/discover") and isinstance(result, dict):
            capabilities = result.get("capabilities")
            if isinstance(capabilities, dict):
                capabilities = {k: v for k, v in capabilities.items() if k not in unserved}
                extensions = capabilities.get("extensions")
                if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS and isinstance(extensions, dict):
                    kept = {k: v for k, v in extensions.items() if k not in modern_only}
                    capabilities = {k: v for k, v in capabilities.items() if k != "extensions"}
                    if kept:
                        capabilities["extensions"] = kept
                result = {**result, "capabilities": capabilities}
        return result

    return middleware
