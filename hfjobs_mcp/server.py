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

from mcp.server.apps import Apps, client_supports_apps
from mcp.server.elicitation import AcceptedElicitation, CancelledElicitation, DeclinedElicitation
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resolve import Elicit, Resolve, build_resolver_plans
from mcp.server.mcpserver.tools.base import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.server.request_state import RequestStateSecurity
from mcp_types import CallToolResult, EmptyResult, SetLevelRequestParams, TextContent, ToolAnnotations
from pydantic import ConfigDict, ValidationError

from hfjobs_mcp import __version__
from hfjobs_mcp.errors import ApprovalPending, ConfirmationRequired, HfJobsError, InvalidArgumentsError
from hfjobs_mcp.policy.audit import audit
from hfjobs_mcp.policy.gate import ConsentForm, Elicited, channel_for, decide
from hfjobs_mcp.policy.plan import Plan
from hfjobs_mcp.policy.redaction import mask_tree
from hfjobs_mcp.tools.arguments import parse_arguments
from hfjobs_mcp.tools.base import ProgressSink, ToolContext, ToolDef, ToolResult
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


MAX_MESSAGE_CHARS = 2000  # an error message is cut here, after masking (an API may echo a whole request)


def _cut(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters: only ever after masking, so a cut cannot leave part of a value."""
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters cut]"


def error_result(exc: HfJobsError, redact: Callable[[str], str] = lambda s: s) -> CallToolResult:
    """An ``isError`` result the model can act on: the message, what to do next, and the same as structure.

    Masked first, then cut: an API error that echoes a secret shows none of it, wherever the cut falls.
    """
    message = _cut(redact(exc.message))
    hint = _cut(redact(exc.hint)) if exc.hint else None
    text = f"{message}\n\nWhat to do: {hint}" if hint else message
    error: dict[str, Any] = {"type": type(exc).__name__, "message": message}
    if hint:
        error["hint"] = hint
    meta: dict[str, Any] | None = None
    if isinstance(exc, InvalidArgumentsError):
        error["problems"] = [mask_tree(dict(vars(p)), redact) for p in exc.problems]
    if isinstance(exc, ConfirmationRequired):  # --confirm-via code only: the agent relays the code
        error["plan"] = mask_tree(exc.plan, redact)
        error["confirm"] = exc.code
    if isinstance(exc, ApprovalPending):
        error["plan"] = mask_tree(exc.plan, redact)
        # The approval id goes only where the host hands it to the approval card, never where the model reads.
        meta = {APPROVAL_META: {"id": exc.approval_id, "tool": exc.tool, "plan": error["plan"]}}
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content={"error": error}, is_error=True, _meta=meta
    )


def success_result(result: ToolResult, redact: Callable[[str], str] = lambda s: s) -> CallToolResult:
    """Structured content from the result model, plus its short text rendering; known secrets masked in both.

    The data is masked before it is rendered (keys of mappings included): the text is the rendering of the masked
    result, masked once more as a whole (a value the rendering brought together).
    """
    data = mask_tree(result.model_dump(mode="json"), redact)
    try:
        shown = type(result).model_validate(data)
    except ValidationError:  # a masked field no longer fits its type: render the original, masked as a whole
        shown = result
    return CallToolResult(content=[TextContent(type="text", text=redact(shown.render()))], structured_content=data)


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


ARGUMENTS = "arguments"


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


ContextMaker = Callable[[Context[Any, Any]], ToolContext]


def _elicited(answer: Any) -> Elicited | None:
    """What the user said through elicitation, from the resolver's outcome (None: they were not asked).

    The SDK hands a plain resolver value back wrapped as accepted, so the marker string ("not_needed") is
    unwrapped first; only a :class:`ConsentForm` with ``approve`` true is a yes.
    """
    if isinstance(answer, AcceptedElicitation):
        answer = answer.data
    if isinstance(answer, ConsentForm):
        return "approved" if answer.approve else "declined"
    if isinstance(answer, DeclinedElicitation):
        return "declined"
    if isinstance(answer, CancelledElicitation):
        return "cancelled"
    return None


def _can_elicit(ctx: Context[Any, Any]) -> bool:
    """Form elicitation declared (a bare ``elicitation: {}`` counts as form; url-only does not)."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


def _channel(ctx: Context[Any, Any], context: ToolContext) -> Any:
    return channel_for(context.settings, can_elicit=_can_elicit(ctx), has_apps=client_supports_apps(ctx))


class _Planned:
    """The plan phase's outcome, shared by the consent resolver and the call within one round."""

    __slots__ = ("args", "context", "error", "plan")

    def __init__(
        self, context: ToolContext, args: Any = None, plan: Plan[Any] | None = None, error: HfJobsError | None = None
    ) -> None:
        self.context = context
        self.args = args
        self.plan = plan
        self.error = error


def _resolver_signature(fn: Callable[..., Any], params: list[inspect.Parameter], returns: Any, name: str) -> None:
    """Give a resolver the signature the SDK reads to inject its parameters (by tool-argument name)."""
    fn.__signature__ = inspect.Signature(params, return_annotation=returns)  # type: ignore[attr-defined]
    fn.__annotations__ = {p.name: p.annotation for p in params} | {"return": returns}
    fn.__qualname__ = fn.__name__ = name


def _plan_resolvers(tool: ToolDef[Any, Any], make_context: ContextMaker) -> dict[str, Any]:
    """The two resolvers of a writing tool: its plan phase, then the elicitation of the user's yes when needed.

    The SDK runs them before the call, once per round (the 2026-07-28 protocol asks in a separate round and runs
    them again with the answer): the plan is recomputed, reads only, and the question is asked again only if it
    changed. Errors the model can act on are carried to the call as its result; anything else is a bug.
    """
    assert tool.plan is not None

    async def plan_step(ctx: Context[Any, Any], arguments: dict[str, Any]) -> _Planned:
        context = make_context(ctx)
        try:
            args = parse_arguments(tool.args, arguments, tool=tool.name)
        except HfJobsError as exc:
            return _Planned(context, error=exc)
        try:
            assert tool.plan is not None
            return _Planned(context, args, plan=await tool.plan(args, context.planning()))
        except HfJobsError as exc:
            return _Planned(context, args, error=exc)

    async def ask(ctx: Context[Any, Any], planned: _Planned) -> Elicit[ConsentForm] | str:
        plan = planned.plan
        if plan is None or plan.dry_result is not None or not plan.needs_yes:
            return "not_needed"
        if _channel(ctx, planned.context) != "elicitation":
            return "not_needed"
        return Elicit(planned.context.redact(plan.question()), ConsentForm)

    by_name = [inspect.Parameter(ARGUMENTS, inspect.Parameter.KEYWORD_ONLY, annotation=dict[str, Any])]
    ctx_param = inspect.Parameter("ctx", inspect.Parameter.KEYWORD_ONLY, annotation=Context)
    _resolver_signature(plan_step, [ctx_param, *by_name], _Planned, f"plan_{tool.name}")
    planned_param = inspect.Parameter(
        "planned", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Any, Resolve(plan_step)]
    )
    _resolver_signature(ask, [ctx_param, planned_param], Elicit[ConsentForm] | str, f"consent_for_{tool.name}")
    return {"planned": (Resolve(plan_step), False), "consent": (Resolve(ask), True)}


