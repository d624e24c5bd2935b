"""Prices: the flavor list from ``GET /api/jobs/hardware`` (cached briefly) and what a request can cost at most.

A run's ceiling is the flavor's hourly price x its timeout (the server's 30-minute default when none is given)
x its attempts (each attempt is a new run with its own timeout: the wire spec's ``attempts`` is "max attempts,
the first included" and nothing says they share one timeout). Exposed ports add their fee where the hardware
list gives one; today's list (the Hub's OpenAPI ``/api/jobs/hardware``) has no such field, so they add nothing
and the question says so. A schedule's daily ceiling is the run ceiling x the most runs it can start in any
24-hour window (:func:`hfjobs_mcp.policy.cron.max_runs_per_day`).

Flavors and prices change rarely and every run and dry run needs them, so the list is cached per API client for
a few minutes instead of being fetched on each call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from weakref import WeakKeyDictionary

from hfjobs_mcp.policy.cron import max_runs_per_day

if TYPE_CHECKING:
    from hfjobs_mcp.api import HardwareFlavor

DEFAULT_TIMEOUT_SECONDS = 30 * 60
CACHE_SECONDS = 300.0


class HardwareSource(Protocol):
    """Anything that lists the hardware (the API client, or its read-only view while planning)."""

    async def list_hardware(self) -> list[HardwareFlavor]: ...


@dataclass
class _Entry:
    flavors: list[HardwareFlavor]
    fetched_at: float


@dataclass
class PriceBook:
    """The hardware list of one API client, refreshed after ``ttl`` seconds.

    A read-only view of a client (``__wrapped__``) shares its client's entry, so planning and listing hit the same
    cache.
    """

    ttl: float = CACHE_SECONDS
    clock: Callable[[], float] = time.monotonic
    _cache: WeakKeyDictionary[Any, _Entry] = field(default_factory=WeakKeyDictionary)

    async def flavors(self, source: HardwareSource) -> list[HardwareFlavor]:
        key = getattr(source, "__wrapped__", source)
        entry = self._cache.get(key)
        now = self.clock()
        if entry is None or now - entry.fetched_at > self.ttl:
            entry = _Entry(flavors=await source.list_hardware(), fetched_at=now)
            self._cache[key] = entry
        return entry.flavors

    async def flavor(self, source: HardwareSource, name: str) -> HardwareFlavor | None:
        return next((f for f in await self.flavors(source) if f.name == name), None)


PRICES = PriceBook()


def ceiling_usd(price_per_hour: float, timeout_seconds: int | None, attempts: int = 1) -> float:
    """The most a run can cost: hourly price x timeout (30 minutes when none is given) x attempts."""
    seconds = timeout_seconds or DEFAULT_TIMEOUT_SECONDS
    return round(price_per_hour * seconds / 3600 * attempts, 4)


@dataclass(frozen=True)
class RunPrice:
    """What one run of a job can cost at most, and what that figure is made of."""

    flavor: str
    price_per_hour: float | None
    """None when the flavor's price is unknown (not in the hardware list): whatever asks treats it as unknown."""
    timeout_seconds: int
    attempts: int = 1
    ports: tuple[int, ...] = ()
    port_fee_per_hour: float = 0.0

    @property
    def ceiling_usd(self) -> float | None:
        if self.price_per_hour is None:
            return None
        return ceiling_usd(self.price_per_hour + self.port_fee_per_hour, self.timeout_seconds, self.attempts)

    @property
    def free(self) -> bool:
        return self.price_per_hour == 0 and self.port_fee_per_hour == 0

    def daily_ceiling_usd(self, schedule: str) -> float | None:
        """The most a schedule running this job can cost in any 24 hours."""
        one = self.ceiling_usd
        return None if one is None else round(one * max_runs_per_day(schedule), 4)


async def price_run(
    source: HardwareSource,
    *,
    flavor: str,
    timeout_seconds: int | float | None,
    attempts: int | None = None,
    ports: Sequence[int] = (),
    book: PriceBook = PRICES,
) -> RunPrice:
    """The :class:`RunPrice` of a run of ``flavor`` (the 30-minute default timeout when None; one attempt)."""
    match = await book.flavor(source, flavor)
    return RunPrice(
        flavor=flavor,
        price_per_hour=round(match.price_per_hour, 4) if match is not None else None,
        timeout_seconds=int(timeout_seconds) if timeout_seconds else DEFAULT_TIMEOUT_SECONDS,
        attempts=max(1, attempts or 1),
        ports=tuple(ports),
    )
