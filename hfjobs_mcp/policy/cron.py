"""Cron schedules: what the Hub accepts, whether one ever fires, and the most runs it can start in a day.

One helper for the schedule check of the tools and for pricing, so a schedule that is accepted is also priced,
and a schedule that never fires (``0 0 31 2 *``) is refused before anything is sent instead of failing later.

**The daily ceiling is exact, not sampled.** Cron fires at every (minute, hour) of its minute and hour sets on
every day its day fields allow, in UTC (no daylight saving). Any 24-hour window ``[t, t + 24h)`` covers each
time of day exactly once, split over at most two consecutive days, so the most runs in any 24-hour window over
the schedule's whole cycle is ``|minutes| x |hours|`` as soon as the schedule fires at all, whatever its day,
month and weekday fields say. ``* * 1 * *`` (every minute on the 1st) is therefore 1,440 runs per day, not the
0 that counting the next 24 hours from the 2nd would give.
"""

from __future__ import annotations

from datetime import UTC, datetime

PRESETS = ("@annually", "@yearly", "@monthly", "@weekly", "@daily", "@hourly")
MINUTES_PER_DAY = 24 * 60


class ScheduleError(ValueError):
    """A schedule the Hub would refuse, or one that would never start a run."""


def check_schedule(expression: str) -> str:
    """``expression`` stripped, if it is a 5-field cron or a preset that fires at least once; else ScheduleError."""
    value = expression.strip()
    from croniter import CroniterBadDateError, croniter  # imported on first use: it costs start-up time

    if value not in PRESETS and (len(value.split()) != 5 or not croniter.is_valid(value)):
        # croniter also accepts 6-field (seconds) expressions, which the Hub does not: insist on five fields.
        raise ScheduleError(
            "schedule must be a 5-field cron expression (minute hour day month weekday), e.g. '*/15 * * * *', "
            "or one of " + ", ".join(PRESETS)
        )
    try:
        # croniter searches years ahead; a date that exists only in leap years (Feb 29) is found.
        croniter(value, datetime.now(UTC)).get_next(datetime)
    except CroniterBadDateError:
        raise ScheduleError(
            f"schedule {value!r} never runs: no date matches its day and month fields (e.g. 31 February)"
        ) from None
    return value


def max_runs_per_day(expression: str) -> int:
    """The most runs ``expression`` starts in any 24-hour window of its cycle (see the module docstring)."""
    from croniter import croniter

    fields = croniter.expand(check_schedule(expression))[0]
    minutes, hours = fields[0], fields[1]
    n_minutes = 60 if minutes == ["*"] else len(set(minutes))
    n_hours = 24 if hours == ["*"] else len(set(hours))
    return min(n_minutes * n_hours, MINUTES_PER_DAY)


def next_run(expression: str, after: datetime) -> datetime:
    """The first run of ``expression`` after ``after`` (UTC)."""
    from croniter import croniter

    result: datetime = croniter(check_schedule(expression), after).get_next(datetime)
    return result
