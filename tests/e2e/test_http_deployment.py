"""The HTTP deployment as a team would run it: the real ``hfjobs-mcp --transport http`` on 127.0.0.1, real MCP
clients over streamable HTTP (both protocol eras), fake tokens only.

- ``--auth token``: 401 with ``WWW-Authenticate`` without or with a wrong bearer token, calls with the right one;
  Host (421) and Origin (403) checks before anything else, ``--allowed-hosts``/``--allowed-origins``, the body
  cap (413), ``/healthz`` without auth.
- ``--auth hf`` against a local backend that knows two users: each caller is verified with whoami-v2 and sees
  only what its own token can; ``HF_TOKEN`` forwarded for a caller is that caller's token, redacted from its
  results; the server's environment is never forwarded; a confirmation code is bound to its caller; no token
  in any result or in the server's log.
- Refused configurations (``--auth none`` off loopback, no static token, ``hf`` with ``--local``...).
- Graceful shutdown: SIGTERM while a call is running, the call completes and the process exits 0.
"""

from __future__ import annotations

import hashlib
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp.client.extension import advertise
from mcp.server.apps import APP_MIME_TYPE, EXTENSION_ID
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, ElicitResult, ResourceTemplateReference

from hfjobs_mcp.serve.app_page import ANSWER_TOOL, APPROVAL_META
from hfjobs_mcp.tools.registry import select_tools
from tests.backends import backend_config, serve_backend
from tests.e2e.conftest import MODES, text
from tests.e2e.http_util import BIN, LOCAL_AUTH, clean_env, http_client, local_server, mcp_client, running_server
from tests.e2e.tasks_client import CreatedTask, Tasks, cancel_task, get_task
from tests.visibility import model_visible

pytestmark = pytest.mark.anyio

AUTH = "static-bearer-for-tests-7f3a9c1e55"
SERVER_TOKEN = "hf_ServerOwnFakeToken0123456789abcd"
ALICE = "hf_AliceFakeToken0123456789abcdefgh"
BOB = "hf_BobFakeToken0123456789abcdefghijk"
SERVER_SECRET = "server-env-secret-value-41d8cd98f0"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"accept": "application/json, text/event-stream", "content-type": "application/json"}


def _post(url: str, *, token: str | None = None, **headers: str) -> httpx2.Response:
    auth = {"authorization": f"Bearer {token}"} if token else {}
    return httpx2.post(url, json=INITIALIZE, headers={**MCP_HEADERS, **auth, **headers}, timeout=10)


def _result(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


async def _approve(context: Any, params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"approve": True})


# --- --auth token ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("token")
    args = ["--local", "--auth", "token", "--allowed-hosts", "mcp.example.com", "--max-body-bytes", "4096"]
    args += ["--allowed-origins", "https://app.example.com"]
    with running_server(tmp, *args, env={"HFJOBS_MCP_AUTH_TOKEN": AUTH}) as server:
        yield server


@pytest.mark.slow
def test_missing_token_is_401_with_a_challenge(token_server: Any) -> None:
    response = _post(token_server.mcp_url)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="hfjobs-mcp"'


@pytest.mark.slow
def test_wrong_token_is_401_invalid_token_and_not_echoed(token_server: Any) -> None:
    wrong = "not-the-token-but-long-enough-123456"
    response = _post(token_server.mcp_url, token=wrong)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="hfjobs-mcp", error="invalid_token"')
    assert wrong not in response.text
    assert wrong not in response.headers["www-authenticate"]


def test_the_right_token_gets_through(token_server: Any) -> None:
    assert _post(token_server.mcp_url, token=AUTH).status_code == 200


def test_health_needs_no_token(token_server: Any) -> None:
    response = httpx2.get(f"{token_server.base_url}/healthz", timeout=10)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_wrong_host_is_421_before_auth(token_server: Any) -> None:
    assert _post(token_server.mcp_url, token=AUTH, host="evil.example").status_code == 421
    assert _post(token_server.mcp_url, host="evil.example").status_code == 421


