"""Compact JSON schemas for ``tools/list``: same meaning, fewer bytes in every agent's context window.

pydantic's schemas carry a ``title`` on every property, ``anyOf: [X, null]`` for each optional field and
``default: null`` everywhere; a client pays for all of it in tokens on every session. :func:`compact` removes
what carries no meaning for validation or for the model (titles, null defaults, and, for output schemas,
descriptions) and folds ``anyOf [{type: X}, {type: null}]`` into ``type: [X, "null"]``. The result validates
exactly the same documents.
"""

from __future__ import annotations

from typing import Any

__all__ = ["compact", "compact_root", "shallow"]

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
    """:func:`compact` plus no root description (the argument model's docstring; the tool has its own)."""
    out = dict(compact(schema))
    out.pop("description", None)
    return out


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
        if key == "default" and value is None:
            continue
        if key == "description" and not descriptions and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "patternProperties"):
            out[key] = {name: compact(sub, descriptions=descriptions) for name, sub in value.items()}
        else:
            out[key] = compact(value, descriptions=descriptions)
    return _fold_optional(out)


def _loose(node: Any) -> Any:
    """Nested objects as plain ``{"type": "object"}``; arrays and optionals keep their shape around them."""
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
        return {**node, "items": _loose(node.get("items", {}))}
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
