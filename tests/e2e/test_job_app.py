"""The job page (issue 20) at the MCP level, in both protocol eras: which tools carry it, what the page is, and
that a client without MCP Apps sees exactly what it saw before.

The page itself is exercised in a real browser by tests/browser/; here only the server's side of the contract.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from mcp_types import CallToolResult, TextResourceContents

from hfjobs_mcp.api import JobSpec
from hfjobs_mcp.serve.app_page import ANSWER_TOOL, APP_URI
from tests.e2e.conftest import MODES, text

pytestmark = pytest.mark.anyio

SHOWS_JOB = ("run_job", "run_uv_job", "rerun_job", "inspect_job", "wait_for_job")
# Anything that would make the page load or send something by itself (the default CSP forbids all of it anyway).
REACHES_OUT = re.compile(
    r"https?://|\bsrc\s*=|<link\b|@import|url\(|\bfetch\(|XMLHttpRequest|WebSocket|EventSource|sendBeacon|<iframe"
    r"|\bimport\(|localStorage|sessionStorage|document\.cookie",
    re.IGNORECASE,
)


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("apps", [True, False])
async def test_the_job_tools_carry_the_page_in_both_eras(session_factory: Any, mode: str, apps: bool) -> None:
    async with session_factory(mode=mode, apps=apps) as s:
        listed = {t.name: t for t in (await s.client.list_tools()).tools}
        for name in SHOWS_JOB:
            assert listed[name].meta == {"ui": {"resourceUri": APP_URI}}, name
        assert listed[ANSWER_TOOL].meta == {"ui": {"resourceUri": APP_URI, "visibility": ["app"]}}
        # Read tools the page polls are not bound: their results are never rendered as a page of their own.
        for name in ("fetch_logs", "fetch_metrics", "list_jobs", "cancel_job", "list_hardware"):
            assert listed[name].meta is None, name


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_the_page_is_an_mcp_app_that_reaches_nowhere(session_factory: Any, mode: str) -> None:
    async with session_factory(mode=mode, apps=True) as s:
        resources = {r.uri: r for r in (await s.client.list_resources()).resources}
        assert resources[APP_URI].mime_type == "text/html;profile=mcp-app"
        contents = (await s.client.read_resource(APP_URI)).contents
        assert len(contents) == 1
        page = contents[0]
        assert isinstance(page, TextResourceContents)
        assert page.mime_type == "text/html;profile=mcp-app"
        assert page.text.lstrip().lower().startswith("<!doctype html>")
        found = REACHES_OUT.findall(page.text)
        assert not found, f"the page reaches out: {found}"
        # No CSP domains asked for: hosts apply the spec's restrictive default.
        assert "csp" not in ((page.meta or {}).get("ui") or {})
        # It calls only tools the server has, and the polling ones are model-visible read tools (no new tool).
        called = set(re.findall(r"""(?:callTool|poll)\("([a-z_]+)\"""", page.text))
        tools = {t.name: t for t in (await s.client.list_tools()).tools}
        assert called <= set(tools), called - set(tools)
        assert called - {ANSWER_TOOL, "cancel_job"} == {"fetch_logs", "fetch_metrics", "inspect_job", "list_hardware"}
        for name in called - {ANSWER_TOOL, "cancel_job"}:
            assert tools[name].annotations is not None
            assert tools[name].annotations.read_only_hint is True


def _wire(result: CallToolResult) -> dict[str, Any]:
    return result.model_dump(mode="json", by_alias=True, exclude_none=True)


def _our_meta(result: CallToolResult) -> dict[str, Any]:
    """The result's `_meta` minus what the SDK itself adds (2026-07-28: the server's name and version)."""
    return {k: v for k, v in (result.meta or {}).items() if not k.startswith("io.modelcontextprotocol/")}


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_a_client_without_apps_gets_the_same_results(session_factory: Any, mode: str) -> None:
    """Same server, same jobs: the results are identical with and without Apps, and carry no `_meta`."""
    async with session_factory(mode=mode) as plain, session_factory(mode=mode, apps=True) as apps:
        spec = JobSpec(image="python:3.12", command=["python", "-c", "print('same for all')"], flavor="cpu-basic")
        job = await plain.api.run_job(spec)
        ref = f"{job.owner.name}/{job.id}"
        waited = [await s.call("wait_for_job", {"job_id": ref, "timeout_seconds": 60}) for s in (plain, apps)]
        assert (waited[0].structured_content or {})["job"]["stage"] == "COMPLETED", text(waited[0])
        for name, args in (
            ("inspect_job", {"job_id": ref}),
            ("fetch_logs", {"job_id": ref}),
            ("list_jobs", {}),
        ):
            without, with_apps = await plain.call(name, args), await apps.call(name, args)
            assert _wire(without) == _wire(with_apps), name
            assert _our_meta(without) == {}, name
        same = [_wire(w) for w in waited]
        for dumped in same:
            dumped["structuredContent"].pop("waited_seconds")
            dumped.pop("content")  # it says how long it waited
        assert same[0] == same[1]
        assert [_our_meta(w) for w in waited] == [{}, {}]
        # Starting work: same shape, no _meta, a text rendering for clients without Apps.
        run = {"image": "python:3.12", "command": ["true"], "flavor": "cpu-basic"}
        started = [await s.call("run_job", run) for s in (plain, apps)]
        reran = [await s.call("rerun_job", {"job_id": ref}) for s in (plain, apps)]
        for a, b in (started, reran):
            assert not a.is_error, text(a)
            assert not b.is_error, text(b)
            assert _our_meta(a) == {}
            assert _our_meta(b) == {}
            assert set(a.structured_content or {}) == set(b.structured_content or {})
            for result in (a, b):  # the text rendering names the job it started, for clients without Apps
                job_view = (result.structured_content or {})["job"]
                assert f"{job_view['namespace']}/{job_view['id']}" in text(result)