def test_wrong_origin_is_403(token_server: Any) -> None:
    assert _post(token_server.mcp_url, token=AUTH, origin="https://evil.example").status_code == 403


@pytest.mark.slow
def test_configured_host_and_origin_are_accepted(token_server: Any) -> None:
    assert _post(token_server.mcp_url, token=AUTH, host="mcp.example.com").status_code == 200
    assert _post(token_server.mcp_url, token=AUTH, origin="https://app.example.com").status_code == 200


def test_request_bodies_are_capped(token_server: Any) -> None:
    big = {**INITIALIZE, "params": {**INITIALIZE["params"], "padding": "x" * 8000}}  # type: ignore[dict-item]
    headers = {**MCP_HEADERS, "authorization": f"Bearer {AUTH}"}
    response = httpx2.post(token_server.mcp_url, json=big, headers=headers, timeout=10)
    assert response.status_code == 413


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_calls_with_the_static_token(token_server: Any, mode: str) -> None:
    async with http_client(AUTH) as http, mcp_client(token_server.mcp_url, client=http, mode=mode) as client:
        assert len(model_visible((await client.list_tools()).tools)) == len(select_tools())  # the default toolsets
        flavors = _result(await client.call_tool("list_hardware", {}))["flavors"]
        assert any(f["name"] == "cpu-basic" for f in flavors)
        job = _result(await client.call_tool("run_job", {"image": "python:3.12", "command": ["true"]}))["job"]
        seen = _result(await client.call_tool("inspect_job", {"job_id": job["id"]}))["job"]
        assert seen["id"] == job["id"]


async def test_an_mcp_client_without_the_token_is_refused(token_server: Any) -> None:
    async with http_client() as http:
        with pytest.raises(BaseExceptionGroup) as raised:
            async with mcp_client(token_server.mcp_url, client=http, mode="legacy") as client:
                await client.list_tools()
    assert "MCPError: Server returned an error response" in _messages(raised.value)  # the 401, as the SDK says it


def _messages(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return " | ".join(_messages(e) for e in exc.exceptions)
    return f"{type(exc).__name__}: {exc}"


# --- --auth hf -----------------------------------------------------------------------------------------------------


@dataclass
class HfDeployment:
    server: Any
    backend_url: str


@pytest.fixture(scope="module")
def hf_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HfDeployment]:
    tmp = tmp_path_factory.mktemp("hf")
    config = backend_config(
        state_dir=tmp / "backend",
        token=SERVER_TOKEN,
        user="server-owner",
        extra_users={ALICE: ("alice", ("alice-org",)), BOB: ("bob", ())},
    )
    with serve_backend(config) as backend:
        # The server's own environment holds a token and a secret: neither may ever be forwarded for a caller.
        env = {"HF_TOKEN": SERVER_TOKEN, "SERVER_SECRET": SERVER_SECRET}
        with running_server(tmp, "--auth", "hf", "--endpoint", backend.url, "--confirm-via", "code", env=env) as server:
            yield HfDeployment(server=server, backend_url=backend.url)
            output = server.output()
    for value in (ALICE, BOB, SERVER_TOKEN, SERVER_SECRET):
        assert value not in output, "a token or secret reached the server's log"


