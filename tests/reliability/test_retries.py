"""429 with Retry-After and 503 on reads (design §8), through every read tool: recovered within the retry budget,
each wait the one the server asked for; past the budget, a clear error at once.

The backend's faults answer the first GETs with ``429`` (``Retry-After: 2``) twice, then ``503`` twice; the fifth
attempt (the policy's last) gets through. The API client's sleep is recorded and not slept, so the waits are
checked exactly; one test sleeps for real and measures the wait instead. tests/api/test_retries.py covers the
policy against a fake Hub and tests/api/test_client_vs_backend.py one 429 and one 503 burst on the client; this
file drives the tools an agent calls, streams included.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import pytest

from hfjobs_mcp.api import JobsClient, JobSpec, RetryPolicy
from tests.e2e.conftest import text
from tests.reliability.conftest import Counted, RecordingSleep, error_of, mcp_session, printer_code

pytestmark = pytest.mark.anyio

POLICY = RetryPolicy()  # the product's defaults: 5 attempts, 30 s budget
READ_CALLS: dict[str, Any] = {
    "list_jobs": lambda ids: {},
    "inspect_job": lambda ids: {"job_id": ids["job"]},
    "fetch_logs": lambda ids: {"job_id": ids["job"], "tail": 3},
    "fetch_metrics": lambda ids: {"job_id": ids["job"]},
    "wait_for_job": lambda ids: {"job_id": ids["job"], "timeout_seconds": 5},
    "list_hardware": lambda ids: {},
    "list_scheduled_jobs": lambda ids: {},
    "inspect_scheduled_job": lambda ids: {"scheduled_job_id": ids["scheduled"]},
}


@pytest.fixture
async def ids(backend: Counted) -> AsyncIterator[dict[str, str]]:
    """A finished job with a few log lines, and a suspended schedule."""
    async with JobsClient(token=backend.token, endpoint=backend.url) as client:
        job = await client.run_job(JobSpec(image="python:3.12", command=["python", "-c", printer_code(5, 0)]))
        async for _ in client.stream_logs(job.id, follow=True):
            pass
        sched = await client.create_scheduled_job(
            JobSpec(image="ubuntu", command=["true"]), schedule="@yearly", suspend=True
        )
        yield {"job": job.id, "scheduled": sched.id}


def _jitter_bounds(attempt: int) -> tuple[float, float]:
    cap = min(POLICY.max_delay, POLICY.base_delay * 2.0 ** (attempt - 1))
    return cap / 2, cap


@pytest.mark.slow
@pytest.mark.parametrize("tool_name", list(READ_CALLS))
async def test_read_tool_recovers_from_429_and_503_with_the_waits_asked(
    backend: Counted, ids: dict[str, str], tool_name: str
) -> None:
    sleep = RecordingSleep(cap=0)
    async with mcp_session(backend, sleep=sleep, retry=POLICY) as s:
        await s.api.namespace()
        backend.faults.add("429:method=GET:path=/api/**:retry_after=2:times=2,503:method=GET:path=/api/**:times=2")
        result = await s.call(tool_name, READ_CALLS[tool_name](ids))
    assert not result.is_error, text(result)
    assert Counter(kind for kind, _, _ in backend.faults.history) == {"429": 2, "503": 2}
    assert sleep.delays[:2] == [2.0, 2.0]  # Retry-After, exactly
    for attempt, delay in enumerate(sleep.delays[2:4], start=3):  # then capped jittered backoff
        low, high = _jitter_bounds(attempt)
        assert low <= delay <= high
    assert sum(sleep.delays) <= POLICY.budget


@pytest.mark.slow
async def test_retry_after_is_really_waited(backend: Counted, ids: dict[str, str]) -> None:
    """Measured, not recorded: the real sleep lasts at least what Retry-After asked."""
    async with mcp_session(backend) as s:
        await s.api.namespace()
        backend.faults.add("429:method=GET:path=/api/jobs/*/*:retry_after=1")
        started = time.monotonic()
        result = await s.call("inspect_job", {"job_id": ids["job"]})
        elapsed = time.monotonic() - started
    assert not result.is_error, text(result)
    assert 1.0 <= elapsed < 5.0


@pytest.mark.slow
@pytest.mark.parametrize("tool_name", ["inspect_job", "fetch_logs", "list_scheduled_jobs"])
async def test_503_past_the_attempts_is_a_clear_server_error(
    backend: Counted, ids: dict[str, str], tool_name: str
) -> None:
    sleep = RecordingSleep(cap=0)
    async with mcp_session(backend, sleep=sleep, retry=POLICY) as s:
        await s.api.namespace()
        mark = backend.counter.count
        backend.faults.add("503:method=GET:path=/api/**:times=inf")
        error = error_of(await s.call(tool_name, READ_CALLS[tool_name](ids)))
    assert error["type"] == "ServerError"
    assert "503" in error["message"]
    assert "try again" in error["hint"]
    assert len(backend.counter.since(mark)) == POLICY.attempts
    assert len(sleep.delays) == POLICY.attempts - 1
    assert sum(sleep.delays) <= POLICY.budget


@pytest.mark.slow
@pytest.mark.parametrize("tool_name", ["inspect_job", "fetch_logs", "list_jobs"])
async def test_429_past_the_budget_stops_without_retrying_early(
    backend: Counted, ids: dict[str, str], tool_name: str
) -> None:
    """Retry-After 12 s twice fits the 30 s budget, a third would not: two waits of exactly 12 s, then the error,
    which says how long to wait."""
    sleep = RecordingSleep(cap=0)
    async with mcp_session(backend, sleep=sleep, retry=POLICY) as s:
        await s.api.namespace()
        mark = backend.counter.count
        backend.faults.add("429:method=GET:path=/api/**:retry_after=12:times=inf")
        error = error_of(await s.call(tool_name, READ_CALLS[tool_name](ids)))
    assert error["type"] == "RateLimitedError"
    assert "rate limited" in error["message"]
    assert "wait 12 s" in error["hint"]
    assert sleep.delays == [12.0, 12.0]
    assert len(backend.counter.since(mark)) == 3


@pytest.mark.slow
@pytest.mark.parametrize("tool_name", ["inspect_job", "fetch_logs"])
async def test_retry_after_beyond_the_budget_fails_at_once(
    backend: Counted, ids: dict[str, str], tool_name: str
) -> None:
    """The server asks for 120 s, more than the whole 30 s budget: retrying sooner would not honour the wait and
    would only be refused again, so the call fails at once, saying how long to wait."""
    sleep = RecordingSleep(cap=0)
    async with mcp_session(backend, sleep=sleep, retry=POLICY) as s:
        await s.api.namespace()
        mark = backend.counter.count
        backend.faults.add("429:method=GET:path=/api/**:retry_after=120:times=inf")
        error = error_of(await s.call(tool_name, READ_CALLS[tool_name](ids)))
    assert error["type"] == "RateLimitedError"
    assert "wait 120 s" in error["hint"]
    assert sleep.delays == []
    assert len(backend.counter.since(mark)) == 1
