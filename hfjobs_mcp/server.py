"""The MCP server: the only module that imports the MCP SDK.

It adapts the MCP-free tool definitions of :mod:`hfjobs_mcp.tools` to ``MCPServer`` tools. Each tool's own
pydantic argument model is used as the SDK's argument model, so the published input schema and the validation
of a call come from one model. Errors the model can act on (:class:`~hfjobs_mcp.errors.HfJobsError`) become
``isError`` results with a structured ``error`` object; anything else is a bug and is left to the SDK, which
reports it without leaking its text.
"""

from __future__ import annotations

import inspect
import logging
import types
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Annotated, Any, Literal, Union, cast, get_args, get_origin

from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve, build_resolver_plans
from mcp.server.mcpserver.tools.base import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.server.request_state import RequestStateSecurity
from mcp_types import CallToolResult, EmptyResult, SetLevelRequestParams, TextContent, ToolAnnotations
from pydantic import ConfigDict

from hfjobs_mcp import __version__
from hfjobs_mcp.errors import ConfirmationRequired, HfJobsError
from hfjobs_mcp.secrets import ConsentForm
from hfjobs_mcp.tools.base import ProgressSink, ToolContext, ToolDef, ToolResult
from hfjobs_mcp.tools.consent import Consent, Planned
from hfjobs_mcp.tools.registry import ALL_TOOLS, select_tools
from hfjobs_mcp.tools.schema import cached_schemas

logger = logging.getLogger("hfjobs_mcp.server")

SERVER_NAME = "hfjobs-mcp"

INSTRUCTIONS = """\
Tools for Hugging Face Jobs: run Docker-image or UV-script jobs on Hugging Face hardware, schedule them with
cron, read their logs and metrics, wait for them, cancel them. Jobs cost money on paid hardware: call
list_hardware for prices and use dry_run to see the exact request and its price ceiling before running.
Secrets are passed by environment-variable NAME only, never by value."""

ContextFactory = Callable[[], ToolContext]


def _redact_tree(value: Any, redact: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redact_tree(v, redact) for v in value]
    if isinstance(value, dict):
        return {k: _redact_tree(v, redact) for k, v in value.items()}
    return value


def error_result(exc: HfJobsError, redact: Callable[[str], str] = lambda s: s) -> CallToolResult:
    """An ``isError`` result the model can act on: the message, what to do next, and the same as structure."""
    message = redact(exc.message)
    hint = redact(exc.hint) if exc.hint else None
    text = f"{message}\n\nWhat to do: {hint}" if hint else message
    error: dict[str, Any] = {"type": type(exc).__name__, "message": message}
    if hint:
        error["hint"] = hint
    if isinstance(exc, ConfirmationRequired):
        error["plan"] = _redact_tree(exc.plan, redact)
        error["confirm"] = exc.code
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content={"error": error}, is_error=True
    )


def success_result(result: ToolResult, redact: Callable[[str], str] = lambda s: s) -> CallToolResult:
    """Structured content from the result model, plus its short text rendering; known secrets masked in both."""
    return CallToolResult(
        content=[TextContent(type="text", text=redact(result.render()))],
        structured_content=_redact_tree(result.model_dump(mode="json"), redact),
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


def _annotations(tool: ToolDef[Any, Any]) -> ToolAnnotations:
    # No annotation title: the tool's own `title` says it, and tools/list is paid for in every agent's context.
    return ToolAnnotations(
        read_only_hint=tool.hints.read_only,
        destructive_hint=tool.hints.destructive,
        idempotent_hint=tool.hints.idempotent,
        open_world_hint=tool.hints.open_world,
    )


ContextMaker = Callable[[Context[Any, Any], Consent], ToolContext]


def _consent_of(answer: Any) -> Consent:
    """What the user said, from the resolver's outcome.

    The SDK hands a plain resolver value back wrapped as accepted, so the marker strings ("unavailable",
    "not_needed") are unwrapped first; only a :class:`ConsentForm` with ``approve`` true is a yes.
    """
    if isinstance(answer, AcceptedElicitation):
        answer = answer.data
    if isinstance(answer, ConsentForm):
        return Consent("approved" if answer.approve else "declined")
    if isinstance(answer, DeclinedElicitation):
        return Consent("declined")
    if isinstance(answer, CancelledElicitation):
        return Consent("cancelled")
    if answer == "unavailable":
        return Consent("unavailable")
    return Consent("not_asked")


def _can_elicit(ctx: Context[Any, Any]) -> bool:
    caps = ctx.client_capabilities
    return caps is not None and caps.elicitation is not None


def _consent_resolver(tool: ToolDef[Any, Any], make_context: ContextMaker) -> Callable[..., Any]:
    """A resolver that asks the user (form elicitation, consent only) when this exact request needs a yes.

    It runs the tool's own handler in planning mode, which stops at the consent gate with the plan of the
    request it would send: the question is computed by the code that sends, and nothing is sent here. Any
    problem while planning (bad input, missing secrets) is left for the real call to report.
    """
    names = list(tool.args.model_fields)

    async def resolve(ctx: Context[Any, Any], **by_name: Any) -> Elicit[ConsentForm] | str:
        try:
            args = tool.args.model_validate(by_name)
            await tool.handler(args, make_context(ctx, Consent("planning")))
        except Planned as planned:
            if planned.plan is None:
                return "not_needed"
            if not _can_elicit(ctx):
                return "unavailable"
            return Elicit(planned.plan.message(), ConsentForm)
        except Exception as exc:  # the real call reports it
            logger.debug("planning %s: %s", tool.name, type(exc).__name__)
            return "not_needed"
        return "not_needed"

    params = [inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)]
    params += [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, annotation=Any) for n in names]
    resolve.__signature__ = inspect.Signature(params, return_annotation=Elicit[ConsentForm] | str)  # type: ignore[attr-defined]
    resolve.__annotations__ = {"ctx": Context, **dict.fromkeys(names, Any), "return": Elicit[ConsentForm] | str}
    resolve.__qualname__ = f"consent_for_{tool.name}"
    resolve.__name__ = f"consent_for_{tool.name}"
    return resolve