@pytest.mark.slow
def test_hf_mode_refuses_a_missing_or_unknown_token(hf_server: HfDeployment) -> None:
    missing = _post(hf_server.server.mcp_url)
    assert missing.status_code == 401
    # OAuth hosts learn from the challenge where the metadata naming the issuer is (tests/e2e/test_oauth.py).
    port = hf_server.server.port
    assert missing.headers["www-authenticate"] == (
        f'Bearer realm="hfjobs-mcp", resource_metadata="http://127.0.0.1:{port}/.well-known/oauth-protected-resource/mcp"'
    )
    unknown = "hf_UnknownFakeToken0123456789abcdefg"
    refused = _post(hf_server.server.mcp_url, token=unknown)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["www-authenticate"]
    assert unknown not in refused.text


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_each_caller_sees_only_what_its_token_can(hf_server: HfDeployment, mode: str) -> None:
    url = hf_server.server.mcp_url
    results: list[CallToolResult] = []
    async with (
        http_client(ALICE) as alice_http,
        http_client(BOB) as bob_http,
        mcp_client(url, client=alice_http, mode=mode) as alice,
        mcp_client(url, client=bob_http, mode=mode) as bob,
    ):
        started = await alice.call_tool("run_job", {"image": "python:3.12", "command": ["true"]})
        results.append(started)
        job = _result(started)["job"]
        assert job["namespace"] == "alice"
        mine = await alice.call_tool("list_jobs", {})
        theirs = await bob.call_tool("list_jobs", {})
        results += [mine, theirs]
        assert job["id"] in [j["id"] for j in _result(mine)["jobs"]]
        assert job["id"] not in [j["id"] for j in _result(theirs)["jobs"]]
        peek = await bob.call_tool("inspect_job", {"job_id": f"alice/{job['id']}"})
        listing = await bob.call_tool("list_jobs", {"namespace": "alice"})
        results += [peek, listing]
        assert peek.is_error
        assert listing.is_error
    for result in results:
        blob = text(result) + repr(result.structured_content)
        assert ALICE not in blob
        assert BOB not in blob
        assert SERVER_TOKEN not in blob


@pytest.mark.slow
async def test_hf_token_forwarded_is_the_callers_own_and_is_redacted(hf_server: HfDeployment) -> None:
    code = (
        "import os, hashlib; t = os.environ['HF_TOKEN']; "
        "print('sha', hashlib.sha256(t.encode()).hexdigest()); print('raw', t)"
    )
    async with (
        http_client(ALICE) as http,
        mcp_client(hf_server.server.mcp_url, client=http, mode="auto", elicitation_callback=_approve) as alice,
    ):
        started = await alice.call_tool(
            "run_job", {"image": "python:3.12", "command": ["python", "-c", code], "secrets": ["HF_TOKEN"]}
        )
        job = _result(started)["job"]
        waited = await alice.call_tool("wait_for_job", {"job_id": job["id"], "timeout_seconds": 60})
        assert _result(waited)["job"]["stage"] == "COMPLETED"
        logs = await alice.call_tool("fetch_logs", {"job_id": job["id"]})
        lines = [ln["text"] for ln in _result(logs)["lines"]]
    assert lines == [f"sha {hashlib.sha256(ALICE.encode()).hexdigest()}", "raw ***"]
    for result in (started, waited, logs):
        assert ALICE not in text(result) + repr(result.structured_content)


@pytest.mark.slow
async def test_the_servers_environment_is_never_forwarded(hf_server: HfDeployment) -> None:
    async with (
        http_client(BOB) as http,
        mcp_client(hf_server.server.mcp_url, client=http, mode="auto", elicitation_callback=_approve) as bob,
    ):
        refused = await bob.call_tool(
            "run_job", {"image": "python:3.12", "command": ["true"], "secrets": ["SERVER_SECRET"]}
        )
        jobs = _result(await bob.call_tool("list_jobs", {}))["jobs"]
    assert refused.is_error
    assert "no value on the server for secrets[0]" in text(refused)  # named by position, never repeated
    assert SERVER_SECRET not in text(refused)
    assert all("SERVER_SECRET" not in (j.get("secrets") or []) for j in jobs)


@pytest.mark.slow
async def test_a_confirmation_code_is_bound_to_its_caller(hf_server: HfDeployment) -> None:
    args = {"image": "python:3.12", "command": ["true"], "secrets": ["HF_TOKEN"]}
    url = hf_server.server.mcp_url
    async with (
        http_client(ALICE) as alice_http,
        http_client(BOB) as bob_http,
        mcp_client(url, client=alice_http, mode="legacy") as alice,
        mcp_client(url, client=bob_http, mode="legacy") as bob,
    ):
        asked = await bob.call_tool("run_job", args)
        assert asked.is_error
        code = (asked.structured_content or {})["error"]["confirm"]
        stolen = await alice.call_tool("run_job", {**args, "confirm": code})
        assert stolen.is_error
        assert "unknown or was already used" in text(stolen)
        confirmed = await bob.call_tool("run_job", {**args, "confirm": code})
        assert _result(confirmed)["job"]["namespace"] == "bob"