def _both(first: Callable[[str], str], second: Callable[[str], str]) -> Callable[[str], str]:
    return first if first == second else lambda text: second(first(text))


async def _gate_and_execute(
    tool: ToolDef[Any, Any], ctx: Context[Any, Any], planned: _Planned, consent: Any
) -> ToolResult | HfJobsError:
    """The one place where a writing request passes the gate and is sent (or is refused, nothing sent)."""
    if planned.error is not None:
        return planned.error
    plan, context = planned.plan, planned.context
    assert plan is not None
    assert tool.execute is not None
    if plan.dry_result is not None:
        return cast(ToolResult, plan.dry_result)
    try:
        confirmed_by = decide(
            plan,
            arguments=planned.args.model_dump(mode="json"),
            settings=context.settings,
            channel=_channel(ctx, context),
            elicited=_elicited(consent),
            approvals=context.approvals,
            caller=context.principal,
        )
        result: ToolResult = await tool.execute(plan, context)
    except HfJobsError as exc:
        return exc
    request = plan.request
    if request.secrets:
        audit(
            tool=tool.name,
            names=request.secrets,
            namespace=request.namespace,
            job_id=result.written_ref(),
            confirmed_by=confirmed_by,
        )
    return result


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
        ctx: Context[Any, Any], arguments: dict[str, Any], planned: _Planned | None = None, consent: Any = None
    ) -> CallToolResult:
        context = planned.context if planned is not None else make_context(ctx)
        # The call's own context redacts (over HTTP in `hf` auth mode: the deployment's redactor, which knows every
        # caller's token and what the other workers forwarded); `redact` masks what is known before any call, e.g.
        # the server's own token.
        context.redactor.refresh()
        redact_call = _both(redact, context.redact)
        outcome: ToolResult | HfJobsError
        if planned is not None:
            outcome = await _gate_and_execute(tool, ctx, planned, consent)
        else:
            assert tool.handler is not None
            try:
                outcome = await tool.handler(parse_arguments(args_model, arguments, tool=tool.name), context)
            except HfJobsError as exc:
                outcome = exc
        if isinstance(outcome, HfJobsError):
            logger.info("tool %s: %s: %s", tool.name, type(outcome).__name__, _cut(redact_call(outcome.message)))
            return error_result(outcome, redact_call)
        return success_result(outcome, redact_call)

    resolved: dict[str, Any] = {}
    plans: dict[Any, Any] = {}
    if tool.plan is not None:
        resolved = _plan_resolvers(tool, make_context)
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


def _progress_sink(ctx: Context[Any, Any]) -> ProgressSink:
    async def sink(progress: float, total: float | None, message: str) -> None:
        await ctx.report_progress(progress, total, message)

    return sink


