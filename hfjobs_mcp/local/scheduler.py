"""Cron for scheduled jobs: schedule checks, next run times (croniter), and the loop that fires due ones.

Schedules are 5-field cron expressions or the presets ``@annually``, ``@yearly``, ``@monthly``,
``@weekly``, ``@daily`` and ``@hourly``, evaluated in UTC. Runs missed while the backend was down are
not caught up: the next run is computed from the time the backend looks again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from croniter import CroniterBadDateError, croniter

log = logging.getLogger("hfjobs_mcp.local.scheduler")

PRESETS = {
    "@annually": "0 0 1 1 *",
    "@yearly": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@hourly": "0 * * * *",
}


def _expand(schedule: str) -> str:
    return PRESETS.get(schedule.strip(), schedule.strip())


class NeverRunsError(ValueError):
    """A well-formed cron expression that matches no date (``0 0 31 2 *``: the 31st of February)."""


def check_schedule(schedule: str, now: float) -> None:
    """ValueError (saying why) unless ``schedule`` is a 5-field cron expression or a preset that runs.

    A valid expression can still never fire (the 30th of February): croniter only finds that out when asked
    for the next run, so the check asks for it, and such a schedule is refused up front instead of failing
    every time the scheduler looks at it.
    """
    expr = _expand(schedule)
    if len(expr.split()) != 5:
        raise ValueError(
            f"schedule: {schedule!r} is not supported locally: use a 5-field cron expression "
            "(minute hour day-of-month month day-of-week) or @hourly, @daily, @weekly, @monthly, @yearly"
        )
    if not croniter.is_valid(expr):
        raise ValueError(f"schedule: {schedule!r} is not a valid cron expression")
    next_run(schedule, now)


def next_run(schedule: str, after: float) -> float:
    """The first time strictly after ``after`` (epoch seconds) at which ``schedule`` fires.

    :class:`NeverRunsError` if there is none (no such date in any year).
    """
    start = datetime.fromtimestamp(after, tz=UTC)
    try:
        nxt: datetime = croniter(_expand(schedule), start).get_next(datetime)
    except CroniterBadDateError:
        raise NeverRunsError(
            f"schedule: {schedule!r} never runs: no date matches its day of month and month "
            "(e.g. the 31st of February); pick a day that exists in that month"
        ) from None
    return nxt.timestamp()


class SchedulerLoop:
    """Every ``tick`` seconds, calls ``fire_due(now)`` with the configured clock's time."""

    def __init__(self, *, tick: float, clock: Callable[[], float], fire_due: Callable[[float], None]) -> None:
        self._tick = tick
        self._clock = clock
        self._fire_due = fire_due

    async def run(self) -> None:
        while True:
            try:
                self._fire_due(self._clock())
            except Exception:
                log.exception("scheduler: firing due scheduled jobs failed")
            await asyncio.sleep(self._tick)
