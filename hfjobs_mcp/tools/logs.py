"""``fetch_logs``: bounded log reading with a cursor to continue, filtering, and time-boxed following.

The Jobs API has no "since" parameter: a log stream replays the whole history (optionally only the last N lines).
A line's position is therefore named by its timestamp and its ordinal among the lines with that same timestamp;
the cursor is the position of the last line returned.

- Without a cursor: the last ``tail`` lines. The server's ``tail`` does the cutting (fast on huge logs) unless a
  filter is given, in which case the whole log is scanned through a ring buffer of ``tail`` lines.
- With a cursor: the lines after it, oldest first, at most ``tail`` of them; ``more`` says whether others follow.

Nothing here holds more lines than it returns (plus one, to know whether lines were cut).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import anyio
from pydantic import Field

from hfjobs_mcp.api import TERMINAL_STAGES, LogLine
from hfjobs_mcp.errors import InvalidRequestError
from hfjobs_mcp.policy.redaction import LineMasker
from hfjobs_mcp.tools.args import JobRefArgs
from hfjobs_mcp.tools.base import ToolContext, ToolResult, View
from hfjobs_mcp.tools.grep import PatternError, matcher
from hfjobs_mcp.tools.views import iso

MAX_TAIL = 1000
_MAX_PROBE = 262_144  # the longest tail asked for to find where a timestamp run starts (then: full replay)
PROGRESS_EVERY_SECONDS = 1.0


class FetchLogsArgs(JobRefArgs):
    """Arguments of fetch_logs."""

    tail: int = Field(default=100, ge=1, le=MAX_TAIL, description="At most this many lines.")
    follow_seconds: float = Field(default=0, ge=0, description="Also wait this long for new lines (max 300 s).")
    grep: str | None = Field(default=None, min_length=1, description="Only lines containing this text.")
    regex: bool = Field(default=False, description="`grep` is a regex.")
    cursor: str | None = Field(default=None, description="A result's `cursor`: read on after it.")


class LogLineView(View):
    timestamp: str
    text: str


class FetchLogsResult(ToolResult):
    job_id: str
    stage: str
    finished: bool = Field(description="True when the job is over, so no more lines will come.")
    lines: list[LogLineView]
    truncated: bool = Field(description="True when earlier lines exist that were not returned (tail cut them).")
    more: bool = Field(description="With a cursor: True when more lines follow the ones returned.")
    cursor: str | None = Field(description="Pass it back as `cursor` to get the lines after these.")
    message: str | None = Field(default=None, description="The job's status message (e.g. its exit code).")

    def render(self) -> str:
        head = f"{self.job_id} is {self.stage}" + (f" ({self.message})" if self.message else "")
        notes = []
        if self.truncated:
            notes.append("earlier lines not shown")
        if self.more:
            notes.append("more lines follow: call again with the cursor")
        elif not self.finished:
            notes.append("the job is still running: call again with the cursor for new lines")
        body = "\n".join(f"{ln.timestamp} {ln.text}" for ln in self.lines) or "(no lines)"
        return f"{head}; {len(self.lines)} line(s)" + (f" [{'; '.join(notes)}]" if notes else "") + "\n" + body


@dataclass(frozen=True)
class Position:
    """Where a line sits: its timestamp and its ordinal among lines with that timestamp (1-based)."""

    ts: str
    k: int

    def encode(self, job_id: str) -> str:
        raw = json.dumps({"j": job_id, "t": self.ts, "k": self.k}, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, cursor: str, job_id: str) -> Position:
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
            pos = cls(ts=str(data["t"]), k=int(data["k"]))
            owner = str(data["j"])
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:
            raise InvalidRequestError(
                "cursor is not one fetch_logs returned", hint="pass the `cursor` value exactly, or omit it"
            ) from exc
        if owner != job_id.rsplit("/", 1)[-1]:
            raise InvalidRequestError(
                "cursor belongs to another job", hint="use the cursor returned for this job, or omit it"
            )
        return pos


START = Position(ts="", k=0)
END_OF_RUN = 2**53
"""The ordinal of a finished log's last line when its run was not counted: every line is at or before it."""


def _matcher(args: FetchLogsArgs) -> Callable[[str], bool] | None:
    if args.grep is None:
        return None
    try:
        return matcher(args.grep, regex=args.regex)
    except PatternError as exc:
        raise InvalidRequestError(
            f"grep is not a valid regular expression: {exc}",
            hint="fix it (RE2 syntax: no backreferences or lookarounds), or set regex false",
        ) from None