async def _set_logging_level(ctx: Any, params: SetLevelRequestParams) -> EmptyResult:
    # Handshake-era clients may set a level (the conformance suite does); this server sends no log notifications.
    return EmptyResult()


def _without_confirm(published: dict[str, Any]) -> dict[str, Any]:
    """The schemas without the ``confirm`` argument, which only ``--confirm-via code`` servers use.

    A model shown a ``confirm`` field is invited to fill it; on a server that never issues codes it could only be
    a guess (ignored all the same: the argument model still accepts and the gate ignores it), and it costs
    ``tools/list`` bytes in every agent's context.
    """
    schema = published["input"]
    if "confirm" not in schema.get("properties", {}):
        return published
    properties = {k: v for k, v in schema["properties"].items() if k != "confirm"}
    return {**published, "input": {**schema, "properties": properties}}


APP_URI = "ui://hfjobs-mcp/job"
APPROVAL_META = "io.github.hfjobs-mcp/approval"
ANSWER_TOOL = "answer_approval"


def _bound_to_app(tool: ToolDef[Any, Any]) -> bool:
    """Tools whose results the job page renders: requests that may need a yes, and results that are one job."""
    return tool.may_ask or tool.shows_job


def _job_app(make_context: ContextMaker, *, approvals: bool) -> Apps:
    """The MCP Apps job page and its app-only tool (``_meta.ui.visibility: ["app"]``, hidden from the model).

    A tool has one ``_meta.ui.resourceUri``, so one page (``ui/job.html``) serves every bound tool: the approval card
    when the result carries the plan of a request that needs a yes (:data:`APPROVAL_META`), the live job dashboard
    when the result is a job, the result's text otherwise. The card's buttons call :data:`ANSWER_TOOL`, which
    records the human's answer on the server, bound to the caller and to that exact request, single use and
    expiring (:class:`~hfjobs_mcp.policy.approvals.Approvals`); the dashboard keeps itself current through the
    server's existing read tools, and cancels through ``cancel_job``. ``approvals`` False (no selected tool can ask,
    e.g. ``--read-only``): the page without :data:`ANSWER_TOOL`.
    """
    from importlib.resources import files

    apps = Apps()
    if approvals:
        _add_answer_tool(apps, make_context)
    html = files("hfjobs_mcp.ui").joinpath("job.html").read_text(encoding="utf-8")
    apps.add_html_resource(
        APP_URI,
        html,
        name="job",
        title="Hugging Face job",
        description=(
            "A live job dashboard (stage, logs, usage, cost, Cancel), or the approval card of a request that needs "
            "your yes (price, secrets, schedule...) with Approve and Reject."
        ),
        prefers_border=True,
    )
    return apps


def _add_answer_tool(apps: Apps, make_context: ContextMaker) -> None:
    @apps.tool(
        resource_uri=APP_URI,
        visibility=["app"],
        name=ANSWER_TOOL,
        description="The approval card's answer (app only).",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
        ),
    )
    async def answer_approval(approval_id: str, approve: bool, ctx: Context[Any, Any]) -> CallToolResult:
        context = make_context(ctx)
        outcome = context.approvals.answer(caller=context.principal, approval_id=approval_id, approve=approve)
        if outcome != "ok":
            why = {
                "unknown": "this approval is unknown (or belongs to someone else)",
                "expired": "this approval has expired; ask the agent to make the request again",
                "answered": "this approval was already answered",
            }[outcome]
            return CallToolResult(content=[TextContent(type="text", text=why)], is_error=True)
        said = "approved" if approve else "rejected"
        logger.info("approval card: the user %s a request", said)
        return CallToolResult(content=[TextContent(type="text", text=f"Recorded: {said}.")])


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

    def make_context(ctx: Context[Any, Any]) -> ToolContext:
        base = base_context if caller_context is None else caller_context()
        return replace(base, progress=_progress_sink(ctx))

    redact = base_context.redact
    selected = select_tools(toolsets=toolsets, read_only=read_only)
    schemas = cached_schemas(
        {t.name: (lambda t=t: {"input": t.input_schema(), "output": t.output_schema()}) for t in ALL_TOOLS}
    )
    if base_context.settings.confirm_via != "code":
        schemas = {name: _without_confirm(published) for name, published in schemas.items()}
    page = {"ui": {"resourceUri": APP_URI}}
    tools = [
        sdk_tool(t, make_context, redact, schemas[t.name], meta=page if _bound_to_app(t) else None) for t in selected
    ]
    asks = any(t.may_ask for t in selected)
    extensions = [_job_app(make_context, approvals=asks)] if any(_bound_to_app(t) for t in selected) else []
    server: MCPServer[Any] = MCPServer(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        tools=tools,
        request_state_security=request_state_security,
        extensions=extensions,
    )
    server._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, _set_logging_level)
    return server


__all__ = [
    "ANSWER_TOOL",
    "APPROVAL_META",
    "APP_URI",
    "SERVER_NAME",
    "build_server",
    "error_result",
    "sdk_tool",
    "success_result",
]
