"""Masking without holes (issue 14), attacked through real MCP client sessions on the local backend.

Each test is one way a caller got a secret value back before: ``grep`` as an oracle on the clear text (1), a value
printed across lines (2), a mapping's key (3), an encoding a script printed (4), an API error cut before it was
masked (7), and secret-looking ``env`` values or a password typed as a secret name (11). Values are fake.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets as random
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx2
import mcp
import pytest

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.config import Settings
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server
from tests.e2e.conftest import TOKEN, Asked, Backend, forbid, text

pytestmark = pytest.mark.anyio

ORACLE = "k3yForOracleTests9f8e7d6c"
ENCODED = "s3cret/+value=with?chars&more~~ Zq"
forbid(ORACLE, ENCODED)


def _print(expr: str) -> list[str]:
    return ["python", "-c", f"import os, sys, base64, binascii, urllib.parse as u; {expr}"]


async def _run_and_wait(s: Any, command: list[str], secrets: list[str]) -> str:
    job = (await s.ok("run_job", {"image": "python:3.12", "command": command, "secrets": secrets}))["job"]
    waited = await s.ok("wait_for_job", {"job_id": job["id"], "timeout_seconds": 60})
    assert waited["job"]["stage"] == "COMPLETED", waited
    return str(job["id"])


def _texts(result: dict[str, Any]) -> list[str]:
    return [line["text"] for line in result["lines"]]


# --- 1. grep is not an oracle ----------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_grep_filters_masked_lines_so_it_cannot_recover_a_value(session_factory: Any) -> None:
    environ = {"ORACLE_KEY": ORACLE}
    async with session_factory(environ=environ, elicitation=Asked()) as s:
        job_id = await _run_and_wait(s, _print("print('key=' + os.environ['ORACLE_KEY'])"), ["ORACLE_KEY"])
        assert _texts(await s.ok("fetch_logs", {"job_id": job_id})) == ["key=***"]
    # The attack of the issue, on a read-only server too: probes that match the clear value only.
    probes = [
        {"grep": "key=k"},
        {"grep": "key=" + ORACLE[:6]},
        {"grep": ORACLE},
        {"grep": r"key=[a-z]", "regex": True},
        {"grep": r"key=k3y[A-Z]", "regex": True},
        {"grep": r"key=.{20,}", "regex": True},
        {"grep": r"^key=\w{8}", "regex": True},
    ]
    for read_only in (False, True):
        async with session_factory(environ=environ, read_only=read_only) as s:
            for probe in probes:
                found = await s.ok("fetch_logs", {"job_id": job_id, **probe})
                assert found["lines"] == [], f"{probe} matched the clear text"
            # What the caller sees is what grep sees.
            assert _texts(await s.ok("fetch_logs", {"job_id": job_id, "grep": "key=***"})) == ["key=***"]
            masked = await s.ok("fetch_logs", {"job_id": job_id, "grep": r"^key=\*{3}$", "regex": True})
            assert _texts(masked) == ["key=***"]


# --- 2. a value of several lines ----------------------------------------------------------------------------------


def _fake_pem() -> tuple[str, list[str]]:
    """A PEM-shaped value made of random bytes (not a key): 64-character lines and a short last line."""
    raw = base64.b64encode(random.token_bytes(48 * 8 + 3)).decode()
    body = [raw[i : i + 64] for i in range(0, len(raw), 64)]
    assert len(body[-1]) < 8, "the last line must be shorter than a maskable value on its own"
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END PRIVATE KEY-----", body


@pytest.mark.slow
async def test_a_value_printed_across_lines_is_masked_in_every_window(session_factory: Any, tmp_path: Path) -> None:
    pem, body = _fake_pem()
    forbid(pem, *[line for line in body if len(line) >= 8])
    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text(f'TLS_KEY="{pem}"\n', encoding="utf-8")
    secrets_file.chmod(0o600)
    code = _print("print('before'); print(os.environ['TLS_KEY']); print('after')")
    async with session_factory(secrets_file=secrets_file, elicitation=Asked()) as s:
        job_id = await _run_and_wait(s, code, ["TLS_KEY"])
        raw = [line.text async for line in s.api.stream_logs(job_id)]
        assert raw[1:-1] == pem.split("\n"), "the job did not print the value as is"

        seen: list[list[str]] = [_texts(await s.ok("fetch_logs", {"job_id": job_id}))]
        assert seen[0][0] == "before"
        assert seen[0][-1] == "after"
        assert set(seen[0][1:-1]) == {"***"}
        # Windows that cut into the value: a tail that starts inside it, pages of two lines after a cursor.
        for tail in (1, 2, 3, 5):
            seen.append(_texts(await s.ok("fetch_logs", {"job_id": job_id, "tail": tail})))
        cursor = None
        for _ in range(len(raw)):
            page = await s.ok("fetch_logs", {"job_id": job_id, "tail": 2, **({"cursor": cursor} if cursor else {})})
            seen.append(_texts(page))
            cursor = page["cursor"]
            if not page["more"] and cursor:
                break
        # Filters see the masked lines only.
        seen.append(_texts(await s.ok("fetch_logs", {"job_id": job_id, "grep": "BEGIN"})))
        seen.append(_texts(await s.ok("fetch_logs", {"job_id": job_id, "grep": body[-1]})))
        seen.append(_texts(await s.ok("fetch_logs", {"job_id": job_id, "grep": "[A-Za-z0-9+/=]{3}", "regex": True})))
    shown = [line for window in seen for line in window]
    assert shown, "nothing was returned at all"
    for line in shown:
        assert line in ("before", "after", "***"), f"a piece of the value came back: {line!r}"


# --- 3. keys of mappings --------------------------------------------------------------------------------------------


async def test_a_label_key_holding_the_token_is_masked(session_factory: Any) -> None:
    async with session_factory() as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["true"]}))["job"]
        # What a job holding the token can do through the API: name a label after it.
        await s.api.update_job_labels(job["id"], {TOKEN: "leak", "carrier": TOKEN})
        inspected = await s.call("inspect_job", {"job_id": job["id"]})
        listed = await s.call("list_jobs", {})
        for result in (inspected, listed):
            assert not result.is_error, text(result)
            blob = text(result) + json.dumps(result.structured_content)
            assert TOKEN not in blob
        labels = inspected.structured_content["job"]["labels"]  # type: ignore[index]
        assert labels == {"***": "leak", "carrier": "***"}


# --- 4. encodings ------------------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_encoded_forms_of_a_forwarded_value_are_masked(session_factory: Any) -> None:
    raw = ENCODED.encode()
    forms = {
        "b64": base64.b64encode(raw).decode(),
        "b64url": base64.urlsafe_b64encode(raw).decode(),
        "hex": raw.hex(),
        "HEX": raw.hex().upper(),
        "url": quote(ENCODED, safe=""),
        "plus": quote_plus(ENCODED),
        "env": base64.b64encode(b"TOKEN=" + raw + b"\n").decode(),  # inside a longer encoded text
    }
    assert len(set(forms.values())) == len(forms)
    code = _print(
        "v = os.environ['ENC_SECRET'].encode(); "
        "print('b64', base64.b64encode(v).decode()); print('b64url', base64.urlsafe_b64encode(v).decode()); "
        "print('hex', v.hex()); print('HEX', v.hex().upper()); print('url', u.quote(v, safe='')); "
        "print('plus', u.quote_plus(v)); print('env', base64.b64encode(b'TOKEN=' + v + b'\\n').decode())"
    )
    async with session_factory(environ={"ENC_SECRET": ENCODED}, elicitation=Asked()) as s:
        job_id = await _run_and_wait(s, code, ["ENC_SECRET"])
        raw_lines = {line.text.split(" ", 1)[0]: line.text.split(" ", 1)[1] async for line in s.api.stream_logs(job_id)}
        assert raw_lines == forms, "the job did not print the forms expected"
        shown = _texts(await s.ok("fetch_logs", {"job_id": job_id}))
    by_label = dict(line.split(" ", 1) for line in shown)
    for label, form in forms.items():
        line = by_label[label]
        assert form not in line
        assert "***" in line, label
        # What is left beside the mask is a few characters at most: the encoding of what surrounds the value (the
        # 'TOKEN=' prefix, a newline) and the padding bits of a partial base64 group, never part of the value.
        assert sum(len(piece) for piece in line.split("***")) <= (len("VE9LRU49") + 3 if label == "env" else 3), (
            label,
            line,
        )


# --- 7. mask, then cut --------------------------------------------------------------------------------------------


class _EchoingGateway(httpx2.AsyncBaseTransport):
    """In front of the local backend: job creation answered by a plain-text 400 echoing the request body.

    The local backend answers errors in JSON; a gateway that echoes the request in plain text (as proxies do) is
    what puts a forwarded value into an error message, so it is mocked here, at the HTTP boundary.
    """

    def __init__(self, secret: str) -> None:
        self.inner = httpx2.AsyncHTTPTransport()
        self.secret = secret

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST" and request.url.path.startswith("/api/jobs/"):
            body = (await request.aread()).decode()
            at = body.index(self.secret)
            # Put the secret across the 500th character of the message, where the old code cut it: all of it but its
            # last character before the cut.
            pad = "x" * max(0, 500 - len("rejected: ") - at - (len(self.secret) - 1))
            return httpx2.Response(400, text=f"rejected: {pad}{body}", headers={"content-type": "text/plain"})
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_an_api_error_echoing_a_secret_is_masked_before_it_is_cut(backend: Backend) -> None:
    secret = "echoed-secret-value-0a1b2c3d4e5f"
    forbid(secret)
    conf = Settings(endpoint=backend.url)
    transport = _EchoingGateway(secret)
    async with JobsClient(token=backend.token, endpoint=backend.url, transport=transport) as api:
        ctx = base_context(conf, api, environ={"ECHOED": secret})
        server = build_server(ctx)
        async with mcp.Client(server, elicitation_callback=Asked()) as client:
            result = await client.call_tool(
                "run_job", {"image": "python:3.12", "command": ["true"], "secrets": ["ECHOED"]}
            )
    assert result.is_error
    shown = text(result) + json.dumps(result.structured_content)
    assert "rejected: xxx" in shown, shown[:300]
    assert secret[:-1] not in shown, "all but the last character of the echoed secret came back"
    assert secret[:8] not in shown, "part of the echoed secret came back"
    assert len(text(result)) < 3000


# --- 11. secret shapes, and no echo --------------------------------------------------------------------------------

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
SHAPES = {
    "JWT": JWT,
    "DATABASE_URL": "postgres://admin:s3cr3tP4ssw0rd@db.example.com:5432/app",
    "SLACK_HOOK": "https://hooks.slack.com/services/T0FAKE000/B0FAKE000/fakefakefakefakefakefake",
    "DISCORD_HOOK": "https://discord.com/api/webhooks/123456789012345678/fakeFAKEfakeFAKEfakeFAKEfake01234",
    "SIGNING": "4f9a2c7e1b3d5f6a8c0e2b4d6f8a1c3e",
    "WANDB_API_KEY": "0123456789abcdef0123456789abcdef01234567",  # 40 hex digits: its name says what it is
    "AUTH": "Bearer Zx9kQ2mP7vL4rT8wY1nB6cF3hJ5sD0gA",
    "GITLAB": "glpat-fakefakefake01234567",
    "STRIPE": "sk_live_fakeFAKEfake012345678901",
}


@pytest.mark.parametrize("name", sorted(SHAPES))
async def test_secret_looking_env_values_are_refused_without_echo(session_factory: Any, name: str) -> None:
    value = SHAPES[name]
    async with session_factory() as s:
        before = len(await s.api.list_jobs())
        result = await s.call("run_job", {"image": "python:3.12", "command": ["true"], "env": {name: value}})
        assert result.is_error, f"{name} was accepted as a plain env value"
        assert "secrets" in text(result)
        assert value not in text(result) + json.dumps(result.structured_content)
        assert len(await s.api.list_jobs()) == before


@pytest.mark.slow
@pytest.mark.parametrize("value", ["0123456789abcdef0123456789abcdef01234567", "sha256:" + "ab12" * 16, "true"])
async def test_ordinary_env_values_still_pass(session_factory: Any, value: str) -> None:
    async with session_factory() as s:
        await s.ok("run_job", {"image": "python:3.12", "command": ["true"], "env": {"REVISION": value}})


@pytest.mark.slow
async def test_a_password_typed_as_a_secret_name_is_never_echoed(
    session_factory: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    password = "Hunter2Hunter2"
    for policy in ("confirm", "allowlist", "deny"):
        async with session_factory(elicitation=Asked(), secrets_policy=policy, allow_secrets=("HF_TOKEN",)) as s:
            result = await s.call(
                "run_job", {"image": "python:3.12", "command": ["true"], "secrets": ["HF_TOKEN", password]}
            )
            assert result.is_error, policy
            assert password not in text(result) + json.dumps(result.structured_content), policy
    assert not [r.getMessage() for r in caplog.records if password in r.getMessage()]