class _Positioner:
    """Assigns each line of a full replay its :class:`Position`."""

    def __init__(self) -> None:
        self.ts = ""
        self.k = 0

    def place(self, line: LogLine) -> Position:
        ts = iso(line.timestamp) or ""
        if ts == self.ts:
            self.k += 1
        else:
            self.ts, self.k = ts, 1
        return Position(ts=ts, k=self.k)


def _after(pos: Position, cursor: Position) -> bool:
    return (pos.ts, pos.k) > (cursor.ts, cursor.k)


class _Progress:
    """Progress notifications at most once a second, not one per line."""

    def __init__(self, ctx: ToolContext, total: float) -> None:
        self.ctx, self.total = ctx, total
        self.started = time.monotonic()
        self.last = 0.0

    async def tick(self, count: int) -> None:
        if self.total <= 0:
            return  # a one-shot read is quick: progress is for following
        now = time.monotonic()
        if now - self.last >= PROGRESS_EVERY_SECONDS:
            self.last = now
            await self.ctx.progress(min(now - self.started, self.total), self.total, f"{count} line(s) so far")


async def _timeboxed(stream: AsyncIterator[LogLine], seconds: float | None) -> AsyncIterator[LogLine]:
    """Lines of ``stream`` until it ends or ``seconds`` pass (None: until it ends)."""
    if seconds is None:
        async for line in stream:
            yield line
        return
    deadline = anyio.current_time() + seconds
    iterator = stream.__aiter__()
    while True:
        with anyio.move_on_after(max(0.0, deadline - anyio.current_time())):
            try:
                yield await iterator.__anext__()
                continue
            except StopAsyncIteration:
                return
        return


def _view(pos_line: tuple[Position, LogLine], text: str) -> LogLineView:
    return LogLineView(timestamp=iso(pos_line[1].timestamp) or "", text=text)


async def fetch_logs(args: FetchLogsArgs, ctx: ToolContext) -> FetchLogsResult:
    """The lines asked for, masked before anything else looks at them.

    Every line is masked before it is filtered, cut or rendered: ``grep`` sees only masked text (matching it on
    the clear text let a caller recover a masked value one character class at a time), and lines are masked as
    the one text they form, so a value printed across several lines is masked too. The job's own secrets are
    resolved first, so their values are known before the first line is read.
    """
    match = _matcher(args)
    cursor = Position.decode(args.cursor, args.job_id) if args.cursor else None
    follow = min(args.follow_seconds, ctx.settings.max_follow_seconds)
    progress = _Progress(ctx, follow)
    redactor = ctx.redactor
    job = await ctx.client.inspect_job(args.job_id)
    ctx.learn_job_secrets(job.secrets)
    finished_before = job.status.stage in TERMINAL_STAGES  # then the log is complete before it is read

    lines: deque[tuple[Position, LogLine]]
    texts: list[str]
    truncated = more = False

    if cursor is None and match is None:
        # Fast path: the server cuts the tail (one extra line tells whether earlier lines exist).
        window: deque[LogLine] = deque(maxlen=args.tail + 1)
        stream = ctx.client.stream_logs(args.job_id, tail=args.tail + 1, follow=follow > 0)
        async for line in _timeboxed(stream, follow if follow > 0 else None):
            window.append(line)
            await progress.tick(len(window))
        truncated = len(window) > args.tail
        context_line = window.popleft() if truncated else None
        lines = deque(_place_window(window, context_line))
        if lines and context_line is not None and lines[0][0].ts == lines[-1][0].ts == iso(context_line.timestamp):
            # The window starts inside a run of lines sharing one timestamp, so its ordinals are not absolute
            # (a window that is the whole log counts from its start and is exact). A job that was over before the
            # read has no line after the last one: its cursor only has to say "after everything", which needs no
            # count. A running job's cursor must name the line exactly: count from where the run starts.
            if finished_before and follow == 0:
                pos, line = lines[-1]
                lines[-1] = (Position(ts=pos.ts, k=END_OF_RUN), line)
            else:
                lines = deque(await _absolute_positions(ctx, args, [ln for _, ln in lines]))
        texts = redactor.redact_lines([ln.text for _, ln in lines])
    else:
        kept, texts, more, truncated = await _scan(args, ctx, match, cursor, follow, progress)
        lines = deque(kept)

    if follow > 0:
        job = await ctx.client.inspect_job(args.job_id)  # the stage after following
    last = lines[-1][0] if lines else (cursor or START)
    return FetchLogsResult(
        job_id=f"{job.owner.name}/{job.id}",
        stage=str(job.status.stage),
        finished=job.status.stage in TERMINAL_STAGES,
        lines=[_view(ln, text) for ln, text in zip(lines, texts, strict=True)],
        truncated=truncated,
        more=more,
        cursor=last.encode(job.id),
        message=redactor.redact(job.status.message) if job.status.message else None,
    )


