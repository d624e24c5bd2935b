"""Retries and backoff (design §8, wire §12) with an injected sleep: the delays are recorded, never slept.

Reads retry on 429 (after ``Retry-After`` or ``RateLimit``'s ``t`` + 1 s), 502/503/504 and connection errors, with
capped jittered exponential backoff inside a budget. Writes retry only when they certainly did not take effect:
a refused connection or a 429. A write answered 500/503 is not retried.
"""

from __future__ import annotations

import time

import httpx2
import pytest

from hfjobs_mcp.api import JobSpec, RetryPolicy
from hfjobs_mcp.errors import RateLimitedError, ServerError, TransportError
from tests.api.fakes import FakeHub, FakeSleep, http_date, job_json, make_client

pytestmark = pytest.mark.anyio

SPEC = JobSpec(image="ubuntu", command=["echo", "hello"])


async def test_get_429_honours_retry_after() -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("GET", "/api/jobs/alice", status=429, headers={"retry-after": "7"})
    async with hub.client(sleep=sleep, namespace="alice") as client:
        assert await client.list_jobs() == []
    assert sleep.delays == [7.0]
    assert len(hub.seen("GET", "/api/jobs/alice")) == 2


async def test_get_429_honours_ratelimit_header() -> None:
    """huggingface_hub waits the window's ``t`` plus one second (Appendix A: 429 then 200 -> a 2.0 s wait)."""
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault(
        "GET",
        "/api/jobs/alice",
        status=429,
        headers={"ratelimit": '"api";r=0;t=1', "ratelimit-policy": '"fixed window";"api";q=500;w=300'},
    )
    hub.fault("GET", "/api/jobs/alice", status=429, headers={"ratelimit": '"api";r=0;t=12'})
    async with hub.client(sleep=sleep, namespace="alice") as client:
        await client.list_jobs()
    assert sleep.delays == [2.0, 13.0]


async def test_get_429_with_an_http_date_or_garbage() -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("GET", "/api/jobs/alice", status=429, headers={"retry-after": http_date(time.time() + 10)})
    hub.fault("GET", "/api/jobs/alice", status=429, headers={"retry-after": "soon, maybe"})
    hub.fault("GET", "/api/jobs/alice", status=429, headers={"retry-after": "nan"})
    async with hub.client(sleep=sleep, namespace="alice") as client:
        await client.list_jobs()
    assert 8.0 <= sleep.delays[0] <= 10.0
    assert 0.5 <= sleep.delays[1] <= 1.0  # unparsable: ordinary backoff, no crash
    assert 1.0 <= sleep.delays[2] <= 2.0


@pytest.mark.parametrize("status", [502, 503, 504])
async def test_get_retried_on_gateway_errors_with_capped_backoff(status: int) -> None:
    hub, sleep = FakeHub(), FakeSleep()
    job = hub.add_job()
    hub.fault("GET", f"/api/jobs/alice/{job['id']}", status=status, times=5)
    policy = RetryPolicy(attempts=6, base_delay=1.0, max_delay=4.0, budget=100.0)
    async with hub.client(sleep=sleep, retry=policy, namespace="alice") as client:
        assert (await client.inspect_job(job["id"])).id == job["id"]
    assert len(sleep.delays) == 5
    for attempt, delay in enumerate(sleep.delays, start=1):
        cap = min(4.0, 1.0 * 2 ** (attempt - 1))
        assert cap / 2 <= delay <= cap


@pytest.mark.parametrize("error", [httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.ReadError, httpx2.ReadTimeout])
async def test_get_retried_on_connection_errors(error: type[Exception]) -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("GET", "/api/whoami-v2", raise_before=error, times=2)
    async with hub.client(sleep=sleep) as client:
        assert await client.namespace() == "alice"
    assert len(sleep.delays) == 2


