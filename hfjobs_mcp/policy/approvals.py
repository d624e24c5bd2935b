"""Approvals: the one record of a yes that did not come through elicitation, bound to a caller and a request.

A request that needs a yes and cannot ask through elicitation opens an approval: a random id, bound to the
caller (the principal of the HTTP caller, or this stdio session) and to a fingerprint of that exact request (the
tool and its arguments), single use and expiring after :data:`APPROVAL_TTL_SECONDS`. Two channels close it:

- ``app``: the MCP Apps approval card. Its buttons call an app-only tool that records the human's answer
  (:meth:`Approvals.answer`); the request goes through when it is called again (:meth:`Approvals.take`, once).
  The id travels only in the tool result's ``_meta``, which hosts hand to the card and not to the model.
- ``code``: the explicit opt-in ``--confirm-via code``. The id *is* the code the agent relays to the human and
  sends back as ``confirm`` (:meth:`Approvals.redeem`, once); a redeem for other arguments burns it.

One SQLite table holds them: in memory for one process, or a file that the workers of an HTTP deployment share,
so an approval given through one worker is honoured by another, and redeemed once across all of them. Rows are
swept when they expire; a caller holds at most :data:`MAX_OPEN_PER_CALLER` of them.
"""

from __future__ import annotations

import hashlib
import json
import secrets as _random
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from hfjobs_mcp.private_paths import private_dir, private_file

APPROVAL_TTL_SECONDS = 600.0
MAX_OPEN_PER_CALLER = 100

Channel = Literal["app", "code"]
Answer = Literal["ok", "unknown", "expired", "answered"]
Taken = Literal["approved", "rejected", "pending"]
Redeemed = Literal["ok", "unknown", "expired", "mismatch"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY,
    caller TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    channel TEXT NOT NULL,
    state TEXT NOT NULL,
    created REAL NOT NULL,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS approvals_request ON approvals (caller, fingerprint);
"""


def request_fingerprint(tool: str, arguments: Mapping[str, Any], *, content: str = "") -> str:
    """A hash of exactly this request (minus ``confirm`` itself): any change to the arguments changes it, and so
    does any change to ``content``, what the arguments point at (the files a request uploads: the same path with
    other bytes is another request)."""
    payload = {k: v for k, v in arguments.items() if k != "confirm"}
    canonical = json.dumps(
        [tool, payload, *([content] if content else [])], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class Approvals:
    """The approvals of one server (``path`` None: in memory) or of every worker sharing ``path``."""

    def __init__(
        self, path: Path | None = None, *, ttl: float = APPROVAL_TTL_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        if path is not None:
            # Whoever can write this file can approve requests: the user's own folder and file, or a refusal.
            private_dir(path.parent, "the approvals folder")
            private_file(path, "the approvals store")
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        import sqlite3  # with the first approvals store, not before tools/list (start-up time)

        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path), timeout=10.0, isolation_level=None, check_same_thread=False
        )
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def __repr__(self) -> str:
        return "Approvals()"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _sweep(self, now: float) -> None:
        self._db.execute("DELETE FROM approvals WHERE expires < ?", (now,))

    def open(self, *, caller: str, fingerprint: str, channel: Channel) -> str:
        """A new pending approval for this caller and request; its id (the code, for ``code``)."""
        approval_id = _random.token_urlsafe(18)
        now = self.clock()
        with self._lock:
            self._sweep(now)
            self._db.execute(
                "DELETE FROM approvals WHERE id IN (SELECT id FROM approvals WHERE caller = ? "
                "ORDER BY created DESC, rowid DESC LIMIT -1 OFFSET ?)",
                (caller, MAX_OPEN_PER_CALLER - 1),
            )
            self._db.execute(
                "INSERT INTO approvals VALUES (?, ?, ?, ?, 'pending', ?, ?)",
                (approval_id, caller, fingerprint, channel, now, now + self.ttl),
            )
        return approval_id

    def pending(self, *, caller: str, fingerprint: str, channel: Channel) -> str | None:
        """The id of an approval of this request still waiting for the human, if any (not expired)."""
        with self._lock:
            row = self._db.execute(
                "SELECT id FROM approvals WHERE caller = ? AND fingerprint = ? AND channel = ? AND state = 'pending' "
                "AND expires >= ? ORDER BY created DESC, rowid DESC LIMIT 1",
                (caller, fingerprint, channel, self.clock()),
            ).fetchone()
        return None if row is None else str(row[0])

    def answer(self, *, caller: str, approval_id: str, approve: bool) -> Answer:
        """Record the human's answer to a pending card approval (the app-only tool's call)."""
        now = self.clock()
        with self._lock:
            row = self._db.execute(
                "SELECT state, expires FROM approvals WHERE id = ? AND caller = ? AND channel = 'app'",
                (approval_id, caller),
            ).fetchone()
            if row is None:
                return "unknown"
            state, expires = row
            if now > expires:
                return "expired"
            if state != "pending":
                return "answered"
            updated = self._db.execute(
                "UPDATE approvals SET state = ? WHERE id = ? AND state = 'pending'",
                ("approved" if approve else "rejected", approval_id),
            )
            return "ok" if updated.rowcount == 1 else "answered"

    def take(self, *, caller: str, fingerprint: str) -> Taken | None:
        """Consume the human's answer to a card approval of this request: once, by whichever worker comes first.

        ``pending``: a card is still waiting (nothing consumed); None: no approval of this request exists.
        """
        now = self.clock()
        with self._lock:
            self._sweep(now)
            rows = self._db.execute(
                "SELECT id, state FROM approvals WHERE caller = ? AND fingerprint = ? AND channel = 'app' "
                "ORDER BY created DESC, rowid DESC",
                (caller, fingerprint),
            ).fetchall()
            for approval_id, state in rows:
                if state in ("approved", "rejected"):
                    deleted = self._db.execute("DELETE FROM approvals WHERE id = ?", (approval_id,))
                    if deleted.rowcount == 1:  # another worker may have consumed it a moment ago
                        return "approved" if state == "approved" else "rejected"
            return "pending" if any(state == "pending" for _, state in rows) else None

    def redeem(self, *, caller: str, code: str, fingerprint: str) -> Redeemed:
        """Redeem a confirmation code (``--confirm-via code``): once, for its own caller and request only."""
        now = self.clock()
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint, expires FROM approvals WHERE id = ? AND caller = ? AND channel = 'code' "
                "AND state = 'pending'",
                (code.strip(), caller),
            ).fetchone()
            if row is None:
                return "unknown"
            deleted = self._db.execute("DELETE FROM approvals WHERE id = ?", (code.strip(),))
            if deleted.rowcount != 1:
                return "unknown"
        bound, expires = row
        if now > expires:
            return "expired"
        if bound != fingerprint:
            return "mismatch"
        return "ok"
