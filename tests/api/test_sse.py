"""Logs and metrics over SSE (wire §6): parsing, the one-shot cut-off, and follow mode across reconnects.

Bodies come from async generators cut at odd byte boundaries, so every line is split across chunks somewhere.
Follow mode is exercised against a server that replays the whole history on every connection, adds lines, and
cuts the stream (cleanly or with a read error); nothing may be lost or repeated.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx2
import pytest

from hfjobs_mcp.api import LogLine
from hfjobs_mcp.api.sse import collect_matching, collect_since, collect_tail, data_events, within
from hfjobs_mcp.errors import NotFoundError, ServerError, TransportError, UnauthorizedError
from tests.api.fakes import FakeSleep, chunked, http_date, job_json, make_client, sse_event, sse_response

pytestmark = pytest.mark.anyio

BANNER = "===== Job started at 2025-07-22 16:06:31 ====="


async def _consume(stream: AsyncIterator[object], into: list[object]) -> None:
    """Read a stream into ``into`` (what arrived before an error stays there)."""
    async for item in stream:
        into.append(item)


async def _lines(text: str, sizes: tuple[int, ...]) -> AsyncIterator[str]:
    response = httpx2.Response(200, content=chunked(text.encode(), sizes))
    async for line in response.aiter_lines():
        yield line


@pytest.mark.parametrize("sizes", [(1,), (2, 3), (7, 1, 13), (4096,)])
async def test_data_events_only_parse_data_space_brace(sizes: tuple[int, ...]) -> None:
    text = (
        ": keep-alive\n\n"
        "event: metric\n"
        'data: {"a": 1}\n\n'
        'data:{"b": 2}\n\n'  # no space: ignored (wire §6.1)
        "data: [1, 2]\n\n"  # not an object
        "data: {broken json\n\n"
        "retry: 100\n"
        'data: {"c": "é ✓"}\r\n\r\n'
        'data: {"d": 4}'  # no trailing newline at EOF
    )
    events = [e async for e in data_events(_lines(text, sizes))]
    assert events == [{"a": 1}, {"c": "é ✓"}, {"d": 4}]


async def test_no_follow_reads_the_replay_and_stops_after_date() -> None:
    now = float(int(time.time()))
    body = (
        ": keep-alive\n\n"
        + sse_event(BANNER, now - 10)
        + sse_event("first", now - 5)
        + "event: log\n"
        + 'data:{"data": "no space", "timestamp": "2025-01-01T00:00:00.000Z"}\n\n'
        + ": keep-alive\n\n"
        + sse_event("second", now + 0.5)
        + sse_event("live, after the cut-off", now + 1.5)
        + sse_event("never read", now + 0.2)
    )
    seen: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request)
        return sse_response(body, date=now)

    async with make_client(handler, namespace="alice") as client:
        lines = [line async for line in client.stream_logs("abc")]
        assert [line.text for line in lines] == ["first", "second"]
        assert lines[0].timestamp == datetime.fromtimestamp(now - 5, UTC)
        await client.stream_logs("myorg/abc", tail=2).__anext__()
    assert [str(r.url) for r in seen] == [
        "https://hub.test/api/jobs/alice/abc/logs",
        "https://hub.test/api/jobs/myorg/abc/logs?tail=2",
    ]
    assert "text/event-stream" not in seen[0].headers.get("accept", "")


async def test_banner_dropped_only_as_first_event() -> None:
    now = time.time()
    body = sse_event(BANNER, now - 3) + sse_event("x", now - 2) + sse_event("===== Job started (quoted)", now - 1)
    async with make_client(lambda r: sse_response(body), namespace="alice") as client:
        texts = [line.text async for line in client.stream_logs("abc")]
    assert texts == ["x", "===== Job started (quoted)"]


@pytest.mark.parametrize(("status", "error"), [(401, UnauthorizedError), (404, NotFoundError), (500, ServerError)])
@pytest.mark.parametrize("follow", [False, True])
async def test_error_status_on_the_stream_raises(status: int, error: type[Exception], follow: bool) -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(status, json={"error": "Job not found" if status == 404 else "nope"})

    async with make_client(handler, namespace="alice") as client:
        with pytest.raises(error) as info:
            _ = [line async for line in client.stream_logs("abc", follow=follow)]
    if status == 404:
        assert "Job not found" in info.value.message  # type: ignore[attr-defined]
        assert "namespace" in (info.value.hint or "")  # type: ignore[attr-defined]


async def test_stream_open_is_retried_on_503_and_429() -> None:
    now = time.time()
    answers = [
        httpx2.Response(503, json={"error": "busy"}),
        httpx2.Response(429, headers={"retry-after": "3"}, json={"error": "slow down"}),
        None,
    ]

    def handler(request: httpx2.Request) -> httpx2.Response:
        answer = answers.pop(0)
        return answer if answer is not None else sse_response(sse_event("ok", now - 1))

    sleep = FakeSleep()
    async with make_client(handler, namespace="alice", sleep=sleep) as client:
        assert [line.text async for line in client.stream_logs("abc")] == ["ok"]
    assert len(sleep.delays) == 2
    assert sleep.delays[1] == 3.0


async def test_no_follow_cut_stream_is_a_transport_error() -> None:
    async def body() -> AsyncIterator[bytes]:
        yield sse_event("one", time.time() - 1).encode()
        raise httpx2.ReadError("connection reset")

    async with make_client(lambda r: httpx2.Response(200, content=body()), namespace="alice") as client:
        got: list[object] = []
        with pytest.raises(TransportError):
            await _consume(client.stream_logs("abc"), got)
    assert [line.text for line in got] == ["one"]  # type: ignore[attr-defined]


# --- follow mode ---------------------------------------------------------------------------------------------


class GrowingLog:
    """A job whose log grows by ``per_connection`` lines during each stream, which is then cut.

    Every connection replays the whole history (wire §6.1) before the new lines. The job stays RUNNING for
    ``running_polls`` inspections; just before it reports COMPLETED, ``late`` more lines are written (after the
    last stream closed), which only the final pass can deliver.
    """

    def __init__(self, *, running_polls: int, cut: str, per_connection: int = 2, late: int = 2, start: int = 3):
        self.t0 = time.time() - 100
        self.lines: list[tuple[float, str]] = [(self.t0, BANNER)]
        self.running_polls = running_polls
        self.cut = cut
        self.per_connection = per_connection
        self.late = late
        self.polls = 0
        self.finished = False
        self.requests: list[httpx2.Request] = []
        self.connections = 0
        for _ in range(start):
            self.write()

    def write(self) -> None:
        n = len(self.lines)
        self.lines.append((self.t0 + n * 0.5, f"line {n}"))

    def expected(self) -> list[str]:
        return [text for _, text in self.lines[1:]]

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if request.url.path.endswith("/logs"):
            return self._logs(request)
        self.polls += 1
        if self.polls > self.running_polls and not self.finished:
            for _ in range(self.late):
                self.write()
            self.finished = True
        return httpx2.Response(
            200, json=job_json("abc", stage="COMPLETED" if self.finished else "RUNNING"), headers={"date": http_date()}
        )

    def _logs(self, request: httpx2.Request) -> httpx2.Response:
        self.connections += 1
        tail = request.url.params.get("tail")
        replay = list(self.lines) if tail is None else self.lines[-int(tail) :] if int(tail) else []
        log = self

        async def body() -> AsyncIterator[bytes]:
            data = ": keep-alive\n\n" + "".join(sse_event(text, at) for at, text in replay)
            async for chunk in chunked(data.encode(), (5, 17, 2)):
                yield chunk
            if log.finished:
                return  # a finished job's stream ends after the replay
            for _ in range(log.per_connection):  # live lines while the job runs
                log.write()
                at, text = log.lines[-1]
                yield sse_event(text, at).encode()
            if log.cut == "error":
                yield b'data: {"data": "half a li'  # the connection dies mid-line
                raise httpx2.ReadError("connection reset by peer")
            yield b": keep-alive\n\n"

        return httpx2.Response(200, headers={"content-type": "text/event-stream", "date": http_date()}, content=body())


@pytest.mark.slow
@pytest.mark.parametrize("cut", ["eof", "error"])
@pytest.mark.parametrize("running_polls", [0, 1, 4])
async def test_follow_reconnects_without_loss_or_repeat(cut: str, running_polls: int) -> None:
    log = GrowingLog(running_polls=running_polls, cut=cut)
    sleep = FakeSleep()
    async with make_client(log, namespace="alice", sleep=sleep) as client:
        texts = [line.text async for line in client.stream_logs("abc", follow=True)]
    assert texts == log.expected()  # every line once, in order, the late ones included
    assert len(texts) == len(set(texts))
    assert log.finished
    assert texts[-log.late :] == log.expected()[-log.late :]
    assert all("tail" not in r.url.params for r in log.requests)
    assert len(sleep.delays) == running_polls  # waited between polls, but never really


async def test_follow_with_tail_then_reconnect() -> None:
    log = GrowingLog(running_polls=2, cut="error", start=6)
    before = log.expected()
    async with make_client(log, namespace="alice") as client:
        texts = [line.text async for line in client.stream_logs("abc", follow=True, tail=2)]
    assert texts[:2] == before[-2:]
    assert texts == log.expected()[len(before) - 2 :]
    assert len(texts) == len(set(texts))
    logs = [r for r in log.requests if r.url.path.endswith("/logs")]
    assert logs[0].url.params.get("tail") == "2"
    assert all("tail" not in r.url.params for r in logs[1:])


async def test_follow_with_tail_zero_on_a_finished_job_replays_nothing_old() -> None:
    log = GrowingLog(running_polls=0, cut="eof", start=5, late=0)
    log.finished = True
    async with make_client(log, namespace="alice") as client:
        texts = [line.text async for line in client.stream_logs("abc", follow=True, tail=0)]
    assert texts == []


async def test_follow_with_repeated_identical_lines_after_tail() -> None:
    """Lines equal in text and time are told apart by count, not swallowed."""
    t = time.time() - 50
    history = [(t, BANNER), (t + 1, "same"), (t + 1, "same"), (t + 1, "same"), (t + 2, "after")]
    calls = {"logs": 0, "job": 0}

    def handler(request: httpx2.Request) -> httpx2.Response:
        if request.url.path.endswith("/logs"):
            calls["logs"] += 1
            tail = request.url.params.get("tail")
            shown = history[-int(tail) :] if tail else history
            if tail:
                shown = shown[:2]  # the tail read is cut after two of the three copies
            return sse_response("".join(sse_event(x, at) for at, x in shown))
        calls["job"] += 1
        return httpx2.Response(200, json=job_json(stage="RUNNING" if calls["job"] < 2 else "COMPLETED"))

    async with make_client(handler, namespace="alice") as client:
        texts = [line.text async for line in client.stream_logs("abc", follow=True, tail=4)]
    assert texts == ["same", "same", "same", "after"]


async def test_follow_gives_up_after_repeated_failures() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if not request.url.path.endswith("/logs"):
            return httpx2.Response(200, json=job_json(stage="RUNNING"))

        async def body() -> AsyncIterator[bytes]:
            raise httpx2.RemoteProtocolError("peer closed connection")
            yield b""  # pragma: no cover

        return httpx2.Response(200, content=body())

    sleep = FakeSleep()
    async with make_client(handler, namespace="alice", sleep=sleep) as client:
        with pytest.raises(TransportError):
            _ = [line async for line in client.stream_logs("abc", follow=True)]
    assert sleep.delays == [1.0, 2.0, 4.0, 8.0, 10.0]


async def test_early_close_releases_the_stream() -> None:
    log = GrowingLog(running_polls=100, cut="eof", start=10)
    async with make_client(log, namespace="alice") as client:
        stream = client.stream_logs("abc", follow=True)
        first = [await stream.__anext__() for _ in range(3)]
        await stream.aclose()  # type: ignore[attr-defined]
    assert [line.text for line in first] == log.expected()[:3]
    assert log.connections == 1


# --- metrics -------------------------------------------------------------------------------------------------


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


# --- bounded collectors --------------------------------------------------------------------------------------


async def _many(n: int, start: datetime) -> AsyncIterator[LogLine]:
    for i in range(n):
        yield LogLine(timestamp=start + timedelta(seconds=i), text=f"line {i}" + (" ERROR" if i % 1000 == 0 else ""))


@pytest.mark.slow
async def test_collectors_return_the_last_lines() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    lines, cut = await collect_tail(_many(20_000, start), 3)
    assert [x.text for x in lines] == ["line 19997", "line 19998", "line 19999"]
    assert cut
    lines, cut = await collect_tail(_many(2, start), 3)
    assert len(lines) == 2
    assert not cut
    lines, cut = await collect_since(_many(100, start), within(10, now=start + timedelta(seconds=99)), 50)
    assert lines[0].text == "line 89"
    assert len(lines) == 11
    assert not cut
    lines, cut = await collect_matching(_many(20_000, start), "ERROR", 2)
    assert [x.text for x in lines] == ["line 18000 ERROR", "line 19000 ERROR"]
    assert cut
    lines, cut = await collect_matching(_many(3000, start), r"^line \d*0 ERROR$", 5, regex=True)
    assert [x.text for x in lines] == ["line 0 ERROR", "line 1000 ERROR", "line 2000 ERROR"]
    assert not cut


def test_sse_event_helper_is_wire_shaped() -> None:
    line = sse_event("hi", 0)
    assert line.startswith('data: {"data": "hi", "timestamp": "1970-01-01T00:00:00.000Z"}')
    assert json.loads(line[6:])["timestamp"].endswith("Z")


async def test_collectors_edge_sizes() -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert await collect_tail(_many(5, start), 0) == ([], True)
    assert await collect_tail(_many(0, start), 0) == ([], False)
    assert await collect_tail(_many(5, start), -1) == ([], True)
    lines, cut = await collect_tail(_many(5, start), 5)
    assert len(lines) == 5
    assert not cut
    assert await collect_matching(_many(5, start), "nothing", 3) == ([], False)
