"""OAuth for ``--transport http --auth hf`` (issue 21): the discovery walk a host that requires OAuth makes (Claude.ai
and ChatGPT connectors), against a loopback stand-in for the Hugging Face authorization server.

401 with ``WWW-Authenticate: ... resource_metadata=...`` -> the RFC 9728 document naming the authorization server
-> that server's RFC 8414 metadata -> a token for this resource (RFC 8707 ``resource``) -> ``tools/call`` with it.
A token the same authorization server issued for another resource is refused (the Hub itself would accept it);
a static Hugging Face token keeps working. Tokens are fake: JWT-shaped for the OAuth ones, whose audience the
stand-in sets as the real server would; the local backend knows every one of them as a user's token.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx2
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.backends import backend_config, serve_backend
from tests.e2e.conftest import MODES, text
from tests.e2e.http_util import free_port, http_client, mcp_client, running_server

pytestmark = pytest.mark.anyio

PUBLIC = "https://mcp.example.test/mcp"  # where clients reach the server (behind a proxy); its OAuth resource
OTHER = "https://other-mcp.example.test/mcp"
SERVER_TOKEN = "hf_OauthServerOwnFake0123456789abcd"
STATIC = "hf_DaveStaticFakeToken0123456789abc"


def _jwt(claims: dict[str, object]) -> str:
    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'at+jwt'})}.{part(claims)}.ZmFrZS1zaWduYXR1cmU"


ISSUED = {  # what the stand-in issues, by requested resource
    PUBLIC: _jwt({"iss": "stand-in", "sub": "carol", "aud": PUBLIC, "scope": "openid inference-api"}),
    OTHER: _jwt({"iss": "stand-in", "sub": "carol", "aud": [OTHER], "scope": "openid"}),
}


def _stand_in(base: str) -> Starlette:
    """The authorization server's two endpoints a confidential client uses: its metadata, and its token endpoint."""

    async def metadata(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/oauth/authorize",
                "token_endpoint": f"{base}/oauth/token",
                "grant_types_supported": ["authorization_code", "client_credentials"],
                "response_types_supported": ["code"],
                "code_challenge_methods_supported": ["S256"],
            }
        )

    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        resource = str(form.get("resource") or "")
        if form.get("grant_type") != "client_credentials" or resource not in ISSUED:
            return JSONResponse({"error": "invalid_target"}, status_code=400)
        return JSONResponse({"access_token": ISSUED[resource], "token_type": "Bearer", "expires_in": 3600})

    return Starlette(
        routes=[
            Route("/.well-known/oauth-authorization-server", metadata),
            Route("/oauth/token", token, methods=["POST"]),
        ]
    )


@dataclass
class Deployment:
    mcp_url: str
    base_url: str
    issuer: str


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    tmp = tmp_path_factory.mktemp("oauth")
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    stand_in = uvicorn.Server(uvicorn.Config(_stand_in(issuer), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=stand_in.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not stand_in.started and time.monotonic() < deadline:
        time.sleep(0.05)
    users = {token: ("carol", ()) for token in ISSUED.values()} | {STATIC: ("dave", ())}
    config = backend_config(state_dir=tmp / "backend", token=SERVER_TOKEN, user="server-owner", extra_users=users)
    try:
        with serve_backend(config) as backend:
            args = ["--auth", "hf", "--endpoint", backend.url, "--authorization-server", issuer, "--public-url", PUBLIC]
            with running_server(tmp, *args, env={"HF_TOKEN": SERVER_TOKEN}) as server:
                yield Deployment(mcp_url=server.mcp_url, base_url=server.base_url, issuer=issuer)
                output = server.output()
    finally:
        stand_in.should_exit = True
        thread.join(timeout=10)
    for value in (*ISSUED.values(), STATIC, SERVER_TOKEN):
        assert value not in output, "a token reached the server's log"


INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def _challenge(response: httpx2.Response) -> dict[str, str]:
    assert response.status_code == 401
    header = response.headers["www-authenticate"]
    assert header.startswith("Bearer ")
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def _walk(deployment: Deployment, resource: str | None = None) -> str:
    """401 -> resource metadata -> authorization server metadata -> token: what an OAuth host does first."""
    refused = httpx2.post(deployment.mcp_url, json=INITIALIZE, headers=HEADERS, timeout=10)
    where = _challenge(refused)["resource_metadata"]
    assert where == "https://mcp.example.test/.well-known/oauth-protected-resource/mcp"
    # The public URL is the proxy's; the test reaches the server directly, at the same path.
    document = httpx2.get(deployment.base_url + where.removeprefix("https://mcp.example.test"), timeout=10)
    assert document.status_code == 200
    metadata = document.json()
    assert metadata["resource"] == PUBLIC
    assert metadata["authorization_servers"] == [deployment.issuer]
    assert metadata["bearer_methods_supported"] == ["header"]
    issuer = metadata["authorization_servers"][0]
    server_metadata = httpx2.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=10).json()
    assert server_metadata["issuer"] == issuer
    issued = httpx2.post(
        server_metadata["token_endpoint"],
        data={"grant_type": "client_credentials", "resource": resource or metadata["resource"]},
        timeout=10,
    )
    assert issued.status_code == 200, issued.text
    return str(issued.json()["access_token"])


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_the_discovery_walk_ends_in_a_tool_call(deployment: Deployment, mode: str) -> None:
    token = _walk(deployment)
    async with http_client(token) as http, mcp_client(deployment.mcp_url, client=http, mode=mode) as carol:
        started = await carol.call_tool("run_job", {"image": "python:3.12", "command": ["true"]})
        assert not started.is_error, text(started)
        assert (started.structured_content or {})["job"]["namespace"] == "carol"
        listed = await carol.call_tool("list_jobs", {})
        assert token not in text(listed) + repr(listed.structured_content)


@pytest.mark.slow
def test_a_token_issued_for_another_resource_is_refused(deployment: Deployment) -> None:
    elsewhere = _walk(deployment, resource=OTHER)
    refused = httpx2.post(
        deployment.mcp_url, json=INITIALIZE, headers={**HEADERS, "authorization": f"Bearer {elsewhere}"}, timeout=10
    )
    challenge = _challenge(refused)
    assert challenge["error"] == "invalid_token"
    assert "another resource" in challenge["error_description"]
    assert challenge["resource_metadata"].endswith("/.well-known/oauth-protected-resource/mcp")
    assert elsewhere not in refused.text


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_a_static_hugging_face_token_keeps_working(deployment: Deployment, mode: str) -> None:
    async with http_client(STATIC) as http, mcp_client(deployment.mcp_url, client=http, mode=mode) as dave:
        listed = await dave.call_tool("list_jobs", {})
        assert not listed.is_error, text(listed)


@pytest.mark.slow
def test_an_unknown_token_is_refused_with_the_metadata_to_get_a_good_one(deployment: Deployment) -> None:
    unknown = _jwt({"sub": "mallory", "aud": PUBLIC})  # for this resource, but no user of the Hub's
    refused = httpx2.post(
        deployment.mcp_url, json=INITIALIZE, headers={**HEADERS, "authorization": f"Bearer {unknown}"}, timeout=10
    )
    challenge = _challenge(refused)
    assert challenge["error"] == "invalid_token"
    assert "resource_metadata" in challenge
