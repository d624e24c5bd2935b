"""Runs of log lines sharing a timestamp (``hfjobs_mcp.api.log_bursts``), the decoder's fastest path, attacked.

A run is cut by one ``str.split`` and taken only when a quote count and a printable check prove it is exactly usual
lines; each attack below breaks one condition alone, in the middle of a long run, and the decoder must still give
what the wire spec's line-by-line reading gives (``reference_events``), with the run refused (not silently cut
short). Chunk borders fall at every byte of a run, inside multi-byte characters and between CR and LF.
"""

from __future__ import annotations

import itertools
import json

import pytest

from hfjobs_mcp.api import LogLine
from hfjobs_mcp.api.log_bursts import MIN_RUN, burst_at
from hfjobs_mcp.api.log_events import LogDecoder
from hfjobs_mcp.api.sse import SseLines
from tests.api.fakes import reference_events

STAMP = "2025-07-22T16:06:32.000Z"
OTHER = "2025-07-22T16:06:33.000Z"


def usual(text: str, stamp: str = STAMP) -> str:
    """A line as both backends write it: ``json.dumps`` without ASCII escaping, a blank line after it."""
    return "data: " + json.dumps({"data": text, "timestamp": stamp}, ensure_ascii=False) + "\n\n"


def run_of(n: int, stamp: str = STAMP, start: int = 0) -> str:
    return "".join(usual(f"line {i}", stamp) for i in range(start, start + n))


def decode(body: bytes, cuts: tuple[int, ...] = ()) -> list[LogLine | None]:
    """The decoder's events for ``body`` fed in pieces cut at ``cuts``, then flushed."""
    decoder = LogDecoder()
    bounds = [0, *cuts, len(body)]
    parts = [decoder.feed(body[a:b]) for a, b in itertools.pairwise(bounds)] + [decoder.flush()]
    return [LogLine(w, t) if w is not None and t is not None else None for p in parts for w, t in p.pairs()]


def test_a_run_is_its_texts_and_one_timestamp() -> None:
    # Texts without quotes or escapes may hold anything else, the frame's own words included.
    odd = ["", "é€😀", "{", "}", "data: {data:", "timestamp: x", ": keep-alive", " ", "a" * 5000]
    texts = [f"line {i}" for i in range(300)] + odd
    body = "".join(usual(t) for t in texts)
    run = burst_at(body, 0)
    assert run is not None
    assert run.texts == texts
    assert run.stamp == STAMP
    assert run.end == len(body) - 1  # up to the last line's end; its blank line is no event
    events = LogDecoder().feed(body.encode())
    assert events.texts == texts
    assert events.clean
    assert len({id(when) for when in events.timestamps}) == 1
    assert list(events.lines()) == reference_events(body)


def test_consecutive_runs_each_get_their_timestamp() -> None:
    third = "2025-07-22T16:06:34.000Z"
    body = run_of(100) + run_of(100, OTHER, 100) + run_of(100, third, 200)
    first = burst_at(body, 0)
    assert first is not None
    assert first.texts == [f"line {i}" for i in range(100)]
    second = burst_at(body, first.end)
    assert second is not None
    assert second.stamp == OTHER
    assert second.texts == [f"line {i}" for i in range(100, 200)]
    assert decode(body.encode()) == reference_events(body)


def test_a_stamp_that_comes_back_is_no_run_but_reads_the_same() -> None:
    """A run reaches the last line with its stamp: lines of another stamp in between make it no run (the general
    way takes it), never a run with the wrong timestamp for them."""
    body = run_of(100) + run_of(100, OTHER, 100) + run_of(100, STAMP, 200)
    assert burst_at(body, 0) is None
    got = decode(body.encode())
    assert got == reference_events(body)
    assert {line.timestamp.second for line in got[100:200]} == {33}  # type: ignore[union-attr]


BREAKERS = {
    "the text's quotes one quote": f'data: {{"data": ", "timestamp": "{STAMP}"}}\n\n',
    "a quote not escaped": f'data: {{"data": "a"b", "timestamp": "{STAMP}"}}\n\n',
    "the tail twice on one line": f'data: {{"data": "a", "timestamp": "{STAMP}"}}", "timestamp": "{STAMP}"}}\n\n',
    "a space after the object": f'data: {{"data": "a", "timestamp": "{STAMP}"}} \n\n',
    "a raw control character": f'data: {{"data": "a\x01b", "timestamp": "{STAMP}"}}\n\n',
    "a raw tab": f'data: {{"data": "a\tb", "timestamp": "{STAMP}"}}\n\n',
    "a raw DEL": f'data: {{"data": "a\x7fb", "timestamp": "{STAMP}"}}\n\n',
    "a raw line end in a text": f'data: {{"data": "a\nb", "timestamp": "{STAMP}"}}\n\n',
    "a raw line end that starts an event": f'data: {{"data": "a\ndata: {{", "timestamp": "{STAMP}"}}\n\n',
    "a line separator U+2028": usual("a\u2028b"),
    "a next line U+0085": usual("a\x85b"),
    "a no-break space": usual("a\xa0b"),
    "an escaped quote": "data: " + json.dumps({"data": 'a "q"', "timestamp": STAMP}) + "\n\n",
    "an escaped backslash": "data: " + json.dumps({"data": "a\\b", "timestamp": STAMP}) + "\n\n",
    "ANSI colours": "data: " + json.dumps({"data": "\x1b[32mok\x1b[0m", "timestamp": STAMP}) + "\n\n",
    "ASCII escapes of non-ASCII": "data: " + json.dumps({"data": "é😀", "timestamp": STAMP}) + "\n\n",
    "an escaped stamp": f'data: {{"data": "a", "timestamp": "{STAMP[:-1]}\\u005a"}}\n\n',
    "another stamp": usual("a", OTHER),
    "a stamp that is no time": usual("a", "yesterday"),
    "another key": "data: " + json.dumps({"data": "a", "timestamp": STAMP, "level": "info"}) + "\n\n",
    "the keys the other way": "data: " + json.dumps({"timestamp": STAMP, "data": "a"}) + "\n\n",
    "no spaces": "data: " + json.dumps({"data": "a", "timestamp": STAMP}, separators=(",", ":")) + "\n\n",
    "a misspelt key, empty text": f'data: {{"datb": "", "timestamp": "{STAMP}"}}\n\n',
    "a number for text": f'data: {{"data": 5, "timestamp": "{STAMP}"}}\n\n',
    "not JSON": "data: {not json}\n\n",
    "no blank line after it": f'data: {{"data": "a", "timestamp": "{STAMP}"}}\n',
    "two blank lines after it": f'data: {{"data": "a", "timestamp": "{STAMP}"}}\n\n\n',
    "a keep-alive": ": keep-alive\n\n",
    "an event line": "event: log\n",
    "no space after data:": f'data:{{"data": "a", "timestamp": "{STAMP}"}}\n\n',
    "two spaces after data:": f'data:  {{"data": "a", "timestamp": "{STAMP}"}}\n\n',
}