@pytest.mark.slow
async def test_an_approval_card_is_bound_to_its_caller(hf_server: HfDeployment) -> None:
    """Bob's card id is worthless to Alice (she never sees it; had she got it, the server refuses her answer).

    2026-07-28: each request carries the client's capabilities, so a stateless server knows it is an Apps host.
    """
    args = {"image": "python:3.12", "command": ["true"], "secrets": ["HF_TOKEN"]}
    url = hf_server.server.mcp_url
    apps = [advertise(EXTENSION_ID, {"mimeTypes": [APP_MIME_TYPE]})]
    async with (
        http_client(ALICE) as alice_http,
        http_client(BOB) as bob_http,
        mcp_client(url, client=alice_http, mode="auto", extensions=apps) as alice,
        mcp_client(url, client=bob_http, mode="auto", extensions=apps) as bob,
    ):
        pending = await bob.call_tool("run_job", args)
        assert pending.is_error
        approval_id = (pending.meta or {})[APPROVAL_META]["id"]
        stolen = await alice.call_tool(ANSWER_TOOL, {"approval_id": approval_id, "approve": True})
        assert stolen.is_error
        assert "unknown" in text(stolen)
        assert (await alice.call_tool("run_job", args)).is_error  # Alice's own request has no approval either
        assert not (await bob.call_tool(ANSWER_TOOL, {"approval_id": approval_id, "approve": True})).is_error
        assert _result(await bob.call_tool("run_job", args))["job"]["namespace"] == "bob"


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_resources_and_completions_are_the_callers_own(hf_server: HfDeployment, mode: str) -> None:
    """A resource is read with the caller's own token: Bob cannot read Alice's job, logs or metrics (issue 21)."""
    url = hf_server.server.mcp_url
    async with (
        http_client(ALICE) as alice_http,
        http_client(BOB) as bob_http,
        mcp_client(url, client=alice_http, mode=mode) as alice,
        mcp_client(url, client=bob_http, mode=mode) as bob,
    ):
        started = await alice.call_tool("run_job", {"image": "python:3.12", "command": ["echo", "alice-only"]})
        job = _result(started)["job"]
        await alice.call_tool("wait_for_job", {"job_id": job["id"], "timeout_seconds": 60})
        uri = f"hfjobs://jobs/alice/{job['id']}"
        logs = (await alice.read_resource(f"{uri}/logs")).contents[0]
        assert "alice-only" in getattr(logs, "text", "")
        for suffix in ("", "/logs", "/metrics"):
            with pytest.raises(MCPError) as refused:
                await bob.read_resource(uri + suffix)
            assert "alice-only" not in refused.value.error.message
        ref = ResourceTemplateReference(uri="hfjobs://jobs/{namespace}/{job_id}")
        mine = await alice.complete(ref, {"name": "namespace", "value": ""})
        theirs = await bob.complete(ref, {"name": "namespace", "value": ""})
        assert mine.completion.values == ["alice", "alice-org"]
        assert theirs.completion.values == ["bob"]
        peek = await bob.complete(ref, {"name": "job_id", "value": ""}, {"namespace": "alice"})
        assert peek.completion.values == []


