"""Values forwarded through one HTTP deployment, shared by its workers and hosts without storing them.

In ``--auth hf`` mode a value one caller forwarded (its token, as ``HF_TOKEN``) must be masked for every caller,
whichever worker or host answers. The workers share, in a SQLite file next to the approvals store, a keyed hash
(BLAKE2b keyed with a key derived from ``HFJOBS_MCP_STATE_KEY``) of each form of each forwarded value (the forms
of :func:`hfjobs_mcp.policy.redaction.forms`) with its length, never the value. To mask a text, a worker hashes
its candidate substrings, every substring of a stored length inside a run of the token alphabet
(:data:`ALPHABET`), and masks those whose hash is stored.

Limits, also in the README: only forms written in that alphabet are shared (Hugging Face tokens, and any
base64, hex or URL-encoded form are); the store is per host unless its file is on storage the hosts share, like
the approvals store; and the cost of a check grows with the length of the alphabet runs of a text times the
number of distinct stored lengths (a handful), so it is paid only once some value was forwarded.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from hfjobs_mcp.policy.shapes import MIN_SECRET_LENGTH
from hfjobs_mcp.private_paths import private_file

ALPHABET = re.compile(r"[A-Za-z0-9+/=_.~%-]+")
DIGEST_BYTES = 16
MAX_ROWS = 200_000  # the oldest forgotten beyond this (a row is ~60 bytes)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS forwarded (
    digest BLOB PRIMARY KEY,
    length INTEGER NOT NULL,
    created REAL NOT NULL
);
"""


class ForwardedDigests:
    """The keyed hashes of what this deployment forwarded: in a file shared by workers, or in memory."""

    def __init__(self, key: bytes, path: Path | None = None) -> None:
        if len(key) < 32:
            raise ValueError("the key of the forwarded-values store must be at least 32 bytes")
        self._key = key[:64]
        self._lock = threading.Lock()
        if path is not None:
            private_file(path, "the forwarded-values store")  # 0600 before SQLite opens it (its -wal too)
        self._db = sqlite3.connect(
            ":memory:" if path is None else str(path), timeout=10.0, isolation_level=None, check_same_thread=False
        )
        if path is not None:
            self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._known: dict[int, set[bytes]] = {}
        self._seen_rowid = 0

    def __repr__(self) -> str:
        return f"ForwardedDigests({sum(len(s) for s in self._known.values())} forms)"

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _digest(self, text: str) -> bytes:
        return hashlib.blake2b(text.encode(), key=self._key, digest_size=DIGEST_BYTES).digest()

    def remember(self, forms: Iterable[str]) -> None:
        """Store the keyed hash of each form written in the token alphabet (the others cannot be found here)."""
        rows = [(self._digest(f), len(f), time.time()) for f in forms if len(f) >= MIN_SECRET_LENGTH and _whole(f)]
        if not rows:
            return
        with self._lock:
            self._db.executemany("INSERT OR IGNORE INTO forwarded VALUES (?, ?, ?)", rows)
            self._db.execute(
                "DELETE FROM forwarded WHERE rowid IN (SELECT rowid FROM forwarded ORDER BY rowid DESC "
                "LIMIT -1 OFFSET ?)",
                (MAX_ROWS,),
            )
            for digest, length, _ in rows:
                self._known.setdefault(length, set()).add(digest)

    def refresh(self) -> None:
        """Read the rows the other workers added since the last refresh."""
        with self._lock:
            rows = self._db.execute(
                "SELECT rowid, digest, length FROM forwarded WHERE rowid > ? ORDER BY rowid", (self._seen_rowid,)
            ).fetchall()
            for rowid, digest, length in rows:
                self._known.setdefault(int(length), set()).add(bytes(digest))
                self._seen_rowid = max(self._seen_rowid, int(rowid))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Where ``text`` shows a stored form: every substring of a stored length in a run of the alphabet."""
        known = self._known
        if not known or len(text) < MIN_SECRET_LENGTH:
            return []
        lengths = sorted(known)
        shortest = lengths[0]
        found: list[tuple[int, int]] = []
        digest = self._digest
        for run in ALPHABET.finditer(text):
            start, end = run.span()
            if end - start < shortest:
                continue
            for length in lengths:
                digests = known[length]
                for i in range(start, end - length + 1):
                    if digest(text[i : i + length]) in digests:
                        found.append((i, i + length))
        return found


def _whole(form: str) -> bool:
    match = ALPHABET.fullmatch(form)
    return match is not None
