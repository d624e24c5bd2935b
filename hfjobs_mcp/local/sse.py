"""The two SSE streams of wire §6: a job's logs and its metrics, as raw ASGI responses.

Logs: ``data: {"data": ..., "timestamp": ...}`` per line, the whole history on every connection
(or its last ``tail`` lines, found by a backward scan), then live lines as they are written; held
open until the job is finished, then closed after its last line. ``: keep-alive`` comments are sent
after ``keepalive_interval`` seconds of silence. A job still SCHEDULING gets an open stream that
waits for its first line.

Metrics: ``event: metric`` + ``data: {...}`` every ``metrics_interval`` seconds while the job runs
(a SCHEDULING job's stream waits, with keep-alives, until it runs); the stream ends when the job
does. A finished job answers 406.

Both send a ``Date`` header (the official client cuts a no-follow replay at it) and end early when
the client disconnects or the backend shuts down. A ``cut-logs`` fault ends the logs stream
abruptly (no terminating chunk) after N events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from starlette.types import Receive, Scope, Send

from .clock import http_date
from .core import LocalCore
from .jobenv import job_dirs
from .logs import read_from, tail_offset
from .metrics import TreeSampler

_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


def _events(lines: list[bytes]) -> bytes:
    """``data: <line>`` events, one per stored line (none for no line): one join, no bytes object made per line,
    which a 200,000-line replay pays 200,000 times (the same bytes as joining ``b"data: " + line + b"\\n\\n"``)."""
    return b"data: " + b"\n\ndata: ".join(lines) + b"\n\n" if lines else b""


class _Stream:
    """Shared plumbing: start the response, watch for disconnects, wait for news or a keep-alive."""

    def __init__(self, core: LocalCore, job_id: str) -> None:
        self.core = core
        self.job_id = job_id
        self.disconnected = asyncio.Event()
        self.last_sent = time.monotonic()

    async def _watch_disconnect(self, receive: Receive) -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnected.set()
                return

    async def start(self, send: Send) -> None:
        headers = [*_HEADERS, (b"date", http_date(time.time()).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        self.last_sent = time.monotonic()

    async def send_bytes(self, send: Send, data: bytes) -> None:
        await send({"type": "http.response.body", "body": data, "more_body": True})
        self.last_sent = time.monotonic()

    async def wait(self, news: asyncio.Event | None, timeout: float) -> str:  # noqa: ASYNC109
        """``news``, ``stop`` (client gone or backend closing) or ``idle`` (time for a keep-alive)."""
        waiters = {
            asyncio.ensure_future(self.disconnected.wait()),
            asyncio.ensure_future(self.core.closing.wait()),
        }
        news_waiter = asyncio.ensure_future(news.wait()) if news is not None else None
        if news_waiter is not None:
            waiters.add(news_waiter)
        try:
            await asyncio.wait(waiters, timeout=max(0.0, timeout), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for w in waiters:
                w.cancel()
        if self.disconnected.is_set() or self.core.closing.is_set():
            return "stop"
        if news_waiter is not None and news_waiter.done() and not news_waiter.cancelled():
            return "news"
        return "idle"

    async def keep_alive_if_idle(self, send: Send) -> None:
        if time.monotonic() - self.last_sent >= self.core.cfg.keepalive_interval:
            await self.send_bytes(send, b": keep-alive\n\n")

    def until_keepalive(self, cap: float) -> float:
        return min(cap, self.core.cfg.keepalive_interval - (time.monotonic() - self.last_sent))


class LogStream(_Stream):
    """``GET /api/jobs/{ns}/{id}/logs[?tail=N]``."""

    def __init__(self, core: LocalCore, job_id: str, *, tail: int | None, cut_after: int | None) -> None:
        super().__init__(core, job_id)
        self.tail = tail
        self.cut_after = cut_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.ensure_future(self._watch_disconnect(receive))
        try:
            await self._serve(send)
        finally:
            watcher.cancel()

    async def _serve(self, send: Send) -> None:
        path = job_dirs(self.core.cfg.state_dir, self.job_id).log
        offset = tail_offset(path, self.tail) if self.tail is not None else 0
        sent = 0
        await self.start(send)
        with self.core.watch(self.job_id) as signal:
            while True:
                news = signal.current()  # before reading: a write after it wakes us
                rec = self.core.store.get_job(self.job_id)
                finished = rec is None or self.core.job_finished(rec)
                while True:
                    lines, offset = read_from(path, offset)
                    if not lines:
                        break
                    if self.cut_after is not None and sent + len(lines) >= self.cut_after:
                        lines = lines[: self.cut_after - sent]
                        if lines:
                            await self.send_bytes(send, _events(lines))
                        return  # the cut-logs fault: end without the final chunk, the connection is dropped
                    sent += len(lines)
                    await self.send_bytes(send, _events(lines))
                if finished:
                    break
                outcome = await self.wait(news, self.until_keepalive(3600))
                if outcome == "stop":
                    break
                if outcome == "idle":
                    await self.keep_alive_if_idle(send)
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class MetricsStream(_Stream):
    """``GET /api/jobs/{ns}/{id}/metrics`` (the caller answers 406 for a finished job first)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        watcher = asyncio.ensure_future(self._watch_disconnect(receive))
        try:
            await self._serve(send)
        finally:
            watcher.cancel()

    async def _serve(self, send: Send) -> None:
        interval = self.core.cfg.metrics_interval
        sampler: TreeSampler | None = None
        sampled_pid: int | None = None
        next_sample = time.monotonic() + interval
        await self.start(send)
        with self.core.watch_stage(self.job_id) as signal:
            while True:
                news = signal.current()  # before reading, as for logs
                rec = self.core.store.get_job(self.job_id)
                if rec is None or self.core.job_finished(rec):
                    break
                pid = self.core.runner.pid_of(self.job_id)
                if pid is not None and pid != sampled_pid:
                    with contextlib.suppress(Exception):
                        sampler, sampled_pid = TreeSampler(pid, rec.spec.flavor), pid
                    next_sample = time.monotonic() + interval
                if sampler is not None and time.monotonic() >= next_sample:
                    data = json.dumps(sampler.sample())
                    await self.send_bytes(send, f"event: metric\ndata: {data}\n\n".encode())
                    next_sample += interval
                    continue
                # Wake up for the next sample, a stage change (news), or a keep-alive.
                cap = max(0.0, next_sample - time.monotonic()) if sampler is not None else 3600
                outcome = await self.wait(news, self.until_keepalive(cap))
                if outcome == "stop":
                    break
                if outcome == "idle":
                    await self.keep_alive_if_idle(send)
        await send({"type": "http.response.body", "body": b"", "more_body": False})
