"""Compact JSON schemas for ``tools/list``: same meaning, fewer bytes in every agent's context window.

pydantic's schemas carry a ``title`` on every property, ``anyOf: [X, null]`` for each optional field and
``default: null`` everywhere; a client pays for all of it in tokens on every session. :func:`compact` removes
what carries no meaning for validation or for the model (titles, null and false defaults, and, for output schemas,
descriptions), folds ``anyOf [{type: X}, {type: null}]`` into ``type: [X, "null"]`` (and any ``anyOf`` of bare
types into a ``type`` list), and puts a ``$defs`` entry used once in place of its ``$ref``. The result validates
exactly the same documents.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic

from hfjobs_mcp import __version__

__all__ = ["cached_schemas", "compact", "compact_root", "shallow", "write_cache"]

_SIMPLE_KEYS = {
    "type",
    "description",
    "default",
    "enum",
    "const",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "minItems",
    "maxItems",
    "items",
}


def _fold_types(node: dict[str, Any]) -> dict[str, Any]:
    """``anyOf`` of bare types (``[{type: string}, {type: integer}, {type: null}]``) as one ``type`` list."""
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) < 2:
        return node
    if not all(isinstance(o, dict) and set(o) == {"type"} and isinstance(o["type"], str) for o in options):
        return node
    folded = {k: v for k, v in node.items() if k != "anyOf"}
    folded["type"] = [o["type"] for o in options]
    return folded


def _inline_single_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """Each ``$defs`` entry used by exactly one ``$ref`` put in its place (the same schema, without the detour)."""
    defs = schema.get("$defs")
    if not isinstance(defs, dict):
        return schema
    text = json.dumps(schema)
    once = {name for name in defs if text.count(f'"#/$defs/{name}"') == 1}

    def swap(node: Any) -> Any:
        if isinstance(node, list):
            return [swap(v) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in once and len(node) == 1:
            return swap(defs[ref[8:]])
        return {k: swap(v) for k, v in node.items()}

    out = {k: swap(v) for k, v in schema.items() if k != "$defs"}
    kept = {name: swap(sub) for name, sub in defs.items() if name not in once}
    if kept:
        out = {"$defs": kept, **out}
    return out


def _fold_optional(node: dict[str, Any]) -> dict[str, Any]:
    options = node.get("anyOf")
    if not isinstance(options, list) or len(options) != 2 or {"type": "null"} not in options:
        return node
    other = next(o for o in options if o != {"type": "null"})
    kind = other.get("type")
    if not isinstance(kind, str) or not set(other) <= _SIMPLE_KEYS or "enum" in other or "const" in other:
        return node  # a $ref or an enum keeps its anyOf: folding would change what null means there
    folded = {k: v for k, v in node.items() if k != "anyOf"}
    folded.update(other)
    folded["type"] = [kind, "null"]
    return folded


def compact_root(schema: dict[str, Any]) -> dict[str, Any]:
    """:func:`compact` plus no model docstrings: not the root's (the tool has its own description) nor those of
    nested models in ``$defs`` (the field that uses one has its own); ``tools/list`` is paid for in every context."""
    out = dict(compact(schema))
    out.pop("description", None)
    for name, sub in out.get("$defs", {}).items():
        out["$defs"][name] = {k: v for k, v in sub.items() if k != "description"}
    return _inline_single_refs(out)


def compact(schema: Any, *, descriptions: bool = True) -> Any:
    """A copy of ``schema`` without titles and null defaults (and descriptions, if asked), optionals folded."""
    if isinstance(schema, list):
        return [compact(item, descriptions=descriptions) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key == "default" and (value is None or value is False):
            continue  # an optional flag left out is false: saying so in every tool costs bytes, not meaning
        if key == "description" and not descriptions and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "patternProperties"):
            out[key] = {name: compact(sub, descriptions=descriptions) for name, sub in value.items()}
        else:
            out[key] = compact(value, descriptions=descriptions)
    return _fold_types(_fold_optional(out))


def _loose(node: Any) -> Any:
    """Nested objects as plain ``{"type": "object"}`` (a list of them as a plain array); optionals keep their shape."""
    if not isinstance(node, dict):
        return node
    if "$ref" in node or node.get("type") == "object":
        return {"type": "object"}
    options = node.get("anyOf")
    if isinstance(options, list):
        loose = [_loose(o) for o in options]
        if len(loose) == 2 and {"type": "null"} in loose:
            other = next(o for o in loose if o != {"type": "null"})
            if set(other) == {"type"} and isinstance(other["type"], str):
                return {"type": [other["type"], "null"]}
        return {"anyOf": loose}
    if node.get("type") == "array" or (isinstance(node.get("type"), list) and "array" in node["type"]):
        items = _loose(node.get("items", {}))
        # A list of objects is just a list: what its objects hold is no more typed than a nested object's fields.
        return (
            {k: v for k, v in node.items() if k != "items"} if items == {"type": "object"} else {**node, "items": items}
        )
    return node


def shallow(schema: dict[str, Any]) -> dict[str, Any]:
    """An output schema typed at the top level only: nested objects are just objects.

    Output schemas are for clients to validate and route structured content; the field-by-field meaning is in
    the text rendering. Describing every nested view in every tool would triple the size of ``tools/list``.
    ``required`` is left out too: results always carry every field (null when empty), so it would only repeat
    the property list.
    """
    flat = compact(schema, descriptions=False)
    props = {name: _loose(sub) for name, sub in flat.get("properties", {}).items()}
    out = {k: v for k, v in flat.items() if k not in ("$defs", "properties", "required")}
    out["properties"] = props
    return out


_PACKAGE = Path(__file__).resolve().parent.parent


def _sources(folder: str, rel: str = "") -> Iterator[tuple[str, os.stat_result]]:
    """Every ``.py`` file under ``folder`` but the local backend's, by relative path in sorted order, with its
    metadata (``os.scandir``: a third of ``Path.rglob``'s time, on every start)."""
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        path = f"{rel}/{entry.name}" if rel else entry.name
        if entry.is_dir(follow_symlinks=False):
            if path != "local" and entry.name != "__pycache__":
                yield from _sources(entry.path, path)
        elif entry.name.endswith(".py"):
            yield path, entry.stat()


def _cache_file(package: Path = _PACKAGE, kind: str = "schemas") -> Path:
    """Where published schemas are cached, keyed by everything that can change them.

    The key covers every source file of the package (the local backend's aside) by path, size and modification
    time in nanoseconds, plus the package and pydantic versions: editing a tool or a model, or upgrading
    pydantic, gives a new file, so a stale schema can never be served. File metadata rather than contents because
    the key is computed on every start: reading and hashing ~100 sources cost ~50 ms of a ~1 s cold start, and an
    edit that keeps both the size and the nanosecond mtime of a file does not happen by accident. ``kind`` names
    what is cached under that key (``schemas``, or the whole published ``listing`` of :mod:`.listing`).
    """
    digest = hashlib.sha256()
    for rel, stat in _sources(str(package)):
        digest.update(f"{rel}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    digest.update(f"{__version__}\0{pydantic.VERSION}".encode())
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "hfjobs-mcp" / f"{kind}-{digest.hexdigest()[:16]}.json"


def cached_schemas(compute: dict[str, Any]) -> dict[str, Any]:
    """``{tool: {"input": ..., "output": ...}}`` from the cache file, else computed (and cached for next time).

    ``compute`` maps each tool name to a zero-argument callable returning its schemas. Generating the JSON
    schemas of 19 tools costs more start-up time than importing them, and an MCP client starts the server for
    every session; with the cache, the argument and result models are only built when first used.
    """
    path = _cache_file()
    try:
        cached = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(cached, dict) and set(cached) == set(compute):
            return cached
    except (OSError, ValueError):
        pass
    fresh = {name: make() for name, make in compute.items()}
    write_cache(path, fresh)
    return fresh


def write_cache(path: Path, data: Any) -> None:
    """``data`` as JSON at ``path``, atomically (concurrent servers never read half a file); never fails."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False, suffix=".tmp", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(f.name, path)
    except OSError:
        pass  # a read-only home only costs start-up time
