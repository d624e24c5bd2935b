"""Argument completion (``completion/complete``) for prompts and resource templates, from the caller's own data.

A value is completed from what the caller's token can see: the flavors of the hardware list (all, or the GPU
ones), the ids of the namespace's recent jobs or scheduled jobs, the namespaces of the token (the user and their
orgs). A completion that cannot be had (no token, the Hub unreachable) is an empty list, never an error: the user
is typing, the tool call that follows will say what is wrong.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    Completion,
    CompletionArgument,
    CompletionContext,
    PromptReference,
    ResourceTemplateReference,
)

from hfjobs_mcp.errors import HfJobsError
from hfjobs_mcp.workflows import Completes

if TYPE_CHECKING:
    from hfjobs_mcp.tools.base import ToolContext

logger = logging.getLogger("hfjobs_mcp.serve")

Source = Completes
MAX_VALUES = 100  # the protocol's cap per answer
RECENT_JOBS = 50  # how many of the newest jobs are offered
FAILED = ("ERROR", "CANCELED")


async def _flavors(ctx: ToolContext, *, gpu_only: bool) -> list[str]:
    # The price table and the tools' views on the first completion, not before tools/list (start-up time).
    from hfjobs_mcp.policy.pricing import PRICES
    from hfjobs_mcp.tools.views import FlavorView

    views = [FlavorView.of(hw) for hw in await PRICES.flavors(ctx.client)]
    views.sort(key=lambda v: (v.price_per_hour_usd, v.name))
    return [v.name for v in views if v.kind == "gpu" or not gpu_only]


async def _namespaces(ctx: ToolContext) -> list[str]:
    who = await ctx.client.whoami()
    return [who.name, *(org.name for org in who.orgs)]


def _split(value: str, namespace: str | None) -> tuple[str | None, str, str]:
    """(namespace to list, prefix to put back, partial id): ``ns/partial`` completes within ``ns``."""
    if "/" in value:
        ns, _, partial = value.partition("/")
        return ns, f"{ns}/", partial
    return namespace or None, "", value


async def _job_ids(ctx: ToolContext, value: str, namespace: str | None, *, failed_first: bool) -> list[str]:
    ns, prefix, partial = _split(value, namespace)
    jobs = await ctx.client.list_jobs(namespace=ns, limit=RECENT_JOBS)
    if failed_first:  # the jobs a debugging session is about come first; otherwise newest first (stable sort)
        jobs.sort(key=lambda j: j.status.stage not in FAILED)
    return [f"{prefix}{j.id}" for j in jobs if j.id.startswith(partial)]


async def _scheduled_ids(ctx: ToolContext, value: str, namespace: str | None) -> list[str]:
    ns, prefix, partial = _split(value, namespace)
    return [f"{prefix}{s.id}" for s in await ctx.client.list_scheduled_jobs(namespace=ns) if s.id.startswith(partial)]


async def complete(ctx: ToolContext, source: Source, value: str, arguments: Mapping[str, str]) -> list[str]:
    """The values ``source`` offers for the partial ``value`` (``arguments``: the ones already chosen)."""
    namespace = arguments.get("namespace") or None
    if source in ("flavor", "gpu_flavor"):
        found = await _flavors(ctx, gpu_only=source == "gpu_flavor")
    elif source == "namespace":
        found = await _namespaces(ctx)
    elif source == "scheduled_job_id":
        return await _scheduled_ids(ctx, value, namespace)
    else:
        return await _job_ids(ctx, value, namespace, failed_first=source == "failed_job_id")
    low = value.lower()
    return [v for v in found if v.lower().startswith(low)]


PromptSources = Mapping[str, Mapping[str, Source]]  # prompt name -> argument -> source
TemplateSources = Mapping[str, Mapping[str, Source]]  # URI template -> variable -> source


def install_completions(
    server: MCPServer[Any],
    context: Callable[[], ToolContext],
    *,
    prompts: PromptSources,
    templates: TemplateSources,
) -> None:
    """Serve ``completion/complete`` for these prompt arguments and template variables (``context``: the caller's)."""

    @server.completion()  # type: ignore[untyped-decorator, no-untyped-call]
    async def _complete(
        ref: PromptReference | ResourceTemplateReference, argument: CompletionArgument, extra: CompletionContext | None
    ) -> Completion | None:
        table = prompts.get(ref.name) if isinstance(ref, PromptReference) else templates.get(ref.uri)
        if table is None:  # the spec's answer to a reference to nothing: invalid params, not an empty list
            what = f"prompt {ref.name!r}" if isinstance(ref, PromptReference) else f"resource template {ref.uri!r}"
            raise MCPError(code=INVALID_PARAMS, message=f"no {what} on this server")
        source = table.get(argument.name)
        if source is None:
            return None
        try:
            values = await complete(context(), source, argument.value, (extra.arguments if extra else None) or {})
        except HfJobsError as exc:
            logger.info("completion of %s: %s", argument.name, type(exc).__name__)
            return None
        return Completion(values=values[:MAX_VALUES], total=len(values), has_more=len(values) > MAX_VALUES)
