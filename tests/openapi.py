"""Response bodies checked against the Hub's own OpenAPI document (the Jobs subset).

Why: the local backend must answer exactly like Hugging Face's service, and `openapi-jobs.json` is the
server-side truth for response bodies (design §7, wire-protocol §0). Hand-written assertions would only
check what their author thought of; the schemas are strict (``additionalProperties: false``, 24-hex ids,
``Z`` timestamps), so validating every body the tests see catches drift in any field.

The document is vendored at ``tests/data/openapi-jobs.json`` (a copy of ``shared/hf-api/openapi-jobs.json``)
so a fresh clone runs the tests without the shared folder. It is loaded once.

Rules beyond a plain schema lookup, each one a decision written down here:

- The concrete path (or full URL, query ignored) is matched against the OAS path templates; a template with
  more literal segments wins (``/api/jobs/hardware`` before ``/api/jobs/{namespace}``), and only templates
  that declare the HTTP method are candidates.
- Status lookup: the exact code, then ``2XX``-style ranges, then ``default``.
- A 2xx status the operation does not declare fails when the operation declares another 2xx with a body
  (``201`` where the Hub answers ``200``); an operation with no 2xx body at all (DELETE, suspend, resume, the
  SSE streams) accepts any body: the client ignores it (wire §1).
- 4xx/5xx are not described by the OAS (wire §4.3, §17: UNCONFIRMED). The project's convention, which the
  client's error extraction reads (wire §12), is ``{"error": "<message>"}``: such bodies are checked against
  :data:`ERROR_SCHEMA` and the message says it is the convention, not the OAS.
- ``$ref`` is resolved through a ``referencing`` registry holding the whole document, so
  ``#/components/...`` pointers work; OAS 3.0 ``nullable`` is rewritten to JSON Schema if present;
  ``format: date-time`` is checked with the client's own rule (``YYYY-MM-DDTHH:MM:SS[.f]Z``, wire §5).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import referencing
import referencing.jsonschema
from jsonschema.protocols import Validator

OAS_FILE = Path(__file__).resolve().parent / "data" / "openapi-jobs.json"
DOCUMENT_URI = "urn:hfjobs-mcp:openapi-jobs.json"
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# wire §4.3/§12: the body of every error the backend sends (not described by the OAS).
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string", "minLength": 1}},
    "required": ["error"],
}

# wire §5: the client's parse_datetime accepts only this shape (a `+00:00` offset raises).
_CLIENT_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


class OpenAPIMismatch(AssertionError):
    """A response that does not match the OpenAPI document; the message says where and why."""


class UnknownOperation(OpenAPIMismatch):
    """The method and path match no operation of the document."""


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    spec: dict[str, Any]

    @property
    def pointer(self) -> str:
        return f"/paths/{_escape(self.template)}/{self.method}"


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _rewrite_nullable(node: Any) -> Any:
    """OAS 3.0 ``nullable: true`` → JSON Schema (a no-op on the 3.1 snapshot, which has none)."""
    if isinstance(node, list):
        return [_rewrite_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rewrite_nullable(value) for key, value in node.items()}
    if out.pop("nullable", False) is True:
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        elif isinstance(kind, list):
            out["type"] = [*kind, "null"] if "null" not in kind else kind
        elif "enum" in out:
            out["enum"] = [*out["enum"], None]
        else:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


@functools.cache
def load_document() -> dict[str, Any]:
    """The OpenAPI document, parsed once (``nullable`` already rewritten)."""
    return _rewrite_nullable(json.loads(OAS_FILE.read_text(encoding="utf-8")))


def _validator_class(document: dict[str, Any]) -> type[Validator]:
    dialect = document.get("jsonSchemaDialect")
    if dialect:
        return jsonschema.validators.validator_for({"$schema": dialect}, default=jsonschema.Draft202012Validator)
    if str(document.get("openapi", "")).startswith("3.0"):
        return jsonschema.Draft4Validator  # OAS 3.0's schema object is an extended subset of draft 4/5
    return jsonschema.Draft202012Validator  # OAS 3.1's default dialect is built on 2020-12


def _format_checker() -> jsonschema.FormatChecker:
    checker = copy.deepcopy(jsonschema.Draft202012Validator.FORMAT_CHECKER)

    @checker.checks("date-time", raises=ValueError)
    def _client_datetime(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not _CLIENT_DATETIME.match(value):
            raise ValueError(f"{value!r} is not YYYY-MM-DDTHH:MM:SS[.fraction]Z (huggingface_hub's parse_datetime)")
        datetime.fromisoformat(value[:-1])  # a real calendar date and time
        return True

    return checker


@functools.cache
def _registry() -> referencing.Registry[Any]:
    document = load_document()
    spec = referencing.jsonschema.specification_with(
        _validator_class(document).META_SCHEMA.get("$schema", "https://json-schema.org/draft/2020-12/schema"),
        default=referencing.jsonschema.DRAFT202012,
    )
    resource = referencing.Resource(contents=document, specification=spec)
    return referencing.Registry().with_resource(DOCUMENT_URI, resource)


@functools.cache
def _compiled_templates() -> list[tuple[int, int, str, re.Pattern[str]]]:
    out = []
    for order, template in enumerate(load_document().get("paths", {})):
        parts = template.strip("/").split("/")
        literal = sum(1 for part in parts if not (part.startswith("{") and part.endswith("}")))
        regex = "^/" + "/".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts) + "/?$"
        out.append((-literal, order, template, re.compile(regex)))
    out.sort()
    return out


def url_path(path_or_url: str) -> str:
    """The path of a URL or of a path with a query string."""
    return urlsplit(path_or_url).path or "/"


def find_operation(method: str, path_or_url: str) -> Operation:
    """The OAS operation a concrete request hits (most literal template first)."""
    verb = method.lower()
    path = url_path(path_or_url)
    paths = load_document().get("paths", {})
    for _, _, template, regex in _compiled_templates():
        if regex.match(path) and isinstance(paths[template].get(verb), dict):
            return Operation(verb, template, paths[template][verb])
    raise UnknownOperation(f"{method.upper()} {path}: no operation of {OAS_FILE.name} matches")


def _schema_pointer(op: Operation, status: int) -> tuple[str | None, str]:
    """(JSON pointer of the response schema or None, how the status was found)."""
    responses: dict[str, Any] = op.spec.get("responses") or {}
    for key in (str(status), f"{str(status)[0]}XX", f"{str(status)[0]}xx", "default"):
        if key in responses:
            content = (responses[key] or {}).get("content") or {}
            for media, body in content.items():
                if media.split(";")[0].strip().endswith("json") and "schema" in (body or {}):
                    return f"{op.pointer}/responses/{_escape(key)}/content/{_escape(media)}/schema", key
            return None, key
    return None, ""


@functools.cache
def _validator_for_pointer(pointer: str) -> Validator:
    cls = _validator_class(load_document())
    return cls({"$ref": f"{DOCUMENT_URI}#{pointer}"}, registry=_registry(), format_checker=_format_checker())


@functools.cache
def _error_validator() -> Validator:
    return jsonschema.Draft202012Validator(ERROR_SCHEMA, format_checker=_format_checker())


def _closest_alternative(err: jsonschema.ValidationError) -> str:
    """For anyOf/oneOf: why the alternative of the right type/const failed (not "is not of type 'null'")."""
    if not err.context:
        return ""
    by_branch: dict[Any, list[jsonschema.ValidationError]] = {}
    for sub in err.context:
        by_branch.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)

    def score(errs: list[jsonschema.ValidationError]) -> tuple[bool, int]:
        wrong_kind = any(e.validator in ("type", "const", "enum") and not e.relative_path for e in errs)
        return wrong_kind, len(errs)

    best = min(by_branch.values(), key=score)
    parts = []
    for sub in best[:3]:
        where = "".join(f"[{p!r}]" for p in sub.absolute_path) or "(root)"
        parts.append(f"at body{where}: {sub.message[:200]}")
    return " (closest alternative: " + "; ".join(parts) + ")"


def _describe(errors: Iterator[jsonschema.ValidationError], limit: int = 8) -> list[str]:
    found = sorted(errors, key=lambda e: (list(e.absolute_path), e.message))
    lines = []
    for err in found[:limit]:
        where = "".join(f"[{p!r}]" for p in err.absolute_path) or "(root)"
        lines.append(f"  at body{where}: {err.message[:300]}{_closest_alternative(err)}")
    if len(found) > limit:
        lines.append(f"  … and {len(found) - limit} more")
    return lines


def response_errors(method: str, path_or_url: str, status: int, body: Any) -> list[str]:
    """Every way the body breaks the document for this method, path and status; [] when it validates."""
    op = find_operation(method, path_or_url)
    head = f"{method.upper()} {url_path(path_or_url)} -> {status} (OAS {op.method.upper()} {op.template})"
    pointer, key = _schema_pointer(op, status)
    if pointer is not None:
        problems = _describe(_validator_for_pointer(pointer).iter_errors(body))
        return [f"{head}: body does not match responses[{key}]", *problems] if problems else []
    if status >= 400:
        problems = _describe(_error_validator().iter_errors(body))
        if problems:
            return [f"{head}: error body is not the project convention {{'error': str}} (no OAS schema)", *problems]
        return []
    if not key:
        declared = [code for code, r in (op.spec.get("responses") or {}).items() if (r or {}).get("content")]
        if any(code.startswith("2") for code in declared):
            return [f"{head}: status {status} is not declared (the OAS declares {sorted(declared)})"]
    return []  # a 2xx with no body schema in the OAS: the client ignores the body


def validate_response(method: str, path_or_url: str, status: int, body: Any) -> None:
    """Raise :class:`OpenAPIMismatch` (an AssertionError) naming every problem, or return None."""
    problems = response_errors(method, path_or_url, status, body)
    if problems:
        raise OpenAPIMismatch("\n".join(problems))


def declares_json(method: str, path_or_url: str, status: int) -> bool:
    """True when the OAS says this response is a JSON body (so a non-JSON answer is a mismatch)."""
    pointer, _ = _schema_pointer(find_operation(method, path_or_url), status)
    return pointer is not None
