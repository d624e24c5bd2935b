"""The log follower (``hfjobs_mcp.api.logs``, wire §6): one-shot reads, follow mode across reconnects, batches,
and attacks on them.

- Bodies come from async generators cut at odd byte boundaries, so every line is split across chunks somewhere.
- Follow mode runs against fakes that replay the whole history on every connection, add lines and cut the stream
  (cleanly, with a read error, mid-line), and keep the job RUNNING after its stream ended; nothing may be lost or
  repeated, and the waits are the documented ones (recorded, never slept).
- The decoder itself (``hfjobs_mcp.api.log_events``): tests/api/test_log_events.py.
- Against the real local backend: cuts of a running job's stream, 4 and 100 of them, and the benchmark's
  200,000-line job cut mid-replay, read through the batch path and line by line.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx2
import pytest

from hfjobs_mcp.api import JobsClient, JobSpec, LogBatch, LogLine, RetryPolicy
from hfjobs_mcp.errors import NotFoundError, ServerError, TransportError, UnauthorizedError
from tests.api.fakes import (
    NO_WAIT,
    FakeSleep,
    chunked,
    http_date,
    iso,
    job_json,
    make_client,
    reference_events,
    sse_event,
    sse_response,
)

pytestmark = pytest.mark.anyio

BANNER = "===== Job started at 2025-07-22 16:06:31 ====="


async def _consume(stream: AsyncIterator[object], into: list[object]) -> None:
    """Read a stream into ``into`` (what arrived before an error stays there)."""
    async for item in stream:
        into.append(item)


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


@pytest.mark.parametrize("cut", ["eof", "error"])
@pytest.mark.parametrize("running_polls", [0, 1, 4, 7])  # 7: 8 drops, more than the 5 attempts, each after progress
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
    if cut == "eof":  # a pause per poll that found the job running: 2 s, as every pass brought lines (never slept)
        assert sleep.delays == [2.0] * running_polls
    else:  # each drop: the retry loop's first backoff (every connection brought lines), then the job is asked
        assert len(sleep.delays) == running_polls + 1
        assert all(0.25 <= d <= 0.5 for d in sleep.delays)


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
        with pytest.raises(TransportError) as info:
            _ = [line async for line in client.stream_logs("abc", follow=True)]
    assert "kept failing: RemoteProtocolError" in info.value.message
    # The client's one retry policy (tests.api.fakes.NO_WAIT: 5 attempts, 0.5 s doubling, jittered): 4 waits.
    assert len(sleep.delays) == NO_WAIT.attempts - 1
    for attempt, delay in enumerate(sleep.delays, start=1):
        cap = min(NO_WAIT.max_delay, NO_WAIT.base_delay * 2 ** (attempt - 1))
        assert cap / 2 <= delay <= cap


async def test_early_close_releases_the_stream() -> None:
    log = GrowingLog(running_polls=100, cut="eof", start=10)
    async with make_client(log, namespace="alice") as client:
        stream = client.stream_logs("abc", follow=True)
        first = [await stream.__anext__() for _ in range(3)]
        await stream.aclose()  # type: ignore[attr-defined]
    assert [line.text for line in first] == log.expected()[:3]
    assert log.connections == 1


async def test_batches_carry_the_same_lines_as_columns() -> None:
    log = GrowingLog(running_polls=2, cut="error", start=40)
    async with make_client(log, namespace="alice") as client:
        batches = [batch async for batch in client.log_batches("abc", follow=True)]
    assert all(isinstance(b, LogBatch) and len(b) > 0 for b in batches)
    texts = [text for batch in batches for text in batch.texts]
    assert texts == log.expected()
    lines = [line for batch in batches for line in batch]  # iterating a batch gives LogLine objects
    assert [line.text for line in lines] == texts
    assert [line.timestamp for line in lines] == [when for batch in batches for when in batch.timestamps]
    assert lines[0] == LogLine(datetime.fromisoformat(iso(log.t0 + 0.5)), "line 1")  # to the millisecond, as sent
    assert batches[0][0] == lines[0]


async def test_a_run_of_lines_split_at_every_byte_reads_the_same() -> None:
    """The decoder's fast runs through the client, the body in two chunks cut at every byte: inside ``data:``,
    inside the JSON, inside a UTF-8 sequence, between CR and LF. Lines as both backends write them (no ASCII
    escaping), sharing a timestamp, two runs and a line needing the general way."""
    t0 = time.time() - 60
    lines = [("é€😀 naïve", t0), ("", t0), ("plain", t0), ('a "q"', t0 + 1), ("next", t0 + 1), ("last", t0 + 1)]
    body = sse_event(BANNER, t0 - 1) + "".join(
        "data: " + json.dumps({"data": text, "timestamp": iso(when)}, ensure_ascii=False) + "\r\n\r\n"
        for text, when in lines
    )
    raw = body.encode()
    expected = [line for line in reference_events(body)[1:] if line is not None]
    assert [line.text for line in expected] == [text for text, _ in lines]

    async def two_chunks(cut: int) -> AsyncIterator[bytes]:
        yield raw[:cut]
        yield raw[cut:]

    for cut in range(len(raw) + 1):

        def handler(request: httpx2.Request, cut: int = cut) -> httpx2.Response:
            return httpx2.Response(200, headers={"date": http_date()}, content=two_chunks(cut))

        async with make_client(handler, namespace="alice") as client:
            got = [line async for batch in client.log_batches("abc") for line in batch]
        assert got == expected, cut


# --- attacks: a hostile stream, and the real backend cutting long logs --------------------------------------


class HostileLog:
    """A server that does what a follower must survive, all in one follow.

    The history holds the banner, malformed events (broken JSON, a list, a number for text, a bad timestamp, no space
    after ``data:``), lines needing escapes, and two lines equal in text and time (both must come out). Every
    connection replays that whole history, so lines already read come again; then, per connection:

    1. three live lines, then half a line, and the connection drops (a read error mid-line);
    2. the replay only, then a clean end while the job is still RUNNING (the stream ended early);
    3. the replay cut in the middle of an event's line, and a drop;
    4. the replay only, a clean end, the job still RUNNING (nothing new: the next pause is longer);
    5. the replay, one live line, a clean end. The job turns COMPLETED at the fifth poll, with two late lines
       written after that stream closed, which only the final pass (connection 6) can give.
    """

    def __init__(self) -> None:
        t0 = time.time() - 60
        self.t0 = t0
        self.events: list[str] = [
            sse_event(BANNER, t0),
            sse_event("first", t0 + 1),
            "data: {not json}\n\n",
            "data: [1, 2]\n\n",
            'data: {"data": 5, "timestamp": "2025-07-22T16:06:32.000Z"}\n\n',
            'data: {"data": "no time", "timestamp": "yesterday"}\n\n',
            'data:{"data": "no space", "timestamp": "2025-07-22T16:06:32.000Z"}\n\n',
            sse_event('a "quoted"\ttab', t0 + 2),
            sse_event("same", t0 + 3),
            sse_event("same", t0 + 3),
            ": keep-alive\n\nevent: log\n",
            sse_event("é€😀 after", t0 + 4),
        ]
        self.good = ["first", 'a "quoted"\ttab', "same", "same", "é€😀 after"]
        self.connections = 0
        self.polls = 0
        self.finished = False
        self.requests: list[str] = []

    def add(self, text: str) -> None:
        self.events.append(sse_event(text, self.t0 + 10 + len(self.good)))
        self.good.append(text)

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request.url.path.rsplit("/", 1)[-1])
        if not request.url.path.endswith("/logs"):
            self.polls += 1
            if self.polls == 5:
                self.add("late 1")
                self.add("late 2")
                self.finished = True
            stage = "COMPLETED" if self.finished else "RUNNING"
            return httpx2.Response(200, json=job_json(stage=stage), headers={"date": http_date()})
        self.connections += 1
        return httpx2.Response(200, headers={"date": http_date()}, content=self._body(self.connections))

    async def _body(self, n: int) -> AsyncIterator[bytes]:
        replay = "".join(self.events).encode()
        if n == 3:
            cut = replay.index(b"same") + 2  # inside the first "same" line
            async for chunk in chunked(replay[:cut], (3, 11)):
                yield chunk
            raise httpx2.RemoteProtocolError("peer closed connection without sending complete message body")
        async for chunk in chunked(replay, (7, 1, 19, 4096)):
            yield chunk
        if n == 1:
            for i in range(3):
                self.add(f"live {i}")
                yield self.events[-1].encode()
            yield b'data: {"data": "half a li'
            raise httpx2.ReadError("connection reset by peer")
        if n >= 5 and not self.finished:
            self.add(f"live on connection {n}")
            yield self.events[-1].encode()


async def test_a_hostile_stream_gives_every_line_once_in_order() -> None:
    log = HostileLog()
    sleep = FakeSleep()
    async with make_client(log, namespace="alice", sleep=sleep) as client:
        texts = [line.text async for line in client.stream_logs("abc", follow=True)]
    assert texts == log.good  # the two equal "same" lines both, the late lines too; no banner, nothing malformed
    assert log.finished
    assert texts[-2:] == ["late 1", "late 2"]
    # Two drops, each waited for by the retry loop (short, jittered; a running job is then reconnected at once), and
    # a pause for each poll that found the job running after a clean end with nothing new, 2 s then 4 s; none slept
    # for real.
    assert len([d for d in sleep.delays if d < 1]) == 2
    assert [d for d in sleep.delays if d >= 1] == [2.0, 4.0]
    assert log.connections == 6
    assert log.polls == 5


async def test_a_stream_that_ends_while_the_job_runs_is_followed_until_the_job_ends() -> None:
    """The logs stream may end long before the job (wire §6.1): the follower asks, pauses longer each time nothing
    came (2 s doubling to 10 s), and reconnects until the job is over."""
    t0 = time.time() - 60
    polls = 0

    def handler(request: httpx2.Request) -> httpx2.Response:
        nonlocal polls
        if request.url.path.endswith("/logs"):
            body = sse_event(BANNER, t0) + sse_event("only line", t0 + 1) + ("" if polls < 6 else sse_event("end", t0))
            return sse_response(body)
        polls += 1
        return httpx2.Response(200, json=job_json(stage="RUNNING" if polls < 6 else "COMPLETED"))

    sleep = FakeSleep()
    async with make_client(handler, namespace="alice", sleep=sleep) as client:
        texts = [line.text async for line in client.stream_logs("abc", follow=True)]
    assert texts == ["only line", "end"]
    assert sleep.delays == [2.0, 4.0, 8.0, 10.0, 10.0]


class QuickSleep(FakeSleep):
    """Records the requested delay, sleeps a twentieth of a second at most (a real job is running meanwhile)."""

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await anyio.sleep(min(seconds, 0.05))


def _printer(n: int, pause: float) -> list[str]:
    code = f"import time\nfor i in range({n}):\n    print('line', i, flush=True)\n    time.sleep({pause})\n"
    return ["python", "-c", code]


def _cuts(count: int, step: int) -> str:
    """``count`` rules cutting the i-th stream after ``step * i`` events: each reconnection gets a little further."""
    return ",".join(f"cut-logs:after={step * (i + 1)}" for i in range(count))


@pytest.mark.slow
@pytest.mark.parametrize("tail", [None, 3])
async def test_backend_cuts_a_running_jobs_stream_4_times(local_backend: Any, tail: int | None) -> None:
    sleep = QuickSleep()
    async with JobsClient(token=local_backend.token, endpoint=local_backend.url, sleep=sleep) as client:
        job = await client.run_job(JobSpec(image="python:3.12", command=_printer(12, pause=0.05)))
        with anyio.fail_after(20):
            while (await client.inspect_job(job.id)).status.stage not in ("RUNNING", "COMPLETED"):
                await anyio.sleep(0.05)
        local_backend.faults.add("cut-logs:after=2:times=4")
        texts = [line.text async for line in client.stream_logs(job.id, follow=True, tail=tail)]
        final = await client.inspect_job(job.id)
    expected = [f"line {i}" for i in range(12)]
    assert texts == (expected if tail is None else expected[-len(texts) :])
    assert len(texts) >= (12 if tail is None else 3)
    assert final.status.stage == "COMPLETED"
    assert [kind for kind, _, _ in local_backend.faults.history] == ["cut-logs"] * 4


@pytest.mark.slow  # the job prints for 4 s
async def test_backend_cuts_a_running_jobs_stream_100_times(local_backend: Any) -> None:
    """Each reconnection replays the log from the start; the i-th cut lands after ``10 * i`` events, some in the
    replay of old lines, later ones in live lines as the job prints them."""
    lines, cuts = 1000, 100
    sleep = QuickSleep()
    async with JobsClient(token=local_backend.token, endpoint=local_backend.url, sleep=sleep) as client:
        job = await client.run_job(JobSpec(image="python:3.12", command=_printer(lines, 0.004)))
        local_backend.faults.add(_cuts(cuts, step=lines // cuts))
        texts = [line.text async for line in client.stream_logs(job.id, follow=True)]
        final = await client.inspect_job(job.id)
    assert texts == [f"line {i}" for i in range(lines)]
    assert final.status.stage == "COMPLETED"
    assert [kind for kind, _, _ in local_backend.faults.history] == ["cut-logs"] * cuts
    # A wait before each reconnect: the retry loop's backoff after a drop (each drop followed progress, so always the
    # first, shortest one), never more than the policy's cap.
    assert len(sleep.delays) >= cuts - 1
    assert max(sleep.delays) <= RetryPolicy().max_delay


@pytest.mark.slow
async def test_200000_lines_across_forced_reconnects_none_lost_or_repeated(local_backend: Any) -> None:
    """The benchmark's job (200,000 lines printed at once, over before the follow starts), its stream cut twice by the
    backend: mid-replay after 120,000 events, then after 199,990 (ten lines from the end). Every line comes once, in
    order, through the batch path and through the line-by-line one."""
    n = 200_000
    code = f"import sys; sys.stdout.write(''.join(f'line {{i}}\\n' for i in range({n}))); sys.stdout.flush()"
    async with JobsClient(token=local_backend.token, endpoint=local_backend.url, sleep=QuickSleep()) as client:
        job = await client.run_job(JobSpec(image="python:3.12", command=["python", "-c", code]))
        with anyio.fail_after(120):
            while (await client.inspect_job(job.id)).status.stage != "COMPLETED":
                await anyio.sleep(0.1)
        local_backend.faults.add("cut-logs:after=120000:times=1,cut-logs:after=199990:times=1")
        texts = [text async for batch in client.log_batches(job.id, follow=True) for text in batch.texts]
        assert [kind for kind, _, _ in local_backend.faults.history] == ["cut-logs", "cut-logs"]
        local_backend.faults.add("cut-logs:after=77777:times=1")
        lines = [line.text async for line in client.stream_logs(job.id, follow=True)]
    expected = [f"line {i}" for i in range(n)]
    assert len(texts) == n
    assert texts == expected
    assert lines == expected


ODD_LINES = [
    'a "quoted" word',
    "back\\slash",
    "tab\there",
    "\x1b[32mgreen\x1b[0m",
    "é€😀 naïve",
    "",
    'data: {"data": "x", "timestamp": "2025-07-22T16:06:32.000Z"}',
    '", "timestamp": "2025-07-22T16:06:32.000Z"}',
    ": keep-alive",
    "carriage\rreturn",
    "é" * 40_000,  # 80,000 bytes: the backend splits it (at 64 KiB), inside a character
]


@pytest.mark.slow  # a real job, four passes over its log
async def test_backend_bursts_with_odd_lines_across_cuts_read_as_the_raw_log(local_backend: Any) -> None:
    """A job prints bursts of lines (the backend stamps each burst once: the decoder's fast runs), every other burst
    with lines that break a run (escapes, quotes, a raw CR, non-ASCII, a line the backend splits inside a character,
    texts that look like the SSE frame). Its stream is cut inside runs three times. What the follower gives, through
    the batch path and line by line, is the log as the wire spec reads the raw body line by line: every line once,
    in order, each with its own timestamp."""
    code = (
        "import sys, time\n"
        f"odd = {ODD_LINES!r}\n"
        "for burst in range(6):\n"
        "    lines = [f'burst {burst} line {i}' for i in range(700)]\n"
        "    lines[350:350] = odd if burst % 2 else []\n"
        "    sys.stdout.write(''.join(line + '\\n' for line in lines))\n"
        "    sys.stdout.flush()\n"
        "    time.sleep(0.02)\n"
    )
    async with JobsClient(token=local_backend.token, endpoint=local_backend.url, sleep=QuickSleep()) as client:
        job = await client.run_job(JobSpec(image="python:3.12", command=["python", "-c", code]))
        with anyio.fail_after(60):
            while (await client.inspect_job(job.id)).status.stage != "COMPLETED":
                await anyio.sleep(0.05)
        headers = {"authorization": f"Bearer {local_backend.token}"}
        async with httpx2.AsyncClient(base_url=local_backend.url, headers=headers) as raw:
            body = (await raw.get(f"/api/jobs/alice/{job.id}/logs")).text
        expected = [line for line in reference_events(body)[1:] if line is not None]  # the banner left out
        local_backend.faults.add(",".join(f"cut-logs:after={n}:times=1" for n in (500, 2345, 3800)))
        batches = [batch async for batch in client.log_batches(job.id, follow=True)]
        assert [kind for kind, _, _ in local_backend.faults.history] == ["cut-logs"] * 3
        local_backend.faults.add("cut-logs:after=1111:times=1")
        lines = [line async for line in client.stream_logs(job.id, follow=True)]
    got = [line for batch in batches for line in batch]
    assert len(expected) == 6 * 700 + 3 * (len(ODD_LINES) + 1)  # the long line is two
    assert got == expected
    assert lines == expected
    assert len({line.timestamp for line in expected}) >= 6  # one per burst at least
    assert "é" * 100 in "".join(line.text for line in got)
