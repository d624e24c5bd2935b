"""``--auth hf`` callers (hfjobs_mcp.serve.http.auth): whoami-v2 verdicts cached by token hash, refusals cached
briefly, the Hub being down is a 503 (not a 401), the pool is bounded and closes what it evicts, each caller has its
own context.
"""

from __future__ import annotations

from collections import Counter

import anyio
import httpx2
import pytest

from hfjobs_mcp.config import Settings
from hfjobs_mcp.policy.approvals import Approvals
from hfjobs_mcp.serve.http.auth import VERIFIED_TTL, Caller, HfCallers, Refusal

pytestmark = pytest.mark.anyio

ALICE = "hf_AliceFakeToken0123456789abcdefgh"
BOB = "hf_BobFakeToken0123456789abcdefghijk"


class Hub:
    """whoami-v2 only: counts the calls per token; ``down`` answers 500."""

    def __init__(self) -> None:
        self.users = {ALICE: "alice", BOB: "bob"}
        self.calls: Counter[str] = Counter()
        self.down = False

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        if self.down:
            return httpx2.Response(500, json={"error": "down"})
        token = request.headers.get("authorization", "")[len("Bearer ") :]
        self.calls[token] += 1
        if token not in self.users:
            return httpx2.Response(401, json={"error": "Invalid credentials"})
        return httpx2.Response(200, json={"name": self.users[token], "type": "user", "orgs": []})


class Clock:
    now = 1000.0

    def __call__(self) -> float:
        return self.now


def _callers(hub: Hub, clock: Clock, max_callers: int = 8, **limits: tuple[int, float]) -> HfCallers:
    return HfCallers(
        settings=Settings(transport="http", auth="hf"),
        endpoint="http://hub.invalid",
        approvals=Approvals(),
        clock=clock,
        max_callers=max_callers,
        transport=httpx2.MockTransport(hub),
        **limits,
    )


async def _caller(callers: HfCallers, token: str) -> Caller:
    found = await callers.caller(f"Bearer {token}")
    assert isinstance(found, Caller), found
    await callers.release(found)
    return found


async def test_a_verdict_is_cached_until_its_ttl() -> None:
    hub, clock = Hub(), Clock()
    callers = _callers(hub, clock)
    first = await _caller(callers, ALICE)
    again = await _caller(callers, ALICE)
    assert again is first
    assert hub.calls[ALICE] == 1
    clock.now += VERIFIED_TTL + 1
    assert await _caller(callers, ALICE) is first
    assert hub.calls[ALICE] == 2
    await callers.aclose()


async def test_each_caller_has_its_own_client_token_and_principal() -> None:
    callers = _callers(Hub(), Clock())
    alice, bob = await _caller(callers, ALICE), await _caller(callers, BOB)
    assert alice.context.client is not bob.context.client
    assert alice.principal != bob.principal
    assert ALICE not in (alice.principal or "")
    assert alice.context.sources.resolve(["HF_TOKEN"]) == {"HF_TOKEN": ALICE}
    assert bob.context.sources.resolve(["HF_TOKEN"]) == {"HF_TOKEN": BOB}
    assert alice.context.redact(f"x {ALICE} y") == "x *** y"
    # One redactor for the deployment: each caller's token is masked for every caller (and in the log).
    assert alice.context.redactor is bob.context.redactor is callers.redactor
    assert bob.context.redact(f"{ALICE} {BOB}") == "*** ***"
    await callers.aclose()


async def test_missing_and_refused_tokens_are_401_and_refusals_are_cached() -> None:
    hub, clock = Hub(), Clock()
    callers = _callers(hub, clock)
    missing = await callers.caller(None)
    assert isinstance(missing, Refusal)
    assert missing.status == 401
    assert missing.error is None  # no token at all: a bare challenge (RFC 6750)
    bad = "hf_NobodyFakeToken0123456789abcdefg"
    for _ in range(3):
        refused = await callers.caller(f"Bearer {bad}")
        assert isinstance(refused, Refusal)
        assert refused.status == 401
        assert bad not in refused.description
    assert hub.calls[bad] == 1
    await callers.aclose()


