"""The stdio server answers ``initialize``, ``tools/list`` and the other listings without the API client, its
models, tenacity or the secrets machinery (issue 15's start-up floor), and makes them with the first call.

A fresh interpreter is the only place to see what a start imports: the probe builds the server as ``serve`` does
(:func:`~hfjobs_mcp.serve.stdio.stdio_server` on the command line's connection) and reports ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import mcp
import pytest
from mcp.shared.exceptions import MCPError

from hfjobs_mcp.config import TOOLSETS, Settings
from hfjobs_mcp.local.detached import stop
from hfjobs_mcp.private_paths import UnsafePathError
from hfjobs_mcp.serve.backend import local_connector
from hfjobs_mcp.serve.stdio import connector, stdio_server

PROBE = textwrap.dedent(
    """
    import json, os, sys
    import anyio, mcp
    from pathlib import Path
    from hfjobs_mcp import logsetup
    from hfjobs_mcp.config import TOOLSETS, Settings
    from hfjobs_mcp.serve.stdio import connector, stdio_server

    HEAVY = [
        "hfjobs_mcp.api.client", "hfjobs_mcp.api.models", "hfjobs_mcp.api.retry", "tenacity",
        "hfjobs_mcp.policy.redaction", "hfjobs_mcp.policy.sources", "sqlite3",
        "hfjobs_mcp.tools.arguments", "hfjobs_mcp.tools.registry",
        "rich",  # the SDK's own logging set-up, skipped when ours is in place (serve.sdk_shim)
    ]

    async def main():
        logsetup.configure("WARNING")  # as the command line does before serving
        state = os.environ.get("PROBE_STATE")
        if state:  # --local: the backend is started by the first call, not before
            settings = Settings(local=True, state_dir=Path(state), toolsets=TOOLSETS)
        else:
            settings = Settings(endpoint="http://127.0.0.1:9", token=os.environ["PROBE_TOKEN"], toolsets=TOOLSETS)
        async with connector(settings) as connect:
            server, context = stdio_server(settings, connect)
            async with mcp.Client(server) as session:
                await session.list_tools()
                await session.list_prompts()
                await session.list_resource_templates()
                await session.list_resources()
                before = [m for m in HEAVY if m in sys.modules]
                made_before = context.made is not None
                backend_before = bool(state) and (Path(state) / "backend.json").exists()
                result = await session.call_tool("inspect_job", {"job_id": "alice/0123456789abcdef01234567"})
                backend_after = bool(state) and (Path(state) / "backend.json").exists()
                made_after = context.made is not None
                after = [m for m in HEAVY if m in sys.modules]
            await context.made.client.aclose()
        print(json.dumps({
            "before": before, "after": after, "made_before": made_before, "made_after": made_after,
            "backend_before": backend_before, "backend_after": backend_after,
            "error": result.is_error, "text": result.content[0].text,
        }))

    anyio.run(main)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("local", [False, True], ids=["hub", "local"])
def test_listings_need_no_client_and_the_first_call_makes_it(tmp_path: Path, local: bool) -> None:
    token = "hf_fake_stdio_probe_token_0123456789"  # a fake: the endpoint is a closed port
    env = {"XDG_CACHE_HOME": str(tmp_path), "HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "PROBE_TOKEN": token}
    subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, timeout=120, check=False)  # cache
    state = tmp_path / "state"
    if local:
        env["PROBE_STATE"] = str(state)
    try:
        done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    finally:
        stop(state)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["before"] == [], f"imported before the first call: {seen['before']}"
    assert seen["made_before"] is False
    assert seen["made_after"] is True
    assert {"hfjobs_mcp.api.client", "hfjobs_mcp.policy.redaction", "hfjobs_mcp.tools.arguments"} <= set(seen["after"])
    assert seen["error"] is True  # no such job: an error the model can act on, through the client made now
    assert token not in seen["text"]
    if local:
        assert seen["backend_before"] is False  # tools/list and the other listings started no backend
        assert seen["backend_after"] is True
        assert "access to namespace 'alice'" in seen["text"]  # the backend's own answer: it was reached
    else:
        assert "127.0.0.1:9" in seen["text"] or "connect" in seen["text"].lower()


def test_a_state_folder_others_may_write_to_is_refused_before_serving(tmp_path: Path) -> None:
    """The backend is attached to on the first call, but the folder is checked at start, as before."""
    loose = tmp_path / "loose"
    loose.mkdir()
    loose.chmod(0o777)
    with (
        pytest.raises(UnsafePathError, match="writable by group or others"),
        local_connector(Settings(local=True, state_dir=loose)),
    ):
        pass
    assert not (loose / "backend.json").exists()


@pytest.mark.anyio
async def test_a_first_call_that_cannot_reach_the_backend_says_why_and_sends_nothing(tmp_path: Path) -> None:
    """The folder was fine at start and is not at the first call (another user's process loosened it): the calls
    answer with what is wrong and where to look, as results the model can act on; no backend is started."""
    state = tmp_path / "state"
    settings = Settings(local=True, state_dir=state, toolsets=TOOLSETS)
    async with connector(settings) as connect:
        state.chmod(0o777)
        server, context = stdio_server(settings, connect)
        async with mcp.Client(server) as session:
            read = await session.call_tool("inspect_job", {"job_id": "local-user/0123456789abcdef01234567"})
            run = await session.call_tool("run_job", {"image": "python:3.12", "command": ["python", "-c", "1"]})
            with pytest.raises(MCPError, match="could not be started or reached") as raised:
                await session.read_resource("hfjobs://jobs/local-user/0123456789abcdef01234567")
            assert "writable by group or others" in str(raised.value)
        for result in (read, run):
            assert result.is_error
            text = result.content[0].text  # type: ignore[union-attr]
            assert "the local Jobs backend could not be started or reached" in text
            assert "writable by group or others" in text
            assert "backend.log" in text
        assert context.made is None  # and the next call tries again
    assert not (state / "backend.json").exists()
