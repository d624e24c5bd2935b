"""Dry runs (issue 16): they work without a token, say which token a real call would use, and show a UV job's
script (first lines, size, sha256) rather than its base64."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import mcp
import pytest

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.config import Settings
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server
from tests.e2e.conftest import text

pytestmark = pytest.mark.anyio

SCRIPT = "# /// script\n# dependencies = []\n# ///\nprint('hello from a dry run')\n" + "x = 1\n" * 2000


@pytest.mark.slow
async def test_a_dry_run_needs_no_token_and_a_real_call_says_it_does(backend: Any) -> None:
    async with JobsClient(token=None, endpoint=backend.url) as api:
        server = build_server(base_context(Settings(endpoint=backend.url), api, environ={}))
        async with mcp.Client(server) as client:
            dry = await client.call_tool(
                "run_job", {"image": "python:3.12", "command": ["true"], "flavor": "a10g-small", "dry_run": True}
            )
            assert not dry.is_error, text(dry)
            out = dry.structured_content or {}
            assert out["cost"]["ceiling_usd"] == 0.5  # the hardware list needs no token
            assert "(with no token)" in out["next_step"]
            real = await client.call_tool("run_job", {"image": "python:3.12", "command": ["true"]})
            assert real.is_error
            assert (real.structured_content or {})["error"]["type"] == "TokenNotFoundError"


@pytest.mark.slow
async def test_a_uv_dry_run_shows_the_script_not_a_blob(session_factory: Any) -> None:
    async with session_factory() as s:
        result = await s.call("run_uv_job", {"script": SCRIPT, "dry_run": True})
        out = result.structured_content or {}
        script = out["uploads"]["script"]
        assert script["size"] == len(SCRIPT)
        assert script["sha256"] == hashlib.sha256(SCRIPT.encode()).hexdigest()
        assert "print('hello from a dry run')" in script["first_lines"]
        (uploaded,) = out["uploads"]["files"]
        assert (uploaded["path"], uploaded["size"]) == ("/data/script.py", len(SCRIPT))
        blob = text(result) + repr(out)
        assert not re.findall(r"[A-Za-z0-9+/]{80,}={0,2}", blob)
        assert out["request"]["environment"] == {}
        assert out["request"]["command"] == ["uv", "run", "/data/script.py"]
        assert "(with the configured token)" in out["next_step"]
        dry_sched = await s.ok("schedule_uv_job", {"script": SCRIPT, "schedule": "@daily", "dry_run": True})
        assert dry_sched["uploads"]["script"]["size"] == len(SCRIPT)
