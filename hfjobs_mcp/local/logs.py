"""Job log files: append-only JSON lines, written as output arrives and read back by offset or from the end.

Each line of ``jobs/<id>/logs.jsonl`` is exactly the payload of one SSE log event,
``{"data": "<text>", "timestamp": "<wire time>"}``, so serving a replay is a byte copy with a
``data: `` prefix and ``tail=N`` is a backward scan for N newlines (no need to read a long log).
Lines are written whole, so a reader never sees half a record; output lines longer than
``max_line_bytes`` are split, and a partial last line is flushed when the job's output ends.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from json.encoder import encode_basestring
from pathlib import Path

from .clock import to_wire

_BLOCK = 64 * 1024


def banner(
    image: str | None, started_at: float, *, attempt: int = 1, attempts: int = 1, sandbox: str | None = None
) -> str:
    """The first line of every run (clients drop lines starting with ``===== Job started``).

    ``sandbox`` says how the job is isolated ("in a sandbox", or "WITHOUT a sandbox (why)"); it is part of
    this one line because clients drop only the first line of a log.
    """
    retry = f", attempt {attempt} of {attempts}" if attempts > 1 else ""
    recorded = f"image {image} is recorded, not pulled" if image else "no image given"
    how = f" {sandbox}" if sandbox else ""
    where = f"running locally{how}: {recorded}{retry}"
    return f"===== Job started at {to_wire(started_at)} ({where}) ====="


def _suffix(ts: float) -> str:
    return f', "timestamp": "{to_wire(ts)}"}}\n'


def encode_line(text: str, ts: float) -> bytes:
    """One record: exactly ``json.dumps({"data": text, "timestamp": ...}, ensure_ascii=False)`` and a newline."""
    return _encode(text, _suffix(ts))


def _encode(text: str, suffix: str) -> bytes:
    # The C string encoder json.dumps itself uses, without building a dict per line: ~15x faster.
    return ('{"data": ' + encode_basestring(text) + suffix).encode()


class LogWriter:
    """Turns a job's raw output into timestamped, length-capped lines appended to its log file."""

    def __init__(self, path: Path, *, max_line_bytes: int, on_write: Callable[[], None] = lambda: None) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Owner-only whatever the umask or what existed before: a log holds whatever the job printed.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)
        self._file = os.fdopen(fd, "ab")
        self._pending = b""
        self._max = max_line_bytes
        self._on_write = on_write

    def write_line(self, text: str, ts: float | None = None) -> None:
        """Append one line the backend itself writes (the banner, a start failure)."""
        self._file.write(encode_line(text, time.time() if ts is None else ts))
        self._file.flush()
        self._on_write()

    def feed(self, data: bytes) -> None:
        """Append the complete lines in ``data``; keep an unterminated tail for the next call."""
        buf = self._pending + data
        suffix = _suffix(time.time())  # one timestamp for the lines that arrived together
        out = []
        start = 0
        while True:
            nl = buf.find(b"\n", start)
            end = nl if nl >= 0 else len(buf)
            while end - start > self._max:  # an over-long line: emit it in pieces
                out.append(_encode(self._decode(buf[start : start + self._max]), suffix))
                start += self._max
            if nl < 0:
                break
            out.append(_encode(self._decode(buf[start:nl]), suffix))
            start = nl + 1
        self._pending = buf[start:]
        if out:
            self._file.write(b"".join(out))
            self._file.flush()
            self._on_write()

    def close(self) -> None:
        """Flush a partial last line (output without a final newline) and close the file."""
        if self._file.closed:
            return
        if self._pending:
            self._file.write(encode_line(self._decode(self._pending), time.time()))
            self._pending = b""
        self._file.close()
        self._on_write()

    @staticmethod
    def _decode(raw: bytes) -> str:
        return raw.removesuffix(b"\r").decode("utf-8", errors="replace")


def tail_offset(path: Path, lines: int) -> int:
    """Byte offset where the last ``lines`` lines of ``path`` begin, read backwards block by block."""
    try:
        f = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return 0
    with f:
        size = f.seek(0, os.SEEK_END)
        if lines <= 0:
            return size
        pos = size
        seen = -1  # the file ends with a newline, which does not start a line
        while pos > 0:
            step = min(_BLOCK, pos)
            pos -= step
            f.seek(pos)
            block = f.read(step)
            idx = len(block)
            while True:
                idx = block.rfind(b"\n", 0, idx)
                if idx < 0:
                    break
                seen += 1
                if seen == lines:
                    return pos + idx + 1
        return 0


def read_from(path: Path, offset: int, max_bytes: int = 256 * 1024) -> tuple[list[bytes], int]:
    """Complete lines from ``offset`` (at most about ``max_bytes``) and the offset after them."""
    try:
        f = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return [], offset
    with f:
        f.seek(offset)
        chunk = f.read(max_bytes)
        end = chunk.rfind(b"\n")
        if end < 0:
            if len(chunk) < max_bytes:
                return [], offset
            # A single record larger than max_bytes: read on to its end.
            rest = f.readline()
            chunk += rest
            end = len(chunk) - 1
            if not chunk.endswith(b"\n"):
                return [], offset
        body = chunk[: end + 1]
        return body.splitlines(), offset + len(body)
