"""The MCP SDK internals :mod:`hfjobs_mcp.serve.sdk_shim` relies on: these tests fail when the SDK changes them.

- ``sdk_tool_of`` builds the ``Tool`` that the public ``Tool.from_function`` builds (every field but the two we
  replace), so a new ``Tool`` field, or a change in how the SDK finds the context and the resolvers, shows here;
- ``Tool.run`` hands ``FuncMetadata.validate_arguments``'s result to the function and to by-name resolvers, and
  still checks structured content against ``output_model``;
- ``MCPServer()`` sets up logging through the module function ``keep_configured_logging`` replaces, and leaves a
  configured root logger as it was (without importing rich), an unconfigured one as the SDK does;
"""

from __future__ import annotations

import inspect
import subprocess
import sys
from typing import Annotated, Any

import mcp
import pytest
from mcp.server.mcpserver import Context, MCPServer, Resolve
from mcp.server.mcpserver import server as sdk_server
from mcp.server.mcpserver.tools.base import Tool
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel

from hfjobs_mcp.serve import sdk_shim
from hfjobs_mcp.serve.sdk_shim import ARGUMENTS, sdk_tool_of

# The fields of the SDK's Tool that sdk_tool_of fills; a field the SDK adds must be considered here.
TOOL_FIELDS = {
    "fn", "name", "title", "description", "parameters", "fn_metadata", "is_async", "context_kwarg",
    "resolved_params", "resolver_plans", "annotations", "icons", "meta",
}  # fmt: skip
REPLACED = {"parameters", "fn_metadata"}


class Echo(BaseModel):
    got: dict[str, Any]
    seen_by_resolver: dict[str, Any] | None = None


SEEN: list[dict[str, Any]] = []


async def read_fn(ctx: Context[Any, Any], arguments: dict[str, Any]) -> CallToolResult:
    SEEN.append(arguments)
    return CallToolResult(content=[TextContent(type="text", text="ok")], structured_content={"got": arguments})


async def planner(ctx: Context[Any, Any], arguments: dict[str, Any]) -> dict[str, Any]:
    return {"planned_from": arguments}


async def write_fn(
    ctx: Context[Any, Any], arguments: dict[str, Any], planned: Annotated[dict[str, Any], Resolve(planner)]
) -> CallToolResult:
    content = {"got": arguments, "seen_by_resolver": planned["planned_from"]}
    return CallToolResult(content=[TextContent(type="text", text="ok")], structured_content=content)


async def bad_output_fn(ctx: Context[Any, Any], arguments: dict[str, Any]) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text="ok")], structured_content={"got": "not a mapping"})


INPUT = {"type": "object", "properties": {"x": {"type": "integer"}}, "additionalProperties": False}
OUTPUT = Echo.model_json_schema()


def _ours(fn: Any, name: str) -> Tool:
    return sdk_tool_of(
        fn,
        name=name,
        title=name.title(),
        description=f"{name} tool",
        annotations=ToolAnnotations(read_only_hint=True),
        meta={"ui": {"resourceUri": "ui://x"}},
        input_schema=INPUT,
        output_model=Echo,
        output_schema=OUTPUT,
    )


def _public(fn: Any, name: str) -> Tool:
    return Tool.from_function(
        fn,
        name=name,
        title=name.title(),
        description=f"{name} tool",
        annotations=ToolAnnotations(read_only_hint=True),
        meta={"ui": {"resourceUri": "ui://x"}},
        structured_output=False,
    )


def _fn(marker: Resolve | None) -> Any:
    return None if marker is None else marker.fn  # markers are rebuilt from string annotations at each reading


def _resolved(tool: Tool) -> dict[str, tuple[Any, bool]]:
    return {name: (_fn(marker), wants_union) for name, (marker, wants_union) in tool.resolved_params.items()}


def _plans(tool: Tool) -> dict[Any, tuple[Any, ...]]:
    return {
        key: (plan.fn, {n: (p.kind, _fn(p.resolve), p.wants_union) for n, p in plan.params.items()}, plan.is_async)
        for key, plan in tool.resolver_plans.items()
    }


