"""The SQLite store of jobs, scheduled jobs and webhooks (one file, WAL, safe to share between threads).

Each row keeps the record as JSON plus the few columns queries filter on. Every write is its own
transaction, committed before the call returns, so a ``kill -9`` of the backend loses nothing that
was acknowledged. The database holds secret values (jobs need them to run), so it is created
readable by its owner only.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .records import ACTIVE_STAGES, JobRecord, ScheduledRecord, WebhookRecord

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    stage TEXT NOT NULL,
    schedule_id TEXT,
    record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_namespace ON jobs (namespace, seq);
CREATE INDEX IF NOT EXISTS jobs_by_stage ON jobs (stage);
CREATE INDEX IF NOT EXISTS jobs_by_schedule ON jobs (schedule_id, stage);
CREATE TABLE IF NOT EXISTS scheduled_jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    namespace TEXT NOT NULL,
    record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS webhooks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    record TEXT NOT NULL
);
"""


def _label_clauses(column: str, prefix: str, labels: Sequence[tuple[str, str | None]]) -> tuple[str, list[Any]]:
    # Label keys are validated ([a-zA-Z0-9._-]+) before they get here, so quoting them in a JSON path is safe.
    sql, args = "", []
    for key, value in labels:
        path = f'{prefix}."{key}"'
        if value is None:
            sql += f" AND json_type({column}, ?) IS NOT NULL"
            args.append(path)
        else:
            sql += f" AND json_extract({column}, ?) = ?"
            args.extend([path, value])
    return sql, args


