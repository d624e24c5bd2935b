"""The log stream decoder (``hfjobs_mcp.api.log_events``): one regular-expression pass for the usual event, ``json``
for the rest, and the same events as the wire spec read literally (§6.1), one line at a time, at any chunking.

The follower counts raw events to skip what it has seen after a reconnection, so the decoder must give one entry per
``data: {`` line, None for the same events as that reading, whichever path decoded them; and the fast path must be
the one the usual events take (it is what makes a follow fast: bench/follow_throughput.py).
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hfjobs_mcp.api import LogBatch, LogLine
from hfjobs_mcp.api.log_events import LogDecoder
from tests.api.fakes import reference_events

STAMPS = st.sampled_from(
    ["2025-07-22T16:06:32.000Z", "2025-07-22T16:06:32.001Z", "2026-01-01T00:00:00.5Z", "bad", "", "2025-13-01"]
)
TEXTS = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "plain", 'a "quote"', "back\\slash", "tab\there", "\u2028", "a\x1cb", "\x85", "é€😀", "\x7f"]),
)
EVENT = st.one_of(
    # The local backend's (and the Hub's) shape: the fast path when the text needs no escape.
    st.builds(lambda t, s: "data: " + json.dumps({"data": t, "timestamp": s}, ensure_ascii=False), TEXTS, STAMPS),
    st.builds(lambda t, s: "data: " + json.dumps({"data": t, "timestamp": s}), TEXTS, STAMPS),  # \\uXXXX escapes
    # Other shapes of a valid event: other spacing, other key order, another key, all decoded alone.
    st.builds(lambda t, s: "data: " + json.dumps({"data": t, "timestamp": s}, separators=(",", ":")), TEXTS, STAMPS),
    st.builds(lambda t, s: "data: " + json.dumps({"timestamp": s, "data": t}), TEXTS, STAMPS),
    st.builds(lambda t, s: "data: " + json.dumps({"data": t, "timestamp": s, "level": "info"}), TEXTS, STAMPS),
    # Lines that look almost canonical but are not valid JSON: a raw control character, a trailing comma.
    st.builds(lambda t, s: f'data: {{"data": "{t}\x01", "timestamp": "{s}"}}', st.text("abc", max_size=3), STAMPS),
    st.builds(
        lambda t: f'data: {{"data": "{t}", "timestamp": "2025-07-22T16:06:32.000Z",}}', st.text("ab", max_size=3)
    ),
    st.sampled_from(
        [
            ": keep-alive",
            "event: metric",
            "",
            'data:{"data": "no space", "timestamp": "2025-07-22T16:06:32.000Z"}',
            'data:  {"data": "two spaces", "timestamp": "2025-07-22T16:06:32.000Z"}',
            'data: {"data": "truncated", "time',
            'data: {"data": "a", "timestamp": "2025-07-22T16:06:32.000Z"}, {"data": "b", "timestamp": "x"}',
            'data: {"data": "a", "timestamp": "2025-07-22T16:06:32.000Z"} ',
            'data: {"data": 1, "timestamp": "2025-07-22T16:06:32.000Z"}',
            'data: {"data": "dup", "data": "last wins", "timestamp": "2025-07-22T16:06:32.000Z"}',
            "data: {}",
            "data: [1]",
            'x data: {"data": "not at the line start", "timestamp": "2025-07-22T16:06:32.000Z"}',
        ]
    ),
)


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(
    events=st.lists(EVENT, max_size=30),
    ending=st.sampled_from(["\n", "\r\n", "\n\n", "\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=8),
)
def test_decoder_reads_what_the_line_by_line_reading_reads(events: list[str], ending: str, cuts: list[int]) -> None:
    """Whatever the chunking, the decoder's events are the reference's, one for one: the same log lines, None for
    the same events, so a reconnection skips the same count of events whichever path decoded them."""
    body = "".join(e + ending for e in events)
    raw = body.encode()
    bounds = sorted({min(c, len(raw)) for c in cuts} | {0, len(raw)})
    decoder = LogDecoder()
    parts = [decoder.feed(raw[a:b]) for a, b in itertools.pairwise(bounds)] + [decoder.flush()]
    got = [LogLine(w, t) if w is not None and t is not None else None for p in parts for w, t in p.pairs()]
    assert got == reference_events(body)
    for part in parts:
        assert part.clean == (None not in part.texts)
        assert list(part.lines()) == [LogLine(w, t) for w, t in part.pairs() if w is not None and t is not None]


def test_decoder_survives_invalid_utf8_and_an_unterminated_last_line() -> None:
    decoder = LogDecoder()
    good = b'data: {"data": "ok", "timestamp": "2025-07-22T16:06:32.000Z"}\n'
    bad = b'data: {"data": "\xff\xfe", "timestamp": "2025-07-22T16:06:32.000Z"}\n'
    events = decoder.feed(good + bad + good[:-1])
    assert events.texts == ["ok", "\ufffd\ufffd"]
    assert decoder.flush().texts == ["ok"]


def test_the_usual_event_takes_the_fast_path_and_others_decode_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    def one_at_a_time(*args: object) -> None:
        raise AssertionError("decoded one event at a time")

    decoder = LogDecoder()
    monkeypatch.setattr(decoder, "_event", one_at_a_time)  # until the mixed chunk below
    stamp = "2025-07-22T16:06:32.000Z"
    plain = "".join(f'data: {{"data": "line {i}", "timestamp": "{stamp}"}}\n\n' for i in range(1000)).encode()
    fast = decoder.feed(plain)
    assert fast.clean
    assert fast.texts == [f"line {i}" for i in range(1000)]
    assert len({id(w) for w in fast.timestamps}) == 1  # one parse for the 1000 lines sharing a timestamp
    batch = fast.lines()
    assert isinstance(batch[2:5], LogBatch)
    assert list(batch[2:5]) == [LogLine(fast.timestamps[0], f"line {i}") for i in (2, 3, 4)]  # type: ignore[arg-type]
    assert batch[-1].text == "line 999"
    escaped = "".join(
        "data: " + json.dumps({"data": f'\x1b[32mINFO\x1b[0m\t{i} "q" \\ é', "timestamp": stamp}) + "\n\n"
        for i in range(100)
    )
    colours = decoder.feed(escaped.encode())
    assert colours.clean  # escapes (ANSI colours, tabs, quotes, \\uXXXX) stay on the column-at-a-time path
    assert colours.texts == [f'\x1b[32mINFO\x1b[0m\t{i} "q" \\ é' for i in range(100)]
    monkeypatch.undo()
    mixed = decoder.feed(
        b'data: {"data": "a\\"b", "timestamp": "2025-07-22T16:06:32.000Z"}\n'
        b"data: {broken\n"
        b'data: {"data": "bad \\x escape", "timestamp": "2025-07-22T16:06:32.000Z"}\n'
        b'data: {"data": "c", "timestamp": "2025-07-22T16:06:32.000Z"}\n'
    )
    assert mixed.texts == ['a"b', None, None, "c"]
    assert not mixed.clean
    assert mixed.lines().texts == ['a"b', "c"]
