"""Tools served from their cached listing (:mod:`hfjobs_mcp.tools.listing`) are exactly the real definitions.

The server registers its tools from the published listing and imports a tool's code on its first call (start-up
time). These tests hold that: ``tools/list`` is byte for byte what a server built from the registry's real
``ToolDef``\\ s publishes (every tool, so a new tool is covered without editing this file), a broken cache file falls
back to the real path, nothing of the tools' code is imported before ``tools/list``, and a first call loads the
real definition (its argument model refuses, its result model checks what the SDK sends).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from dataclasses import asdict
from pathlib import Path
from typing import Any

import mcp
import pytest

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.config import TOOLSETS, Settings
from hfjobs_mcp.serve import server as server_module
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server
from hfjobs_mcp.tools import listing
from hfjobs_mcp.tools.listing import tool_named
from hfjobs_mcp.tools.registry import ALL_TOOLS
from hfjobs_mcp.tools.schema import _cache_file

pytestmark = pytest.mark.anyio

CONFIGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "default": ({}, {}),
    "all toolsets": ({}, {"toolsets": TOOLSETS}),
    "read-only": ({}, {"toolsets": TOOLSETS, "read_only": True}),
    "confirm via code": ({"confirm_via": "code"}, {"toolsets": TOOLSETS}),
}


def _real() -> list[listing.Listed]:
    """The listing as the registry's real definitions give it, schemas generated now (no cache at all)."""
    return [listing.listed(t) for t in ALL_TOOLS]


async def _tools_list(settings: Settings, **kwargs: Any) -> str:
    async with JobsClient(token="hf_fake_listing_token_000", endpoint="http://127.0.0.1:9") as client:
        server = build_server(base_context(settings, client), **kwargs)
        async with mcp.Client(server) as session:
            result = await session.list_tools()
    return json.dumps(result.model_dump(mode="json", by_alias=True, exclude_none=True))


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("config", list(CONFIGS))
async def test_the_cached_listing_serves_exactly_the_real_definitions(
    config: str, cache_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_kwargs, build_kwargs = CONFIGS[config]
    settings = Settings(**settings_kwargs)
    listing.published_listing()  # writes the cache file
    path = _cache_file(kind="listing")
    assert path.exists()
    lazy = await _tools_list(settings, **build_kwargs)  # from the file
    with monkeypatch.context() as m:
        m.setattr(server_module, "published_listing", _real)
        real = await _tools_list(settings, **build_kwargs)
    assert lazy == real
    assert [t.name for t in listing.published_listing()] == [t.name for t in ALL_TOOLS]


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "",
        "[]",
        "{}",
        json.dumps([{"name": "run_job"}]),  # an entry missing its fields
        "wrong type",  # replaced below by a full entry with one field of the wrong type
    ],
)
def test_a_broken_cache_file_falls_back_to_the_real_path(content: str, cache_home: Path) -> None:
    path = _cache_file(kind="listing")
    path.parent.mkdir(parents=True, exist_ok=True)
    if content == "wrong type":
        entries = [asdict(t) for t in _real()]
        entries[0]["writes"] = "yes"
        content = json.dumps(entries)
    path.write_text(content, encoding="utf-8")
    served = listing.published_listing()
    assert served == _real()
    # ...and the file is rewritten whole, so the next start is lazy again.
    assert json.loads(path.read_text(encoding="utf-8")) == [asdict(t) for t in served]


def test_the_listing_shares_the_schema_cache_key(cache_home: Path) -> None:
    """Same key, so an edited source or another pydantic gives a new listing file too (test_schema_cache.py)."""
    schemas, listed = _cache_file(), _cache_file(kind="listing")
    assert schemas.parent == listed.parent
    assert schemas.name.removeprefix("schemas-") == listed.name.removeprefix("listing-")


def test_an_unknown_toolset_is_still_refused(cache_home: Path) -> None:
    with pytest.raises(ValueError, match="unknown toolset"):
        listing.select_listed(listing.published_listing(), toolsets=["jobs", "jbos"])


