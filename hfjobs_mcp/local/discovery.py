"""``backend.json``: where the backend serving a state folder listens, its token and its pid.

Written by the backend once it serves (and provisionally by the client that starts a detached one),
owner-only since it holds the token; read by clients to attach. Kept apart from ``server`` so that
reading it costs no import of the HTTP stack.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import psutil

from .private import check_private

DISCOVERY_FILE = "backend.json"


def read_discovery(state_dir: Path) -> tuple[str, str, int] | None:
    """``(url, token, pid)`` from the discovery file, if the process it names is alive (a zombie is not).

    The folder and the file must be the user's own (:func:`check_private` raises otherwise): a discovery file
    another user could write would send this process's requests, secret values included, to that user.
    """
    try:
        check_private(Path(state_dir))
        check_private(Path(state_dir) / DISCOVERY_FILE)
    except FileNotFoundError:
        return None
    try:
        info = json.loads((Path(state_dir) / DISCOVERY_FILE).read_text(encoding="utf-8"))
        url, token, pid = str(info["url"]), str(info["token"]), int(info["pid"])
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return None
    except (OSError, ValueError, KeyError, TypeError, psutil.Error):
        return None
    return url, token, pid


def write_discovery(state_dir: Path, url: str, token: str, pid: int) -> None:
    """Write the discovery file atomically, readable by its owner only (it holds the token)."""
    path = Path(state_dir) / DISCOVERY_FILE
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump({"url": url, "token": token, "pid": pid}, f)
    os.replace(tmp, path)


def remove_discovery(state_dir: Path, url: str) -> None:
    """Remove the discovery file if it still names ``url`` (not a newer backend's)."""
    path = Path(state_dir) / DISCOVERY_FILE
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("url") == url:
            path.unlink()
    except (OSError, ValueError, AttributeError):
        pass