class Store:
    """Thread-safe access to ``state.db``; every method is a short transaction under one lock."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        # Created 0600 before SQLite opens it (its -wal and -shm files take the database file's mode).
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600))
        os.chmod(path, 0o600)
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._closed = False

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._db.close()

    def _rows(self, sql: str, args: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._db.execute(sql, tuple(args)).fetchall())

    def _write(self, sql: str, args: Iterable[Any]) -> int:
        with self._lock:
            return self._db.execute(sql, tuple(args)).rowcount

    # Jobs

    def insert_job(self, rec: JobRecord) -> None:
        self._write(
            "INSERT INTO jobs (id, namespace, stage, schedule_id, record) VALUES (?, ?, ?, ?, ?)",
            (rec.id, rec.namespace, rec.stage, rec.schedule_id, json.dumps(rec.to_json())),
        )

    def update_job(self, rec: JobRecord) -> None:
        self._write(
            "UPDATE jobs SET stage = ?, record = ? WHERE id = ?",
            (rec.stage, json.dumps(rec.to_json()), rec.id),
        )

    def get_job(self, job_id: str) -> JobRecord | None:
        rows = self._rows("SELECT record FROM jobs WHERE id = ?", (job_id,))
        return JobRecord.from_json(json.loads(rows[0][0])) if rows else None

    def list_jobs(
        self,
        namespace: str,
        *,
        stages: Sequence[str] = (),
        labels: Sequence[tuple[str, str | None]] = (),
        before_seq: int | None = None,
        limit: int,
    ) -> list[tuple[int, JobRecord]]:
        """Newest first; ``stages`` are OR-ed, ``labels`` AND-ed (a None value means "key present")."""
        sql, args = self._job_filter(namespace, stages, labels)
        if before_seq is not None:
            sql += " AND seq < ?"
            args.append(before_seq)
        query = f"SELECT seq, record FROM jobs WHERE {sql} ORDER BY seq DESC LIMIT ?"  # noqa: S608 (see _job_filter)
        rows = self._rows(query, [*args, limit])
        return [(int(seq), JobRecord.from_json(json.loads(record))) for seq, record in rows]

    def count_jobs(self, namespace: str, *, stages: Sequence[str] = ()) -> int:
        sql, args = self._job_filter(namespace, stages, ())
        return int(self._rows(f"SELECT COUNT(*) FROM jobs WHERE {sql}", args)[0][0])  # noqa: S608 (see _job_filter)

    @staticmethod
    def _job_filter(
        namespace: str, stages: Sequence[str], labels: Sequence[tuple[str, str | None]]
    ) -> tuple[str, list[Any]]:
        # Only fixed SQL fragments and "?" placeholders are concatenated; every value is a bound parameter.
        sql, args = "namespace = ?", [namespace]
        if stages:
            sql += f" AND stage IN ({', '.join('?' for _ in stages)})"
            args.extend(stages)
        label_sql, label_args = _label_clauses("record", "$.spec.labels", labels)
        return sql + label_sql, [*args, *label_args]

    def active_jobs(self) -> list[JobRecord]:
        """Jobs that are SCHEDULING or RUNNING according to the store."""
        rows = self._rows("SELECT record FROM jobs WHERE stage IN (?, ?) ORDER BY seq", ACTIVE_STAGES)
        return [JobRecord.from_json(json.loads(r[0])) for r in rows]

    def active_jobs_of_schedule(self, schedule_id: str) -> list[str]:
        rows = self._rows(
            "SELECT id FROM jobs WHERE schedule_id = ? AND stage IN (?, ?)", (schedule_id, *ACTIVE_STAGES)
        )
        return [str(r[0]) for r in rows]

    def expired_jobs(self, *, finished_before: float, keep: int) -> list[str]:
        """Finished jobs that retention removes: finished before ``finished_before``, or not among the ``keep``
        most recently created finished ones. Jobs still SCHEDULING or RUNNING are never listed."""
        finished = "stage NOT IN (?, ?)"
        ended = "COALESCE(json_extract(record, '$.finished_at'), json_extract(record, '$.created_at'))"
        rows = self._rows(
            f"SELECT id FROM jobs WHERE {finished} AND ({ended} < ? OR seq < COALESCE("  # noqa: S608 (fixed fragments)
            f"(SELECT seq FROM jobs WHERE {finished} ORDER BY seq DESC LIMIT 1 OFFSET ?), -1)) ORDER BY seq",
            (*ACTIVE_STAGES, finished_before, *ACTIVE_STAGES, keep - 1),
        )
        return [str(r[0]) for r in rows]

    def delete_jobs(self, job_ids: Sequence[str]) -> int:
        """Remove these jobs' rows (in one transaction); how many there were."""
        with self._lock:
            self._db.execute("BEGIN")
            try:
                removed = sum(self._db.execute("DELETE FROM jobs WHERE id = ?", (i,)).rowcount for i in job_ids)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        return removed

    def has_jobs(self, job_ids: Iterable[str]) -> set[str]:
        """Which of these ids have a row."""
        ids = list(job_ids)
        found: set[str] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ", ".join("?" for _ in chunk)
            found.update(str(r[0]) for r in self._rows(f"SELECT id FROM jobs WHERE id IN ({marks})", chunk))  # noqa: S608
        return found

    # Scheduled jobs

    def insert_scheduled(self, rec: ScheduledRecord) -> None:
        self._write(
            "INSERT INTO scheduled_jobs (id, namespace, record) VALUES (?, ?, ?)",
            (rec.id, rec.namespace, json.dumps(rec.to_json())),
        )

    def update_scheduled(self, rec: ScheduledRecord) -> None:
        self._write("UPDATE scheduled_jobs SET record = ? WHERE id = ?", (json.dumps(rec.to_json()), rec.id))

    def get_scheduled(self, scheduled_id: str) -> ScheduledRecord | None:
        rows = self._rows("SELECT record FROM scheduled_jobs WHERE id = ?", (scheduled_id,))
        return ScheduledRecord.from_json(json.loads(rows[0][0])) if rows else None

    def delete_scheduled(self, scheduled_id: str) -> bool:
        return self._write("DELETE FROM scheduled_jobs WHERE id = ?", (scheduled_id,)) > 0

    def list_scheduled(
        self, namespace: str | None = None, *, labels: Sequence[tuple[str, str | None]] = ()
    ) -> list[ScheduledRecord]:
        """Newest first; every scheduled job of every namespace when ``namespace`` is None."""
        sql, args = ("1 = 1", []) if namespace is None else ("namespace = ?", [namespace])
        label_sql, label_args = _label_clauses("record", "$.spec.labels", labels)
        query = f"SELECT record FROM scheduled_jobs WHERE {sql}{label_sql} ORDER BY seq DESC"  # noqa: S608
        rows = self._rows(query, [*args, *label_args])
        return [ScheduledRecord.from_json(json.loads(r[0])) for r in rows]

    # Webhooks

    def insert_webhook(self, rec: WebhookRecord) -> None:
        self._write(
            "INSERT INTO webhooks (id, owner, record) VALUES (?, ?, ?)",
            (rec.id, rec.owner, json.dumps(rec.to_json())),
        )

    def update_webhook(self, rec: WebhookRecord) -> None:
        self._write("UPDATE webhooks SET record = ? WHERE id = ?", (json.dumps(rec.to_json()), rec.id))

    def get_webhook(self, webhook_id: str) -> WebhookRecord | None:
        rows = self._rows("SELECT record FROM webhooks WHERE id = ?", (webhook_id,))
        return WebhookRecord.from_json(json.loads(rows[0][0])) if rows else None

    def delete_webhook(self, webhook_id: str) -> bool:
        return self._write("DELETE FROM webhooks WHERE id = ?", (webhook_id,)) > 0

    def list_webhooks(self, owner: str) -> list[WebhookRecord]:
        rows = self._rows("SELECT record FROM webhooks WHERE owner = ? ORDER BY seq", (owner,))
        return [WebhookRecord.from_json(json.loads(r[0])) for r in rows]
