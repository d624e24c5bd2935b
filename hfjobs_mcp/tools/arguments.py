"""Argument errors an agent can act on: the field, what was given, what is expected, and the closest valid one.

The server validates every call with the tool's own argument model (the one its published schema comes from) and
turns a refusal into :class:`~hfjobs_mcp.errors.InvalidArgumentsError`, one ``problem`` per field, instead of a
pydantic dump: ``list_jobs {"stage": ...}`` says "unknown argument 'stage' (did you mean 'stages'?)", and
``flavor: "A10G-Small"`` says "did you mean 'a10g-small'?". What was given is shown short, and never when it
looks like a secret (an agent may have pasted one into the wrong field).
"""

from __future__ import annotations

import difflib
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from hfjobs_mcp.errors import ArgumentProblem, InvalidArgumentsError
from hfjobs_mcp.policy.shapes import value_looks_secret

M = TypeVar("M", bound=BaseModel)

MAX_SHOWN = 60
_QUOTED = re.compile(r"'([^']*)'")


def parse_arguments(model: type[M], raw: dict[str, Any], *, tool: str) -> M:
    """``raw`` validated by ``model``, or :class:`InvalidArgumentsError` naming every problem at once."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = [_problem(err, model, raw) for err in exc.errors(include_url=False)]
        raise InvalidArgumentsError(tool, problems) from None


def shown(value: Any) -> str:
    """What was given, short, and never a value that looks like a secret."""
    if isinstance(value, str):
        if value_looks_secret(value):
            return "a value that looks like a secret (not shown)"
        text = value if len(value) <= MAX_SHOWN else value[:MAX_SHOWN] + f"… ({len(value)} characters)"
        return repr(text)
    if isinstance(value, list | dict):
        return f"a {'list' if isinstance(value, list) else 'object'} of {len(value)}"
    return repr(value)[:MAX_SHOWN]


def _at(raw: Any, loc: tuple[int | str, ...]) -> tuple[bool, Any]:
    """The value at ``loc`` in what the agent sent, if it is there."""
    for part in loc:
        if isinstance(raw, list) and isinstance(part, int):
            if not 0 <= part < len(raw):
                return False, None
            raw = raw[part]
        elif isinstance(raw, dict) and part in raw:
            raw = raw[part]
        else:
            return False, None
    return True, raw


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the (nested) model that ``loc`` points into."""
    current: type[BaseModel] = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part)
        nested = _model_in(field.annotation) if field is not None else None
        if nested is None:
            break
        current = nested
    return list(current.model_fields)


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _closest(word: str, options: list[str]) -> str | None:
    if not options:
        return None
    folded = {o.lower(): o for o in options}
    if word.lower() in folded:
        return folded[word.lower()]
    match = difflib.get_close_matches(word.lower(), list(folded), n=1, cutoff=0.6)
    return folded[match[0]] if match else None


def _problem(err: Any, model: type[BaseModel], raw: dict[str, Any]) -> ArgumentProblem:
    loc = tuple(err["loc"])
    field = ".".join(str(p) for p in loc) or "(arguments)"
    kind = err["type"]
    present, value = _at(raw, loc)
    given = shown(value) if present else None
    message = str(err["msg"]).removeprefix("Value error, ")
    suggestion: str | None = None
    if kind == "extra_forbidden":
        name = str(loc[-1])
        suggestion = _closest(name, _fields_at(model, loc[:-1]))
        return ArgumentProblem(field=field, given=None, expected="no such argument", suggestion=suggestion)
    if kind == "missing":
        return ArgumentProblem(field=field, given=None, expected="a value (this argument is required)")
    if kind in ("literal_error", "enum") and isinstance(value, str):
        options = _QUOTED.findall(str((err.get("ctx") or {}).get("expected", "")))
        suggestion = _closest(value, options)
    elif loc and loc[-1] == "flavor" and isinstance(value, str) and value.lower() != value:
        suggestion = value.lower()
    return ArgumentProblem(field=field, given=given, expected=message, suggestion=suggestion)
