"""Which listed tools the model sees: every tool but the app-only ones (MCP Apps ``_meta.ui.visibility: ["app"]``).

``tools/list`` carries app-only tools (the approval card's ``answer_approval``) for every client; hosts keep them
from the model. Tests that check the model's tools use these helpers.
"""

from __future__ import annotations

from typing import Any


def is_app_only(tool: Any) -> bool:
    meta = tool.get("_meta") if isinstance(tool, dict) else tool.meta
    visibility = ((meta or {}).get("ui") or {}).get("visibility")
    return visibility == ["app"]


def model_visible(tools: list[Any]) -> list[Any]:
    return [t for t in tools if not is_app_only(t)]
