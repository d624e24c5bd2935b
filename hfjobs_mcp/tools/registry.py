"""The tool registry: every tool in its fixed listing order, and selection by toolset and read-only.

Toolsets are static data (as in github-mcp-server): a tool belongs to exactly one, and ``--read-only`` keeps a
tool only when its own ``readOnlyHint`` is true, so the filter can never disagree with the annotation.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hfjobs_mcp.config import wanted_toolsets
from hfjobs_mcp.tools import hardware, jobs, outputs, scheduled, webhooks
from hfjobs_mcp.tools.base import ToolDef

ALL_TOOLS: tuple[ToolDef[Any, Any], ...] = (
    *jobs.TOOLS,
    *outputs.TOOLS,
    *hardware.TOOLS,
    *scheduled.TOOLS,
    *webhooks.TOOLS,
)


def select_tools(*, toolsets: Sequence[str] | None = None, read_only: bool = False) -> list[ToolDef[Any, Any]]:
    """The tools of ``toolsets`` (the default ones when None), read-only ones only if asked, in registry order.

    An unknown toolset name is an error rather than an empty server: a typo in ``--toolsets`` must be loud.
    """
    wanted = wanted_toolsets(toolsets)
    return [t for t in ALL_TOOLS if t.toolset in wanted and (t.hints.read_only or not read_only)]


def tool_table_markdown(tools: Sequence[ToolDef[Any, Any]] = ALL_TOOLS) -> str:
    """The README's tool table, generated from the registry (a test keeps the README in step)."""
    rows = ["| tool | toolset | read-only | destructive | what it does |", "| --- | --- | --- | --- | --- |"]
    for t in tools:
        summary = t.description.split("\n", 1)[0].strip()
        rows.append(
            f"| `{t.name}` | {t.toolset} | {'yes' if t.hints.read_only else 'no'} | "
            f"{'yes' if t.hints.destructive else 'no'} | {summary} |"
        )
    return "\n".join(rows) + "\n"
