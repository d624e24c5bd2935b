"""One test over every tool's invariants, read from a real ``tools/list`` (as github-mcp-server does).

A new tool cannot ship without all four annotations, a useful description, an object input schema without
top-level combinators (several clients reject them), an output schema, and a snake_case name.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from hfjobs_mcp.serve.app_page import ANSWER_TOOL, APP_URI
from hfjobs_mcp.tools.base import Hints, ToolArgs, ToolDef, ToolResult
from hfjobs_mcp.tools.registry import ALL_TOOLS, select_tools

pytestmark = pytest.mark.anyio

# The registry's order is the listing order; nothing here repeats the tool names, so adding a tool is one
# module (and its behaviour test). Writing tools that cannot spend are the one list kept by hand: a new writer
# must either ask the user (``may_ask``) or be reviewed into it.
EXPECTED = [t.name for t in ALL_TOOLS]
WRITES_THAT_NEVER_SPEND = {
    "cancel_job",
    "update_job_labels",
    "suspend_scheduled_job",
    "delete_scheduled_job",
    "disable_job_webhook",
    "delete_job_webhook",
}


async def test_all_tools_listed_in_fixed_order(list_tools: Any) -> None:
    async with list_tools() as tools:
        assert [t.name for t in tools] == EXPECTED


async def test_every_tool_keeps_the_invariants(list_tools: Any) -> None:
    async with list_tools() as tools:
        names = [t.name for t in tools]
        assert len(names) == len(set(names))
        for tool in tools:
            where = tool.name
            assert re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", tool.name), where
            ann = tool.annotations
            assert ann is not None, where
            for hint in ("read_only_hint", "destructive_hint", "idempotent_hint", "open_world_hint"):
                assert isinstance(getattr(ann, hint), bool), f"{where}: {hint} not set explicitly"
            assert ann.open_world_hint is True, where
            assert tool.title, where
            if ann.read_only_hint:
                assert ann.destructive_hint is False, where
            desc = tool.description or ""
            assert len(desc) >= 80, f"{where}: description too short to choose the tool by"
            assert "Use it" in desc, f"{where}: description must say when to use it"
            assert re.search(r"Free|Costs|cost|price", desc), f"{where}: description must say what it costs"
            assert "Next:" in desc, f"{where}: description must say what to call next"
            schema = tool.input_schema
            assert schema.get("type") == "object", where
            for combinator in ("anyOf", "oneOf", "allOf", "not"):
                assert combinator not in schema, f"{where}: top-level {combinator} in the input schema"
            assert tool.output_schema is not None, where
            assert tool.output_schema.get("type") == "object", where


async def test_destructive_tools_are_exactly_cancel_and_delete(list_tools: Any) -> None:
    async with list_tools() as tools:
        destructive = {t.name for t in tools if t.annotations and t.annotations.destructive_hint}
        assert destructive == {"cancel_job", "delete_scheduled_job", "delete_job_webhook"}


@pytest.mark.slow
async def test_read_only_keeps_exactly_the_read_only_hinted_tools(list_tools: Any) -> None:
    async with list_tools() as everything:
        expected = [t.name for t in everything if t.annotations and t.annotations.read_only_hint]
    async with list_tools(read_only=True) as tools:
        assert [t.name for t in tools] == expected
        assert "run_job" not in expected
        assert "fetch_logs" in expected


async def test_toolsets_select_tools(list_tools: Any) -> None:
    async with list_tools(toolsets=["hardware", "webhooks"]) as tools:
        assert [t.name for t in tools] == [
            "list_hardware",
            "spend_report",
            "create_job_webhook",
            "list_job_webhooks",
            "disable_job_webhook",
            "enable_job_webhook",
            "delete_job_webhook",
        ]
    async with list_tools(toolsets=None) as tools:  # the default toolsets: webhooks are opt-in
        assert "create_job_webhook" not in {t.name for t in tools}
        assert "run_job" in {t.name for t in tools}


def test_unknown_toolset_is_loud() -> None:
    with pytest.raises(ValueError, match="unknown toolset"):
        select_tools(toolsets=["jobs", "jbos"])


def test_every_writing_tool_plans_then_executes_and_reading_tools_only_handle() -> None:
    """The gate runs between plan and execute: a tool that writes without a plan phase cannot even be declared."""
    for tool in ALL_TOOLS:
        phases = (tool.handler is not None, tool.plan is not None, tool.execute is not None)
        assert phases == ((True, False, False) if tool.hints.read_only else (False, True, True)), tool.name

    async def handler(args: ToolArgs, ctx: object) -> ToolResult:
        raise AssertionError("never called")

    writes = Hints(read_only=False, destructive=False, idempotent=False)
    with pytest.raises(TypeError, match="plan and an execute phase"):
        ToolDef("sneaky", "jobs", "t", "d", ToolArgs, ToolResult, writes, handler=handler)  # type: ignore[arg-type]


SPENDING = {t.name for t in ALL_TOOLS if t.may_ask}
# Tools whose result is one job: the job page shows it as the live dashboard (issue 20).
SHOWS_JOB = {t.name for t in ALL_TOOLS if t.shows_job}


def test_every_writing_tool_asks_unless_it_was_reviewed_as_never_spending() -> None:
    """A tool that writes can start paid compute unless proven otherwise: it must go through the consent question."""
    for tool in ALL_TOOLS:
        if tool.hints.read_only:
            assert not tool.may_ask, f"{tool.name}: a read-only tool has nothing to ask about"
        else:
            assert tool.may_ask != (tool.name in WRITES_THAT_NEVER_SPEND), (
                f"{tool.name}: a writing tool asks the user (may_ask=True) unless it is in WRITES_THAT_NEVER_SPEND"
            )
    assert {"run_job", "run_uv_job", "rerun_job", "trigger_scheduled_job", "create_job_webhook"} <= SPENDING


async def test_tools_that_spend_forward_or_show_a_job_carry_the_job_page(list_tools: Any) -> None:
    async with list_tools(app_only=True) as tools:
        by_name = {t.name: t for t in tools}
        bound = {t.name for t in tools if (t.meta or {}).get("ui", {}).get("resourceUri") == APP_URI}
        assert bound - {ANSWER_TOOL} == SPENDING | SHOWS_JOB
        assert by_name[ANSWER_TOOL].meta == {"ui": {"resourceUri": APP_URI, "visibility": ["app"]}}
        # Nothing else in any tool's _meta: a client without Apps sees only what it ignores.
        assert all(set(t.meta or {"ui": 0}) == {"ui"} for t in tools)
    assert {"inspect_job", "wait_for_job", "run_job"} <= SHOWS_JOB
    async with list_tools(app_only=True, read_only=True) as tools:  # nothing can ask: no app-only tool
        names = {t.name for t in tools}
        assert ANSWER_TOOL not in names
        # The dashboard still follows jobs on a read-only server.
        bound = {t.name for t in tools if (t.meta or {}).get("ui", {}).get("resourceUri") == APP_URI}
        assert bound == {"inspect_job", "wait_for_job"}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("toolsets", "budget"), [(None, 30_000), (["jobs", "hardware", "scheduled", "webhooks"], 40_000)]
)
async def test_tools_list_stays_lean(list_tools: Any, toolsets: list[str] | None, budget: int) -> None:
    """tools/list is paid for in every agent's context: the default toolsets within 30 kB, all within 40 kB
    (measured as a client receives it: every listed tool, the app-only one included, compact JSON)."""
    async with list_tools(toolsets=toolsets, app_only=True) as tools:
        listed = [t.model_dump(mode="json", by_alias=True, exclude_none=True) for t in tools]
    size = len(json.dumps({"tools": listed}, separators=(",", ":")))
    assert size <= budget, f"tools/list is {size} bytes, over {budget}"
