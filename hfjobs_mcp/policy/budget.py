"""The rolling budget: what a namespace has committed to spend in the last and next 24 hours.

Computed from the Hub's own lists, not from anything this server remembers, so it counts work started elsewhere
(the CLI, another agent, webhook-triggered and scheduled runs), survives restarts and holds across workers and
hosts:

- jobs that ran in the window: their running time inside the window x the flavor's price;
- jobs still scheduling or running: their whole ceiling (price x timeout), since they may run to it;
- active (not suspended) schedules: their daily ceiling (:mod:`hfjobs_mcp.policy.cron`).

Jobs are read newest first, at most :data:`MAX_JOBS_READ` of them: an older job that finished inside the window
is not counted. A flavor missing from the hardware list counts as free, and the total says so in ``notes``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from hfjobs_mcp.policy.cron import ScheduleError, max_runs_per_day
from hfjobs_mcp.policy.pricing import DEFAULT_TIMEOUT_SECONDS, PRICES, HardwareSource, PriceBook

if TYPE_CHECKING:
    from hfjobs_mcp.api import JobInfo, ScheduledJobInfo

WINDOW = timedelta(hours=24)
MAX_JOBS_READ = 500
ACTIVE_STAGES = ("SCHEDULING", "RUNNING")


class SpendSource(HardwareSource, Protocol):
    """The reads the budget needs."""

    async def list_jobs(
        self, *, namespace: str | None = None, stages: tuple[str, ...] = (), limit: int | None = None
    ) -> list[JobInfo]: ...

    async def list_scheduled_jobs(self, *, namespace: str | None = None) -> list[ScheduledJobInfo]: ...


@dataclass(frozen=True)
class Committed:
    """A namespace's committed spend for a 24-hour window, by kind, in USD."""

    ran_usd: float
    running_usd: float
    schedules_usd: float
    notes: tuple[str, ...] = field(default=())

    @property
    def total_usd(self) -> float:
        return round(self.ran_usd + self.running_usd + self.schedules_usd, 4)


def _overlap_hours(start: datetime | None, end: datetime | None, since: datetime) -> float:
    if start is None or end is None:
        return 0.0
    begin = max(start, since)
    return max(0.0, (end - begin).total_seconds()) / 3600


async def committed_spend(
    source: SpendSource, namespace: str, *, now: datetime | None = None, book: PriceBook = PRICES
) -> Committed:
    """The committed spend of ``namespace`` (see the module docstring)."""
    now = now or datetime.now(UTC)
    since = now - WINDOW
    prices = {f.name: f.price_per_hour for f in await book.flavors(source)}
    unknown: set[str] = set()

    def price(flavor: str | None) -> float:
        name = flavor or "cpu-basic"
        if name not in prices:
            unknown.add(name)
        return prices.get(name, 0.0)

    ran = running = 0.0
    for job in await source.list_jobs(namespace=namespace, limit=MAX_JOBS_READ):
        hourly = price(job.flavor)
        if job.status.stage in ACTIVE_STAGES:
            running += hourly * (job.timeout or DEFAULT_TIMEOUT_SECONDS) / 3600
        elif job.finished_at is not None and job.finished_at >= since:
            ran += hourly * _overlap_hours(job.started_at or job.created_at, job.finished_at, since)
    schedules = 0.0
    for sj in await source.list_scheduled_jobs(namespace=namespace):
        if sj.suspend:
            continue
        spec = sj.job_spec
        try:
            per_day = max_runs_per_day(sj.schedule)
        except ScheduleError:
            continue  # a schedule that never fires costs nothing
        attempts = (spec.retry or 0) + 1
        schedules += price(spec.flavor) * (spec.timeout or DEFAULT_TIMEOUT_SECONDS) / 3600 * attempts * per_day
    notes = tuple(f"flavor {name} has no listed price and counts as free" for name in sorted(unknown))
    return Committed(round(ran, 4), round(running, 4), round(schedules, 4), notes)
