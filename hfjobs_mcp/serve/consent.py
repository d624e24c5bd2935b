"""A writing tool's way through the SDK: its plan phase, the user's yes through elicitation, then the gate.

:func:`writing_call` builds the tool function of a writing tool with two resolvers (the SDK's public ``Resolve``):
the plan phase, then the elicitation of the user's yes when needed. The SDK runs them before the call, once per
round (the 2026-07-28 protocol asks in a separate round and runs them again with the answer): the plan is
recomputed, reads only, and the question is asked again only if it changed. :func:`gate_and_execute` is then the
one place where the request passes the consent gate (:func:`hfjobs_mcp.policy.gate.decide`) and is sent, or is
refused with nothing sent.

No ``from __future__ import annotations`` here, unlike every other module: the SDK reads these annotations at run
time, and the ``Resolve`` markers in them name each tool's own resolvers, closures a string annotation could not
reach.
"""

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, cast

from mcp.server.apps import client_supports_apps
from mcp.server.mcpserver import (
    AcceptedElicitation,
    CancelledElicitation,
    Context,
    DeclinedElicitation,
    Elicit,
    ElicitationResult,
    Resolve,
)
from mcp_types import CallToolResult

from hfjobs_mcp.errors import HfJobsError
from hfjobs_mcp.policy.audit import audit
from hfjobs_mcp.policy.gate import ConsentForm, Elicited, channel_for, decide
from hfjobs_mcp.serve.context import ContextMaker
from hfjobs_mcp.serve.results import error_result

if TYPE_CHECKING:
    from hfjobs_mcp.policy.plan import Plan
    from hfjobs_mcp.tools.base import ToolContext, ToolDef, ToolResult

ReadArguments: TypeAlias = "Callable[[ToolDef[Any, Any], dict[str, Any]], Any]"
"""A call's raw arguments validated by the tool's own model (an :class:`~hfjobs_mcp.errors.HfJobsError` if not)."""

Finish: TypeAlias = "Callable[[ToolResult | HfJobsError, ToolContext], CallToolResult]"
"""A call's outcome as the result the client gets (masked with the call's context)."""


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


def _channel(ctx: Context[Any, Any], context: "ToolContext") -> Any:
    return channel_for(context.settings, can_elicit=_can_elicit(ctx), has_apps=client_supports_apps(ctx))


class Planned:
    """The plan phase's outcome, shared by the consent resolver and the call within one round."""

    __slots__ = ("args", "context", "error", "plan")

    def __init__(
        self,
        context: "ToolContext | None",  # strings: the tools' modules come with their first call (start-up time)
        args: Any = None,
        plan: "Plan[Any] | None" = None,  # a string: the plan's module is imported on a tool's first call
        error: HfJobsError | None = None,
    ) -> None:
        self.context = context
        self.args = args
        self.plan = plan
        self.error = error


async def gate_and_execute(
    tool: "ToolDef[Any, Any]", ctx: Context[Any, Any], planned: Planned, consent: Any
) -> "ToolResult | HfJobsError":
    """The one place where a writing request passes the gate and is sent (or is refused, nothing sent)."""
    if planned.error is not None:
        return planned.error
    plan, context = planned.plan, planned.context
    assert plan is not None
    assert context is not None  # a plan is only made with a context
    assert tool.execute is not None
    if plan.dry_result is not None:
        return cast("ToolResult", plan.dry_result)
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


def writing_call(
    name: str,
    load: "Callable[[], ToolDef[Any, Any]]",
    make_context: ContextMaker,
    read_arguments: ReadArguments,
    finish: Finish,
) -> Callable[..., Awaitable[CallToolResult]]:
    """The SDK tool function of the writing tool ``name``: plan, maybe ask, then pass the gate (or not) and send.

    ``load`` gives the tool's real definition (imported on the first call, start-up time). Errors the model can
    act on (bad arguments, a refused plan) are carried from the plan phase to the call as its result; anything else
    is a bug.
    """

    async def plan_step(ctx: Context[Any, Any], arguments: dict[str, Any]) -> Planned:
        try:
            context = make_context(ctx)
        except HfJobsError as exc:  # a stdio server's first call could not connect (--local: see local_connector)
            return Planned(None, error=exc)
        try:
            tool = load()  # refused if the listing it was served from does not match the code
            args = read_arguments(tool, arguments)
        except HfJobsError as exc:
            return Planned(context, error=exc)
        try:
            assert tool.plan is not None
            return Planned(context, args, plan=await tool.plan(args, context.planning()))
        except HfJobsError as exc:
            return Planned(context, args, error=exc)

    async def ask(ctx: Context[Any, Any], planned: Annotated[Planned, Resolve(plan_step)]) -> Elicit[ConsentForm] | str:
        plan = planned.plan
        context = planned.context
        if plan is None or context is None or plan.dry_result is not None or not plan.needs_yes:
            return "not_needed"
        if _channel(ctx, context) != "elicitation":
            return "not_needed"
        return Elicit(context.redact(plan.question()), ConsentForm)

    async def call(
        ctx: Context[Any, Any],
        arguments: dict[str, Any],  # read by plan_step (by name); declared so that the SDK offers it
        planned: Annotated[Planned, Resolve(plan_step)],
        consent: Annotated[ElicitationResult[ConsentForm], Resolve(ask)],
    ) -> CallToolResult:
        if planned.context is None:  # no connection, so nothing was planned or sent
            assert planned.error is not None
            return error_result(planned.error)
        # The call's own context redacts (see hfjobs_mcp.serve.adapter); refreshed before anything is shown.
        planned.context.redactor.refresh()
        return finish(await gate_and_execute(load(), ctx, planned, consent), planned.context)

    # Readable keys for the elicitation round trip (the SDK keys a resolver's question by its qualified name).
    plan_step.__qualname__ = plan_step.__name__ = f"plan_{name}"
    ask.__qualname__ = ask.__name__ = f"consent_for_{name}"
    return call


__all__ = ["Planned", "gate_and_execute", "writing_call"]
