"""The MCP server: the only module that imports the MCP SDK.

It adapts the MCP-free tool definitions of :mod:`hfjobs_mcp.tools` to ``MCPServer`` tools. Each tool's own
pydantic argument model is used as the SDK's argument model, so the published input schema and the validation
of a call come from one model. Errors the model can act on (:class:`~hfjobs_mcp.errors.HfJobsError`) become
``isError`` results with a structured ``error`` object; anything else is a bug and is left to the SDK, which
reports it without leaking its text.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, cast

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.tools.base import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import ConfigDict

from hfjobs_mcp import __version__
from hfjobs_mcp.errors import HfJobsError
from hfjobs_mcp.tools.base import ProgressSink, ToolContext, ToolDef, ToolResult
from hfjobs_mcp.tools.registry import select_tools

logger = logging.getLogger("hfjobs_mcp.server")

SERVER_NAME = "hfjobs-mcp"

INSTRUCTIONS = """\
Tools for Hugging Face Jobs: run Docker-image or UV-script jobs on Hugging Face hardware, schedule them with
cron, read their logs and metrics, wait for them, cancel them. Jobs cost money on paid hardware: call
list_hardware for prices and use dry_run to see the exact request and its price ceiling before running.
Secrets are passed by environment-variable NAME only, never by value."""

ContextFactory = Callable[[], ToolContext]


def error_result(exc: HfJobsError) -> CallToolResult:
    """An ``isError`` result the model can act on: the message, what to do next, and the same as structure."""
    message = str(exc)
    hint = getattr(exc, "hint", None)
    text = f"{message}\n\nWhat to do: {hint}" if hint else message
    error: dict[str, Any] = {"type": type(exc).__name__, "message": message}
    if hint:
        error["hint"] = hint
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content={"error": error}, is_error=True
    )


def success_result(result: ToolResult) -> CallToolResult:
    """Structured content from the result model, plus its short text rendering."""
    return CallToolResult(
        content=[TextContent(type="text", text=result.render())],
        structured_content=result.model_dump(mode="json"),
    )


def _sdk_arg_model(tool: ToolDef[Any, Any]) -> type[ArgModelBase]:
    """The tool's own argument model, made acceptable to the SDK (which wants an ``ArgModelBase``).

    Multiple inheritance keeps every field, validator and config of the tool's model; nothing is re-declared.
    """
    config = cast(ConfigDict, {**tool.args.model_config, "arbitrary_types_allowed": True, "title": tool.args.__name__})
    return cast(
        type[ArgModelBase],
        type(
            f"{tool.args.__name__}ForMcp",
            (tool.args, ArgModelBase),
            {"model_config": config, "__doc__": tool.args.__doc__},
        ),
    )


def _annotations(tool: ToolDef[Any, Any]) -> ToolAnnotations:
    # No annotation title: the tool's own `title` says it, and tools/list is paid for in every agent's context.
    return ToolAnnotations(
        read_only_hint=tool.hints.read_only,
        destructive_hint=tool.hints.destructive,
        idempotent_hint=tool.hints.idempotent,
        open_world_hint=tool.hints.open_world,
    )


def sdk_tool(tool: ToolDef[Any, Any], make_context: Callable[[Context[Any, Any]], ToolContext]) -> Tool:
    """Adapt one :class:`ToolDef` to the SDK's ``Tool``."""
    args_model = tool.args

    async def call(ctx: Context[Any, Any], **validated: Any) -> CallToolResult:
        # The SDK already validated the arguments with this very model; rebuild it without validating twice.
        args = args_model.model_construct(**validated)
        try:
            result = await tool.handler(args, make_context(ctx))
        except HfJobsError as exc:
            logger.info("tool %s: %s: %s", tool.name, type(exc).__name__, exc)
            return error_result(exc)
        return success_result(result)

    return Tool(
        fn=call,
        name=tool.name,
        title=tool.title,
        description=tool.description,
        parameters=tool.input_schema(),
        fn_metadata=FuncMetadata(
            arg_model=_sdk_arg_model(tool), output_model=tool.result, output_schema=tool.output_schema()
        ),
        is_async=True,
        context_kwarg="ctx",
        annotations=_annotations(tool),
    )


def _progress_sink(ctx: Context[Any, Any]) -> ProgressSink:
    async def sink(progress: float, total: float | None, message: str) -> None:
        await ctx.report_progress(progress, total, message)

    return sink


def build_server(
    base_context: ToolContext,
    *,
    toolsets: Sequence[str] | None = None,
    read_only: bool = False,
) -> MCPServer[Any]:
    """The MCP server with the selected tools, in their fixed order.

    ``base_context`` carries the API client and settings; each call gets a copy bound to its own progress sink.
    """

    def make_context(ctx: Context[Any, Any]) -> ToolContext:
        return ToolContext(
            client=base_context.client,
            settings=base_context.settings,
            progress=_progress_sink(ctx),
            local_files=base_context.local_files,
        )

    tools = [sdk_tool(t, make_context) for t in select_tools(toolsets=toolsets, read_only=read_only)]
    return MCPServer(SERVER_NAME, version=__version__, instructions=INSTRUCTIONS, tools=tools)


__all__ = ["SERVER_NAME", "build_server", "error_result", "sdk_tool", "success_result"]
