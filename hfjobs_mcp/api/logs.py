"""A job's log: read once, or followed to the job's end across dropped streams, a batch of lines at a time.

The API has no "since": every connection replays the whole log (or its last ``tail`` lines), then streams live
lines while the job runs (wire-protocol.md §6). Following therefore means reconnecting and skipping what was
already read. The follower counts raw ``data: {`` events of the full replay (malformed ones too: every replay
has them at the same places) and skips that many on the next connection without decoding them; after a ``tail``
read it resyncs on the last line it gave (its timestamp and how many equal lines ended the read). When a stream
ends, the job is asked for: a job still running gets a new connection after a pause (2 s doubling to 10 s), a job
that is over gets one last pass for the lines written between the stream's end and the job's. A stream that
drops is reconnected by the client's one retry loop (:mod:`hfjobs_mcp.api.retry`), which gives up after
consecutive drops that brought nothing new.

Batches (:class:`~hfjobs_mcp.api.models.LogBatch`, a chunk's lines as two columns, decoded by
:mod:`hfjobs_mcp.api.log_events`) go to the caller as they are (:meth:`LogCalls.log_batches`, the fast path);
:meth:`LogCalls.stream_logs` hands out one :class:`LogLine` at a time.
"""

from __future__ import annotations

import email.utils
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime
from typing import cast

import httpx2

from hfjobs_mcp.api import retry
from hfjobs_mcp.api.http import close_stream
from hfjobs_mcp.api.jobs import CLOCK_SKEW, JobCalls
from hfjobs_mcp.api.log_events import Events, LogDecoder
from hfjobs_mcp.api.models import TERMINAL_STAGES, LogBatch, LogLine
from hfjobs_mcp.errors import InvalidRequestError, TransportError

__all__ = ["BANNER_PREFIX", "LogCalls"]

BANNER_PREFIX = "===== Job started"
ONE_SHOT_IDLE = 5.0  # huggingface_hub's read timeout for a one-shot log read
FOLLOW_IDLE = 120.0
FIRST_PAUSE, LAST_PAUSE = 2.0, 10.0  # waits between polls of a running job whose stream ended

_NOTHING = LogBatch([], [])


def _ended_before(ended: float | None, opened_at: float | None) -> bool:
    """The job ended before the stream opened (by more than the clocks' slack)."""
    return ended is not None and opened_at is not None and ended < opened_at - CLOCK_SKEW


def _is_banner(line: LogLine) -> bool:
    return line.text.startswith(BANNER_PREFIX)


def _date_of(response: httpx2.Response) -> float | None:
    """The response's ``Date`` as epoch seconds (the replay cut-off of a one-shot read, and when a stream opened)."""
    value = response.headers.get("date")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None


class _Cursor:
    """Where a follow is in the log: which events of each pass are new.

    ``seen`` counts the events of the full replay already handled; ``banner_at`` is the index of its first line
    (dropped if it is the banner). After a ``tail`` read, ``anchor`` is the last line given and ``anchor_count`` how
    many equal lines ended that read, so the first full replay skips up to the anchor's last copy; a tail read that
    gave nothing leaves ``since``, the time it opened: lines up to then are old.
    """

    def __init__(self, tail: int | None) -> None:
        self.seen = 0
        self.banner_at: int | None = None
        self.anchor: LogLine | None = None
        self.anchor_count = 0
        self.since: float | None = None
        self.tail_pending = tail is not None
        self.tail_read = False
        self.index = 0  # events of the pass under way so far
        self.skipped = 0  # copies of the anchor skipped in this pass
        self.tail_first = True

    def start_pass(self, opened_at: float | None) -> None:
        """A pass begins (its stream answered): a tail read if none has been answered yet."""
        self.tail_read, self.tail_pending = self.tail_pending, False
        self.index = self.skipped = 0
        self.tail_first = True
        if self.tail_read:
            self.since = opened_at

    def take(self, events: Events) -> LogBatch:
        """The new lines among the next events of this pass."""
        base = self.index
        self.index += events.count()
        if self.tail_read:
            return self._take_tail(events.lines())
        if self.anchor is None and self.since is None and self.banner_at is not None:
            return self._take_unseen(events, base)
        return self._take_one_by_one(events, base)

    def _take_unseen(self, events: Events, base: int) -> LogBatch:
        """The usual case, a batch at a time: past the events seen, every line is new."""
        if self.index <= self.seen:
            return _NOTHING  # all seen on an earlier connection: not even looked at
        if base < self.seen:
            events = events.after(self.seen - base)
        self.seen = self.index
        return events.lines()

    def _take_one_by_one(self, events: Events, base: int) -> LogBatch:
        whens: list[datetime] = []
        texts: list[str] = []
        for i, (when, text) in enumerate(events.pairs(), start=base + 1):
            if when is None or text is None:
                self.seen = max(self.seen, i)  # not a log line, but an event all the same: counted as seen
            elif self._is_new(i, LogLine(when, text)):
                whens.append(when)
                texts.append(text)
        return LogBatch(whens, texts)

    def _is_new(self, i: int, line: LogLine) -> bool:
        """Line ``i`` (1-based event index) of a full replay, one at a time while resyncing or before the first."""
        if self.anchor is not None:
            if self._before_anchor(line):
                self.skipped += line == self.anchor
                self._old(i)
                return False
            self.anchor = None
        elif self.since is not None:
            if line.timestamp.timestamp() <= self.since:
                self._old(i)
                return False
            self.since = None
        elif i <= self.seen:
            return False
        self.seen = i
        if self.banner_at is None:
            self.banner_at = i
        return not (i == self.banner_at and _is_banner(line))

    def _before_anchor(self, line: LogLine) -> bool:
        anchor = cast(LogLine, self.anchor)
        return line.timestamp < anchor.timestamp or (
            line.timestamp == anchor.timestamp and self.skipped < self.anchor_count
        )

    def _old(self, i: int) -> None:
        self.seen = i
        if self.banner_at is None:
            self.banner_at = i

    def _take_tail(self, lines: LogBatch) -> LogBatch:
        """A tail read gives every line (the first dropped if it is the banner) and moves the anchor."""
        if lines and self.tail_first:
            self.tail_first = False
            if _is_banner(lines[0]):
                lines = lines[1:]
        if lines:
            last = lines[-1]
            run = 1
            while run < len(lines) and lines[-1 - run] == last:
                run += 1
            if run == len(lines) and last == self.anchor:
                run += self.anchor_count
            self.anchor, self.anchor_count, self.since = last, run, None
        return lines


