"""Confirmation round trips that land on another worker (design §6): the elicitation round trip of the 2026-07-28
protocol (a sealed ``requestState``) and the confirmation-code round trip of clients without elicitation.

Two ways, both real processes on 127.0.0.1 and real MCP clients:

- Two servers sharing ``HFJOBS_MCP_STATE_KEY`` and a home (two workers, or two hosts behind a load balancer) in
  front of one local backend, and a client whose HTTP transport sends each ``tools/call`` to the other one: the
  answer to a question asked by one worker is accepted by the other, a code issued by one is redeemed by the other
  exactly once; with different keys the round trip fails (the key is what makes it work).
- ``hfjobs-mcp --workers 2``: uvicorn's supervisor with two worker processes on one socket; with a fresh connection
  per request the kernel spreads requests over both, and every round trip completes wherever its steps land.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ElicitResult

from hfjobs_mcp.serve.http.app import WORKER_HEADER
from tests.backends import backend_config, serve_backend
from tests.e2e.conftest import text
from tests.e2e.http_util import LOCAL_AUTH, http_client, local_server, mcp_client, running_server

pytestmark = pytest.mark.anyio

AUTH = "static-bearer-for-workers-91c0d2e8aa"
BACKEND_TOKEN = "hf_WorkersBackendFakeToken0123456789"
KEY = secrets.token_urlsafe(48)
SECRET_RUN = {"image": "python:3.12", "command": ["true"], "secrets": ["HF_TOKEN"]}


class Router(httpx2.AsyncBaseTransport):
    """Sends the n-th ``tools/call`` to ``ports[n % len(ports)]`` and anything else to ``ports[0]``; records the
    worker that answered each ``tools/call``. ``fresh`` opens a new connection for every request."""

    def __init__(self, ports: list[int], *, fresh: bool = False) -> None:
        self.ports = ports
        limits = httpx2.Limits(max_keepalive_connections=0) if fresh else httpx2.Limits()
        self.inner = httpx2.AsyncHTTPTransport(limits=limits)
        self.workers: list[str] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        is_call = b'"tools/call"' in await request.aread()
        if len(self.ports) > 1:
            port = self.ports[len(self.workers) % len(self.ports)] if is_call else self.ports[0]
            request.url = request.url.copy_with(port=port)
        response = await self.inner.handle_async_request(request)
        if is_call:
            self.workers.append(response.headers.get(WORKER_HEADER, "?"))
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass
class Asked:
    prompts: list[str] = field(default_factory=list)

    async def __call__(self, context: Any, params: Any) -> ElicitResult:
        self.prompts.append(params.message)
        return ElicitResult(action="accept", content={"approve": True})


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


@dataclass
class Pair:
    ports: list[int]
    url: str


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    """Two servers with one state key and one home, one backend; and a third server with another key."""
    tmp = tmp_path_factory.mktemp("pair")
    config = backend_config(state_dir=tmp / "backend", token=BACKEND_TOKEN, user="team")
    with serve_backend(config) as backend:
        env = {"HF_TOKEN": BACKEND_TOKEN, "HFJOBS_MCP_AUTH_TOKEN": AUTH, "HFJOBS_MCP_STATE_KEY": KEY}
        other = {**env, "HFJOBS_MCP_STATE_KEY": secrets.token_urlsafe(48)}
        # Confirmation codes are the opt-in channel for clients without elicitation or Apps: these tests use them.
        args = ("--auth", "token", "--endpoint", backend.url, "--confirm-via", "code")
        with (
            running_server(tmp, *args, env=env, name="a", home=tmp / "home") as a,
            running_server(tmp, *args, env=env, name="b", home=tmp / "home") as b,
            running_server(tmp, *args, env=other, name="c", home=tmp / "home-c") as c,
        ):
            yield Pair(ports=[a.port, b.port, c.port], url=a.mcp_url)


@pytest.mark.slow
async def test_elicitation_answered_on_another_worker(pair: Pair) -> None:
    router = Router(pair.ports[:2])
    asked = Asked()
    async with (
        http_client(AUTH, transport=router) as http,
        mcp_client(pair.url, client=http, mode="auto", elicitation_callback=asked) as client,
    ):
        job = _ok(await client.call_tool("run_job", SECRET_RUN))["job"]
    assert job["secrets"] == ["HF_TOKEN"]
    assert len(asked.prompts) == 1
    assert len(router.workers) == 2
    assert router.workers[0] != router.workers[1], "the question and its answer went to the same worker"


@pytest.mark.slow
async def test_confirmation_code_redeemed_once_on_another_worker(pair: Pair) -> None:
    router = Router(pair.ports[:2])
    async with (
        http_client(AUTH, transport=router) as http,
        mcp_client(pair.url, client=http, mode="legacy") as client,
    ):
        asked = await client.call_tool("run_job", SECRET_RUN)
        assert asked.is_error
        code = (asked.structured_content or {})["error"]["confirm"]
        confirmed = await client.call_tool("run_job", {**SECRET_RUN, "confirm": code})
        _ok(confirmed)
        again = await client.call_tool("run_job", {**SECRET_RUN, "confirm": code})
    assert again.is_error
    assert "unknown or was already used" in text(again)
    first, second, third = router.workers
    assert first != second, "the code was issued and redeemed by the same worker"
    assert third == first, "the reuse was refused by the worker that issued the code, after the other redeemed it"


@pytest.mark.slow
async def test_a_worker_without_the_shared_key_cannot_finish_the_round_trip(pair: Pair) -> None:
    """The control: same everything but the state key, and the answer is refused (nothing is sent)."""
    router = Router([pair.ports[0], pair.ports[2]])
    async with (
        http_client(AUTH, transport=router) as http,
        mcp_client(pair.url, client=http, mode="auto", elicitation_callback=Asked()) as client,
    ):
        with pytest.raises(MCPError, match="Invalid or expired requestState"):
            await client.call_tool("run_job", SECRET_RUN)
    assert len(router.workers) == 2
    assert router.workers[0] != router.workers[1]


@pytest.mark.slow
async def test_two_uvicorn_workers_complete_round_trips_wherever_they_land(tmp_path: Path) -> None:
    with local_server(tmp_path, "--workers", "2", "--confirm-via", "code") as server:
        seen = {httpx2.get(f"{server.base_url}/healthz", timeout=5).json()["worker"] for _ in range(30)}
        assert len(seen) == 2, "requests on fresh connections should reach both workers"
        crossed_elicitation = crossed_code = False
        redeemed: list[str] = []
        for _ in range(12):
            router = Router([server.port], fresh=True)
            async with (
                http_client(LOCAL_AUTH, transport=router) as http,
                mcp_client(server.mcp_url, client=http, mode="auto", elicitation_callback=Asked()) as client,
            ):
                _ok(await client.call_tool("run_job", SECRET_RUN))
            crossed_elicitation |= router.workers[0] != router.workers[1]
            router = Router([server.port], fresh=True)
            async with (
                http_client(LOCAL_AUTH, transport=router) as http,
                mcp_client(server.mcp_url, client=http, mode="legacy") as client,
            ):
                asked = await client.call_tool("run_job", SECRET_RUN)
                code = (asked.structured_content or {})["error"]["confirm"]
                _ok(await client.call_tool("run_job", {**SECRET_RUN, "confirm": code}))
                redeemed.append(code)
            crossed_code |= router.workers[0] != router.workers[1]
            if crossed_elicitation and crossed_code:
                break
        assert crossed_elicitation, "no elicitation round trip crossed workers in 12 tries"
        assert crossed_code, "no code round trip crossed workers in 12 tries"
        # Every redeemed code stays used, whichever worker is asked.
        router = Router([server.port], fresh=True)
        async with http_client(LOCAL_AUTH, transport=router) as http, mcp_client(server.mcp_url, client=http) as client:
            for code in redeemed[:4]:
                reused = await client.call_tool("run_job", {**SECRET_RUN, "confirm": code})
                assert reused.is_error
                assert "unknown or was already used" in text(reused)
