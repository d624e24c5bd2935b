"""One MCP-free :class:`~hfjobs_mcp.tools.base.ToolDef` as an ``MCPServer`` tool.

Each tool's own pydantic argument model is used as the SDK's argument model, so the published input schema and the
validation of a call come from one model. The SDK hands the raw arguments through; the tool's model validates them
(:func:`hfjobs_mcp.tools.arguments.parse_arguments`), so a refusal is an ``isError`` result naming each field.
"""

from __future__ import annotations

import logging
import types
from collections.abc import Callable
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.resolve import build_resolver_plans
from mcp.server.mcpserver.tools.base import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import ConfigDict

from hfjobs_mcp.errors import HfJobsError
from hfjobs_mcp.serve.consent import ARGUMENTS, Planned, gate_and_execute, plan_resolvers
from hfjobs_mcp.serve.context import ContextMaker
from hfjobs_mcp.serve.results import cut, error_result, success_result
from hfjobs_mcp.tools.arguments import parse_arguments
from hfjobs_mcp.tools.base import ToolDef, ToolResult

logger = logging.getLogger("hfjobs_mcp.server")


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


def _accepts_str(annotation: Any) -> bool:
    """True if a field of this type takes a string as it is (``str``, ``str | None``, a string literal...)."""
    if annotation is str:
        return True
    origin = get_origin(annotation)
    if origin is Annotated:
        return _accepts_str(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        return any(_accepts_str(arg) for arg in get_args(annotation))
    if origin is Literal:
        return any(isinstance(arg, str) for arg in get_args(annotation))
    return False


class _ArgMetadata(FuncMetadata):
    """The SDK's call metadata, minus one rewrite: a string is JSON-decoded only for a field that takes no string.

    The SDK decodes a string argument that looks like JSON whenever the field's type is not exactly ``str`` (a
    workaround for clients that send lists as JSON text). For ``str | None`` fields that turned valid strings into
    something else: ``name="[]"`` was refused as a list and ``grep="null"`` silently became no filter at all
    (found by tests/reliability/test_fuzz_tools.py). List and object fields keep the workaround.
    """

    def pre_parse_json(self, data: dict[str, Any]) -> dict[str, Any]:
        fields = self.arg_model.model_fields
        as_sent = {
            k: v for k, v in data.items() if isinstance(v, str) and k in fields and _accepts_str(fields[k].annotation)
        }
        return {**super().pre_parse_json(data), **as_sent}

    def validate_arguments(self, arguments_to_validate: dict[str, Any]) -> dict[str, Any]:
        """The raw arguments (JSON text decoded as above), for the tool to validate itself.

        The tool's own model validates them in :func:`hfjobs_mcp.tools.arguments.parse_arguments`, so a refusal is
        an ``isError`` result naming each field, what is expected and the closest valid name or value, rather
        than the SDK's pydantic text.
        """
        return {ARGUMENTS: self.pre_parse_json(arguments_to_validate)}


def _annotations(tool: ToolDef[Any, Any]) -> ToolAnnotations:
    # No annotation title: the tool's own `title` says it, and tools/list is paid for in every agent's context.
    return ToolAnnotations(
        read_only_hint=tool.hints.read_only,
        destructive_hint=tool.hints.destructive,
        idempotent_hint=tool.hints.idempotent,
        open_world_hint=tool.hints.open_world,
    )


def _both(first: Callable[[str], str], second: Callable[[str], str]) -> Callable[[str], str]:
    return first if first == second else lambda text: second(first(text))


def sdk_tool(
    tool: ToolDef[Any, Any],
    make_context: ContextMaker,
    redact: Callable[[str], str],
    schemas: dict[str, Any] | None = None,
    meta: dict[str, Any] | None = None,
) -> Tool:
    """Adapt one :class:`ToolDef` to the SDK's ``Tool`` (``schemas``: its published input and output schemas)."""
    published = schemas or {"input": tool.input_schema(), "output": tool.output_schema()}
    args_model = tool.args

    async def call(
        ctx: Context[Any, Any], arguments: dict[str, Any], planned: Planned | None = None, consent: Any = None
    ) -> CallToolResult:
        context = planned.context if planned is not None else make_context(ctx)
        # The call's own context redacts (over HTTP in `hf` auth mode: the deployment's redactor, which knows every
        # caller's token and what the other workers forwarded); `redact` masks what is known before any call, e.g.
        # the server's own token.
        context.redactor.refresh()
        redact_call = _both(redact, context.redact)
        outcome: ToolResult | HfJobsError
        if planned is not None:
            outcome = await gate_and_execute(tool, ctx, planned, consent)
        else:
            assert tool.handler is not None
            try:
                outcome = await tool.handler(parse_arguments(args_model, arguments, tool=tool.name), context)
            except HfJobsError as exc:
                outcome = exc
        if isinstance(outcome, HfJobsError):
            logger.info("tool %s: %s: %s", tool.name, type(outcome).__name__, cut(redact_call(outcome.message)))
            return error_result(outcome, redact_call)
        return success_result(outcome, redact_call)

    resolved: dict[str, Any] = {}
    plans: dict[Any, Any] = {}
    if tool.plan is not None:
        resolved = plan_resolvers(tool, make_context)
        plans = build_resolver_plans(resolved, {ARGUMENTS})

    return Tool(
        fn=call,
        name=tool.name,
        title=tool.title,
        description=tool.description,
        parameters=published["input"],
        fn_metadata=_ArgMetadata(
            arg_model=_sdk_arg_model(tool), output_model=tool.result, output_schema=published["output"]
        ),
        is_async=True,
        context_kwarg="ctx",
        annotations=_annotations(tool),
        resolved_params=resolved,
        resolver_plans=plans,
        meta=meta,
    )


__all__ = ["sdk_tool"]
