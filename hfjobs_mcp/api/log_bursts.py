"""Runs of log events that share a timestamp, cut by one ``str.split``: the log decoder's fastest path.

A job's output reaches a log in bursts, and the local backend stamps a burst once (the Hub's example event in
wire-protocol.md §6.1 has a whole-second stamp, ``...:32.000Z``; unconfirmed), so a chunk of a long replay is mostly
a few runs of lines with one timestamp. Between two texts of such a run is always the same string,
``", "timestamp": "S"}``, a blank line and ``data: {"data": "``, so splitting the run on it gives the texts: one
object per line and no regular expression, where the general decoder (:mod:`hfjobs_mcp.api.log_events`) makes four
per line (a match tuple, the text, the timestamp's text, its lookup) and has a large pattern to compile first.

A run is taken only when it is exactly such lines. By construction (the last ``", "timestamp": "S"}`` found after the
first line's head) ``text[pos:end]`` is ``data: {"data": "``, the pieces joined by that separator, and
``", "timestamp": "S"}`` with a line end; if no piece (nor ``S``) holds a quote or a backslash and all are printable
(so none holds a line end or a control character), every line of the run, read alone as JSON (wire protocol §6.1),
is ``{"data": <its piece>, "timestamp": S}``, and one blank line follows each but the last. Anything else (None) is
left to the general decoder. tests/api/test_log_bursts.py attacks each condition with the lines that break it alone.
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["MIN_RUN", "Run", "burst_at"]

_HEAD = 'data: {"data": "'
_KEY = '", "timestamp": "'
MIN_RUN = 64  # lines: a shorter run costs about as much to find and check as it saves


class Run(NamedTuple):
    """Lines up to ``text[end]`` (a line start): their texts, in order, all stamped ``stamp``."""

    end: int
    stamp: str
    texts: list[str]


def burst_at(text: str, pos: int) -> Run | None:
    """The run of usual events from ``pos`` (a line start in whole lines of text; blank lines first are skipped) to
    the last line stamped like the first, if it is exactly such lines (the module docstring); else None."""
    while text.startswith("\n", pos):
        pos += 1
    if not text.startswith(_HEAD, pos):
        return None
    key = text.find(_KEY, pos)
    close = text.find('"', key + len(_KEY)) if key >= 0 else -1
    if close < 0:
        return None
    stamp = text[key + len(_KEY) : close]
    tail = f'{_KEY}{stamp}"}}\n'
    last = text.rfind(tail, pos)
    if last < pos + len(_HEAD):  # none, or one sharing the head's last quote: data: {"data": ", "timestamp": ...
        return None
    end = last + len(tail)
    texts = text[pos + len(_HEAD) : last].split(f"{tail}\n{_HEAD}")
    joined = "".join(texts) + stamp
    if '"' in joined or "\\" in joined or not joined.isprintable():
        return None
    return Run(end, stamp, texts)
