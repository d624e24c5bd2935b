"""A browser login's token is refreshed before it expires, as huggingface_hub 2.4 does it (issue 19).

``hf auth login`` (OAuth) saves an access token that expires, with its refresh token and expiry in
``stored_tokens``. The server, started with nothing but that login (no HF_TOKEN), must keep working: here the
saved token is about to expire, the backend accepts only the refreshed one, and a loopback stand-in for the Hub
answers ``POST /oauth/token`` (the refresh) and forwards every Jobs call to a real local backend. A second test
replaces the token file while the server runs (a new login): the next call's 401 makes the server re-read it.
"""

from __future__ import annotations

import configparser
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import mcp
import pytest
import uvicorn
from mcp.client.stdio import StdioServerParameters
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.backends import backend_config, serve_backend
from tests.e2e.conftest import forbid, text

pytestmark = pytest.mark.anyio

BIN = Path(sys.executable).parent / "hfjobs-mcp"
OLD = "hf_oauth_old_access_token_0000000001"
NEW = "hf_oauth_new_access_token_0000000002"
REFRESH = "hf_oauth_refresh_token_0000000003"
forbid(OLD, NEW, REFRESH)


class Hub:
    """The stand-in: ``/oauth/token`` refreshes; anything else is forwarded to the local backend."""

    def __init__(self, backend_url: str) -> None:
        self.backend_url = backend_url
        self.refreshes: list[dict[str, str]] = []

    async def oauth_token(self, request: Request) -> Response:
        form = dict(await request.form())
        self.refreshes.append({k: str(v) for k, v in form.items()})
        if form.get("grant_type") != "refresh_token" or form.get("refresh_token") != REFRESH:
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        return JSONResponse({"access_token": NEW, "expires_in": 8 * 3600, "token_type": "bearer"})

    async def forward(self, request: Request) -> Response:
        async with httpx2.AsyncClient(base_url=self.backend_url, timeout=30) as client:
            upstream = await client.request(
                request.method,
                request.url.path,
                params=request.query_params,
                content=await request.body(),
                headers={k: v for k, v in request.headers.items() if k.lower() in ("authorization", "content-type")},
            )
        return Response(
            upstream.content, status_code=upstream.status_code, media_type=upstream.headers.get("content-type")
        )

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/oauth/token", self.oauth_token, methods=["POST"]),
                Route("/{path:path}", self.forward, methods=["GET", "POST", "PUT", "DELETE"]),
            ]
        )


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[tuple[str, Hub]]:
    config = backend_config(state_dir=tmp_path / "state", token=NEW, user="alice")
    with serve_backend(config) as backend:
        stand_in = Hub(backend.url)
        server = uvicorn.Server(uvicorn.Config(stand_in.app(), host="127.0.0.1", port=0, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.02)
        port = server.servers[0].sockets[0].getsockname()[1]
        try:
            yield f"http://127.0.0.1:{port}", stand_in
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def _login(hf_home: Path, token: str, *, expires_in: float) -> None:
    """What `hf auth login` with the browser leaves behind: the token file and its stored-token entry."""
    hf_home.mkdir(parents=True, exist_ok=True)
    (hf_home / "token").write_text(token, encoding="utf-8")
    stored = configparser.ConfigParser()
    stored["browser-login"] = {
        "hf_token": token,
        "refresh_token": REFRESH,
        "expires_at": str(int(time.time() + expires_in)),
    }
    with (hf_home / "stored_tokens").open("w", encoding="utf-8") as f:
        stored.write(f)


def _params(tmp_path: Path, endpoint: str) -> StdioServerParameters:
    env = {
        "PATH": "/usr/bin:/bin",
        "HF_HOME": str(tmp_path / "hf"),
        "HF_ENDPOINT": endpoint,
        "HFJOBS_MCP_HOME": str(tmp_path / "home"),
    }
    return StdioServerParameters(command=str(BIN), args=["--log-level", "WARNING"], env=env)


async def _list(client: Any) -> dict[str, Any]:
    result = await client.call_tool("list_jobs", {})
    assert not result.is_error, text(result)
    return dict(result.structured_content or {})


@pytest.mark.slow
async def test_a_browser_login_token_is_refreshed_before_it_expires(tmp_path: Path, hub: tuple[str, Hub]) -> None:
    endpoint, stand_in = hub
    _login(tmp_path / "hf", OLD, expires_in=600)  # ten minutes left: within huggingface_hub's one-day margin
    async with mcp.Client(_params(tmp_path, endpoint)) as client:
        assert (await _list(client))["jobs"] == []
        started = await client.call_tool("run_job", {"image": "python:3.12", "command": ["true"]})
        assert not started.is_error, text(started)
    assert [r["refresh_token"] for r in stand_in.refreshes] == [REFRESH]
    assert (tmp_path / "hf" / "token").read_text(encoding="utf-8").strip() == NEW  # persisted, as hf does
    stored = configparser.ConfigParser()
    stored.read(tmp_path / "hf" / "stored_tokens")
    assert stored["browser-login"]["hf_token"] == NEW


@pytest.mark.slow
async def test_a_token_far_from_expiry_is_left_alone(tmp_path: Path, hub: tuple[str, Hub]) -> None:
    endpoint, stand_in = hub
    _login(tmp_path / "hf", NEW, expires_in=7 * 24 * 3600)
    async with mcp.Client(_params(tmp_path, endpoint)) as client:
        await _list(client)
    assert stand_in.refreshes == []


@pytest.mark.slow
async def test_a_new_login_while_the_server_runs_is_picked_up_after_a_401(tmp_path: Path, hub: tuple[str, Hub]) -> None:
    endpoint, stand_in = hub
    hf = tmp_path / "hf"
    hf.mkdir(parents=True)
    (hf / "token").write_text(OLD, encoding="utf-8")  # a plain token, refused by the backend
    async with mcp.Client(_params(tmp_path, endpoint)) as client:
        refused = await client.call_tool("list_jobs", {})
        assert refused.is_error
        (hf / "token").write_text(NEW, encoding="utf-8")  # `hf auth login` in another terminal
        await _list(client)
    assert stand_in.refreshes == []