async def test_get_gives_up_after_attempts_with_the_mapped_error() -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("GET", "/api/jobs/alice", status=503, times=100, body={"error": "Service Unavailable"})
    async with hub.client(sleep=sleep, retry=RetryPolicy(attempts=3), namespace="alice") as client:
        with pytest.raises(ServerError) as info:
            await client.list_jobs()
    assert info.value.status == 503
    assert "Service Unavailable" in info.value.message
    assert len(hub.requests) == 3
    assert len(sleep.delays) == 2


async def test_get_gives_up_when_the_budget_is_spent() -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("GET", "/api/jobs/alice", status=429, times=100, headers={"retry-after": "6"})
    async with hub.client(sleep=sleep, retry=RetryPolicy(attempts=10, budget=15.0), namespace="alice") as client:
        with pytest.raises(RateLimitedError) as info:
            await client.list_jobs()
    assert sleep.delays == [6.0, 6.0]  # a third wait would pass the 15 s budget
    assert info.value.retry_after == 6.0
    assert info.value.hint


async def test_get_connection_errors_give_up_as_transport_error() -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("GET", "/api/jobs/alice", raise_before=httpx2.ConnectError, times=100)
    async with hub.client(sleep=sleep, retry=RetryPolicy(attempts=4), namespace="alice") as client:
        with pytest.raises(TransportError) as info:
            await client.list_jobs()
    assert not info.value.maybe_sent
    assert len(hub.requests) == 4
    assert sleep.total <= RetryPolicy().budget


@pytest.mark.parametrize("status", [500, 503])
async def test_post_not_retried_on_server_errors(status: int) -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("POST", "/api/jobs/alice", status=status)
    async with hub.client(sleep=sleep, namespace="alice") as client:
        with pytest.raises(ServerError):
            await client.run_job(SPEC)
        hub.fault("POST", "/api/jobs/alice/x/cancel", status=status)
        with pytest.raises(ServerError):
            await client.cancel_job("x")
    assert len(hub.seen("POST", "/api/jobs/alice")) == 1
    assert len(hub.seen("POST", "/api/jobs/alice/x/cancel")) == 1
    assert sleep.delays == []
    assert hub.jobs == []


@pytest.mark.parametrize(
    "fault",
    [
        {"raise_before": httpx2.ConnectError},
        {"raise_before": httpx2.ConnectTimeout},
        {"status": 429, "headers": {"retry-after": "1"}},
    ],
)
async def test_post_retried_when_it_certainly_did_not_happen(fault: dict[str, object]) -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("POST", "/api/jobs/alice", **fault)  # type: ignore[arg-type]
    async with hub.client(sleep=sleep, namespace="alice") as client:
        job = await client.run_job(SPEC)
    assert [j["id"] for j in hub.jobs] == [job.id]
    assert len(hub.seen("POST", "/api/jobs/alice")) == 2
    assert len(sleep.delays) == 1


async def test_post_429_gives_up_as_rate_limited() -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("POST", "/api/jobs/alice", status=429, times=100, headers={"retry-after": "2"})
    async with hub.client(sleep=sleep, retry=RetryPolicy(attempts=3), namespace="alice") as client:
        with pytest.raises(RateLimitedError):
            await client.run_job(SPEC)
    assert sleep.delays == [2.0, 2.0]
    assert hub.jobs == []


async def test_undecodable_body_is_retried_for_reads_and_ambiguous_for_writes() -> None:
    """A 2xx whose gzip body is corrupt: reads retry, a submission is looked up (never resent)."""
    calls: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.method)
        if len(calls) == 1 or request.method == "POST":
            return httpx2.Response(200, headers={"content-encoding": "gzip"}, content=b"not gzip at all")
        if request.method == "GET" and request.url.path == "/api/jobs/alice":
            return httpx2.Response(200, json=[])
        return httpx2.Response(200, json=job_json())

    sleep = FakeSleep()
    async with make_client(handler, sleep=sleep, namespace="alice") as client:
        assert (await client.inspect_job("abc")).id == "abc"
        with pytest.raises(TransportError) as info:
            await client.run_job(SPEC)
    assert info.value.maybe_sent
    assert calls.count("POST") == 1
