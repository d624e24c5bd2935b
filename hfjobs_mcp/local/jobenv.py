"""The environment and folders a local job process gets; nothing of the backend's own environment leaks in.

Base: ``PATH`` with this Python environment's ``bin`` first (so ``python`` and ``uv`` resolve to the
product's own), ``HOME`` and ``TMPDIR`` private to the job, ``LANG``, ``PYTHONUNBUFFERED=1``,
``UV_PYTHON_DOWNLOADS=never`` and a ``UV_CACHE_DIR`` shared by the jobs of one namespace. Then the job's
``environment``, then its ``secrets``, then what the platform sets in every job: ``JOB_ID``,
``ACCELERATOR`` (empty on CPU), ``CPU_CORES`` and ``MEMORY`` from the flavor. The folder paths are the
ones the job sees (:class:`~.sandbox.JobView`): sandbox paths when it runs in the sandbox.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

from . import hardware
from .records import JobSpec
from .sandbox import JobView, product_bin_dir

SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class JobDirs:
    """``jobs/<id>/``: ``work`` (the cwd), ``home``, ``tmp`` and the log file."""

    root: Path

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def log(self) -> Path:
        return self.root / "logs.jsonl"

    def create(self) -> None:
        self.root.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.root.mkdir(exist_ok=True, mode=0o700)
        os.chmod(self.root, 0o700)
        for path in (self.work, self.home, self.tmp):
            path.mkdir(parents=True, exist_ok=True)

    def remove_empty(self) -> None:
        """Remove ``work``, ``home`` and ``tmp`` if the job left nothing in them but empty folders (what it wrote,
        and its log, stay).

        Empty folders count as nothing: bubblewrap makes the mount points of a Python environment that lives under
        ``/tmp`` (a CI checkout, a throwaway ``uv tool install``) inside the job's own ``/tmp``, so every job's
        ``tmp`` would otherwise keep that skeleton.
        """
        for path in (self.work, self.home, self.tmp):
            _remove_if_only_empty_folders(path)


_MAX_EMPTY_FOLDERS = 256  # more than any mount-point skeleton: a job that made more keeps them


def _remove_if_only_empty_folders(root: Path) -> None:
    """Remove ``root`` and the folders under it if none holds anything else; links are never followed, and the
    walk is a loop (a job may nest folders deeper than Python's recursion limit)."""
    found: list[str] = []
    pending = [str(root)]
    while pending:
        folder = pending.pop()
        found.append(folder)
        if len(found) > _MAX_EMPTY_FOLDERS:
            return
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if not entry.is_dir(follow_symlinks=False):
                        return  # a file, a link or anything else: the job left something
                    pending.append(entry.path)
        except OSError:  # gone already, or unreadable: leave it
            return
    for folder in reversed(found):  # deepest first
        with contextlib.suppress(OSError):
            os.rmdir(folder)


def job_dirs(state_dir: Path, job_id: str) -> JobDirs:
    return JobDirs(state_dir / "jobs" / job_id)


def uv_cache_root(state_dir: Path) -> Path:
    """``uv-cache/``: the folder of every namespace's uv cache (retention prunes each)."""
    return state_dir / "uv-cache"


def uv_cache_dir(state_dir: Path, namespace: str) -> Path:
    """``uv-cache/<namespace>``: what jobs of one namespace share (downloaded packages), and nothing else."""
    return uv_cache_root(state_dir) / namespace


def build_env(job_id: str, spec: JobSpec, view: JobView) -> dict[str, str]:
    flavor = hardware.lookup(spec.flavor)
    env = {
        "PATH": f"{product_bin_dir()}:{SYSTEM_PATH}",
        "HOME": view.home,
        "TMPDIR": view.tmp,
        "LANG": "C.UTF-8",
        "PYTHONUNBUFFERED": "1",
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_CACHE_DIR": view.uv_cache,
    }
    env.update(spec.environment)
    env.update(spec.secrets)
    env.update(
        {
            "JOB_ID": job_id,
            "ACCELERATOR": flavor.name if flavor.is_gpu else "",
            "CPU_CORES": str(flavor.cpu_cores),
            "MEMORY": flavor.memory_env,
        }
    )
    return env
