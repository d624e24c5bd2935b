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

__all__ = ["BANNER_PREFIX", "collect_matching", "collect_since", "collect_tail", "data_events", "log_line"]

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


def matcher(pattern: str, *, regex: bool) -> Callable[[str], bool]:
    """A predicate for a substring, or a regular expression (``re.error`` if it does not compile)."""
    if regex:
        compiled = re.compile(pattern)
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
