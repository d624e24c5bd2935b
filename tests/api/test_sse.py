"""The SSE reader (``hfjobs_mcp.api.sse``, wire §6.1) and the metrics stream, its other user besides the log follower.

Bodies arrive cut at odd byte boundaries: a line is never handed out in pieces, whatever the cut; line ends are CR,
LF or CRLF; invalid UTF-8 is replaced, not fatal; only ``data: {`` lines are events.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import AsyncIterator

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hfjobs_mcp.api.sse import SseLines, data_payloads
from hfjobs_mcp.errors import NotFoundError, TransportError
from tests.api.fakes import make_client

pytestmark = pytest.mark.anyio

LINE = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), max_size=20),
    st.sampled_from([": keep-alive", "event: metric", "", 'data: {"a": 1}', 'data:{"b": 2}', "data: [1]", "\u2028x"]),
)


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(LINE, max_size=20),
    ending=st.sampled_from(["\n", "\r\n", "\r"]),
    last_ended=st.booleans(),
    cuts=st.lists(st.integers(min_value=0, max_value=600), max_size=8),
)
def test_lines_come_whole_at_any_chunking(lines: list[str], ending: str, last_ended: bool, cuts: list[int]) -> None:
    body = ending.join(lines) + (ending if last_ended and lines else "")
    raw = body.encode()
    bounds = sorted({min(c, len(raw)) for c in cuts} | {0, len(raw)})
    reader = SseLines()
    pieces = [reader.feed(raw[a:b]) for a, b in itertools.pairwise(bounds)]
    pieces.append(reader.flush())
    assert all(piece == "" or piece.endswith("\n") for piece in pieces[:-1])  # never a line in two pieces
    got = "".join(pieces)

    # A CR cut from its LF by a chunk border may add a blank line, which SSE ignores: compare the non-blank lines.
    def non_blank(text: str) -> list[str]:
        return [line for line in re.split(r"\r\n|\r|\n", text) if line]

    assert non_blank(got) == non_blank(body)
    assert data_payloads(got) == [line[6:] for line in non_blank(body) if line.startswith("data: {")]


def test_invalid_utf8_is_replaced_and_a_multibyte_character_cut_by_a_chunk_survives() -> None:
    reader = SseLines()
    text = 'data: {"data": "é€😀"}\n'.encode()
    got = "".join(reader.feed(text[i : i + 1]) for i in range(len(text)))  # every character split
    assert got == 'data: {"data": "é€😀"}\n'
    assert reader.feed(b"data: {\xff\xfe}\n") == "data: {\ufffd\ufffd}\n"
    assert reader.feed(b"data: {unterminated") == ""
    assert reader.flush() == "data: {unterminated"
    assert reader.flush() == ""


async def _consume(stream: AsyncIterator[object], into: list[object]) -> None:
    """Read a stream into ``into`` (what arrived before an error stays there)."""
    async for item in stream:
        into.append(item)


# --- the metrics stream ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [406, 500])
async def test_metrics_of_a_finished_job_are_empty(status: int) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json={"error": "Job is not running"})

    async with make_client(handler, namespace="alice") as client:
        assert [s async for s in client.stream_metrics("abc")] == []


async def test_metrics_errors_and_cuts() -> None:
    def missing(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(404, json={"error": "Job not found"})

    async with make_client(missing, namespace="alice") as client:
        with pytest.raises(NotFoundError):
            _ = [s async for s in client.stream_metrics("abc")]

    async def cut() -> AsyncIterator[bytes]:
        yield b'event: metric\ndata: {"cpu_usage_pct": 5}\n\n'
        raise httpx2.ReadError("reset")

    async with make_client(lambda r: httpx2.Response(200, content=cut()), namespace="alice") as client:
        got: list[object] = []
        with pytest.raises(TransportError):
            await _consume(client.stream_metrics("abc"), got)
    assert [sample.cpu_usage_pct for sample in got] == [5]  # type: ignore[attr-defined]


async def test_metrics_events_cut_anywhere_are_read_whole() -> None:
    body = (
        b'event: metric\ndata: {"cpu_usage_pct": 5, "gpus": {}}\n\n'
        b": keep-alive\n\ndata: {bad\n\n"
        b'data: {"cpu_usage_pct": 7}\n\n'
    )

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(len(body)):
            yield body[i : i + 1]

    async with make_client(lambda r: httpx2.Response(200, content=chunks()), namespace="alice") as client:
        samples = [s.cpu_usage_pct async for s in client.stream_metrics("abc")]
    assert samples == [5, 7]