async def test_a_revoked_token_stops_working_after_the_ttl() -> None:
    hub, clock = Hub(), Clock()
    callers = _callers(hub, clock)
    await _caller(callers, ALICE)
    del hub.users[ALICE]
    clock.now += VERIFIED_TTL + 1
    refused = await callers.caller(f"Bearer {ALICE}")
    assert isinstance(refused, Refusal)
    assert refused.status == 401
    assert len(callers) == 0
    await callers.aclose()


async def test_a_hub_that_cannot_answer_is_503_not_401() -> None:
    hub, clock = Hub(), Clock()
    hub.down = True
    refused = await _callers(hub, clock).caller(f"Bearer {ALICE}")
    assert isinstance(refused, Refusal)
    assert refused.status == 503


async def test_the_pool_is_bounded_and_closes_what_it_evicts() -> None:
    hub, clock = Hub(), Clock()
    tokens = [f"hf_Caller{i}FakeToken0123456789abcdef" for i in range(4)]
    hub.users.update({t: f"user{i}" for i, t in enumerate(tokens)})
    callers = _callers(hub, clock, max_callers=2)
    first = await _caller(callers, tokens[0])
    for token in tokens[1:]:
        await _caller(callers, token)
    assert len(callers) == 2
    assert first.retired
    assert first.client is not None
    assert first.client._http_client.is_closed
    # Evicted, its token is still masked: a job started with it may still print it.
    assert callers.redactor.redact(tokens[0]) == "***"
    await callers.aclose()


async def test_a_busy_caller_evicted_is_closed_when_its_request_ends() -> None:
    hub, clock = Hub(), Clock()
    callers = _callers(hub, clock, max_callers=1)
    busy = await callers.caller(f"Bearer {ALICE}")
    assert isinstance(busy, Caller)
    await _caller(callers, BOB)
    assert busy.retired
    assert busy.client is not None
    assert not busy.client._http_client.is_closed
    await callers.release(busy)
    assert busy.client._http_client.is_closed
    await callers.aclose()


async def test_concurrent_requests_with_one_refused_token_ask_the_hub_once() -> None:
    hub, clock = Hub(), Clock()
    callers = _callers(hub, clock)
    bad = "hf_NobodyFakeToken0123456789abcdefg"
    outcomes: list[object] = []

    async def one() -> None:
        outcomes.append(await callers.caller(f"Bearer {bad}"))

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(one)
    assert all(isinstance(o, Refusal) and o.status == 401 for o in outcomes)
    assert hub.calls[bad] == 1  # the others waited for the verdict, then read it from the refusal cache
    await callers.aclose()


@pytest.mark.slow
async def test_whoami_calls_are_bounded_per_client_and_in_total() -> None:
    hub, clock = Hub(), Clock()
    callers = _callers(hub, clock, per_client=(3, 30.0), total=(5, 50.0))
    attempts = [f"hf_Random{i:04d}FakeToken0123456789abcd" for i in range(10)]
    answers = [await callers.caller(f"Bearer {t}", "10.0.0.1") for t in attempts]
    statuses = [a.status for a in answers if isinstance(a, Refusal)]
    assert statuses == [401] * 3 + [429] * 7
    assert sum(hub.calls.values()) == 3
    limited = answers[-1]
    assert isinstance(limited, Refusal)
    assert limited.retry_after is not None
    assert 1 <= limited.retry_after <= 10
    # Another address has its own allowance, until the total is spent.
    others = [await callers.caller(f"Bearer {t}x", "10.0.0.2") for t in attempts[:4]]
    assert [o.status for o in others if isinstance(o, Refusal)] == [401, 401, 429, 429]
    assert sum(hub.calls.values()) == 5
    # A known caller is never limited: its verdict is cached.
    clock.now += 60
    assert isinstance(await callers.caller(f"Bearer {ALICE}", "10.0.0.1"), Caller)
    for _ in range(5):
        assert isinstance(await callers.caller(f"Bearer {ALICE}", "10.0.0.1"), Caller)
    assert hub.calls[ALICE] == 1
    # Time refills the allowance.
    clock.now += 60
    again = await callers.caller(f"Bearer {attempts[0]}z", "10.0.0.1")
    assert isinstance(again, Refusal)
    assert again.status == 401
    await callers.aclose()