class _Dropped(retry.Retry):
    """The log stream broke while being read: reconnect (the cursor knows where to resume)."""


class _Follow:
    """One follow, as a source of batches (:meth:`next_batch`) the retry loop can call again after a drop.

    It is pulled rather than iterated so that the retry loop never runs across a ``yield``: each call reads on
    from where the last one stopped, opening a stream when none is open.
    """

    def __init__(self, client: LogCalls, ns: str, ident: str, *, tail: int | None, idle: float) -> None:
        self.client, self.ns, self.ident, self.tail, self.idle = client, ns, ident, tail, idle
        self.cursor = _Cursor(tail)
        self.response: httpx2.Response | None = None
        self.chunks: AsyncIterator[bytes] | None = None
        self.decoder = LogDecoder()
        self.passes = 0
        self.opened_at: float | None = None
        self.finished = False  # the job is over: the pass under way is the last one
        self.broken = False  # the last pass dropped
        self.got_new = False  # the pass under way gave lines
        self.pause = FIRST_PAUSE

    async def next_batch(self) -> LogBatch | None:
        """The next new lines; None once the follow is over. Raises :class:`_Dropped` when the stream breaks."""
        while True:
            if self.response is None and not await self._next_pass():
                return None
            lines = await self._read()
            if lines:
                return lines

    async def _next_pass(self) -> bool:
        """Open the next pass, after deciding there is one (the job's state) and pausing if the job runs."""
        if self.passes and not await self._another_pass():
            return False
        params = {"tail": self.tail} if self.cursor.tail_pending else {}
        read = ONE_SHOT_IDLE if self.finished else self.idle
        path = f"/api/jobs/{self.ns}/{self.ident}/logs"
        self.response = await self.client._http.open_stream(path, params=params, read=read)
        self.chunks = self.response.aiter_bytes()
        self.decoder = LogDecoder()
        self.passes += 1
        self.opened_at = _date_of(self.response)
        self.cursor.start_pass(self.opened_at)
        self.broken = self.got_new = False
        return True

    async def _another_pass(self) -> bool:
        """After a pass: the last one if the job was over (unless it broke), else ask the job how it stands."""
        if self.finished:
            return self.broken  # a last pass that broke is done again
        if self.got_new:
            self.pause = FIRST_PAUSE
        job = await self.client.inspect_job(self.ident, namespace=self.ns)
        if job.status.stage in TERMINAL_STAGES:
            ended = job.finished_at.timestamp() if job.finished_at else None
            if not self.broken and _ended_before(ended, self.opened_at):
                return False  # over before that stream opened: its replay, read to the end, had it all
            self.finished = True  # one last pass for lines written between the stream's end and the job's
            return True
        if not self.broken:  # a drop was already waited for by the retry loop
            await self.client._sleep(self.pause)
            self.pause = min(self.pause * 2, LAST_PAUSE)
        return True

    async def _read(self) -> LogBatch:
        """New lines of the next chunk of the open stream (closing it at its end)."""
        assert self.chunks is not None
        try:
            chunk = await anext(self.chunks, None)
        except httpx2.ReadTimeout:  # silent for `idle` seconds: as good as the end
            await self.close()
            return _NOTHING
        except (httpx2.TransportError, httpx2.DecodingError) as exc:
            await self.close()
            self.broken = True
            raise _Dropped(error=exc) from None
        if chunk is None:
            events = self.decoder.flush()
            await self.close()
        else:
            events = self.decoder.feed(chunk)
        lines = self.cursor.take(events)
        self.got_new = self.got_new or bool(lines)
        return lines

    async def close(self) -> None:
        chunks, response, self.chunks, self.response = self.chunks, self.response, None, None
        if response is not None:
            await close_stream(response, chunks)


