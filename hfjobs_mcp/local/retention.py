"""Retention: what the state folder keeps, so a long-running backend does not fill the disk.

On start and then every ``housekeeping_interval`` seconds (an hour by default), a sweep:

- removes finished jobs (COMPLETED, ERROR, CANCELED) that ended more than ``keep_days`` ago (30 by default), or
  that are not among the ``keep_jobs`` most recent finished ones (10,000 by default): their rows first (the API
  stops showing them), then their folders (``jobs/<id>``: the log, the working folder). A job still running, still
  being wound down, or whose log is being streamed is left for the next sweep. Folders without a row (left by a
  sweep interrupted between the two steps) go too, once untouched for a sweep interval.
- prunes the uv caches the jobs share, one per namespace (``uv cache prune``: unused entries and cached
  environments). uv waits while a job's ``uv`` holds a cache; after ``UV_PRUNE_TIMEOUT`` seconds the sweep gives
  up on that cache until the next one.

Scheduled jobs and webhooks are kept (they are configuration, not history). When a job ends, the runner removes
the ``work``, ``home`` and ``tmp`` folders it left empty (``JobDirs.remove_empty``): most jobs leave them empty,
and three empty folders were most of the disk a finished job took.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .config import LocalConfig
from .jobenv import uv_cache_root
from .sandbox import product_bin_dir
from .store import Store

log = logging.getLogger("hfjobs_mcp.local")

UV_PRUNE_TIMEOUT = 120.0
_JOB_ID = re.compile(r"^[0-9a-f]{24}$")


@dataclass(frozen=True)
class SweepResult:
    jobs_removed: int
    folders_removed: int
    uv_pruned: bool | None  # None: no cache to prune


class Housekeeper:
    """Applies the retention rules to one backend's store and state folder."""

    def __init__(self, cfg: LocalConfig, store: Store, *, busy: Callable[[str], bool]) -> None:
        self._cfg = cfg
        self._store = store
        self._busy = busy  # a job the runner is still winding down, or whose log is being read

    async def run(self) -> None:
        """Sweep now, then every ``housekeeping_interval`` seconds, until cancelled."""
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("retention: sweeping the state folder failed")
            await asyncio.sleep(self._cfg.housekeeping_interval)

    async def sweep(self) -> SweepResult:
        removed = self.remove_expired_jobs()
        orphans = self._orphans()
        # Only the file system work goes to a thread; the store is used from the event loop alone.
        folders = await asyncio.to_thread(self._remove_folders, removed + orphans)
        pruned = await self.prune_uv_cache() if self._cfg.prune_uv_cache else None
        if removed or folders:
            log.info(
                "retention: removed %d finished job(s) (ended over %g days ago or beyond the newest %d), %d folder(s)",
                len(removed),
                self._cfg.keep_days,
                self._cfg.keep_jobs,
                folders,
            )
        return SweepResult(jobs_removed=len(removed), folders_removed=folders, uv_pruned=pruned)

    def remove_expired_jobs(self) -> list[str]:
        """Delete the rows of the jobs retention removes; their ids (folders are removed by the caller)."""
        cutoff = self._cfg.clock() - self._cfg.keep_days * 86400  # the configured clock, so tests can age jobs
        expired = self._store.expired_jobs(finished_before=cutoff, keep=self._cfg.keep_jobs)
        doomed = [job_id for job_id in expired if not self._busy(job_id)]
        if doomed:
            self._store.delete_jobs(doomed)
        return doomed

    def _remove_folders(self, job_ids: list[str]) -> int:
        jobs = self._cfg.state_dir / "jobs"
        count = 0
        for job_id in job_ids:
            path = jobs / job_id
            if path.exists():
                shutil.rmtree(path, ignore_errors=True)
                count += 1
        return count

    def _orphans(self) -> list[str]:
        """Job folders without a row, untouched for a sweep interval: a row is written before its folder, so these are
        ones a sweep did not finish removing (a folder put there by hand a moment ago is left alone)."""
        jobs = self._cfg.state_dir / "jobs"
        try:
            names = [n for n in os.listdir(jobs) if _JOB_ID.match(n)]
        except FileNotFoundError:
            return []
        known = self._store.has_jobs(names)
        settled = time.time() - self._cfg.housekeeping_interval
        return [n for n in names if n not in known and not self._busy(n) and _mtime(jobs / n) < settled]

    def uv_caches(self) -> list[Path]:
        """Every uv cache of the state folder: one per namespace (``uv-cache/<ns>``), or the older shared one."""
        root = uv_cache_root(self._cfg.state_dir)
        candidates = [root, *(sorted(root.iterdir()) if root.is_dir() else [])]
        return [path for path in candidates if (path / "CACHEDIR.TAG").is_file()]

    async def prune_uv_cache(self) -> bool | None:
        """``uv cache prune`` on each jobs' cache: True if all were pruned, False if one failed or timed out, None if
        there is no cache yet."""
        caches = self.uv_caches()
        if not caches:
            return None
        uv = shutil.which("uv", path=product_bin_dir()) or shutil.which("uv")
        if uv is None:
            log.warning("retention: no uv executable found; the uv caches in %s are not pruned", caches[0].parent)
            return False
        results = [await self._prune(uv, cache) for cache in caches]
        return all(results)

    async def _prune(self, uv: str, cache: Path) -> bool:
        proc = await asyncio.create_subprocess_exec(
            uv,
            "cache",
            "prune",
            "--cache-dir",
            str(cache),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env={**os.environ, "UV_NO_PROGRESS": "1"},
        )
        try:
            _, err = await asyncio.wait_for(proc.communicate(), UV_PRUNE_TIMEOUT)
        except TimeoutError:
            log.info(
                "retention: the uv cache %s is still in use by running jobs after %.0f s; pruning it next time",
                cache,
                UV_PRUNE_TIMEOUT,
            )
            return False
        finally:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()
        summary = err.decode(errors="replace").strip().splitlines()
        if proc.returncode != 0:
            log.warning("retention: uv cache prune of %s failed (exit %d): %s", cache, proc.returncode, summary[-3:])
            return False
        log.debug("retention: uv cache prune of %s: %s", cache, " / ".join(summary))
        return True


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return float("inf")  # gone meanwhile: nothing to remove
