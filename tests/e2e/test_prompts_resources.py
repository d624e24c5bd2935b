"""MCP beyond tools (issue 21), through real client sessions on the local backend, in both protocol eras:
capabilities that list only what exists, the server's icon and website and the list cache hint; the workflow
prompts (listing, rendering with typed arguments, completion from the hardware list, recent jobs and the token's
namespaces); the resources (templates, reads masked like the tools, completion of template variables) and the
``resource_link`` blocks of run and wait results.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from mcp.shared.exceptions import MCPError
from mcp_types import PromptReference, ResourceLink, ResourceTemplateReference, TextResourceContents

from hfjobs_mcp.serve.resources import HARDWARE, JOB, JOB_LOGS, JOB_METRICS, SCHEDULED_JOB
from hfjobs_mcp.workflows import WORKFLOWS
from tests.e2e.conftest import MODES, USER, Asked, forbid, text

pytestmark = pytest.mark.anyio

PRINTED = "r3sourceSecretValue8d7c6b5a4"
forbid(PRINTED)


def _text(read: Any) -> str:
    (content,) = read.contents
    assert isinstance(content, TextResourceContents)
    return content.text


# --- capabilities -----------------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_capabilities_list_only_what_exists(session_factory: Any, mode: str) -> None:
    async with session_factory(mode=mode) as s:
        caps = s.client.server_capabilities.model_dump(exclude_none=True, by_alias=True)
        info = s.client.server_info
    assert "logging" not in caps  # no log notifications are ever sent
    assert caps["tools"] == {"listChanged": False}
    assert caps["prompts"] == {"listChanged": False}
    assert caps["resources"] == {"subscribe": False, "listChanged": False}
    assert caps["completions"] == {}
    assert info.website_url == "https://github.com/hfjobs-mcp/hfjobs-mcp#readme"
    assert info.icons
    assert info.icons[0].src.startswith("data:image/svg+xml;base64,")


@pytest.mark.parametrize("mode", MODES)
async def test_a_server_with_nothing_behind_prompts_or_resources_does_not_list_them(
    session_factory: Any, mode: str
) -> None:
    async with session_factory(mode=mode, toolsets=("webhooks",), read_only=True) as s:
        caps = s.client.server_capabilities.model_dump(exclude_none=True, by_alias=True)
        assert set(caps) == {"tools"}, caps
        assert (await s.client.list_tools()).tools


@pytest.mark.filterwarnings("ignore:The logging capability is deprecated")
async def test_a_handshake_era_client_may_still_set_a_log_level(session_factory: Any) -> None:
    async with session_factory(mode="legacy") as s:
        await s.client.set_logging_level("info")  # accepted (the conformance suite sends it), though not advertised


@pytest.mark.slow
async def test_lists_carry_a_cache_hint(session_factory: Any) -> None:
    async with session_factory(mode="auto") as s:
        tools = await s.client.list_tools(cache_mode="refresh")
        prompts = await s.client.list_prompts(cache_mode="refresh")
    assert tools.ttl_ms == prompts.ttl_ms == 3_600_000
    assert tools.cache_scope == "public"


# --- prompts ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_prompts_list_and_render_with_typed_arguments(session_factory: Any, mode: str) -> None:
    async with session_factory(mode=mode) as s:
        listed = (await s.client.list_prompts()).prompts
        assert [p.name for p in listed] == [w.name for w in WORKFLOWS]
        fine_tune = next(p for p in listed if p.name == "fine_tune_with_trl")
        required = {a.name for a in fine_tune.arguments or [] if a.required}
        assert required == {"model", "dataset", "budget_usd"}
        got = await s.client.get_prompt(
            "fine_tune_with_trl", {"model": "Qwen/Qwen2.5-0.5B", "dataset": "trl-lib/Capybara", "budget_usd": "12.5"}
        )
        (message,) = got.messages
        body = message.content.text  # type: ignore[union-attr]
        assert "Qwen/Qwen2.5-0.5B" in body
        assert "12.5 USD" in body
        assert "`run_uv_job`" in body
        assert "`dry_run`" in body
        assert "[[" not in body
        with pytest.raises(MCPError, match="budget_usd"):
            await s.client.get_prompt(
                "fine_tune_with_trl", {"model": "m", "dataset": "d", "budget_usd": "a lot of money"}
            )
        with pytest.raises(MCPError, match="budget_usd"):
            await s.client.get_prompt("fine_tune_with_trl", {"model": "m", "dataset": "d"})


async def test_rehearsal_says_where_it_runs(session_factory: Any) -> None:
    for local, says in ((True, "cost nothing"), (False, "dry runs only")):
        async with session_factory(local=local) as s:
            got = await s.client.get_prompt("rehearse_locally", {"task": "train a tokenizer"})
            assert says in got.messages[0].content.text  # type: ignore[union-attr]


async def test_read_only_lists_only_prompts_whose_tools_are_served(session_factory: Any) -> None:
    async with session_factory(read_only=True) as s:
        names = [p.name for p in (await s.client.list_prompts()).prompts]
    assert names == ["debug_failed_job", "review_spend"]


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_prompt_arguments_are_completed(session_factory: Any, mode: str) -> None:
    async with session_factory(mode=mode) as s:
        failed = await s.ok("run_job", {"image": "python:3.12", "command": ["python", "-c", "raise SystemExit(3)"]})
        fine = await s.ok("run_job", {"image": "python:3.12", "command": ["true"]})
        for job in (failed["job"], fine["job"]):
            await s.ok("wait_for_job", {"job_id": job["id"], "timeout_seconds": 60})
        hardware = (await s.ok("list_hardware", {"kind": "gpu"}))["flavors"]

        gpu = await s.client.complete(PromptReference(name="fine_tune_with_trl"), {"name": "flavor", "value": ""})
        assert sorted(gpu.completion.values) == sorted(f["name"] for f in hardware)
        a10 = await s.client.complete(PromptReference(name="fine_tune_with_trl"), {"name": "flavor", "value": "a10"})
        assert a10.completion.values
        assert all(v.startswith("a10") for v in a10.completion.values)
        assert (
            "cpu-basic"
            in (
                await s.client.complete(
                    PromptReference(name="schedule_nightly_evaluation"), {"name": "flavor", "value": "cpu"}
                )
            ).completion.values
        )

        ids = (
            await s.client.complete(PromptReference(name="debug_failed_job"), {"name": "job_id", "value": ""})
        ).completion.values
        assert ids[0] == failed["job"]["id"]  # the failed job first
        assert fine["job"]["id"] in ids
        # namespace/partial completes within that namespace, the namespace kept in front.
        ref = PromptReference(name="debug_failed_job")
        within = (await s.client.complete(ref, {"name": "job_id", "value": f"{USER}/"})).completion.values
        assert within == [f"{USER}/{i}" for i in ids]
        exact = await s.client.complete(ref, {"name": "job_id", "value": f"{USER}/{fine['job']['id']}"})
        assert exact.completion.values == [f"{USER}/{fine['job']['id']}"]

        namespaces = await s.client.complete(PromptReference(name="review_spend"), {"name": "namespace", "value": ""})
        assert namespaces.completion.values == [USER, "myorg"]
        none = await s.client.complete(PromptReference(name="review_spend"), {"name": "hours", "value": "2"})
        assert none.completion.values == []
        with pytest.raises(MCPError, match="no prompt 'test_prompt' on this server"):
            await s.client.complete(PromptReference(name="test_prompt"), {"name": "x", "value": ""})
        with pytest.raises(MCPError, match="no resource template"):
            await s.client.complete(ResourceTemplateReference(uri="test://t/{x}"), {"name": "x", "value": ""})


# --- resources ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
async def test_resource_templates_and_the_hardware_table(session_factory: Any, mode: str) -> None:
    async with session_factory(mode=mode) as s:
        templates = {t.uri_template for t in (await s.client.list_resource_templates()).resource_templates}
        assert templates == {JOB, JOB_LOGS, JOB_METRICS, SCHEDULED_JOB}
        listed = {str(r.uri) for r in (await s.client.list_resources()).resources}
        assert HARDWARE in listed
        table = json.loads(_text(await s.client.read_resource(HARDWARE)))
        assert table == await s.ok("list_hardware", {})


@pytest.mark.slow
@pytest.mark.parametrize("mode", MODES)
async def test_run_and_wait_link_to_resources_that_read_masked(session_factory: Any, mode: str) -> None:
    environ = {"PRINTED_SECRET": PRINTED}
    command = ["python", "-c", "import os; print('value', os.environ['PRINTED_SECRET']); print('done')"]
    async with session_factory(mode=mode, environ=environ, elicitation=Asked()) as s:
        started = await s.call("run_job", {"image": "python:3.12", "command": command, "secrets": ["PRINTED_SECRET"]})
        assert not started.is_error, text(started)
        job = (started.structured_content or {})["job"]
        waited = await s.call("wait_for_job", {"job_id": job["id"], "timeout_seconds": 60})
        links = [c for c in waited.content if isinstance(c, ResourceLink)]
        assert [str(ln.uri) for ln in links] == [
            f"hfjobs://jobs/{USER}/{job['id']}",
            f"hfjobs://jobs/{USER}/{job['id']}/logs",
        ]
        assert [str(ln.uri) for ln in started.content if isinstance(ln, ResourceLink)] == [str(ln.uri) for ln in links]
        tool_logs = await s.ok("fetch_logs", {"job_id": job["id"], "tail": 200})
    # A new session (a new server) that never forwarded the value reads the resources: still masked.
    async with session_factory(mode=mode, environ=environ) as s:
        logs = _text(await s.client.read_resource(str(links[1].uri)))
        assert PRINTED not in logs
        assert [ln.split(" ", 1)[1] for ln in logs.splitlines()[1:]] == ["value ***", "done"]
        assert [f"{ln['timestamp']} {ln['text']}" for ln in tool_logs["lines"]] == logs.splitlines()[1:]
        shown = json.loads(_text(await s.client.read_resource(str(links[0].uri))))
        assert shown["job"]["id"] == job["id"]
        assert shown["job"]["stage"] == "COMPLETED"
        assert shown == await s.ok("inspect_job", {"job_id": job["id"]})
        metrics = json.loads(_text(await s.client.read_resource(f"hfjobs://jobs/{USER}/{job['id']}/metrics")))
        assert metrics["finished"] is True
        assert metrics["samples"] == []


@pytest.mark.slow
async def test_scheduled_job_resource_and_completion(session_factory: Any) -> None:
    async with session_factory(elicitation=Asked()) as s:
        created = await s.ok(
            "schedule_job", {"image": "python:3.12", "command": ["true"], "schedule": "@daily", "suspend": True}
        )
        sid = created["scheduled_job"]["id"]
        try:
            shown = json.loads(_text(await s.client.read_resource(f"hfjobs://scheduled-jobs/{USER}/{sid}")))
            assert shown["scheduled_job"]["id"] == sid
            assert shown["scheduled_job"]["suspended"] is True
            ref = ResourceTemplateReference(uri=SCHEDULED_JOB)
            done = await s.client.complete(ref, {"name": "scheduled_job_id", "value": sid[:6]}, {"namespace": USER})
            assert done.completion.values == [sid]
            namespaces = await s.client.complete(ref, {"name": "namespace", "value": "my"})
            assert namespaces.completion.values == ["myorg"]
        finally:
            await s.ok("delete_scheduled_job", {"scheduled_job_id": sid})


async def test_template_job_ids_are_completed_in_the_chosen_namespace(session_factory: Any) -> None:
    async with session_factory() as s:
        job = (await s.ok("run_job", {"image": "python:3.12", "command": ["true"]}))["job"]
        ref = ResourceTemplateReference(uri=JOB_LOGS)
        mine = await s.client.complete(ref, {"name": "job_id", "value": job["id"]}, {"namespace": USER})
        assert mine.completion.values == [job["id"]]
        other = await s.client.complete(ref, {"name": "job_id", "value": job["id"] + "0"}, {"namespace": USER})
        assert other.completion.values == []
        theirs = await s.client.complete(ref, {"name": "job_id", "value": ""}, {"namespace": "someone-else"})
        assert theirs.completion.values == []  # the Hub refuses another's namespace: nothing offered, no error


@pytest.mark.slow
@pytest.mark.parametrize(
    "uri",
    [
        f"hfjobs://jobs/{USER}/000000000000000000000000",
        f"hfjobs://jobs/{USER}/not%20an%20id/logs",
        "hfjobs://jobs/someone-else/000000000000000000000000",
        f"hfjobs://scheduled-jobs/{USER}/000000000000000000000000",
        "hfjobs://jobs/..%2F..%2Fetc/passwd",
    ],
)
async def test_a_bad_or_unknown_resource_is_an_error_that_says_so(session_factory: Any, uri: str) -> None:
    async with session_factory() as s:
        with pytest.raises(MCPError) as raised:
            await s.client.read_resource(uri)
    assert raised.value.error.message
    assert "Traceback" not in raised.value.error.message
