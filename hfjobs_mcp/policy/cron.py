"""Cron schedules: what the Hub accepts, whether one ever fires, and the most runs it can start in a day.

One helper for the schedule check of the tools and for pricing, so a schedule that is accepted is also priced,
and a schedule that never fires (``0 0 31 2 *``) is refused before anything is sent instead of failing later.

**The daily ceiling is exact, not sampled.** Cron fires at every (minute, hour) of its minute and hour sets on
every day its day fields allow, in UTC (no daylight saving). Any 24-hour window ``[t, t + 24h)`` covers each
time of day exactly once, split over at most two consecutive days, so the most runs in any 24-hour window over
the schedule's whole cycle is ``|minutes| x |hours|`` (x ``|seconds|`` for 6 and 7 fields) as soon as the
schedule fires at all, whatever its day, month and weekday fields say. ``* * 1 * *`` (every minute on the 1st)
is therefore 1,440 runs per day, not the 0 that counting the next 24 hours from the 2nd would give.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime

PRESETS = ("@annually", "@yearly", "@monthly", "@weekly", "@daily", "@hourly")
SECONDS_PER_DAY = 24 * 60 * 60
# The Hub's own pattern for `schedule` (its OpenAPI document): numbers, `*`, lists, ranges and steps, 5 to 7
# fields, or a preset. No names (MON, JAN) and no stepped range (1-5/2): the Hub answers 400 to those.
HUB_SCHEDULE = re.compile(
    r"^(?:(@(annually|yearly|monthly|weekly|daily|hourly))|((((\d+,)+\d+|((\*|\d+)(\/|-)\d+)|\d+|\*) ?){5,7}))$"
)


class ScheduleError(ValueError):
    """A schedule the Hub would refuse, or one that would never start a run."""


def check_schedule(expression: str) -> str:
    """``expression`` stripped, if it is a 5-field cron or a preset that fires at least once; else ScheduleError."""
    value = expression.strip()
    from croniter import CroniterBadDateError, croniter  # imported on first use: it costs start-up time

    if not HUB_SCHEDULE.match(value) or not croniter.is_valid(value, second_at_beginning=_with_seconds(value)):
        raise ScheduleError(
            "schedule must be a cron expression of 5 fields (minute hour day month weekday; 6 or 7 with seconds "
            "first and a year last) using numbers, '*', lists (1,2), ranges (1-5) and steps (*/15), e.g. "
            "'0 9 * * 1', or one of " + ", ".join(PRESETS) + "; names (MON) and stepped ranges (1-5/2) are not "
            "accepted by Hugging Face"
        )
    try:
        # croniter searches years ahead; a date that exists only in leap years (Feb 29) is found.
        croniter(value, datetime.now(UTC), second_at_beginning=_with_seconds(value)).get_next(datetime)
    except CroniterBadDateError:
        raise ScheduleError(
            f"schedule {value!r} never runs: no date matches its day and month fields (e.g. 31 February)"
        ) from None
    return value


def _with_seconds(expression: str) -> bool:
    """6 and 7 fields put seconds first (and a year last), as the cron libraries of the Hub's stack do."""
    return len(expression.split()) >= 6


def _count(field: Sequence[object], full: int) -> int:
    return full if list(field) == ["*"] else len(set(field))


def max_runs_per_day(expression: str) -> int:
    """The most runs ``expression`` starts in any 24-hour window of its cycle (see the module docstring)."""
    from croniter import croniter  # on first use (start-up time), as above

    value = check_schedule(expression)
    seconds = _with_seconds(value)
    fields = croniter.expand(value, second_at_beginning=seconds)[0]  # minute, hour, day, month, weekday[, second]
    per_minute = _count(fields[5], 60) if seconds else 1
    return min(_count(fields[0], 60) * _count(fields[1], 24) * per_minute, SECONDS_PER_DAY)


def next_run(expression: str, after: datetime) -> datetime:
    """The first run of ``expression`` after ``after`` (UTC)."""
    from croniter import croniter  # on first use (start-up time), as above

    value = check_schedule(expression)
    result: datetime = croniter(value, after, second_at_beginning=_with_seconds(value)).get_next(datetime)
    return result
