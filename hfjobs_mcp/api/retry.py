"""The client's one retry loop and the policy it follows: what to wait after a failed attempt, and when to stop.

Every place the client tries something again goes through :func:`run` (tenacity underneath): a request
(:mod:`hfjobs_mcp.api.http`), opening a log or metrics stream, looking up a submission whose answer was lost
(:mod:`hfjobs_mcp.api.base`), and reconnecting a log follow whose stream dropped (:mod:`hfjobs_mcp.api.logs`).
An attempt asks for another by raising :class:`Retry`; anything else it raises ends the loop at once. What may be
retried is decided by the callers, by the rules of design §8:

- a read is retried on 429, 502/503/504 and network errors;
- a write only when it certainly did not take effect (the connection was never made, or 429); a 502/504 or a
  lost answer after a write is ambiguous and looked up, never resent;
- a log follow reconnects after its stream dropped and resumes where it was (no line lost or repeated).

The waits: what a 429 asked (``Retry-After`` or ``RateLimit``'s ``t`` plus a second, as huggingface_hub does),
else capped exponential backoff with jitter; the loop stops after ``attempts`` or when the next wait would pass
the ``budget`` of seconds one call may spend waiting.
"""

from __future__ import annotations

import email.utils
import math
import random
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from typing import TypeVar

import httpx2
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

__all__ = ["Retry", "RetryPolicy", "retry_after", "run"]

_T = TypeVar("_T")
_RATELIMIT_T = re.compile(r"\bt=(\d+(?:\.\d+)?)")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: attempts, backoff bounds and the total seconds one call may spend waiting."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    budget: float = 30.0
    statuses: frozenset[int] = frozenset({429, 502, 503, 504})
    jitter: bool = True

    def delay(self, attempt: int, response: httpx2.Response | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based).

        What a 429 asked is not capped: a wait longer than the budget then stops the retries at once, with the error
        saying how long to wait. Capping it to the budget made the client sleep the whole budget and retry before
        the server's time, only to be refused again (found by tests/reliability/test_retries.py).
        """
        if response is not None and response.status_code == 429:
            asked = retry_after(response)
            if asked is not None:
                return asked
        delay: float = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        if not self.jitter:
            return delay
        return delay / 2 + delay / 2 * random.random()  # noqa: S311 - backoff jitter, not cryptography


class Retry(Exception):
    """Raised by an attempt that failed in a way worth another: the error response or the exception it got."""

    def __init__(self, *, response: httpx2.Response | None = None, error: BaseException | None = None) -> None:
        super().__init__("retry")
        self.response = response
        self.error = error


async def run(
    attempt: Callable[[], Awaitable[_T]], *, policy: RetryPolicy, sleep: Callable[[float], Awaitable[None]]
) -> _T:
    """``attempt()`` until it returns, raises something other than :class:`Retry`, or the policy says stop.

    When it stops, the last :class:`Retry` is raised again: the caller turns it into the error its user reads.

    The first attempt is made before tenacity is set up, and handed to it only if it failed (its failure is then
    tenacity's first attempt): the loop runs once per batch of a log follow, where setting it up every time cost
    a few per cent of the follow's throughput, for the rare drop.
    """
    try:
        return await attempt()
    except Retry as exc:
        first: Retry | None = exc

    async def again() -> _T:
        nonlocal first
        if first is not None:
            failed, first = first, None
            raise failed
        return await attempt()

    def wait(state: RetryCallState) -> float:
        failed = state.outcome.exception() if state.outcome else None
        return policy.delay(state.attempt_number, failed.response if isinstance(failed, Retry) else None)

    def stop(state: RetryCallState) -> bool:
        if state.attempt_number >= policy.attempts:
            return True
        # tenacity computed the next wait just before asking (``upcoming_sleep``): check that very value.
        return state.idle_for + state.upcoming_sleep > policy.budget

    retrying = AsyncRetrying(retry=retry_if_exception_type(Retry), stop=stop, wait=wait, sleep=sleep, reraise=True)
    return await retrying(again)


def retry_after(response: httpx2.Response) -> float | None:
    """Seconds the server asked us to wait, from ``Retry-After`` (seconds or a date) or ``RateLimit: ...;t=N``."""
    value = response.headers.get("retry-after")
    if value:
        try:
            seconds = float(value)
        except ValueError:
            try:  # an HTTP date; garbage is ignored rather than allowed to crash the retry loop
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError, IndexError):
                when = None
            if when is not None:
                if when.tzinfo is None:
                    when = when.replace(tzinfo=UTC)
                return max(0.0, when.timestamp() - time.time())
        else:
            if math.isfinite(seconds):
                return max(0.0, seconds)
    match = _RATELIMIT_T.search(response.headers.get("ratelimit", ""))
    if match:
        return float(match.group(1)) + 1.0  # huggingface_hub adds a second to the window's reset
    return None