class LogCalls(JobCalls):
    """The log endpoint of :class:`~hfjobs_mcp.api.client.JobsClient`: read once, or followed."""

    def stream_logs(
        self,
        job_id: str,
        *,
        namespace: str | None = None,
        tail: int | None = None,
        follow: bool = False,
        idle_timeout: float | None = None,
    ) -> AsyncIterator[LogLine]:
        """The job's log lines, oldest first (the banner left out), one at a time.

        Without ``follow``: the lines there are now (the stream is read until it ends, stays idle for
        ``idle_timeout`` seconds, or reaches lines stamped after the request). With ``follow``: until the job
        is over, reconnecting when the stream is cut, with no line lost or repeated.
        """
        return _one_by_one(
            self.log_batches(job_id, namespace=namespace, tail=tail, follow=follow, idle_timeout=idle_timeout)
        )

    def log_batches(
        self,
        job_id: str,
        *,
        namespace: str | None = None,
        tail: int | None = None,
        follow: bool = False,
        idle_timeout: float | None = None,
    ) -> AsyncIterator[LogBatch]:
        """The same lines as :meth:`stream_logs`, in order, as they arrive: a list per chunk read (never empty).

        The fast path for long logs: a caller that handles lines in bulk (counting, masking, filtering) saves the
        cost of a step per line.
        """
        if tail is not None and tail < 0:
            raise InvalidRequestError("tail must be 0 or more", hint="e.g. tail=100")
        if follow:
            return self._follow(job_id, namespace, tail, FOLLOW_IDLE if idle_timeout is None else idle_timeout)
        return self._read_once(job_id, namespace, tail, ONE_SHOT_IDLE if idle_timeout is None else idle_timeout)

    async def _follow(
        self, job_id: str, namespace: str | None, tail: int | None, idle: float
    ) -> AsyncIterator[LogBatch]:
        ns, ident = await self._ref(job_id, namespace)
        self._need_token()
        follow = _Follow(self, ns, ident, tail=tail, idle=idle)
        try:
            while (batch := await self._next_after_drops(follow)) is not None:
                yield batch
        finally:
            await follow.close()

    async def _next_after_drops(self, follow: _Follow) -> LogBatch | None:
        try:
            return await retry.run(follow.next_batch, policy=self._http.policy, sleep=self._sleep)
        except _Dropped as last:
            raise TransportError(
                f"the log stream kept failing: {type(last.error).__name__}", hint="try fetch_logs again later"
            ) from None

    async def _read_once(
        self, job_id: str, namespace: str | None, tail: int | None, idle: float
    ) -> AsyncIterator[LogBatch]:
        ns, ident = await self._ref(job_id, namespace)
        self._need_token()
        params = {"tail": tail} if tail is not None else {}
        response = await self._http.open_stream(f"/api/jobs/{ns}/{ident}/logs", params=params, read=idle)
        once, decoder = _OneShot(_date_of(response)), LogDecoder()
        chunks = response.aiter_bytes()
        try:
            while not once.done and (chunk := await anext(chunks, None)) is not None:
                if lines := once.take(decoder.feed(chunk)):
                    yield lines
            if not once.done and (lines := once.take(decoder.flush())):
                yield lines
        except httpx2.ReadTimeout:
            return  # idle: the replay is over
        except (httpx2.TransportError, httpx2.DecodingError) as exc:
            raise TransportError(
                f"the log stream broke: {type(exc).__name__}", hint="try again (follow=True reconnects by itself)"
            ) from None
        finally:
            await close_stream(response, chunks)


class _OneShot:
    """A one-shot read: the replay, its banner dropped, cut at the first line stamped more than a second after the
    response's ``Date`` (a live line: huggingface_hub stops there too)."""

    def __init__(self, date: float | None) -> None:
        self.cutoff = None if date is None else date + 1.0
        self.first = True
        self.done = False

    def take(self, events: Events) -> LogBatch:
        lines = events.lines()
        if self.first and lines:
            self.first = False
            if _is_banner(lines[0]):
                lines = lines[1:]
        if self.cutoff is None or not lines:
            return lines
        stamps = [when.timestamp() for when in lines.timestamps]
        if max(stamps) <= self.cutoff:
            return lines
        self.done = True
        return lines[: next(i for i, stamp in enumerate(stamps) if stamp > self.cutoff)]


async def _one_by_one(batches: AsyncIterator[LogBatch]) -> AsyncIterator[LogLine]:
    try:
        async for batch in batches:
            for line in batch:
                yield line
    finally:
        await cast(AsyncGenerator[LogBatch, None], batches).aclose()