PROBE = textwrap.dedent(
    """
    import json, sys
    import anyio, mcp
    from hfjobs_mcp.api import JobsClient
    from hfjobs_mcp.config import TOOLSETS, Settings
    from hfjobs_mcp.serve.context import base_context
    from hfjobs_mcp.serve.server import build_server

    TOOL_CODE = [
        "hfjobs_mcp.tools.registry", "hfjobs_mcp.tools.jobs", "hfjobs_mcp.tools.scheduled",
        "hfjobs_mcp.tools.webhooks", "hfjobs_mcp.tools.hardware", "hfjobs_mcp.tools.waiting",
        "hfjobs_mcp.policy.plan", "hfjobs_mcp.policy.review",
    ]

    async def main():
        async with JobsClient(token="hf_fake_listing_token_000", endpoint="http://127.0.0.1:9") as client:
            server = build_server(base_context(Settings(), client), toolsets=TOOLSETS)
            async with mcp.Client(server) as session:
                await session.list_tools()
                await session.list_prompts()
                await session.list_resource_templates()
                before = [m for m in TOOL_CODE if m in sys.modules]
                # The SDK's tool object (an internal, read here only to observe): no result model before the call.
                sdk = server._tool_manager.get_tool("inspect_job")
                model_before = sdk.fn_metadata.output_model
                bad = await session.call_tool("inspect_job", {"job_idd": "x"})
                model_after = sdk.fn_metadata.output_model
        print(json.dumps({
            "before": before,
            "after": [m for m in TOOL_CODE if m in sys.modules],
            "model_before": model_before is None,
            "model_after": getattr(model_after, "__name__", None),
            "error": bad.is_error,
            "text": bad.content[0].text,
        }))

    anyio.run(main)
    """
)


@pytest.mark.parametrize("cached", [False, True])
def test_tools_list_imports_no_tool_code_and_a_first_call_loads_it(cached: bool, cache_home: Path) -> None:
    if cached:
        listing.published_listing()
    env = {"XDG_CACHE_HOME": str(cache_home), "PATH": "/usr/bin:/bin", "HOME": str(cache_home)}
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    if cached:
        assert seen["before"] == [], f"imported before tools/list: {seen['before']}"
    else:  # no cache yet: the real path, which writes the file for the next start
        assert "hfjobs_mcp.tools.registry" in seen["before"]
        assert _cache_file(kind="listing").exists()
    assert "hfjobs_mcp.tools.jobs" in seen["after"]
    assert seen["model_before"] is True
    assert seen["model_after"] == tool_named("inspect_job").result.__name__
    assert seen["error"] is True
    assert "job_idd" in seen["text"]  # the tool's own model names the field...
    assert "job_id" in seen["text"]  # ...and the one it expects


async def test_a_cache_edited_to_slip_a_writer_onto_a_read_only_server_sends_nothing(
    cache_home: Path, local_backend: Any
) -> None:
    """The cache is a file in the user's home: listing ``run_job`` as read-only there must not let a ``--read-only``
    server start a job. The call is refused when the real definition is loaded, before any plan or request."""
    listing.published_listing()  # write the cache file as a server start would
    path = _cache_file(kind="listing")
    entries = json.loads(path.read_text(encoding="utf-8"))
    for entry in entries:
        if entry["name"] == "run_job":
            entry.update(read_only=True, writes=False, may_ask=False)
    path.write_text(json.dumps(entries), encoding="utf-8")
    listing._BY_NAME.clear()
    settings = Settings(confirm_above=None, budget=None)  # nothing would ask: only the listing check stands
    async with JobsClient(token=local_backend.token, endpoint=local_backend.url) as client:
        server = build_server(base_context(settings, client), read_only=True)
        async with mcp.Client(server) as session:
            listed_names = {t.name for t in (await session.list_tools()).tools}
            assert "run_job" in listed_names  # the altered file is served as it says...
            result = await session.call_tool("run_job", {"image": "python:3.12", "command": ["echo", "hi"]})
        assert result.is_error  # ...but the call is refused
        text = " ".join(getattr(c, "text", "") for c in result.content)
        assert "does not match the code for run_job" in text
        assert await client.list_jobs() == []  # and nothing was started
