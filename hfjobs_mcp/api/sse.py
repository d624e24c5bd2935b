"""Server-sent events as the Jobs API sends them (wire-protocol.md §6.1): a body read as bytes, cut into whole lines.

Only lines that start exactly with ``data: {`` carry an event; keep-alive comments, ``event:`` lines and blank
separators are skipped. This module only cuts and decodes: a chunk of bytes becomes the text of the complete lines
it finished (a line cut by a chunk border waits for the rest), so the callers can find their events with one
regular-expression pass over many lines at once instead of a Python step per line (the log follower's hot path,
:mod:`hfjobs_mcp.api.logs`; the metrics stream uses :func:`data_payloads`).
"""

from __future__ import annotations

import re

__all__ = ["DATA_PREFIX", "SseLines", "data_payloads"]

DATA_PREFIX = "data: {"
_DATA_LINE = re.compile(r"^data: (\{.*)", re.MULTILINE)


class SseLines:
    """Bytes in, the text of whole lines out. Line ends are CR, LF or CRLF (as httpx splits them), all given as LF.

    Text is decoded as UTF-8 with invalid bytes replaced (as ``httpx``'s line reader does). A line is never split
    between two outputs: every output ends with a line end, except :meth:`flush`'s, the unterminated last line.
    """

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, chunk: bytes) -> str:
        """The complete lines ``chunk`` finished, with what earlier chunks left unfinished."""
        data = self._rest + chunk if self._rest else chunk
        if b"\r" in data:  # CRLF or CR line ends; a CR cut from its LF by a chunk border only adds a blank line
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        end = data.rfind(b"\n") + 1
        self._rest = data[end:]
        return data[:end].decode("utf-8", "replace") if end else ""

    def flush(self) -> str:
        """At the end of the body: its last line if that had no line end, else nothing."""
        rest, self._rest = self._rest, b""
        return rest.decode("utf-8", "replace")


def data_payloads(text: str) -> list[str]:
    """The JSON text of each ``data: {`` line of ``text`` (whole lines, as :class:`SseLines` gives them)."""
    return _DATA_LINE.findall(text)