async def _scan(
    args: FetchLogsArgs,
    ctx: ToolContext,
    match: Callable[[str], bool] | None,
    cursor: Position | None,
    follow: float,
    progress: _Progress,
) -> tuple[list[tuple[Position, LogLine]], list[str], bool, bool]:
    """A full replay: the lines after ``cursor`` that match, masked; whether more follow, whether earlier were cut.

    Lines are masked before the filter sees them. When a known value spans several lines, the whole stream goes
    through a :class:`LineMasker` (each line masked with its neighbours); otherwise each line is masked alone,
    and only when a filter needs it (the lines kept are masked at the end).
    """
    redactor = ctx.redactor
    joint = redactor.max_lines > 1
    masker = LineMasker(redactor) if joint else None
    positioner = _Positioner()
    kept: deque[tuple[tuple[Position, LogLine], str]] = deque(maxlen=args.tail + (1 if cursor is None else 0))
    more = False

    def consider(item: tuple[Position, LogLine], text: str | None) -> bool:
        """Keep the line if it is wanted; False when the page is full (stop reading)."""
        nonlocal more
        pos, line = item
        if cursor is not None and not _after(pos, cursor):
            return True
        if match is not None:
            if text is None:
                text = redactor.redact(line.text)
            if not match(text):
                return True
        if cursor is not None and len(kept) >= args.tail:
            more = True
            return False
        kept.append((item, line.text if text is None else text))
        return True

    going = True
    stream = ctx.client.stream_logs(args.job_id, follow=follow > 0)
    async for line in _timeboxed(stream, follow if follow > 0 else None):
        item = (positioner.place(line), line)
        if masker is not None:
            ready = masker.push(item, line.text)
            going = all(consider(i, t) for i, t in ready)
        else:
            going = consider(item, None)
        if not going:
            break
        await progress.tick(len(kept))
    if masker is not None and going:
        for i, t in masker.flush():
            if not consider(i, t):
                break
    truncated = False
    if cursor is None and len(kept) > args.tail:
        truncated = True
        kept.popleft()
    items = [i for i, _ in kept]
    texts = [t for _, t in kept]
    if not joint and match is None:  # not masked yet: mask the page as one text
        texts = redactor.redact_lines(texts)
    return items, texts, more, truncated


def _place_window(window: deque[LogLine], context_line: LogLine | None) -> list[tuple[Position, LogLine]]:
    """Positions of a tail window, counting from the line before it (exact unless all share one timestamp)."""
    positioner = _Positioner()
    if context_line is not None:
        positioner.place(context_line)
    return [(positioner.place(line), line) for line in window]


async def _absolute_positions(
    ctx: ToolContext, args: FetchLogsArgs, window: list[LogLine]
) -> list[tuple[Position, LogLine]]:
    """Positions of the last ``len(window)`` lines (rare: a burst of lines sharing one millisecond).

    The ordinals count from the first line of the burst, so the read must start before it. Longer tails are asked
    for (x4 each time: the server cuts a tail fast, whatever the log's length) until one starts with an earlier
    timestamp, or comes back shorter than asked (then it is the whole log); only a burst longer than ``_MAX_PROBE``
    lines costs a full replay. Only a running job gets here (see :func:`fetch_logs`). (A full
    replay every time made ``fetch_logs tail=100`` of a 1,000,000-line job take 5 s instead of milliseconds;
    found by bench/fetch_logs_tool.py.)
    """
    last = iso(window[-1].timestamp)
    size = 4 * (len(window) + 1)
    while size <= _MAX_PROBE:
        probe = [line async for line in ctx.client.stream_logs(args.job_id, tail=size)]
        if probe and iso(probe[0].timestamp) != last:
            return _last_placed(probe, len(window))
        if len(probe) < size:
            return _last_placed(probe, len(window))  # fewer lines than asked: the probe is the whole log
        size *= 4
    positioner = _Positioner()
    ring: deque[tuple[Position, LogLine]] = deque(maxlen=len(window))
    async for line in ctx.client.stream_logs(args.job_id, follow=False):
        ring.append((positioner.place(line), line))
    return list(ring)


def _last_placed(lines: list[LogLine], n: int) -> list[tuple[Position, LogLine]]:
    """The last ``n`` of ``lines`` with positions counted from the first (which starts a timestamp run)."""
    positioner = _Positioner()
    placed = [(positioner.place(line), line) for line in lines]
    return placed[-n:]
