"""A log stream's events decoded a chunk at a time into columns: the log follower's hot path.

A long job's log is hundreds of thousands of lines, replayed whole on every connection, so per-line Python decides
how fast a follow goes (bench/follow_throughput.py). :class:`LogDecoder` turns a chunk of the body into two
columns (texts and timestamps) and makes no object per line beyond the texts themselves, in one of two ways:

- a *run*, lines sharing one timestamp (a job's output arrives in bursts, which the local backend stamps once)
  whose texts need no escape: cut by one ``str.split`` on the text between two texts, its timestamp column one
  object repeated (:mod:`hfjobs_mcp.api.log_bursts`);
- anything else: one regular-expression pass for the usual event shape, ``{"data": "...", "timestamp": "..."}``,
  decoding the texts' escapes (if any) with one ``json.loads`` per chunk and each distinct timestamp once.

Any other event is decoded on its own with ``json``, so the result is exactly what decoding each ``data: {`` line
alone gives (wire-protocol.md §6.1; tests/api/test_log_events.py checks it against that reading, at any chunking).
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache
from itertools import compress
from operator import itemgetter
from typing import NamedTuple, cast

from hfjobs_mcp.api.log_bursts import MIN_RUN, burst_at
from hfjobs_mcp.api.models import LogBatch, LogLine
from hfjobs_mcp.api.sse import SseLines

__all__ = ["Events", "LogDecoder"]

# One ``data: {`` line per match: either the usual event, ``{"data": "...", "timestamp": "..."}`` spelled as
# json.dumps spells it, or anything else (decoded alone by ``json``). In the usual event the timestamp is a plain
# string (no quote, backslash or control character: its text is its value) and the text is a plain string with
# backslash escapes (tabs, quotes, ANSI colours), which are decoded a column at a time when a chunk has any.
# Plain characters are spelled as ranges (space, !, # to [, ] and up) and matched possessively: about a fifth
# faster than the negated class in CPython's engine, on the path every line of a long log takes.
_PLAIN = r"[ !#-\[\]-\U0010ffff]*+"
_ESCAPED = rf"{_PLAIN}(?:\\.{_PLAIN})*+"
_EVENT_SOURCE = rf'^data: (?:\{{"data": "({_ESCAPED})", "timestamp": "({_PLAIN})"\}}|(\{{.*))$'


@cache
def _event() -> re.Pattern[str]:
    """The usual event's pattern, compiled on the first log read: compiling it costs ~7 ms, which every start-up
    paid (the client is imported before ``tools/list``) although most sessions never read a log."""
    return re.compile(_EVENT_SOURCE, re.MULTILINE)


_TEXT, _STAMP, _OTHER = itemgetter(0), itemgetter(1), itemgetter(2)
_STAMP_CACHE = 4096
_SHORT_RUNS = 2  # runs under MIN_RUN lines in a chunk before its rest goes the general way (lines of their own stamps)


class Events(NamedTuple):
    """The events of some lines of a body, as columns: one entry per ``data: {`` line, None in both where that
    event is not a log line (malformed, another shape, a bad timestamp)."""

    timestamps: list[datetime | None]
    texts: list[str | None]
    clean: bool  # no None: every event is a log line

    def count(self) -> int:  # type: ignore[override]  # the events, not tuple.count
        return len(self.texts)

    def after(self, skip: int) -> Events:
        """The same without the first ``skip`` events."""
        return Events(self.timestamps[skip:], self.texts[skip:], self.clean)

    def lines(self) -> LogBatch:
        """The log lines among them (the columns themselves when clean: no copy)."""
        if self.clean:
            return LogBatch(cast(list[datetime], self.timestamps), cast(list[str], self.texts))
        keep = [text is not None for text in self.texts]
        return LogBatch(list(compress(self.timestamps, keep)), list(compress(self.texts, keep)))  # type: ignore[arg-type]

    def pairs(self) -> zip[tuple[datetime | None, str | None]]:
        return zip(self.timestamps, self.texts, strict=True)


class LogDecoder:
    """The log events of an SSE body read as bytes, a chunk at a time (see the module docstring)."""

    def __init__(self) -> None:
        self._lines = SseLines()
        self._stamps: dict[str, datetime] = {}  # a burst of lines shares a timestamp: parse each value once

    def feed(self, chunk: bytes) -> Events:
        """The events of the lines ``chunk`` completed."""
        return self.events(self._lines.feed(chunk))

    def flush(self) -> Events:
        """At the end of the body: the event of its last line if that had no line end."""
        return self.events(self._lines.flush())

    def events(self, text: str) -> Events:
        """The events of whole lines of text: runs of lines sharing a timestamp first, the rest the general way."""
        pos, whens, texts = self._bursts(text)
        if pos == 0:
            return self._general(text)
        if pos < len(text) and (rest := self._general(text[pos:])).count():
            return Events(whens + rest.timestamps, texts + rest.texts, rest.clean)
        return Events(whens, texts, True)

    def _bursts(self, text: str) -> tuple[int, list[datetime | None], list[str | None]]:
        """How far ``text`` is runs of usual lines sharing a timestamp (:mod:`~hfjobs_mcp.api.log_bursts`), and
        their columns. Stops at the first line that is not, or after a few short runs (a log whose lines each have
        their own timestamp is better decoded the general way)."""
        whens: list[datetime | None] = []
        texts: list[str | None] = []
        pos = short = 0
        while short < _SHORT_RUNS and (run := burst_at(text, pos)) is not None:
            when = self._stamp(run.stamp)
            if when is None:
                break
            texts += run.texts
            whens += [when] * len(run.texts)
            short += len(run.texts) < MIN_RUN
            pos = run.end
        return pos, whens, texts

    def _stamp(self, stamp: str) -> datetime | None:
        when = self._stamps.get(stamp)
        if when is None and (when := _parse_stamp(stamp)) is not None:
            if len(self._stamps) > _STAMP_CACHE:
                self._stamps.clear()
            self._stamps[stamp] = when
        return when

    def _general(self, text: str) -> Events:
        """The events of whole lines of text, the usual ones a column at a time, the others one by one."""
        if "data: {" not in text:
            return Events([], [], True)
        found = _event().findall(text)
        if not found:
            return Events([], [], True)
        if not any(map(_OTHER, found)):
            whens = self._times(list(map(_STAMP, found)))
            texts: list[str] | None = list(map(_TEXT, found))
            if "\\" in text and texts is not None:
                texts = _unescape(texts)
            if whens is not None and texts is not None:
                return Events(whens, texts, True)  # type: ignore[arg-type]
        # Some event of another shape, a bad escape, or a timestamp that does not parse: one at a time.
        decoded = [self._event(*groups) for groups in found]
        whens_or_none = [line.timestamp if line else None for line in decoded]
        texts_or_none = [line.text if line else None for line in decoded]
        return Events(whens_or_none, texts_or_none, None not in texts_or_none)

    def _times(self, stamps: list[str]) -> list[datetime] | None:
        """Each stamp as a datetime (parsed once per distinct value), or None if one of them is not a timestamp."""
        cache = self._stamps
        if len(cache) > _STAMP_CACHE:
            cache.clear()
        for stamp in set(stamps).difference(cache):
            when = _parse_stamp(stamp)
            if when is None:
                return None
            cache[stamp] = when
        return list(map(cache.__getitem__, stamps))

    def _event(self, text: str, stamp: str, other: str) -> LogLine | None:
        """One event the fast path did not take, decoded on its own."""
        if other:
            return self._odd(other)
        if "\\" in text:
            unescaped = _unescape([text])
            if unescaped is None:
                return None
            text = unescaped[0]
        return self._line(text, stamp)

    def _odd(self, payload: str) -> LogLine | None:
        """An event of another shape (other spacing, other keys), or not a log event at all (None)."""
        try:
            event = json.loads(payload)
        except ValueError:
            return None
        if not isinstance(event, dict):
            return None
        text, stamp = event.get("data"), event.get("timestamp")
        if not isinstance(text, str) or not isinstance(stamp, str):
            return None
        return self._line(text, stamp)

    def _line(self, text: str, stamp: str) -> LogLine | None:
        when = self._stamp(stamp)
        return None if when is None else LogLine(when, text)


def _unescape(texts: list[str]) -> list[str] | None:
    """JSON string bodies (as the event regex captures them) decoded in one ``json.loads``; None if one is invalid."""
    try:
        decoded = json.loads('["' + '","'.join(texts) + '"]')
    except ValueError:
        return None
    return decoded if isinstance(decoded, list) and len(decoded) == len(texts) else None


def _parse_stamp(stamp: str) -> datetime | None:
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return None
