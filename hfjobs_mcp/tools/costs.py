"""What a job costs: its price, its ceiling, what it has cost so far (running) or in all (finished).

The price per hour is the flavor's in the hardware list (``GET /api/jobs/hardware``, cached); the running time is
the Hub's own ``durations.runningSecs`` when it gives one, else from ``startedAt`` to ``finishedAt`` (or now).
A flavor missing from the list (legacy or private hardware) has no price: the figures are then None.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field

from hfjobs_mcp.api import TERMINAL_STAGES, JobInfo
from hfjobs_mcp.policy.pricing import DEFAULT_TIMEOUT_SECONDS, PRICES, HardwareSource
from hfjobs_mcp.tools.base import View


class JobCost(View):
    """A job's cost in USD (None where the flavor's price is unknown)."""

    price_per_hour_usd: float | None
    ceiling_usd: float | None = Field(description="The most it can cost: price x timeout x attempts.")
    so_far_usd: float | None = Field(default=None, description="Running: its cost until now.")
    actual_usd: float | None = Field(default=None, description="Finished: what it cost (running time x price).")

    def line(self) -> str:
        if self.price_per_hour_usd is None:
            return "cost: unknown (no listed price for this flavor)"
        if self.actual_usd is not None:
            return f"cost: ${self.actual_usd:.4f} (${self.price_per_hour_usd}/h)"
        so_far = f"${self.so_far_usd:.4f} so far, " if self.so_far_usd is not None else ""
        return f"cost: {so_far}at most ${self.ceiling_usd} (${self.price_per_hour_usd}/h)"


def running_seconds(job: JobInfo, now: datetime) -> float:
    """How long the job has run (or ran), from the Hub's durations when it gives them."""
    if job.durations is not None and job.durations.running_secs is not None:
        return float(job.durations.running_secs)
    if job.started_at is None:
        return 0.0
    end = job.finished_at or now
    return max(0.0, (end - job.started_at).total_seconds())


def cost_of(job: JobInfo, price_per_hour: float | None, *, now: datetime | None = None) -> JobCost:
    """The :class:`JobCost` of ``job`` at ``price_per_hour``."""
    if price_per_hour is None:
        return JobCost(price_per_hour_usd=None, ceiling_usd=None)
    now = now or datetime.now(UTC)
    attempts = (job.retry or 0) + 1
    ceiling = round(price_per_hour * (job.timeout or DEFAULT_TIMEOUT_SECONDS) / 3600 * attempts, 4)
    spent = round(price_per_hour * running_seconds(job, now) / 3600, 6)
    over = job.status.stage in TERMINAL_STAGES
    return JobCost(
        price_per_hour_usd=round(price_per_hour, 4),
        ceiling_usd=ceiling,
        so_far_usd=None if over else spent,
        actual_usd=spent if over else None,
    )


async def prices(source: HardwareSource) -> dict[str, float]:
    """Price per hour by flavor name (the cached hardware list)."""
    return {f.name: f.price_per_hour for f in await PRICES.flavors(source)}
