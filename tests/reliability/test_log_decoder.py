"""The batch log decoder (``hfjobs_mcp.api.sse.LogDecoder``) reads exactly what the line-by-line reader reads, however
the body is cut into chunks.

Why here: bench/follow_throughput.py made log following decode a chunk at a time (one ``json.loads`` per chunk,
raw event counting so that a reconnection skips seen events undecoded). Whatever the speed, a follow must yield the
same lines as before: this property test draws SSE bodies mixing log events, keep-alives, ``event:`` lines,
malformed and multi-value ``data:`` lines, odd line ends, then cuts them at random places and compares the decoder
with the reference (``data_events`` + ``log_line`` over ``aiter_lines``-style lines).
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import AsyncIterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hfjobs_mcp.api.models import LogLine
from hfjobs_mcp.api.sse import LogDecoder, data_events, log_line

pytestmark = pytest.mark.anyio

STAMPS = st.sampled_from(["2025-07-22T16:06:32.000Z", "2025-07-22T16:06:32.001Z", "2026-01-01T00:00:00.5Z", "bad"])
EVENT = st.one_of(
    st.builds(lambda t, s: "data: " + json.dumps({"data": t, "timestamp": s}), st.text(max_size=12), STAMPS),
    st.builds(
        lambda t, s: "data: " + json.dumps({"data": t, "timestamp": s}, ensure_ascii=False),
        st.one_of(st.text(), st.sampled_from(["\u2028", "a\x1cb", "\x85", "é€😀"])),
        STAMPS,
    ),
    st.sampled_from(
        [
            ": keep-alive",
            "event: metric",
            "",
            'data:{"data": "no space", "timestamp": "2025-07-22T16:06:32.000Z"}',
            'data: {"data": "truncated", "time',
            'data: {"data": "a", "timestamp": "2025-07-22T16:06:32.000Z"}, {"data": "b", "timestamp": "x"}',
            'data: {"data": 1, "timestamp": "2025-07-22T16:06:32.000Z"}',
            "data: {}",
            "data: [1]",
        ]
    ),
)


def _split(body: str) -> list[str]:
    """Lines as httpx's line decoder cuts them: at CR, LF or CRLF only (not at U+2028 and the like)."""
    lines = re.split(r"\r\n|\r|\n", body)
    return lines[:-1] if lines and lines[-1] == "" else lines


def _reference(body: str) -> list[LogLine]:
    async def lines() -> AsyncIterator[str]:
        for line in _split(body):
            yield line

    async def collect() -> list[LogLine]:
        out = []
        async for event in data_events(lines()):
            line = log_line(event)
            if line is not None:
                out.append(line)
        return out

    import anyio

    return anyio.run(collect)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(EVENT, max_size=30),
    ending=st.sampled_from(["\n", "\r\n", "\n\n"]),
    cuts=st.lists(st.integers(min_value=0, max_value=4000), max_size=8),
)
def test_decoder_matches_the_line_reader_at_any_chunking(events: list[str], ending: str, cuts: list[int]) -> None:
    body = "".join(e + ending for e in events)
    raw = body.encode()
    bounds = sorted({min(c, len(raw)) for c in cuts} | {0, len(raw)})
    decoder = LogDecoder()
    payloads: list[bytes] = []
    for start, end in itertools.pairwise(bounds):
        payloads += decoder.payloads(raw[start:end])
    payloads += decoder.flush()
    assert len(payloads) == sum(1 for line in _split(body) if line.startswith("data: {"))
    decoded = [line for line in decoder.lines(payloads) if line is not None] if payloads else []
    assert decoded == _reference(body)


def test_decoder_survives_invalid_utf8_and_an_unterminated_last_line() -> None:
    decoder = LogDecoder()
    good = b'data: {"data": "ok", "timestamp": "2025-07-22T16:06:32.000Z"}\n'
    bad = b'data: {"data": "\xff\xfe", "timestamp": "2025-07-22T16:06:32.000Z"}\n'
    payloads = decoder.payloads(good + bad + good[:-1]) + decoder.flush()
    lines = decoder.lines(payloads)
    assert [line.text if line else None for line in lines] == ["ok", "\ufffd\ufffd", "ok"]
