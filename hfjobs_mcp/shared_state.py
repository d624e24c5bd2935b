"""State shared by every worker (and host) of one HTTP deployment: keys and single-use confirmation codes.

Several uvicorn workers, or several hosts behind a load balancer, serve one deployment, and a confirmation round
trip may land on another worker than the one that asked. Two things make that work:

- **One configured secret**, ``HFJOBS_MCP_STATE_KEY`` (at least 32 bytes). The SDK seals the 2026-07-28
  ``requestState`` (the elicitation round trip) with it, and every other key is derived from it with HMAC-SHA256
  under a purpose label (:func:`derive_key`), so no key is ever used for two things.
- **Stateless codes plus a shared used-nonce store** (:class:`SharedConfirmationCodes`). A code carries its nonce,
  its expiry and a tag of the request fingerprint, all under a MAC keyed per caller: any worker holding the state
  key can check it without having issued it, and a code issued to one caller is worthless to another. Single use
  across workers comes from :class:`UsedNonces`, a small SQLite table next to the workers (``INSERT`` of the
  nonce wins once; SQLite serialises the writers of one file). Chosen over a table of outstanding codes because
  issuing then writes nothing, and the table only ever holds nonces that were redeemed and have not expired yet.

Across several hosts the SQLite file is per host unless it is on storage they share: a code then stays bound to
its caller, its exact request and its ten minutes, but could be redeemed once per host. Elicitation (the
``requestState`` path) has no such limit; see the README's Deployment section.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets as _random
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from hfjobs_mcp.secrets import CODE_TTL_SECONDS, ConfirmationCodes

STATE_KEY_ENV = "HFJOBS_MCP_STATE_KEY"
MIN_STATE_KEY_BYTES = 32

Outcome = Literal["ok", "unknown", "expired", "mismatch"]


def check_state_key(value: str) -> bytes:
    """The configured state key as bytes; refuses one too short to be a key."""
    raw = value.encode()
    if len(raw) < MIN_STATE_KEY_BYTES:
        raise ValueError(
            f"{STATE_KEY_ENV} must be at least {MIN_STATE_KEY_BYTES} bytes (e.g. `python -c "
            "'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    return raw


def derive_key(state_key: bytes, purpose: str) -> bytes:
    """A key for one ``purpose``, derived from the deployment's state key (HMAC-SHA256 as a PRF)."""
    return hmac.new(state_key, b"hfjobs-mcp/v1/" + purpose.encode(), hashlib.sha256).digest()


class UsedNonces:
    """Nonces of redeemed codes, in one SQLite file shared by the workers; expired ones are swept on the way."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, timeout=10.0, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS used (nonce TEXT PRIMARY KEY, expires REAL NOT NULL)")

    def claim(self, nonce: str, *, expires: float, now: float) -> bool:
        """True for the first claim of ``nonce`` by any worker, False ever after (until it expires)."""
        with self._lock:
            self._db.execute("DELETE FROM used WHERE expires < ?", (now,))
            cursor = self._db.execute("INSERT OR IGNORE INTO used (nonce, expires) VALUES (?, ?)", (nonce, expires))
            return cursor.rowcount == 1

    def close(self) -> None:
        with self._lock:
            self._db.close()


@dataclass
class SharedConfirmationCodes(ConfirmationCodes):
    """Confirmation codes any worker of the deployment can redeem, each exactly once.

    A code is ``<nonce>.<expiry>.<tag>.<mac>``: ``tag`` binds the request fingerprint and ``mac`` binds nonce,
    expiry and tag, both under ``_key`` (derived per caller from the state key). Outcomes are those of
    :class:`~hfjobs_mcp.secrets.ConfirmationCodes`: a forged, reused or foreign code is ``unknown``, a late one
    ``expired``, and one redeemed for changed arguments ``mismatch`` (which burns it, as a local code is burnt).
    Expiry is wall-clock time, the only clock workers share.
    """

    used: UsedNonces | None = None
    ttl: float = CODE_TTL_SECONDS
    clock: Callable[[], float] = time.time
    _key: bytes = field(default_factory=lambda: _random.token_bytes(32))

    def _sign(self, message: str) -> str:
        return hmac.new(self._key, message.encode(), hashlib.sha256).hexdigest()[:20]

    def issue(self, fingerprint: str) -> str:
        nonce = _random.token_urlsafe(9)
        expires = math.ceil(self.clock() + self.ttl)
        tag = self._sign(f"fingerprint:{nonce}:{fingerprint}")[:12]
        return f"{nonce}.{expires}.{tag}.{self._sign(f'code:{nonce}:{expires}:{tag}')}"

    def redeem(self, code: str, fingerprint: str) -> Outcome:
        parts = code.strip().split(".")
        if len(parts) != 4 or not parts[1].isdigit():
            return "unknown"
        nonce, expiry, tag, mac = parts
        if not hmac.compare_digest(mac, self._sign(f"code:{nonce}:{expiry}:{tag}")):
            return "unknown"
        now = self.clock()
        expires = float(expiry)
        if now > expires:
            return "expired"
        if self.used is not None and not self.used.claim(nonce, expires=expires, now=now):
            return "unknown"
        if self.used is None and not self._claim_here(nonce, expires, now):
            return "unknown"
        if not hmac.compare_digest(tag, self._sign(f"fingerprint:{nonce}:{fingerprint}")[:12]):
            return "mismatch"
        return "ok"

    def _claim_here(self, nonce: str, expires: float, now: float) -> bool:
        """Without a shared store (one process), the base class's table holds the used nonces."""
        with self._lock:
            self._outstanding = {n: v for n, v in self._outstanding.items() if v[1] >= now}
            if nonce in self._outstanding:
                return False
            self._outstanding[nonce] = ("used", expires)
            return True
