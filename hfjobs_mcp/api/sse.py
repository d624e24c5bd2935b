"""Server-sent events as the Jobs API sends them, and bounded collectors of log lines.

Only lines that start exactly with ``data: {`` carry an event (wire-protocol §6.1); keep-alive comments, ``event:``
lines and blank separators are skipped. The collectors hold at most what they return, whatever the length of
the log: a 10-million-line log read for its last 100 lines costs 100 lines of memory.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable
from datetime import datetime, timedelta

from hfjobs_mcp.api.models import LogLine

__all__ = [
    "BANNER_PREFIX",
    "LogDecoder",
    "collect_matching",
    "collect_since",
    "collect_tail",
    "data_events",
    "log_line",
]

BANNER_PREFIX = "===== Job started"


async def data_events(lines: AsyncIterable[str]) -> AsyncIterator[dict[str, object]]:
    """The JSON objects of the ``data: {`` lines of an SSE body (already split into lines)."""
    async for raw in lines:
        if not raw.startswith("data: {"):
            continue
        try:
            event = json.loads(raw[len("data: ") :])
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict):
            yield event


def log_line(event: dict[str, object]) -> LogLine | None:
    """A :class:`LogLine` from a log event, None if the event is not one."""
    text, stamp = event.get("data"), event.get("timestamp")
    if not isinstance(text, str) or not isinstance(stamp, str):
        return None
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
    return LogLine(timestamp=when, text=text)


_STAMP_CACHE = 4096
_DATA_LINE = re.compile(rb"^data: (\{.*)", re.MULTILINE)


class LogDecoder:
    """The log events of an SSE body read as raw bytes, a chunk at a time: the hot path of a long log.

    A log replays its whole history on every connection, often hundreds of thousands of lines, so per-line costs
    decide how fast a follow goes (bench/follow_throughput.py). Lines are split in bytes; :meth:`payloads` only
    cuts out the JSON of the complete ``data: {`` lines (§6.1), so a caller can count events it has already seen
    and skip them without decoding them; :meth:`lines` decodes a batch with one ``json.loads`` of the payloads
    joined into an array (one call per line costs several times more), falling back to one call per payload if
    that fails, so a malformed event is skipped alone, as :func:`data_events` does. Timestamps are parsed once
    per distinct value (a burst of lines shares one millisecond).
    """

    def __init__(self) -> None:
        self._rest = b""
        self._stamps: dict[str, datetime] = {}

    def payloads(self, chunk: bytes) -> list[bytes]:
        """The JSON payloads of the ``data: {`` lines completed by ``chunk`` (a line cut by the chunk waits)."""
        data = self._rest + chunk if self._rest else chunk
        if b"\r" in data:  # CRLF or CR line ends; a CR cut from its LF by a chunk border only adds a blank line
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        end = data.rfind(b"\n") + 1
        self._rest = data[end:]
        return _DATA_LINE.findall(data, 0, end)

    def flush(self) -> list[bytes]:
        """At the end of the body: the payload of its last line if that had no line break."""
        rest, self._rest = self._rest, b""
        return [rest[6:]] if rest.startswith(b"data: {") else []

    def lines(self, payloads: list[bytes]) -> list[LogLine | None]:
        """Each payload as a :class:`LogLine`, or None where it is not a log event."""
        events: list[object]
        try:
            events = json.loads(b"[" + b",".join(payloads) + b"]")
            if not isinstance(events, list) or len(events) != len(payloads):
                raise ValueError("one payload held more than one value")
        except ValueError:  # a malformed payload among them: decode one by one
            events = [_loads(p) for p in payloads]
        stamps = self._stamps
        out: list[LogLine | None] = []
        append = out.append
        for event in events:
            # The usual event, tested first and cheaply: a dict with the two strings.
            if type(event) is not dict:
                append(_odd_line(event))
                continue
            text, stamp = event.get("data"), event.get("timestamp")
            if type(text) is not str or type(stamp) is not str:
                append(_odd_line(event))
                continue
            when = stamps.get(stamp)
            if when is None:
                try:
                    when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
                except ValueError:
                    append(None)
                    continue
                if len(stamps) >= _STAMP_CACHE:
                    stamps.clear()
                stamps[stamp] = when
            append(LogLine(when, text))
        return out


def _odd_line(event: object) -> LogLine | None:
    """The slow path of :meth:`LogDecoder.lines`: subclasses of dict or str, or not a log event at all."""
    if not isinstance(event, dict):
        return None
    text, stamp = event.get("data"), event.get("timestamp")
    if not isinstance(text, str) or not isinstance(stamp, str):
        return None
    try:
        return LogLine(datetime.fromisoformat(stamp.replace("Z", "+00:00")), str(text))
    except ValueError:
        return None


def _loads(payload: bytes) -> object:
    try:
        return json.loads(payload.decode("utf-8", "replace"))
    except ValueError:
        return None


async def collect_tail(lines: AsyncIterable[LogLine], n: int) -> tuple[list[LogLine], bool]:
    """The last ``n`` lines and whether earlier ones were dropped."""
    return await _keep_last(lines, n, lambda line: True)


async def collect_since(lines: AsyncIterable[LogLine], since: datetime, n: int) -> tuple[list[LogLine], bool]:
    """The last ``n`` lines stamped at or after ``since``, and whether more matched."""
    return await _keep_last(lines, n, lambda line: line.timestamp >= since)


async def _keep_last(
    lines: AsyncIterable[LogLine], n: int, keep: Callable[[LogLine], bool]
) -> tuple[list[LogLine], bool]:
    """The last ``n`` kept lines (a ring of exactly ``n``: memory never exceeds the answer) and whether more were."""
    ring: deque[LogLine] = deque(maxlen=max(n, 0))
    kept = 0
    async for line in lines:
        if keep(line):
            kept += 1
            ring.append(line)
    return list(ring), kept > len(ring)


class PatternError(ValueError):
    """A ``grep`` regular expression RE2 does not accept; the message says why."""


def matcher(pattern: str, *, regex: bool) -> Callable[[str], bool]:
    """A predicate for a substring, or a regular expression (:class:`PatternError` if it does not compile).

    Regular expressions run on RE2 (``google-re2``): time linear in the text, whatever the pattern, so a pattern
    like ``(a+)+$`` cannot hold the server (Python's backtracking ``re`` took 12 s on one long line, with the
    event loop blocked for every other caller). RE2 has no backreferences or lookarounds.
    """
    if regex:
        import re2  # on first use: most calls never filter by regex

        options = re2.Options()
        options.log_errors = False  # the error is the caller's, returned to it; nothing for the server's log
        try:
            compiled = re2.compile(pattern, options=options)
        except re2.error as exc:
            detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise PatternError(detail) from None
        return lambda text: compiled.search(text) is not None
    return lambda text: pattern in text


async def collect_matching(
    lines: AsyncIterable[LogLine], pattern: str, n: int, *, regex: bool = False
) -> tuple[list[LogLine], bool]:
    """The last ``n`` lines matching ``pattern`` and whether more matched."""
    match = matcher(pattern, regex=regex)
    return await _keep_last(lines, n, lambda line: match(line.text))


def within(seconds: float, *, now: datetime) -> datetime:
    """The start of a window of ``seconds`` ending ``now`` (for :func:`collect_since`)."""
    return now - timedelta(seconds=seconds)