def _both(first: Callable[[str], str], second: Callable[[str], str]) -> Callable[[str], str]:
    return first if first == second else lambda text: second(first(text))


def sdk_tool(
    tool: ToolDef[Any, Any],
    make_context: ContextMaker,
    redact: Callable[[str], str],
    schemas: dict[str, Any] | None = None,
) -> Tool:
    """Adapt one :class:`ToolDef` to the SDK's ``Tool`` (``schemas``: its published input and output schemas)."""
    published = schemas or {"input": tool.input_schema(), "output": tool.output_schema()}
    args_model = tool.args

    async def call(ctx: Context[Any, Any], consent: Any = None, **validated: Any) -> CallToolResult:
        # The SDK already validated the arguments with this very model; rebuild it without validating twice.
        args = args_model.model_construct(**validated)
        context = make_context(ctx, _consent_of(consent))
        # The call's own context redacts (over HTTP in `hf` auth mode it also knows this caller's token); `redact`
        # masks what is known before any call, e.g. the server's own token.
        redact_call = _both(redact, context.redact)
        try:
            result = await tool.handler(args, context)
        except HfJobsError as exc:
            logger.info("tool %s: %s: %s", tool.name, type(exc).__name__, redact_call(exc.message))
            return error_result(exc, redact_call)
        return success_result(result, redact_call)

    resolved: dict[str, Any] = {}
    plans: dict[Any, Any] = {}
    if tool.needs_consent:
        resolved = {"consent": (Resolve(_consent_resolver(tool, make_context)), True)}
        plans = build_resolver_plans(resolved, set(args_model.model_fields))

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
    )


def _progress_sink(ctx: Context[Any, Any]) -> ProgressSink:
    async def sink(progress: float, total: float | None, message: str) -> None:
        await ctx.report_progress(progress, total, message)

    return sink


async def _set_logging_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
    # Handshake-era clients may set a level (the conformance suite does); this server sends no log notifications.
    return EmptyResult()


def build_server(
    base_context: ToolContext,
    *,
    toolsets: Sequence[str] | None = None,
    read_only: bool = False,
    caller_context: ContextFactory | None = None,
    request_state_security: RequestStateSecurity | None = None,
) -> MCPServer[Any]:
    """The MCP server with the selected tools, in their fixed order.

    ``base_context`` carries the API client and settings; each call gets a copy bound to its own progress sink.
    ``caller_context`` (HTTP deployments, :mod:`hfjobs_mcp.web`) returns the context of the caller of the current
    request instead, with that caller's client, secrets and redaction. ``request_state_security`` carries the
    deployment's shared request-state key, so a 2026-07-28 elicitation round trip can land on another worker.
    """

    def make_context(ctx: Context[Any, Any], consent: Consent) -> ToolContext:
        base = base_context if caller_context is None else caller_context()
        return replace(base, progress=_progress_sink(ctx), consent=consent)

    redact = base_context.redact
    selected = select_tools(toolsets=toolsets, read_only=read_only)
    schemas = cached_schemas(
        {t.name: (lambda t=t: {"input": t.input_schema(), "output": t.output_schema()}) for t in ALL_TOOLS}
    )
    tools = [sdk_tool(t, make_context, redact, schemas[t.name]) for t in selected]
    server: MCPServer[Any] = MCPServer(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        tools=tools,
        request_state_security=request_state_security,
    )
    server._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, _set_logging_level)
    return server


__all__ = ["SERVER_NAME", "build_server", "error_result", "sdk_tool", "success_result"]
