"""Buckets as folders of the backend, and what it remembers about their files.

A bucket ``ns/name`` *is* the folder ``<state>/buckets/ns/name``: uploads land there as plain files (with
the client's modification time), jobs mount it (or a subfolder) read-write or read-only, and whatever a
job writes there is a bucket file at once. ``buckets.db`` keeps the bucket records (visibility, creation
time) and, per file, the Xet hash last computed for it with the stat it was computed from (size,
modification and change times, inode): a listing trusts the hash while the stat matches and hashes the
file again when a job has changed it.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS buckets (
    id TEXT PRIMARY KEY,
    namespace TEXT NOT NULL,
    name TEXT NOT NULL,
    private INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS buckets_by_namespace ON buckets (namespace, name);
CREATE TABLE IF NOT EXISTS files (
    bucket TEXT NOT NULL,
    path TEXT NOT NULL,
    xet_hash TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    ctime_ns INTEGER NOT NULL,
    ino INTEGER NOT NULL,
    uploaded_at REAL NOT NULL,
    PRIMARY KEY (bucket, path)
);
CREATE INDEX IF NOT EXISTS files_by_hash ON files (xet_hash);
"""

_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9])?$")


class BucketNameError(ValueError):
    """A bucket name the Hub would refuse."""


class BucketExistsError(Exception):
    """Creating a bucket that already exists (409)."""


def check_name(name: str) -> None:
    if not _NAME.match(name) or "--" in name or ".." in name or name.endswith(".git"):
        raise BucketNameError(
            f"Invalid bucket name {name!r}: 1 to 96 letters, digits, '-', '_' or '.', starting and ending with a "
            "letter or digit, without '--' or '..'"
        )


@dataclass(frozen=True)
class BucketRecord:
    id: str
    namespace: str
    name: str
    private: bool
    created_at: float


@dataclass(frozen=True)
class Indexed:
    """The Xet hash of a bucket file, valid while the file's stat still matches."""

    xet_hash: str
    size: int
    mtime_ns: int
    ctime_ns: int
    ino: int
    uploaded_at: float

    def matches(self, size: int, mtime_ns: int, ctime_ns: int, ino: int) -> bool:
        return (self.size, self.mtime_ns, self.ctime_ns, self.ino) == (size, mtime_ns, ctime_ns, ino)


class BucketStore:
    """Bucket records and folders under a state folder; thread-safe (one lock around one connection)."""

    def __init__(self, state_dir: Path) -> None:
        self.root = Path(state_dir) / "buckets"
        self.root.mkdir(parents=True, exist_ok=True, mode=0o755)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(Path(state_dir) / "buckets.db"), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Buckets

    def folder(self, bucket_id: str) -> Path:
        """The folder holding the bucket's files (made if missing)."""
        namespace, name = bucket_id.split("/", 1)
        path = self.root / namespace / name
        path.mkdir(parents=True, exist_ok=True, mode=0o755)
        return path

    def get(self, bucket_id: str) -> BucketRecord | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, namespace, name, private, created_at FROM buckets WHERE id = ?", (bucket_id,)
            ).fetchone()
        return _record(row) if row else None

    def create(self, namespace: str, name: str, *, private: bool, now: float) -> BucketRecord:
        check_name(name)
        rec = BucketRecord(id=f"{namespace}/{name}", namespace=namespace, name=name, private=private, created_at=now)
        with self._lock:
            try:
                self._db.execute(
                    "INSERT INTO buckets (id, namespace, name, private, created_at) VALUES (?, ?, ?, ?, ?)",
                    (rec.id, namespace, name, int(private), now),
                )
            except sqlite3.IntegrityError:
                raise BucketExistsError(f"Bucket {rec.id} already exists") from None
        self.folder(rec.id)
        return rec

    def ensure(self, namespace: str, name: str, *, now: float) -> BucketRecord:
        """The bucket, created (private) on first use."""
        try:
            return self.create(namespace, name, private=True, now=now)
        except BucketExistsError:
            rec = self.get(f"{namespace}/{name}")
            assert rec is not None
            return rec

    def of_namespace(self, namespace: str, search: str | None = None) -> list[BucketRecord]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, namespace, name, private, created_at FROM buckets WHERE namespace = ? ORDER BY name",
                (namespace,),
            ).fetchall()
        found = [_record(r) for r in rows]
        return [b for b in found if search is None or search.lower() in b.name.lower()]

    def set_private(self, bucket_id: str, private: bool) -> None:
        with self._lock:
            self._db.execute("UPDATE buckets SET private = ? WHERE id = ?", (int(private), bucket_id))

    def delete(self, bucket_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM buckets WHERE id = ?", (bucket_id,))
            self._db.execute("DELETE FROM files WHERE bucket = ?", (bucket_id,))
        namespace, name = bucket_id.split("/", 1)
        shutil.rmtree(self.root / namespace / name, ignore_errors=True)  # never follows links

    # The file index

    def indexed(self, bucket_id: str, path: str) -> Indexed | None:
        with self._lock:
            row = self._db.execute(
                "SELECT xet_hash, size, mtime_ns, ctime_ns, ino, uploaded_at FROM files WHERE bucket = ? AND path = ?",
                (bucket_id, path),
            ).fetchone()
        return Indexed(*row) if row else None

    def index(self, bucket_id: str, path: str, entry: Indexed) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO files (bucket, path, xet_hash, size, mtime_ns, ctime_ns, ino, uploaded_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (bucket_id, path, *_columns(entry)),
            )

    def unindex(self, bucket_id: str, paths: Iterable[str]) -> None:
        with self._lock:
            self._db.executemany("DELETE FROM files WHERE bucket = ? AND path = ?", [(bucket_id, p) for p in paths])

    def holders_of(self, xet_hash: str) -> list[tuple[str, str]]:
        """``(bucket id, path)`` of the files last hashed to ``xet_hash``."""
        with self._lock:
            rows = self._db.execute("SELECT bucket, path FROM files WHERE xet_hash = ?", (xet_hash,)).fetchall()
        return [(str(b), str(p)) for b, p in rows]


def _columns(e: Indexed) -> tuple[str, int, int, int, int, float]:
    return (e.xet_hash, e.size, e.mtime_ns, e.ctime_ns, e.ino, e.uploaded_at)


def _record(row: tuple[str, str, str, int, float]) -> BucketRecord:
    return BucketRecord(id=row[0], namespace=row[1], name=row[2], private=bool(row[3]), created_at=row[4])
