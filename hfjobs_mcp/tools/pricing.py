"""Hardware prices: the flavor list from ``GET /api/jobs/hardware``, cached briefly, and price ceilings.

A run's price ceiling is the flavor's hourly price times its timeout (the server's 30-minute default when none
is given): the most the job can cost. Flavors and prices change rarely, and every run and dry run needs them,
so the list is cached per API client for a few minutes instead of being fetched on each call.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

if TYPE_CHECKING:
    from hfjobs_mcp.api import HardwareFlavor, JobsClient

DEFAULT_TIMEOUT_SECONDS = 30 * 60
CACHE_SECONDS = 300.0


@dataclass
class _Entry:
    flavors: list[HardwareFlavor]
    fetched_at: float


@dataclass
class PriceBook:
    """The hardware list of one API client, refreshed after ``ttl`` seconds."""

    ttl: float = CACHE_SECONDS
    clock: Callable[[], float] = time.monotonic
    _cache: WeakKeyDictionary[JobsClient, _Entry] = field(default_factory=WeakKeyDictionary)

    async def flavors(self, client: JobsClient) -> list[HardwareFlavor]:
        entry = self._cache.get(client)
        now = self.clock()
        if entry is None or now - entry.fetched_at > self.ttl:
            entry = _Entry(flavors=await client.list_hardware(), fetched_at=now)
            self._cache[client] = entry
        return entry.flavors

    async def flavor(self, client: JobsClient, name: str) -> HardwareFlavor | None:
        return next((f for f in await self.flavors(client) if f.name == name), None)


PRICES = PriceBook()


def ceiling_usd(price_per_hour: float, timeout_seconds: int | None) -> float:
    """The most a run can cost: hourly price times its timeout (30 minutes when none is given)."""
    seconds = timeout_seconds or DEFAULT_TIMEOUT_SECONDS
    return round(price_per_hour * seconds / 3600, 4)


MAX_RUNS_COUNTED = 24 * 60


def runs_per_day(schedule: str, *, now: datetime | None = None) -> int:
    """How many runs ``schedule`` starts in the next 24 hours (at most one per minute)."""
    start = now or datetime.now(UTC)
    end = start + timedelta(days=1)
    from croniter import croniter  # imported on first use: it costs start-up time

    it = croniter(schedule, start)
    count = 0
    while count < MAX_RUNS_COUNTED and it.get_next(datetime) <= end:
        count += 1
    return count
