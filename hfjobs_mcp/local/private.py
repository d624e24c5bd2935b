"""The state folder is the user's own: refused when another user could read or plant files in it.

A state folder holds the store (job specs, secret names), the job logs (whatever a job printed) and the discovery
file (the backend's URL and token). One pre-created by another local user in a world-writable place (``/tmp``)
would let that user receive the requests, secret values included, of whoever attaches to it. So a folder owned by
another user, or writable by group or others, is refused with a message that says how to fix it; the backend's
own files are created ``0600`` and folders ``0700`` whatever the umask, and tightened if they existed before.

The same rule lives in :mod:`hfjobs_mcp.private_paths` for the server's own folders; this copy keeps the local
backend free of imports from the rest of the package.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafeStateDirError(RuntimeError):
    """The state folder (or a file in it) is another user's, or others may write to it; the message says what to do."""


def _problem(path: Path, st: os.stat_result) -> str | None:
    me = os.geteuid()
    if st.st_uid != me:
        return (
            f"{path} belongs to another user (uid {st.st_uid}, you are uid {me}): whoever owns it could read or "
            "replace the backend's files, secrets included; use a folder of your own (--state-dir), or remove it"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return (
            f"{path} is writable by group or others (mode {stat.S_IMODE(st.st_mode):o}): another user could plant "
            f"files in it; run `chmod 700 {path}` (after checking its contents) or use another folder (--state-dir)"
        )
    return None


def check_private(path: Path) -> None:
    """Refuse ``path`` (and, for a symlink, the link itself) if another user owns it or may write to it."""
    for st in {os.lstat(path), os.stat(path)}:
        problem = _problem(path, st)
        if problem is not None:
            raise UnsafeStateDirError(problem)


def private_dir(path: Path) -> Path:
    """``path`` as a folder only the user can use: created ``0700`` (parents too), or checked and tightened."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_private(path)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> None:
    """Make sure ``path`` exists, is the user's, and is ``0600``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    try:
        st = os.fstat(fd)
        problem = _problem(path, st) if st.st_uid != os.geteuid() else None
        if problem is not None:
            raise UnsafeStateDirError(problem)
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


def tighten(state_dir: Path) -> None:
    """Files and folders the backend made before (an older version, another umask): ``0600`` and ``0700``.

    The jobs' own working folders are left as the jobs made them; the state folder's files, the ``jobs`` folders
    and the job logs are tightened.
    """
    targets = [p for p in state_dir.iterdir() if p.name != "uv-cache"]
    jobs = state_dir / "jobs"
    if jobs.is_dir():
        for job in jobs.iterdir():
            targets.append(job)
            targets.extend(p for p in job.iterdir() if p.is_file())
    for path in targets:
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if stat.S_ISLNK(st.st_mode) or st.st_uid != os.geteuid():
            continue
        wanted = 0o700 if stat.S_ISDIR(st.st_mode) else 0o600
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(path, wanted)