def test_the_sdk_tool_has_the_fields_the_shim_fills() -> None:
    assert set(Tool.model_fields) == TOOL_FIELDS


@pytest.mark.parametrize(("fn", "name"), [(read_fn, "reader"), (write_fn, "writer")])
def test_sdk_tool_of_builds_what_from_function_builds(fn: Any, name: str) -> None:
    ours, public = _ours(fn, name), _public(fn, name)
    for field in TOOL_FIELDS - REPLACED - {"resolved_params", "resolver_plans"}:
        assert getattr(ours, field) == getattr(public, field), field
    assert _resolved(ours) == _resolved(public)
    assert _plans(ours) == _plans(public)
    assert set(ours.fn_metadata.arg_model.model_fields) == set(public.fn_metadata.arg_model.model_fields) == {ARGUMENTS}
    assert ours.parameters == INPUT
    assert ours.output_schema == OUTPUT
    if fn is write_fn:
        assert _resolved(ours) == {"planned": (planner, False)}


def test_func_metadata_still_has_the_hooks_the_shim_overrides() -> None:
    assert "validate_arguments" in vars(sdk_shim.FuncMetadata)
    assert sdk_shim.RawArguments.validate_arguments is not sdk_shim.FuncMetadata.validate_arguments


@pytest.mark.anyio
@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_raw_arguments_reach_the_function_and_its_resolvers(mode: str) -> None:
    server: MCPServer[Any] = MCPServer("probe", tools=[_ours(read_fn, "reader"), _ours(write_fn, "writer")])
    wild = {"x": "not an int", "unknown": [1, {"deep": None}], "n": 3}
    async with mcp.Client(server, mode=mode) as client:
        SEEN.clear()
        read = await client.call_tool("reader", wild)
        assert not read.is_error, read
        assert [wild] == SEEN  # unvalidated, untouched: our own model validates
        write = await client.call_tool("writer", wild)
        assert not write.is_error, write
        assert write.structured_content == {"got": wild, "seen_by_resolver": wild}
        listed = {t.name: t for t in (await client.list_tools()).tools}
        assert listed["reader"].input_schema == INPUT
        assert listed["reader"].output_schema == OUTPUT


@pytest.mark.anyio
async def test_structured_content_is_still_checked_against_the_output_model() -> None:
    server: MCPServer[Any] = MCPServer("probe", tools=[_ours(bad_output_fn, "bad")])
    async with mcp.Client(server) as client:
        result = await client.call_tool("bad", {})
    assert result.is_error  # the SDK refused content that does not fit Echo


# --- 3. the SDK's logging set-up is skipped when ours is in place -------------------------------------------------

LOGGING_PROBE = """
import logging, sys
{setup}
from mcp.server.mcpserver import MCPServer
from hfjobs_mcp.serve.sdk_shim import keep_configured_logging
keep_configured_logging()
MCPServer("probe")
root = logging.getLogger()
print("rich" in sys.modules, [type(h).__name__ for h in root.handlers], logging.getLevelName(root.level))
"""


@pytest.mark.parametrize(
    ("setup", "seen"),
    [
        ("logging.basicConfig(level='WARNING', stream=sys.stderr)", "False ['StreamHandler'] WARNING"),
        ("", "True ['RichHandler'] INFO"),  # nothing configured: the SDK's own set-up, as without the shim
    ],
    ids=["configured", "unconfigured"],
)
def test_a_configured_root_logger_is_left_alone_without_rich(setup: str, seen: str) -> None:
    probe = LOGGING_PROBE.format(setup=setup)
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == seen


def test_mcpserver_still_sets_up_logging_through_the_module_function_the_shim_replaces() -> None:
    """``MCPServer.__init__`` calls ``configure_logging`` by its name in ``mcp.server.mcpserver.server``: if the SDK
    moves it, the shim would silently stop saving the 14 ms, and this says so."""
    assert "configure_logging(" in inspect.getsource(MCPServer.__init__)
    assert callable(sdk_server.__dict__["configure_logging"])
