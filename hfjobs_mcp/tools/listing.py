"""The published listing of every tool (what ``tools/list`` shows and how a call is routed), cached on disk.

An MCP client starts the server for every session and asks for ``tools/list`` first. Importing the tool modules,
their pydantic models and the policy code behind them costs more start-up time than everything else of ours, and
none of it is needed to answer that: the names, descriptions, hints and published schemas are data. So the listing
is cached next to the schema cache, under the same key (every source file's path, size and mtime, the package and
pydantic versions: :func:`hfjobs_mcp.tools.schema._cache_file`), and the server registers its tools from it; a
tool's real :class:`~hfjobs_mcp.tools.base.ToolDef` is imported on its first call (:func:`tool_named`).

A missing, unreadable or malformed cache file falls back to the real path: the registry is imported and the listing
built from it (then cached), so what is served never depends on the cache being intact.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

from hfjobs_mcp.config import wanted_toolsets
from hfjobs_mcp.errors import PolicyError
from hfjobs_mcp.tools.schema import _cache_file, write_cache

if TYPE_CHECKING:
    from hfjobs_mcp.tools.base import ToolDef

__all__ = ["Listed", "ListingMismatchError", "listed", "published_listing", "select_listed", "tool_named"]


@dataclass(frozen=True)
class Listed:
    """One tool as published, and what the server needs to route its calls before its code is imported."""

    name: str
    toolset: str
    title: str
    description: str
    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool
    writes: bool
    """It has a plan and an execute phase (the consent gate runs between them), not one handler."""
    may_ask: bool
    shows_job: bool
    input: dict[str, Any]
    output: dict[str, Any]


_FIELDS = {f.name: f.type for f in fields(Listed)}
_TYPES = {"str": str, "bool": bool, "dict[str, Any]": dict}


def listed(tool: ToolDef[Any, Any], schemas: dict[str, Any] | None = None) -> Listed:
    """The listing of one real tool (``schemas``: its published input and output schemas, else computed)."""
    published = schemas or {"input": tool.input_schema(), "output": tool.output_schema()}
    return Listed(
        name=tool.name,
        toolset=tool.toolset,
        title=tool.title,
        description=tool.description,
        read_only=tool.hints.read_only,
        destructive=tool.hints.destructive,
        idempotent=tool.hints.idempotent,
        open_world=tool.hints.open_world,
        writes=tool.plan is not None,
        may_ask=tool.may_ask,
        shows_job=tool.shows_job,
        input=published["input"],
        output=published["output"],
    )


def _from_json(item: Any) -> Listed:
    """One cached entry, checked field by field (:class:`ValueError` if anything is missing or mistyped)."""
    if not isinstance(item, dict) or set(item) != set(_FIELDS):
        raise ValueError("not a listing entry")
    for name, kind in _FIELDS.items():
        if not isinstance(item[name], _TYPES[str(kind)]):
            raise ValueError(f"listing entry field {name}: not a {kind}")
    return Listed(**item)


def _real_listing() -> list[Listed]:
    # The tool modules only when the cache cannot answer (start-up time).
    from hfjobs_mcp.tools.registry import ALL_TOOLS
    from hfjobs_mcp.tools.schema import cached_schemas

    schemas = cached_schemas(
        {t.name: (lambda t=t: {"input": t.input_schema(), "output": t.output_schema()}) for t in ALL_TOOLS}
    )
    return [listed(t, schemas[t.name]) for t in ALL_TOOLS]


def published_listing() -> list[Listed]:
    """Every tool in registry order, as published: from the cache file, else from the registry (then cached)."""
    path = _cache_file(kind="listing")
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, list) and cached:
            return [_from_json(item) for item in cached]
    except (OSError, ValueError, TypeError):
        pass  # missing, unreadable or malformed: the real path
    fresh = _real_listing()
    write_cache(path, [asdict(entry) for entry in fresh])
    return fresh


def select_listed(
    listing: Sequence[Listed], *, toolsets: Sequence[str] | None = None, read_only: bool = False
) -> list[Listed]:
    """What :func:`hfjobs_mcp.tools.registry.select_tools` selects, from the listing (same rules, same order)."""
    wanted = wanted_toolsets(toolsets)
    return [t for t in listing if t.toolset in wanted and (t.read_only or not read_only)]


class ListingMismatchError(PolicyError):
    """A listed tool is not what the code defines: the cache file was altered (its key covers every source)."""


# What decides where a tool is served and how its calls go: read-only servers, toolsets, the consent gate.
_ROUTING = ("toolset", "read_only", "destructive", "writes", "may_ask")


def tool_named(name: str, published: Listed | None = None) -> ToolDef[Any, Any]:
    """The real definition of a listed tool, imported on its first call.

    With ``published`` (what the server listed and routes by), the real tool must agree with it on everything that
    decides where it is served and whether the consent gate runs: a cache file edited to list ``run_job`` as
    read-only (so a ``--read-only`` server would serve it) raises :class:`ListingMismatchError` on the call, and
    nothing is sent.
    """
    # The tool modules on a tool's first call, not before tools/list (start-up time).
    from hfjobs_mcp.tools.registry import ALL_TOOLS

    tool = _BY_NAME.get(name) or _BY_NAME.setdefault(name, next(t for t in ALL_TOOLS if t.name == name))
    if published is not None:
        real = listed(tool, {"input": published.input, "output": published.output})
        wrong = [f for f in _ROUTING if getattr(real, f) != getattr(published, f)]
        if wrong:
            raise ListingMismatchError(
                f"the cached tool listing does not match the code for {name} ({', '.join(wrong)}): nothing was sent; "
                f"delete {_cache_file(kind='listing')} and restart the server"
            )
    return tool


_BY_NAME: dict[str, ToolDef[Any, Any]] = {}