@pytest.mark.parametrize("line", BREAKERS.values(), ids=BREAKERS.keys())
def test_a_line_breaking_one_condition_sends_the_run_the_general_way(line: str) -> None:
    body = run_of(200) + line + run_of(200, STAMP, 200)
    run = burst_at(body, 0)
    assert run is None or run.end <= len(run_of(200)), "a run was taken across the odd line"
    assert decode(body.encode()) == reference_events(body)
    # The same line alone, first, last, last after a run of another stamp, and between two runs.
    others = run_of(200, OTHER)
    for variant in (line, line + run_of(200), run_of(200) + line, others + line, others + line + run_of(200)):
        assert decode(variant.encode()) == reference_events(variant), variant[:200]


def test_a_stamp_that_is_no_time_gives_none_for_the_run() -> None:
    body = run_of(100, "not a time") + run_of(100)
    got = decode(body.encode())
    assert got == reference_events(body)
    assert got[:100] == [None] * 100
    assert None not in got[100:]


@pytest.mark.parametrize(
    "stamp",
    [
        "2025-07-22\n16:06:32.000Z",  # Python reads any one character between date and time: a line end too
        "2025-07-22\x0116:06:32.000Z",
        "2025-07-22\u202816:06:32.000Z",
        "2025-07-22\\16:06:32.000Z",  # one backslash: no JSON escape, the line is malformed
        "2025-07-22\\u005416:06:32.000Z",  # an escaped T: valid, and read as the JSON says
    ],
    ids=["line end", "control character", "line separator", "bad escape", "escaped T"],
)
def test_a_runs_stamp_is_taken_raw_only_when_plain(stamp: str) -> None:
    body = "".join(f'data: {{"data": "line {i}", "timestamp": "{stamp}"}}\n\n' for i in range(100)) + run_of(100)
    assert decode(body.encode()) == reference_events(body)


SAMPLE = run_of(3) + usual("é€😀 naïve") + usual("") + run_of(2, OTHER, 3) + usual("last")


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_a_run_cut_at_every_byte_reads_the_same(ending: str) -> None:
    """Two chunks, the border at every byte: inside ``data:``, inside the JSON, inside a UTF-8 sequence, between
    CR and LF, in the blank line; the unterminated last line too (the body without its final line end)."""
    body = SAMPLE.replace("\n", ending)
    raw = body.encode()
    expected = reference_events(body)
    assert len(expected) == 8
    assert None not in expected
    for cut in range(len(raw) + 1):
        assert decode(raw, (cut,)) == expected, cut
    for cut in range(0, len(raw), 7):  # three chunks, and no final line end
        assert decode(raw.rstrip(b"\r\n"), (cut, min(cut + 5, len(raw) - 2))) == expected, cut


def test_a_very_long_line_in_a_run_across_many_chunks() -> None:
    long = "x" * 3_000_000 + "é"
    body = run_of(100) + usual(long) + run_of(100, STAMP, 100)
    raw = body.encode()
    cuts = tuple(range(1000, len(raw), 65_536))
    got = decode(raw, cuts)
    assert got == reference_events(body)
    assert got[100] == LogLine(got[0].timestamp, long)  # type: ignore[union-attr]


def test_lines_each_stamped_alone_stop_the_runs_early(monkeypatch: pytest.MonkeyPatch) -> None:
    """A log whose every line has its own timestamp is decoded the general way after two short runs a chunk: the
    run search is not paid for every line."""
    import hfjobs_mcp.api.log_events as log_events

    calls = 0

    def counting(text: str, pos: int) -> object:
        nonlocal calls
        calls += 1
        return burst_at(text, pos)

    monkeypatch.setattr(log_events, "burst_at", counting)
    body = "".join(usual(f"line {i}", f"2025-07-22T16:06:{i // 1000:02d}.{i % 1000:03d}Z") for i in range(2000))
    assert decode(body.encode()) == reference_events(body)
    assert calls <= 3
    assert MIN_RUN > 1


def test_sse_lines_hand_over_whole_lines_only() -> None:
    """The burst path relies on it: a chunk's text ends at a line end, so a run's last line is never cut."""
    lines = SseLines()
    raw = run_of(3).encode()
    outs = [lines.feed(raw[i : i + 5]) for i in range(0, len(raw), 5)]
    assert all(out == "" or out.endswith("\n") for out in outs)
    assert "".join(outs) + lines.flush() == run_of(3)
