"""The secrets policy: where values come from, what the user is asked, and the single-use confirmation codes.

Secrets are named, never given: the agent lists environment variable NAMES, and the server resolves the values
on its own side (its environment, an optional dotenv ``--secrets-file``, and for ``HF_TOKEN`` its own token, as
``hf jobs --secrets HF_TOKEN`` does). Nothing is forwarded before the user said yes, through MCP elicitation or,
for clients without it, by handing a single-use code back through the agent, bound to a hash of that exact
request and valid for ten minutes.

Policy modes (``--secrets-policy``):

- ``confirm`` (default): elicitation when the client supports it, else the code round trip.
- ``strict``: elicitation only; a client without it is refused.
- ``allowlist``: names given with ``--allow-secret`` are forwarded without asking; any other name is refused.
- ``deny``: no secret is ever forwarded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets as _random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import BaseModel, Field, SecretStr

from hfjobs_mcp.errors import MissingSecretsError, PolicyError
from hfjobs_mcp.secret_shapes import MIN_SECRET_LENGTH

SecretsPolicy = Literal["confirm", "strict", "allowlist", "deny"]

CODE_TTL_SECONDS = 600.0

audit_log = logging.getLogger("hfjobs_mcp.audit")


class SecretSources:
    """The server-side places a secret value can come from, in order: secrets file, environment, own token.

    The secrets file wins over the environment because it is the more deliberate choice; ``HF_TOKEN`` falls back
    to the token the server itself uses, so ``secrets: ["HF_TOKEN"]`` works after ``hf auth login``.
    ``use_environment=False`` (HTTP served to several users) forwards nothing from the server's environment.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        secrets_file: Path | None = None,
        hf_token: SecretStr | None = None,
        use_environment: bool = True,
    ) -> None:
        self._environ = dict(os.environ if environ is None else environ) if use_environment else {}
        self._file: dict[str, str] = {}
        if secrets_file is not None:
            if not secrets_file.is_file():
                raise PolicyError(f"secrets file not found: {secrets_file}", hint="pass an existing dotenv file")
            self._file = {k: v for k, v in dotenv_values(secrets_file).items() if v is not None}
        self._hf_token = hf_token

    def __repr__(self) -> str:
        return f"SecretSources(file={len(self._file)} names, environment={len(self._environ)} names)"

    def file_values(self) -> list[str]:
        """Every value of the secrets file and the server's token: redacted from output from the start."""
        values = list(self._file.values())
        if self._hf_token is not None:
            values.append(self._hf_token.get_secret_value())
        return values

    def resolve(self, names: Iterable[str]) -> dict[str, str]:
        """``name -> value`` for ``names``; lists every missing or unusable name, never a value."""
        values: dict[str, str] = {}
        missing: list[str] = []
        short: list[str] = []
        for name in names:
            value = self._file.get(name)
            if value is None:
                value = self._environ.get(name)
            if value is None and name == "HF_TOKEN" and self._hf_token is not None:
                value = self._hf_token.get_secret_value()
            if value is None or value == "":
                missing.append(name)
            elif len(value) < MIN_SECRET_LENGTH:
                short.append(name)
            else:
                values[name] = value
        if missing:
            raise MissingSecretsError(missing)
        if short:
            raise PolicyError(
                f"the value of {', '.join(short)} is shorter than {MIN_SECRET_LENGTH} characters, so it could not be "
                "masked in output without mangling ordinary text; it is refused as a secret",
                hint="use a longer secret value, or pass a non-sensitive value in `env` instead",
            )
        return values


class ConsentForm(BaseModel):
    """What the elicitation asks: consent only, never a secret."""

    approve: bool = Field(description="Yes: send this request. No: nothing is sent.")


