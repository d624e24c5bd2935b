"""Bucket operations over folders and the Xet storage: what the HTTP routes call, independent of HTTP.

Listings walk the folder (so files a job just wrote are there) and give each file the Xet hash from the
index, hashing again the files whose stat changed. A ``batch`` applies its operations in order: an added
or copied file is fetched from the storage by its hash into the folder (with the client's modification
time), a deleted one is removed. A reconstruction asked for a file only hashed so far (a job wrote it)
first stores it in the storage. Transfers run in a small pool of their own, so the storage endpoint they
talk to always has the event loop's default threads to answer them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hfjobs_mcp.local.clock import to_wire

from . import paths
from .cas import CasStore
from .store import BucketRecord, BucketStore, Indexed
from .transfer import XetTransfer, staging_file

log = logging.getLogger("hfjobs_mcp.local.buckets")

_HASH_BATCH = 256


@dataclass(frozen=True)
class Failure:
    path: str
    error: str


class Buckets:
    """Buckets (records and folders), their file index, and the Xet storage behind them."""

    def __init__(self, state_dir: Path, store: BucketStore) -> None:
        self.store = store
        self.cas = CasStore(state_dir)
        self.transfer = XetTransfer(self.cas)
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hfjobs-xet")
        self._hash_lock = asyncio.Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.cas.close()

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    # Bucket records

    def info(self, rec: BucketRecord) -> dict[str, Any]:
        root = self.store.folder(rec.id)
        files = [e for e in paths.walk(root, [], recursive=True) if not e.is_dir]
        return {
            "id": rec.id,
            "private": rec.private,
            "createdAt": to_wire(rec.created_at),
            "size": sum(e.st.st_size for e in files),
            "totalFiles": len(files),
        }

    # Listings

    async def tree(self, rec: BucketRecord, prefix: str, *, recursive: bool) -> list[dict[str, Any]]:
        root = self.store.folder(rec.id)
        parts = paths.split(prefix, prefix=True)
        if parts and (st := paths.stat_file(root, parts)) is not None:
            entries = [paths.Entry("/".join(parts), False, st)]
        else:
            entries = list(paths.walk(root, parts, recursive=recursive))
        return await self._describe(rec.id, root, entries)

    async def paths_info(self, rec: BucketRecord, wanted: Sequence[str]) -> list[dict[str, Any]]:
        root = self.store.folder(rec.id)
        entries = []
        for path in dict.fromkeys(wanted):
            try:
                parts = paths.split(path)
            except paths.BadPath:
                continue
            if (st := paths.stat_file(root, parts)) is not None:
                entries.append(paths.Entry(path, False, st))
        return await self._describe(rec.id, root, entries)

    async def _describe(self, bucket_id: str, root: Path, entries: list[paths.Entry]) -> list[dict[str, Any]]:
        stale = []
        known: dict[str, Indexed] = {}
        for e in entries:
            if e.is_dir:
                continue
            found = self.store.indexed(bucket_id, e.path)
            if found is not None and found.matches(e.st.st_size, e.st.st_mtime_ns, e.st.st_ctime_ns, e.st.st_ino):
                known[e.path] = found
            else:
                stale.append(e.path)
        for i in range(0, len(stale), _HASH_BATCH):
            async with self._hash_lock:
                known.update(await self._run(self._hash, bucket_id, root, stale[i : i + _HASH_BATCH]))
        out = []
        for e in entries:
            if e.is_dir:
                out.append({"type": "directory", "path": e.path, "uploadedAt": to_wire(e.st.st_mtime)})
            elif (found := known.get(e.path)) is not None:
                out.append(_file_json(e.path, found, e.st.st_mtime))
        return out

    def _hash(self, bucket_id: str, root: Path, batch: list[str]) -> dict[str, Indexed]:
        """Hash files (opened link-safely, read through their descriptors) and index them."""
        done: dict[str, Indexed] = {}
        with contextlib.ExitStack() as stack:
            opened: list[tuple[str, int, os.stat_result]] = []
            for path in batch:
                try:
                    fd, st = stack.enter_context(paths.open_file(root, paths.split(path)))
                except OSError:
                    continue  # gone or replaced by something that is not a file meanwhile
                opened.append((path, fd, st))
            hashes = self.transfer.hash_files([f"/proc/self/fd/{fd}" for _, fd, _ in opened])
            for (path, _, st), (xet_hash, size) in zip(opened, hashes, strict=True):
                entry = Indexed(xet_hash, size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, time.time())
                self.store.index(bucket_id, path, entry)
                done[path] = entry
        return done

    # Batch operations

    async def batch(self, rec: BucketRecord, ops: list[dict[str, Any]], *, may_read: Any) -> list[Failure]:
        """Apply ``addFile``/``copyFile``/``deleteFile`` operations in order; the ones that failed, and why."""
        root = self.store.folder(rec.id)
        failures = []
        for op in ops:
            path = str(op.get("path", ""))
            try:
                parts = paths.split(path)
                kind = op.get("type")
                if kind == "deleteFile":
                    if paths.remove(root, parts):
                        self.store.unindex(rec.id, [path])
                    else:
                        raise LookupError("no such file in the bucket")
                elif kind in ("addFile", "copyFile"):
                    if kind == "copyFile":
                        self._check_copy_source(op, may_read)
                    await self._add(rec.id, root, parts, str(op.get("xetHash", "")), op.get("mtime"))
                else:
                    raise ValueError(f"unknown operation type {kind!r}")
            except (paths.BadPath, LookupError, ValueError, OSError) as exc:
                failures.append(Failure(path, str(exc)))
        return failures

    def _check_copy_source(self, op: dict[str, Any], may_read: Any) -> None:
        kind, source = op.get("sourceRepoType"), str(op.get("sourceRepoId", ""))
        if kind != "bucket":
            raise ValueError(f"copying from a {kind} repository is not supported by the local backend")
        if not may_read(source):
            raise LookupError(f"source bucket {source} not found")

    async def _add(self, bucket_id: str, root: Path, parts: list[str], xet_hash: str, mtime_ms: Any) -> None:
        path = "/".join(parts)
        if not await self.ensure_stored(xet_hash, "*"):
            raise LookupError(f"Xet hash {xet_hash!r} is not in the storage: upload the file's data first")
        known = self.cas.file(xet_hash)
        assert known is not None
        size = known[0]
        mtime_ns = int(mtime_ms) * 1_000_000 if isinstance(mtime_ms, int) and mtime_ms >= 0 else None
        current = self.store.indexed(bucket_id, path)
        st = paths.stat_file(root, parts)
        if (
            current is not None
            and st is not None
            and current.xet_hash == xet_hash
            and current.matches(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
            and (mtime_ns is None or st.st_mtime_ns == mtime_ns)
        ):
            return  # already there, unchanged
        staged = staging_file(self.cas)
        try:
            if size:
                await self._run(self.transfer.download, xet_hash, size, staged)
            else:
                staged.write_bytes(b"")
            paths.place(root, parts, staged, mtime_ns=mtime_ns)
        finally:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()
        st = paths.stat_file(root, parts)
        if st is not None:
            self.store.index(
                bucket_id, path, Indexed(xet_hash, size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, time.time())
            )

    # Serving reconstructions

    async def ensure_stored(self, xet_hash: str, bucket: str) -> bool:
        """True once the storage can rebuild ``xet_hash``; a bucket file only hashed so far is uploaded first.

        ``bucket`` limits which bucket's files may be used (``*``: any).
        """
        if self.cas.file(xet_hash) is not None:
            return True
        for bucket_id, path in self.store.holders_of(xet_hash):
            if bucket != "*" and bucket_id != bucket:
                continue
            if await self._store_file(bucket_id, path, xet_hash):
                return True
        return False

    async def _store_file(self, bucket_id: str, path: str, xet_hash: str) -> bool:
        root = self.store.folder(bucket_id)
        try:
            with paths.open_file(root, paths.split(path)) as (fd, _):
                got, _size = await self._run(self.transfer.upload, f"/proc/self/fd/{fd}")
        except (OSError, paths.BadPath):
            return False
        if got != xet_hash:
            log.info("bucket %s: %s changed since it was listed; it will be hashed again", bucket_id, path)
            self.store.unindex(bucket_id, [path])
            return False
        return True

    def holds(self, bucket_id: str, xet_hash: str) -> bool:
        return any(b == bucket_id for b, _ in self.store.holders_of(xet_hash))


def _file_json(path: str, entry: Indexed, mtime: float) -> dict[str, Any]:
    return {
        "type": "file",
        "path": path,
        "size": entry.size,
        "xetHash": entry.xet_hash,
        "mtime": to_wire(mtime),
        "uploadedAt": to_wire(entry.uploaded_at),
    }


def iter_ndjson(raw: bytes) -> Iterator[Any]:
    import json

    for line in raw.splitlines():
        if line.strip():
            yield json.loads(line)
