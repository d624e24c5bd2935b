"""Fault injection: make the local backend misbehave on purpose, so client retry logic can be tested.

Off unless configured: ``hfjobs-mcp local --faults SPEC``, the ``HFJOBS_LOCAL_FAULTS`` environment
variable, ``LocalConfig(faults=SPEC)``, or at run time ``backend.faults.add(SPEC)`` / ``.clear()``.

Grammar (whitespace around separators is ignored)::

    SPEC := RULE ("," RULE)*
    RULE := KIND (":" KEY "=" VALUE)*

KIND:

- ``429``: answer ``429 {"error": ...}`` with ``Retry-After`` (and ``RateLimit``) headers.
- ``402``: answer ``402 {"error": ...}`` (no credits), as the Hub does for a namespace without credits.
- ``500``, ``502``, ``503``, ``504``: answer that status with ``{"error": ...}``.
- ``drop-after-create``: let the request through (the job IS created), send the response headers,
  then close the connection without the body: the client sees a transport error
  (``httpx2.RemoteProtocolError``), never an HTTP status. Fires only on a 2xx response.
  Defaults: ``method=POST``, ``path=/api/jobs/*`` (job creation).
- ``cut-logs``: a logs SSE stream is closed abruptly (no clean end of the chunked body) after
  ``after`` events. Defaults: ``path=/api/jobs/*/*/logs``, ``after=1``.

KEY (all optional):

- ``method=GET`` (any method by default, except as noted above);
- ``path=GLOB`` on the URL path without query: ``*`` is one path segment, ``**`` any number,
  ``?`` one character (default: any path);
- ``times=N`` how many times the rule fires (default 1), or ``times=inf``;
- ``skip=N`` let the first N matching requests through before firing (default 0);
- ``retry_after=SECS`` (429; default 1);
- ``after=N`` (cut-logs; default 1).

Examples: ``429:retry_after=2:times=3``, ``503:path=/api/jobs/*:method=GET``,
``drop-after-create``, ``cut-logs:after=5,500:path=/api/whoami-v2:skip=1``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("hfjobs_mcp.local.faults")

HTTP_STATUS_KINDS = frozenset({"402", "429", "500", "502", "503", "504"})
KINDS = HTTP_STATUS_KINDS | {"drop-after-create", "cut-logs"}
_REASONS = {
    "402": "Payment Required",
    "429": "Too Many Requests",
    "500": "Internal Server Error",
    "502": "Bad Gateway",
    "503": "Service Unavailable",
    "504": "Gateway Timeout",
}
_DEFAULTS: dict[str, dict[str, str]] = {
    "drop-after-create": {"method": "POST", "path": "/api/jobs/*"},
    "cut-logs": {"path": "/api/jobs/*/*/logs"},
}
_KEYS = frozenset({"method", "path", "times", "skip", "retry_after", "after"})


class FaultSpecError(ValueError):
    """A fault spec that does not follow the grammar (the message says where)."""


def _glob(pattern: str) -> re.Pattern[str]:
    out = ""
    i = 0
    while i < len(pattern):
        if pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(f"^{out}$")


def _count(rule: str, key: str, value: str, *, allow_inf: bool = False) -> float:
    if allow_inf and value.lower() in ("inf", "always"):
        return math.inf
    if not value.isdigit():
        raise FaultSpecError(f"fault rule {rule!r}: {key} must be a whole number, got {value!r}")
    return float(int(value))


@dataclass
class FaultRule:
    """One parsed rule and how often it has matched and fired."""

    kind: str
    method: str | None = None
    path: str | None = None
    times: float = 1
    skip: int = 0
    retry_after: int = 1
    after: int = 1
    seen: int = 0
    fired: int = 0
    _path_re: re.Pattern[str] | None = field(default=None, repr=False)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self._path_re is None or bool(self._path_re.match(path))


def parse_spec(spec: str) -> list[FaultRule]:
    """Parse a SPEC (see the module docstring) into rules; :class:`FaultSpecError` on any mistake."""
    rules = []
    for raw in spec.split(","):
        text = raw.strip()
        if not text:
            continue
        kind, *pairs = [p.strip() for p in text.split(":")]
        kind = kind.lower()
        if kind not in KINDS:
            raise FaultSpecError(f"fault rule {text!r}: unknown kind {kind!r}; expected one of {sorted(KINDS)}")
        opts = dict(_DEFAULTS.get(kind, {}))
        for pair in pairs:
            key, sep, value = pair.partition("=")
            key = key.strip().lower()
            if not sep or key not in _KEYS:
                raise FaultSpecError(
                    f"fault rule {text!r}: expected KEY=VALUE with KEY in {sorted(_KEYS)}, got {pair!r}"
                )
            opts[key] = value.strip()
        rule = FaultRule(kind=kind)
        if "method" in opts:
            rule.method = opts["method"].upper() or None
        if opts.get("path"):
            rule.path = opts["path"]
            rule._path_re = _glob(opts["path"])
        if "times" in opts:
            rule.times = _count(text, "times", opts["times"], allow_inf=True)
        if "skip" in opts:
            rule.skip = int(_count(text, "skip", opts["skip"]))
        if "retry_after" in opts:
            rule.retry_after = int(_count(text, "retry_after", opts["retry_after"]))
        if "after" in opts:
            rule.after = int(_count(text, "after", opts["after"]))
        rules.append(rule)
    return rules


class FaultInjector:
    """The active rules of one backend; safe to change from another thread while it serves."""

    def __init__(self, spec: str | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self.history: list[tuple[str, str, str]] = []
        """(kind, method, path) of every fault that fired, oldest first."""
        if spec:
            self.add(spec)

    def add(self, spec: str) -> None:
        """Add the rules of ``spec`` (validated first: a bad spec adds nothing)."""
        rules = parse_spec(spec)
        with self._lock:
            self._rules.extend(rules)

    def clear(self) -> None:
        """Remove every rule (the history stays)."""
        with self._lock:
            self._rules.clear()

    @property
    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def take(self, kinds: frozenset[str], method: str, path: str) -> FaultRule | None:
        """The first rule of ``kinds`` that fires for this request, counted as fired; None if none does."""
        with self._lock:
            for rule in self._rules:
                if rule.kind not in kinds or rule.fired >= rule.times or not rule.matches(method, path):
                    continue
                rule.seen += 1
                if rule.seen <= rule.skip:
                    continue
                rule.fired += 1
                self.history.append((rule.kind, method, path))
                log.warning("injected fault %s on %s %s", rule.kind, method, path)
                return rule
        return None

    def refund(self, rule: FaultRule, method: str, path: str) -> None:
        """Undo a :meth:`take` whose fault could not apply (drop-after-create on a non-2xx answer)."""
        with self._lock:
            rule.fired -= 1
            entry = (rule.kind, method, path)
            for i in range(len(self.history) - 1, -1, -1):
                if self.history[i] == entry:
                    del self.history[i]
                    break


class FaultMiddleware:
    """ASGI middleware applying the HTTP-level faults (status codes, dropped responses)."""

    def __init__(self, app: ASGIApp, faults: FaultInjector) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = str(scope["method"]), str(scope["path"])
        rule = self.faults.take(HTTP_STATUS_KINDS, method, path)
        if rule is not None:
            await self._error(rule, send)
            return
        rule = self.faults.take(frozenset({"drop-after-create"}), method, path)
        if rule is None:
            await self.app(scope, receive, send)
            return
        dropping = False
        refunded = False

        async def send_headers_only(message: Message) -> None:
            nonlocal dropping, refunded
            if message["type"] == "http.response.start":
                if 200 <= int(message["status"]) < 300:
                    dropping = True
                elif not refunded:
                    refunded = True
                    assert rule is not None
                    self.faults.refund(rule, method, path)
            elif message["type"] == "http.response.body" and dropping:
                return  # swallow the body: the server then closes the connection mid-response
            await send(message)

        await self.app(scope, receive, send_headers_only)

    @staticmethod
    async def _error(rule: FaultRule, send: Send) -> None:
        body = json.dumps({"error": f"{_REASONS[rule.kind]} (fault injected by the local backend)"}).encode()
        headers: list[tuple[bytes, bytes]] = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        if rule.kind == "429":
            headers.append((b"retry-after", str(rule.retry_after).encode()))
            headers.append((b"ratelimit", f'"api";r=0;t={rule.retry_after}'.encode()))
        await send({"type": "http.response.start", "status": int(rule.kind), "headers": headers})
        await send({"type": "http.response.body", "body": body})


class QuietAbortFilter(logging.Filter):
    """Hides uvicorn's error line for a response cut on purpose (the fault itself is logged as a warning)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "returned without completing response" not in record.getMessage()


def describe(rules: list[FaultRule]) -> list[dict[str, Any]]:
    """The rules as plain dicts (for logs and debugging)."""
    return [
        {"kind": r.kind, "method": r.method, "path": r.path, "times": r.times, "skip": r.skip, "fired": r.fired}
        for r in rules
    ]
