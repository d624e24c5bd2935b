"""The Xet storage behind the buckets: xorbs as uploaded, file reconstructions from shards, access tokens.

What ``hf_xet`` 1.8 calls on a storage endpoint, and what this one answers (the v1 API; the client falls
back to it when a newer route answers 404, and takes the direct xorb upload when no upload grant is offered):

- ``GET  /v1/chunks/{prefix}/{hash}``: global deduplication; always 404 here (nothing to deduplicate against).
- ``POST /v1/xorbs/{prefix}/{hash}``: a serialized xorb, stored as a file after its chunk headers are checked.
- ``POST /v1/shards``: a shard; each file it lists becomes a reconstruction (its terms), once every xorb it
  uses is stored and every chunk range is inside its xorb.
- ``GET  /v1/reconstructions/{file hash}`` (``Range`` optional): the terms of the file (or of the byte range)
  and, per xorb, a signed fetch URL with the byte range of the chunks (``url_range``, inclusive).
- the fetch URL itself: ``GET`` with that ``Range``, answered 206 with the raw (still compressed) bytes.

The endpoint lives at ``<backend>/xet/<store id>``: the id is random per state folder, because the client
caches shards per endpoint URL and would otherwise skip uploading chunks a former store had.
Tokens are random strings kept in memory for an hour, scoped to a bucket (``*``: the backend's own
transfers) and to reading or writing; a backend restart forgets them and clients ask for new ones.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .xetfmt import Term, XetFormatError, chunk_offsets, is_hash, parse_shard

TOKEN_SECONDS = 3600
FETCH_URL_SECONDS = 3600
_SCHEMA = """
CREATE TABLE IF NOT EXISTS xorbs (hash TEXT PRIMARY KEY, size INTEGER NOT NULL, offsets TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (hash TEXT PRIMARY KEY, size INTEGER NOT NULL, terms TEXT NOT NULL);
"""


@dataclass(frozen=True)
class Grant:
    """What a storage token allows: ``bucket`` (or ``*``), and writing or only reading."""

    bucket: str
    write: bool
    expires_at: float


@dataclass(frozen=True)
class Reconstruction:
    """A file (or a byte range of it) as terms, with where to fetch each xorb's chunks."""

    offset_into_first_range: int
    terms: list[Term]
    fetch: dict[str, list[tuple[int, int, int, int]]]  # xorb -> [(chunk start, chunk end, first byte, last byte)]


class CasStore:
    """Xorbs under ``<state>/xet/xorbs``, reconstructions in ``<state>/xet/cas.db``; thread-safe."""

    def __init__(self, state_dir: Path) -> None:
        self.root = Path(state_dir) / "xet"
        self.xorb_dir = self.root / "xorbs"
        self.staging = self.root / "staging"
        for path in (self.root, self.xorb_dir, self.staging):
            path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.store_id = _store_id(self.root / "store-id")
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.root / "cas.db"), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._grants: dict[str, Grant] = {}
        self._url_key = secrets.token_bytes(32)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Tokens and signed fetch URLs

    def mint(self, bucket: str, *, write: bool) -> tuple[str, int]:
        """A new storage token for ``bucket`` and its expiry (epoch seconds)."""
        now = time.time()
        expires = int(now) + TOKEN_SECONDS
        token = "xet_local_" + secrets.token_urlsafe(32)
        with self._lock:
            for key in [k for k, g in self._grants.items() if g.expires_at < now]:
                del self._grants[key]
            self._grants[token] = Grant(bucket=bucket, write=write, expires_at=expires)
        return token, expires

    def grant(self, token: str) -> Grant | None:
        with self._lock:
            found = self._grants.get(token)
        return found if found is not None and found.expires_at > time.time() else None

    def sign(self, xorb: str, expires: int) -> str:
        return hmac.new(self._url_key, f"{xorb}:{expires}".encode(), hashlib.sha256).hexdigest()

    def verify(self, xorb: str, expires: int, signature: str) -> bool:
        return expires > time.time() and hmac.compare_digest(self.sign(xorb, expires), signature)

    # Xorbs

    def xorb_path(self, xorb: str) -> Path:
        return self.xorb_dir / xorb[:2] / xorb

    def has_xorb(self, xorb: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM xorbs WHERE hash = ?", (xorb,)).fetchone() is not None

    def put_xorb(self, xorb: str, data: bytes) -> bool:
        """Store a xorb (checked chunk by chunk); False if it was already there."""
        if not is_hash(xorb):
            raise XetFormatError(f"{xorb!r} is not a xorb hash")
        if self.has_xorb(xorb):
            return False
        offsets = chunk_offsets(data)
        path = self.xorb_path(xorb)
        path.parent.mkdir(exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO xorbs (hash, size, offsets) VALUES (?, ?, ?)",
                (xorb, len(data), json.dumps(offsets)),
            )
        return True

    def offsets(self, xorb: str) -> list[int] | None:
        with self._lock:
            row = self._db.execute("SELECT offsets FROM xorbs WHERE hash = ?", (xorb,)).fetchone()
        return json.loads(row[0]) if row else None

    def xorb_size(self, xorb: str) -> int | None:
        with self._lock:
            row = self._db.execute("SELECT size FROM xorbs WHERE hash = ?", (xorb,)).fetchone()
        return int(row[0]) if row else None

    # Shards and files

    def put_shard(self, data: bytes) -> int:
        """Register every file of a shard (all its xorbs must be stored); the number of files."""
        shard = parse_shard(data)
        known: dict[str, list[int]] = {}
        for f in shard.files:
            for term in f.terms:
                if term.xorb not in known:
                    offsets = self.offsets(term.xorb)
                    if offsets is None:
                        raise XetFormatError(f"file {f.hash}: xorb {term.xorb} was not uploaded")
                    known[term.xorb] = offsets
                if term.end > len(known[term.xorb]) - 1:
                    raise XetFormatError(f"file {f.hash}: chunks {term.start}-{term.end} are not all in {term.xorb}")
        rows = [(f.hash, f.size, _terms_json(f.terms)) for f in shard.files]
        with self._lock:
            self._db.executemany("INSERT OR REPLACE INTO files (hash, size, terms) VALUES (?, ?, ?)", rows)
        return len(shard.files)

    def file(self, file_hash: str) -> tuple[int, list[Term]] | None:
        with self._lock:
            row = self._db.execute("SELECT size, terms FROM files WHERE hash = ?", (file_hash,)).fetchone()
        if row is None:
            return None
        return int(row[0]), [Term(xorb=x, start=s, end=e, length=n) for x, s, e, n in json.loads(row[1])]

    def reconstruction(
        self, file_hash: str, first: int | None = None, last: int | None = None
    ) -> Reconstruction | None:
        """The terms covering bytes ``first..last`` (inclusive; the whole file by default), or None when the
        range starts past the end (416). Raises KeyError for an unknown file."""
        found = self.file(file_hash)
        if found is None:
            raise KeyError(file_hash)
        size, terms = found
        start = first or 0
        end = size - 1 if last is None else min(last, size - 1)
        if start >= size or end < start:
            return None
        chosen: list[Term] = []
        offset_into_first = 0
        pos = 0
        for term in terms:
            term_end = pos + term.length  # exclusive
            if term_end > start and pos <= end:
                if not chosen:
                    offset_into_first = start - pos
                chosen.append(term)
            pos = term_end
            if pos > end:
                break
        fetch: dict[str, list[tuple[int, int, int, int]]] = {}
        for term in chosen:
            offsets = self.offsets(term.xorb)
            if offsets is None:
                raise KeyError(term.xorb)
            entry = (term.start, term.end, offsets[term.start], offsets[term.end] - 1)
            if entry not in fetch.setdefault(term.xorb, []):
                fetch[term.xorb].append(entry)
        return Reconstruction(offset_into_first_range=offset_into_first, terms=chosen, fetch=fetch)


def _terms_json(terms: tuple[Term, ...]) -> str:
    return json.dumps([[t.xorb, t.start, t.end, t.length] for t in terms])


def reconstruction_json(rec: Reconstruction, url_for: Any) -> dict[str, Any]:
    """The v1 response body (``QueryReconstructionResponse``); ``url_for(xorb)`` gives a signed fetch URL."""
    return {
        "offset_into_first_range": rec.offset_into_first_range,
        "terms": [
            {"hash": t.xorb, "unpacked_length": t.length, "range": {"start": t.start, "end": t.end}} for t in rec.terms
        ],
        "fetch_info": {
            xorb: [
                {"range": {"start": s, "end": e}, "url": url_for(xorb), "url_range": {"start": a, "end": b}}
                for s, e, a, b in entries
            ]
            for xorb, entries in rec.fetch.items()
        },
    }


def _store_id(path: Path) -> str:
    try:
        found = path.read_text(encoding="utf-8").strip()
        if found:
            return found
    except OSError:
        pass
    new = secrets.token_hex(8)
    path.write_text(new, encoding="utf-8")
    return new