# --- refused configurations ------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        (["--auth", "none", "--host", "0.0.0.0"], {}, "only allowed on loopback"),  # noqa: S104 (refused, never bound)
        (["--auth", "token"], {}, "HFJOBS_MCP_AUTH_TOKEN"),
        (["--auth", "token"], {"HFJOBS_MCP_AUTH_TOKEN": "short"}, "at least 16"),
        (["--auth", "hf", "--local"], {}, "--auth hf"),
        (["--auth", "hf", "--secrets-file", "x.env"], {}, "--secrets-file cannot be used with --auth hf"),
        (
            ["--local", "--auth", "token"],
            {"HFJOBS_MCP_STATE_KEY": "too-short", "HFJOBS_MCP_AUTH_TOKEN": AUTH},
            "HFJOBS_MCP_STATE_KEY must be at least 32 bytes",
        ),
        (["--local"], {}, "--transport http --local runs jobs as this machine's user"),
        (["--local", "--auth", "none"], {}, "use --auth token"),
    ],
)
def test_unsafe_configurations_are_refused(tmp_path: Path, args: list[str], env: dict[str, str], says: str) -> None:
    done = subprocess.run(
        [str(BIN), "--transport", "http", "--port", "0", *args],
        env=clean_env(tmp_path, env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert says in done.stderr


# --- graceful shutdown -----------------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_sigterm_lets_a_running_call_finish(tmp_path: Path) -> None:
    with local_server(tmp_path) as server:
        async with http_client(LOCAL_AUTH) as http, mcp_client(server.mcp_url, client=http, mode="legacy") as client:
            sleeper = ["python", "-c", "import time; time.sleep(3); print('done')"]
            job = _result(await client.call_tool("run_job", {"image": "python:3.12", "command": sleeper}))["job"]
            outcome: dict[str, CallToolResult] = {}

            async def wait() -> None:
                outcome["waited"] = await client.call_tool("wait_for_job", {"job_id": job["id"], "timeout_seconds": 60})

            async with anyio.create_task_group() as tg:
                tg.start_soon(wait)
                await anyio.sleep(1.0)
                server.proc.send_signal(signal.SIGTERM)
        assert _result(outcome["waited"])["job"]["stage"] == "COMPLETED"
        code = await anyio.to_thread.run_sync(lambda: server.proc.wait(30))
        assert code == 0, server.output()
        with pytest.raises(httpx2.TransportError):
            httpx2.get(f"{server.base_url}/healthz", timeout=2)


@pytest.mark.slow
async def test_a_task_is_its_callers_only(hf_server: HfDeployment) -> None:
    """Tasks over HTTP (2026-07-28): Bob can neither read nor cancel Alice's task, a tampered id is no task, and
    Alice polls and cancels hers through requests that need no session (any worker answers)."""
    url = hf_server.server.mcp_url
    async with (
        http_client(ALICE) as alice_http,
        http_client(BOB) as bob_http,
        mcp_client(url, client=alice_http, extensions=[Tasks()]) as alice,
        mcp_client(url, client=bob_http, extensions=[Tasks()]) as bob,
    ):
        long = {"image": "python:3.12", "command": ["python", "-c", "import time; time.sleep(600)"]}
        job = _result(await alice.call_tool("run_job", long))["job"]
        ref = f"{job['namespace']}/{job['id']}"
        created = await alice.session.call_tool("wait_for_job", {"job_id": ref}, allow_claimed=True)
        assert isinstance(created, CreatedTask), created
        task_id = created.task_id
        body = task_id[3:]
        tampered = "v1." + body[:30] + ("A" if body[30] != "A" else "B") + body[31:]
        for session, attempt in [(bob.session, task_id), (alice.session, tampered)]:
            for ask in (get_task, cancel_task):
                with pytest.raises(MCPError) as refused:
                    await ask(session, attempt)
                assert refused.value.code == INVALID_PARAMS
                assert ref not in str(refused.value)
        # Bob's own task on Alice's job cannot even be made: his token cannot see the job.
        peek = await bob.session.call_tool("wait_for_job", {"job_id": ref}, allow_claimed=True)
        assert isinstance(peek, CallToolResult)
        assert peek.is_error
        still = _result(await alice.call_tool("inspect_job", {"job_id": ref}))
        assert still["job"]["stage"] in {"SCHEDULING", "RUNNING"}
        assert (await get_task(alice.session, task_id)).status == "working"
        await cancel_task(alice.session, task_id)
        ended = _result(await alice.call_tool("inspect_job", {"job_id": ref}))
        assert ended["job"]["stage"] == "CANCELED"
        assert (await get_task(alice.session, task_id)).status == "cancelled"
