"""The server's own files are the user's own: a folder or file another user owns or may write to is refused.

The HTTP approvals store (``$HFJOBS_MCP_HOME/http``) decides which requests were approved and the secrets file
holds secret values: one planted or readable by another local user would let that user approve requests or
swap the values forwarded to jobs. So a folder or file owned by another user, or writable by group or others, is
refused with a message saying how to fix it; folders are created ``0700`` and files ``0600`` whatever the umask,
and tightened if they existed before. (The local backend has its own copy of the rule,
:mod:`hfjobs_mcp.local.private`, so that it imports nothing from the rest of the package.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnsafePathError(ValueError):
    """A folder or file the server will not use; the message says why and what to do."""


def _problem(path: Path, st: os.stat_result, what: str) -> str | None:
    me = os.geteuid()
    if st.st_uid != me:
        return (
            f"{what} {path} belongs to another user (uid {st.st_uid}, you are uid {me}): its owner could read or "
            "replace it; use one of your own, or remove it"
        )
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        mode = stat.S_IMODE(st.st_mode)
        fix = "chmod 700" if stat.S_ISDIR(st.st_mode) else "chmod 600"
        return (
            f"{what} {path} is writable by group or others (mode {mode:o}): another user could change it; "
            f"run `{fix} {path}` (after checking it) or use another one"
        )
    return None


def check_private(path: Path, what: str) -> None:
    """Refuse ``path`` (and, for a symlink, the link itself) if another user owns it or may write to it."""
    for st in (os.lstat(path), os.stat(path)):
        problem = _problem(path, st, what)
        if problem is not None:
            raise UnsafePathError(problem)


def private_dir(path: Path, what: str = "the state folder") -> Path:
    """``path`` as a folder only the user can use: created ``0700`` (parents too), or checked and tightened."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    check_private(path, what)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path, what: str = "the file") -> Path:
    """``path`` as a file only the user can use: created empty ``0600`` if missing, or checked and tightened."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600)
    os.close(fd)
    check_private(path, what)
    os.chmod(path, 0o600)
    return path
