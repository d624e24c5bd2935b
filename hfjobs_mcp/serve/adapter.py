"""One MCP-free :class:`~hfjobs_mcp.tools.base.ToolDef` as an ``MCPServer`` tool.

The tool function takes the SDK's ``Context`` and the call's raw arguments; a writing tool's function also takes
its plan and the user's answer, through the SDK's resolvers (:mod:`hfjobs_mcp.serve.consent`). The tool's own
pydantic model validates the arguments (:func:`hfjobs_mcp.tools.arguments.parse_arguments`), so the published schema
and the validation come from one model and a refusal is an ``isError`` result naming each field;
:mod:`hfjobs_mcp.serve.sdk_shim` is what lets the SDK hand the arguments through and publish our schemas.
"""

from __future__ import annotations

import json
import logging
import types
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from mcp.server.mcpserver import Context
from mcp.server.mcpserver.tools.base import Tool
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel

from hfjobs_mcp.errors import HfJobsError
from hfjobs_mcp.serve.consent import writing_call
from hfjobs_mcp.serve.context import ContextMaker
from hfjobs_mcp.serve.resources import job_links
from hfjobs_mcp.serve.results import cut, error_result, success_result
from hfjobs_mcp.serve.sdk_shim import sdk_tool_of
from hfjobs_mcp.tools.listing import Listed

if TYPE_CHECKING:
    from hfjobs_mcp.tools.base import ToolContext, ToolDef, ToolResult

logger = logging.getLogger("hfjobs_mcp.server")  # the name log lines have always shown


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


def decode_json_text(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` with JSON text decoded for the fields that take no string (the SDK's workaround, for strings too).

    Some clients send a list or an object as JSON text (``'["a", "b"]'``), so the SDK decodes a string that parses
    as a JSON list, object or null whenever the field's type is not exactly ``str``. For ``str | None`` fields that
    turned valid strings into something else (``name="[]"`` was refused as a list, ``grep="null"`` became no filter;
    found by tests/reliability/test_fuzz_tools.py): here a field that takes a string keeps it as sent.
    """
    fields = model.model_fields
    decoded = dict(data)
    for key, value in data.items():
        field = fields.get(key)
        if field is None or not isinstance(value, str) or _accepts_str(field.annotation):
            continue
        try:
            parsed = json.loads(value)
        except (ValueError, RecursionError):  # not JSON, or JSON the parser refuses: validation says what is wrong
            continue
        if not isinstance(parsed, str | int | float):  # a number or a string is taken as it was sent
            decoded[key] = parsed
    return decoded


def read_arguments(tool: ToolDef[Any, Any], arguments: dict[str, Any]) -> Any:
    """A call's raw arguments validated by the tool's own model (:class:`~hfjobs_mcp.errors.HfJobsError` if not)."""
    from hfjobs_mcp.tools.arguments import parse_arguments  # with the first call (start-up time)

    return parse_arguments(tool.args, decode_json_text(tool.args, arguments), tool=tool.name)


def _annotations(tool: Listed) -> ToolAnnotations:
    # No annotation title: the tool's own `title` says it, and tools/list is paid for in every agent's context.
    return ToolAnnotations(
        read_only_hint=tool.read_only,
        destructive_hint=tool.destructive,
        idempotent_hint=tool.idempotent,
        open_world_hint=tool.open_world,
    )


def both(first: Callable[[str], str], second: Callable[[str], str]) -> Callable[[str], str]:
    return first if first == second else lambda text: second(first(text))


def sdk_tool(
    listed: Listed,
    load: Callable[[], ToolDef[Any, Any]],
    make_context: ContextMaker,
    redact: Callable[[str], str],
    meta: dict[str, Any] | None = None,
    links: bool = False,
) -> Tool:
    """One listed tool as the SDK's ``Tool``; ``load`` gives its real :class:`ToolDef`, on its first call.

    What ``tools/list`` shows comes from ``listed`` alone (:mod:`hfjobs_mcp.tools.listing`), so the tool modules
    are not imported before the first call (start-up time). The result model joins the SDK's call metadata then,
    before the first result is checked against it (the SDK reads ``FuncMetadata.output_model`` live).
    """
    name = listed.name

    def real() -> ToolDef[Any, Any]:
        tool = load()
        metadata = sdk.fn_metadata
        if metadata.output_model is None:
            metadata.output_model = tool.result
        return tool

    def finish(outcome: ToolResult | HfJobsError, context: ToolContext) -> CallToolResult:
        # The call's own context redacts (over HTTP in `hf` auth mode: the deployment's redactor, which knows every
        # caller's token and what the other workers forwarded); `redact` masks what is known before any call, e.g.
        # the server's own token.
        redact_call = both(redact, context.redact)
        if isinstance(outcome, HfJobsError):
            logger.info("tool %s: %s: %s", name, type(outcome).__name__, cut(redact_call(outcome.message)))
            return error_result(outcome, redact_call)
        shown = success_result(outcome, redact_call)
        if links:  # a result that shows a job links to it and its logs (serve.resources)
            shown.content = [*shown.content, *job_links(shown.structured_content)]
        return shown

    async def call(ctx: Context[Any, Any], arguments: dict[str, Any]) -> CallToolResult:
        try:
            context = make_context(ctx)
        except HfJobsError as exc:  # a stdio server's first call could not connect (--local: see local_connector)
            return error_result(exc)
        context.redactor.refresh()
        outcome: ToolResult | HfJobsError
        try:
            tool = real()  # refused if the listing it was served from does not match the code
            assert tool.handler is not None
            outcome = await tool.handler(read_arguments(tool, arguments), context)
        except HfJobsError as exc:
            outcome = exc
        return finish(outcome, context)

    sdk = sdk_tool_of(
        writing_call(name, real, make_context, read_arguments, finish) if listed.writes else call,
        name=name,
        title=listed.title,
        description=listed.description,
        annotations=_annotations(listed),
        meta=meta,
        input_schema=listed.input,
        output_model=None,
        output_schema=listed.output,
    )
    return sdk


__all__ = ["decode_json_text", "read_arguments", "sdk_tool"]
