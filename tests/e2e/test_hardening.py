"""A server that one caller cannot stall or read through (issue 14), attacked over real HTTP.

- (5) ``--auth hf``: a token one caller forwarded to a job in an org two callers share is masked for the other
  caller, on the same server and on a second server of the deployment (one home, one state key: another worker
  or host), which learns it only as keyed hashes;
- (6) a ``grep`` regex with catastrophic backtracking (``(a+)+$`` over long lines) leaves ``/healthz`` answering
  at once and the call itself ends promptly;
- (10) unknown bearer tokens cost a bounded number of whoami-v2 calls per client: 429 with ``Retry-After`` beyond;
- (9) ``--transport http --local`` refuses to start without ``--auth token`` (see test_http_deployment's refused
  configurations) and works with it.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp_types import CallToolResult, ElicitResult

from tests.backends import backend_config, serve_backend
from tests.e2e.conftest import text
from tests.e2e.http_util import LOCAL_AUTH, http_client, local_server, mcp_client, running_server

pytestmark = pytest.mark.anyio

SERVER_TOKEN = "hf_HardeningServerFakeToken0123456789"
ALICE = "hf_HardeningAliceFakeToken012345678"
BOB = "hf_HardeningBobFakeToken0123456789ab"
KEY = secrets.token_urlsafe(48)


async def _approve(context: Any, params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"approve": True})


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


# --- 5. a value any caller forwarded is masked for every caller -------------------------------------------------


@dataclass
class Deployment:
    urls: list[str]


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """Two ``--auth hf`` servers with one home and one state key (two workers, or hosts on shared storage)."""
    tmp = tmp_path_factory.mktemp("hf-shared")
    config = backend_config(
        state_dir=tmp / "backend",
        token=SERVER_TOKEN,
        user="server-owner",
        extra_users={ALICE: ("alice", ("shared-org",)), BOB: ("bob", ("shared-org",))},
    )
    with serve_backend(config) as backend:
        env = {"HF_TOKEN": SERVER_TOKEN, "HFJOBS_MCP_STATE_KEY": KEY}
        args = ("--auth", "hf", "--endpoint", backend.url)
        with (
            running_server(tmp, *args, env=env, name="a", home=tmp / "home") as a,
            running_server(tmp, *args, env=env, name="b", home=tmp / "home") as b,
        ):
            yield Deployment(urls=[a.mcp_url, b.mcp_url])
            logs = a.output() + b.output()
    for value in (ALICE, BOB, SERVER_TOKEN):
        assert value not in logs, "a token reached a server's log"


@pytest.mark.slow
async def test_a_token_one_caller_forwarded_is_masked_for_every_caller(deployment: Deployment) -> None:
    code = (
        "import os, base64; t = os.environ['HF_TOKEN']; print('raw', t); "
        "print('b64', base64.b64encode(t.encode()).decode()); print('hex', t.encode().hex())"
    )
    first, second = deployment.urls
    results: list[CallToolResult] = []
    async with (
        http_client(ALICE) as http,
        mcp_client(first, client=http, mode="auto", elicitation_callback=_approve) as alice,
    ):
        run = {"image": "python:3.12", "command": ["python", "-c", code], "secrets": ["HF_TOKEN"]}
        started = await alice.call_tool("run_job", {**run, "namespace": "shared-org"})
        job = _ok(started)["job"]
        assert job["namespace"] == "shared-org"
        waited = await alice.call_tool("wait_for_job", {"job_id": f"shared-org/{job['id']}", "timeout_seconds": 60})
        assert _ok(waited)["job"]["stage"] == "COMPLETED"
        results += [started, waited]
    for url in (first, second):  # the same server, and another one that never saw Alice
        async with http_client(BOB) as http, mcp_client(url, client=http, mode="auto") as bob:
            logs = await bob.call_tool("fetch_logs", {"job_id": f"shared-org/{job['id']}"})
            lines = [line["text"] for line in _ok(logs)["lines"]]
            results.append(logs)
            assert [line.split(" ", 1)[0] for line in lines] == ["raw", "b64", "hex"]
            for line in lines:
                rest = line.split(" ", 1)[1]
                # At most the padding of a partial base64 group is left beside the mask.
                assert rest.startswith("***"), (url, line)
                assert len(rest) <= 6, (url, line)
            grepped = await bob.call_tool("fetch_logs", {"job_id": f"shared-org/{job['id']}", "grep": "hf_"})
            assert _ok(grepped)["lines"] == []
            results.append(grepped)
    for result in results:
        blob = text(result) + repr(result.structured_content)
        assert ALICE not in blob
        assert base64.b64encode(ALICE.encode()).decode()[:20] not in blob
        assert ALICE.encode().hex()[:20] not in blob


# --- 6. grep cannot stall the server ----------------------------------------------------------------------------


async def _health_latency(base_url: str) -> float:
    started = time.monotonic()
    async with httpx2.AsyncClient(timeout=20) as probe:
        response = await probe.get(f"{base_url}/healthz")
    assert response.status_code == 200
    return time.monotonic() - started


@pytest.mark.slow
async def test_a_backtracking_regex_leaves_the_server_answering(tmp_path: Path) -> None:
    # 200 lines of 20,000 'a' and one '!': Python's backtracking `re` never finishes `(a+)+$` on one of them.
    printer = "import sys\nfor _ in range(200):\n    sys.stdout.write('a' * 20000 + '!\\n')\n"
    with local_server(tmp_path) as server:
        async with (
            http_client(LOCAL_AUTH) as http,
            mcp_client(server.mcp_url, client=http, mode="legacy") as client,
        ):
            job = _ok(await client.call_tool("run_job", {"image": "python:3.12", "command": ["python", "-c", printer]}))
            job_id = job["job"]["id"]
            _ok(await client.call_tool("wait_for_job", {"job_id": job_id, "timeout_seconds": 60}))
            outcome: dict[str, CallToolResult] = {}
            latencies: list[float] = []

            async def grep() -> None:
                outcome["r"] = await client.call_tool(
                    "fetch_logs", {"job_id": job_id, "grep": "(a+)+$", "regex": True, "tail": 10}
                )

            # Generous bounds for a noisy 2-core machine; the old code held /healthz for the whole match (12 s on
            # a line of the issue, unbounded on these).
            with anyio.fail_after(90):
                async with anyio.create_task_group() as tg:
                    tg.start_soon(grep)
                    for _ in range(5):
                        latencies.append(await _health_latency(server.base_url))
                        await anyio.sleep(0.05)
    assert max(latencies) < 5.0, latencies
    result = outcome["r"]
    assert _ok(result)["lines"] == []  # no line ends with an 'a'


def test_the_matcher_is_linear_and_refuses_what_it_cannot_do() -> None:
    """What RE2 cannot do in linear time (backreferences, lookarounds) is a clear error, not a slow match."""
    from hfjobs_mcp.tools.grep import PatternError, matcher

    with pytest.raises(PatternError, match="invalid"):
        matcher(r"(a)\1", regex=True)
    match = matcher("(a+)+$", regex=True)
    started = time.monotonic()
    assert not match("a" * 200_000 + "!")
    assert time.monotonic() - started < 5.0


@pytest.mark.slow
async def test_a_bad_regex_is_an_error_result_that_says_what_to_do(tmp_path: Path) -> None:
    with local_server(tmp_path) as server:
        async with (
            http_client(LOCAL_AUTH) as http,
            mcp_client(server.mcp_url, client=http, mode="legacy") as client,
        ):
            job = _ok(await client.call_tool("run_job", {"image": "python:3.12", "command": ["true"]}))
            result = await client.call_tool(
                "fetch_logs", {"job_id": job["job"]["id"], "grep": r"(?<=x)y", "regex": True}
            )
    assert result.is_error
    assert "RE2 syntax" in text(result)


# --- 10. whoami-v2 calls are bounded per client ---------------------------------------------------------------------

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


@pytest.mark.slow
def test_unknown_tokens_are_rate_limited_per_client(deployment: Deployment) -> None:
    url = deployment.urls[1]
    statuses: list[int] = []
    retry_after: list[str] = []
    with httpx2.Client(timeout=20) as http:
        first = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "authorization": f"Bearer {BOB}"})
        assert first.status_code == 200
        # The same refused token again and again: asked once, then refused from the cache.
        for _ in range(5):
            bad = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "authorization": "Bearer hf_SameBadFake0"})
            assert bad.status_code == 401
        for i in range(25):
            token = f"hf_RandomFake{i:03d}" + secrets.token_hex(8)
            response = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "authorization": f"Bearer {token}"})
            statuses.append(response.status_code)
            if response.status_code == 429:
                retry_after.append(response.headers["retry-after"])
                assert token not in response.text
        # A known caller is not limited: its verdict is cached.
        known = http.post(url, json=INITIALIZE, headers={**MCP_HEADERS, "authorization": f"Bearer {BOB}"})
    assert set(statuses) <= {401, 429}
    assert statuses.count(401) <= 10, statuses  # the per-client burst (the cached token above took one)
    assert statuses[-1] == 429
    assert all(int(value) >= 1 for value in retry_after)
    assert known.status_code == 200
