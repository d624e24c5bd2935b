"""Reading and writing a bucket's folder without ever following a link a job may have planted there.

A bucket is a plain folder that read-write jobs change at will. A job could replace ``out/`` with a
symbolic link to ``/root`` (dangling inside its sandbox, but real for the backend): a backend that
followed it would serve the host's files as bucket files, or write through it. So every access here
walks the path one component at a time with ``O_NOFOLLOW`` from an open descriptor of the bucket's
root, and listings skip links and special files. Paths come from clients too, so they are checked
first: relative, ``/``-separated, no empty, ``.`` or ``..`` component, no NUL.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAX_PATH = 4096
MAX_PART = 255
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC


class BadPath(ValueError):
    """A path a bucket cannot hold; the message says why."""


def split(path: str, *, prefix: bool = False) -> list[str]:
    """The components of a bucket path, or :class:`BadPath`; a ``prefix`` may be empty or end with ``/``."""
    if prefix:
        path = path.rstrip("/")
        if path == "":
            return []
    if not path or len(path) > MAX_PATH:
        raise BadPath(f"{path[:80]!r}: a bucket path must have 1 to {MAX_PATH} characters")
    if "\0" in path:
        raise BadPath("a bucket path cannot contain a NUL character")
    if path.startswith("/"):
        raise BadPath(f"{path!r}: a bucket path is relative (no leading '/')")
    parts = path.split("/")
    for part in parts:
        if part in ("", ".", ".."):
            raise BadPath(f"{path!r}: empty, '.' and '..' components are not allowed")
        if len(part.encode()) > MAX_PART:
            raise BadPath(f"{path!r}: a component is longer than {MAX_PART} bytes")
    return parts


@contextlib.contextmanager
def open_dir(root: Path, parts: list[str], *, create: bool = False) -> Iterator[int]:
    """A descriptor of ``root/parts...``, each component a real folder (not a link); created if asked."""
    fd = os.open(root, _DIR_FLAGS)
    try:
        for part in parts:
            try:
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if not create:
                    raise
                with contextlib.suppress(FileExistsError):
                    os.mkdir(part, 0o755, dir_fd=fd)
                nxt = os.open(part, _DIR_FLAGS, dir_fd=fd)
            os.close(fd)
            fd = nxt
        yield fd
    finally:
        os.close(fd)


@contextlib.contextmanager
def open_file(root: Path, parts: list[str]) -> Iterator[tuple[int, os.stat_result]]:
    """A read descriptor of the regular file ``root/parts...`` and its stat; FileNotFoundError otherwise."""
    with open_dir(root, parts[:-1]) as dir_fd:
        try:
            fd = os.open(parts[-1], os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK, dir_fd=dir_fd)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise FileNotFoundError(errno.ENOENT, "a link, not a file", "/".join(parts)) from None
            raise
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise FileNotFoundError(errno.ENOENT, "not a regular file", "/".join(parts))
        yield fd, st
    finally:
        os.close(fd)


def stat_file(root: Path, parts: list[str]) -> os.stat_result | None:
    """The stat of a regular file at ``parts`` (no link anywhere on the way), or None."""
    try:
        with open_dir(root, parts[:-1]) as dir_fd:
            st = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)
    except (OSError, ValueError):
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def is_dir(root: Path, parts: list[str]) -> bool:
    try:
        with open_dir(root, parts):
            return True
    except OSError:
        return False


def place(root: Path, parts: list[str], source: Path, *, mtime_ns: int | None = None) -> None:
    """Move the finished file ``source`` to ``root/parts...`` (folders made as needed), replacing what was there."""
    if mtime_ns is not None:
        os.utime(source, ns=(mtime_ns, mtime_ns))
    with open_dir(root, parts[:-1], create=True) as dir_fd:
        try:
            st = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        if st is not None and stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "a folder is in the way", "/".join(parts))
        os.replace(source, parts[-1], dst_dir_fd=dir_fd)


def remove(root: Path, parts: list[str]) -> bool:
    """Delete the file at ``parts`` (a link is deleted, never followed) and the folders it leaves empty."""
    try:
        with open_dir(root, parts[:-1]) as dir_fd:
            st = os.stat(parts[-1], dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                return False
            os.unlink(parts[-1], dir_fd=dir_fd)
    except OSError:
        return False
    for depth in range(len(parts) - 1, 0, -1):
        try:
            with open_dir(root, parts[: depth - 1]) as dir_fd:
                os.rmdir(parts[depth - 1], dir_fd=dir_fd)
        except OSError:
            break
    return True


@dataclass(frozen=True)
class Entry:
    """A file (with its stat) or a folder found in a bucket."""

    path: str
    is_dir: bool
    st: os.stat_result


def walk(root: Path, prefix: list[str], *, recursive: bool) -> Iterator[Entry]:
    """Files (and, unless recursive, folders) under ``prefix``, sorted; links and special files are skipped."""
    try:
        with open_dir(root, prefix) as fd:
            yield from _walk(fd, "/".join(prefix), recursive=recursive)
    except (FileNotFoundError, NotADirectoryError):
        return
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise


def _walk(fd: int, base: str, *, recursive: bool) -> Iterator[Entry]:
    names = sorted(os.listdir(fd))
    for name in names:
        try:
            st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except OSError:
            continue
        path = f"{base}/{name}" if base else name
        if stat.S_ISREG(st.st_mode):
            yield Entry(path, False, st)
        elif stat.S_ISDIR(st.st_mode):
            if not recursive:
                yield Entry(path, True, st)
                continue
            try:
                sub = os.open(name, _DIR_FLAGS, dir_fd=fd)
            except OSError:
                continue
            try:
                yield from _walk(sub, path, recursive=True)
            finally:
                os.close(sub)