@dataclass(frozen=True)
class ConfirmationPlan:
    """Everything the user is shown before a request that needs their yes is sent."""

    tool: str
    reasons: tuple[str, ...]
    namespace: str
    target: str
    flavor: str
    timeout_seconds: int
    price_ceiling_usd: float | None
    secrets: tuple[str, ...] = ()
    schedule: str | None = None
    daily_ceiling_usd: float | None = None
    ports: tuple[int, ...] = ()

    def message(self) -> str:
        """The prompt text; deterministic, so a retried round renders the same question."""
        lines = [f"An agent asks to call {self.tool}. Approve?"]
        lines += [f"- {r}" for r in self.reasons]
        lines.append(f"- namespace (billed): {self.namespace}")
        lines.append(f"- runs: {self.target}")
        price = "unknown" if self.price_ceiling_usd is None else f"at most ${self.price_ceiling_usd:.2f}"
        lines.append(f"- hardware: {self.flavor}, timeout {self.timeout_seconds}s, {price} per run")
        if self.schedule:
            daily = "unknown" if self.daily_ceiling_usd is None else f"at most ${self.daily_ceiling_usd:.2f}/day"
            lines.append(f"- RECURS on schedule '{self.schedule}' ({daily})")
        if self.secrets:
            lines.append(f"- secrets forwarded (names only shown): {', '.join(self.secrets)}")
        if self.ports:
            lines.append(f"- exposes ports: {', '.join(str(p) for p in self.ports)}")
        return "\n".join(lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "reasons": list(self.reasons),
            "namespace": self.namespace,
            "runs": self.target,
            "flavor": self.flavor,
            "timeout_seconds": self.timeout_seconds,
            "price_ceiling_usd": self.price_ceiling_usd,
            "secrets": list(self.secrets),
            "schedule": self.schedule,
            "daily_ceiling_usd": self.daily_ceiling_usd,
            "ports": list(self.ports),
        }


def request_fingerprint(tool: str, arguments: Mapping[str, Any]) -> str:
    """A hash of exactly this request (minus ``confirm`` itself): any change to the arguments changes it."""
    payload = {k: v for k, v in arguments.items() if k != "confirm"}
    canonical = json.dumps([tool, payload], sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class ConfirmationCodes:
    """Single-use codes bound to a request fingerprint, valid for ``ttl`` seconds.

    A code is ``<nonce>.<mac>``, where the MAC binds nonce, fingerprint and expiry under a per-process key; the
    server remembers only outstanding nonces, and redeeming one forgets it, so a code works once. Redeeming with
    a different fingerprint (the arguments changed) burns the code too.
    """

    ttl: float = CODE_TTL_SECONDS
    clock: Callable[[], float] = time.monotonic
    _key: bytes = field(default_factory=lambda: _random.token_bytes(32))
    _outstanding: dict[str, tuple[str, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _mac(self, nonce: str, fingerprint: str) -> str:
        return hmac.new(self._key, f"{nonce}:{fingerprint}".encode(), hashlib.sha256).hexdigest()[:16]

    def issue(self, fingerprint: str) -> str:
        nonce = _random.token_urlsafe(9)
        with self._lock:
            now = self.clock()
            self._outstanding = {n: v for n, v in self._outstanding.items() if v[1] > now}
            self._outstanding[nonce] = (fingerprint, now + self.ttl)
        return f"{nonce}.{self._mac(nonce, fingerprint)}"

    def redeem(self, code: str, fingerprint: str) -> Literal["ok", "unknown", "expired", "mismatch"]:
        nonce, _, mac = code.strip().partition(".")
        with self._lock:
            entry = self._outstanding.pop(nonce, None)
        if entry is None:
            return "unknown"
        bound, expires = entry
        if self.clock() > expires:
            return "expired"
        if bound != fingerprint or not hmac.compare_digest(mac, self._mac(nonce, fingerprint)):
            return "mismatch"
        return "ok"


def audit(*, tool: str, names: Iterable[str], namespace: str, job_id: str | None, confirmed_by: str) -> None:
    """One line on stderr per forwarding: what went where and who said yes; never a value."""
    audit_log.warning(
        "audit: %s forwarded secrets [%s] to namespace %s (job %s), confirmed by %s",
        tool,
        ", ".join(sorted(names)),
        namespace,
        job_id or "-",
        confirmed_by,
    )
