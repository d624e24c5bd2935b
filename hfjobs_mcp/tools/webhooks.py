"""The ``webhooks`` toolset: webhooks that start a copy of a job when a watched repo or account changes.

Create one (asks: events are unbounded), list them with the job each starts, disable or enable one (enabling
asks like creating), delete one. Not in the default toolsets: ``--toolsets jobs,hardware,scheduled,webhooks``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from hfjobs_mcp.api import DEFAULT_FLAVOR, WebhookInfo
from hfjobs_mcp.policy.plan import Plan
from hfjobs_mcp.policy.pricing import price_run
from hfjobs_mcp.policy.request import Request
from hfjobs_mcp.tools.args import ConfirmField, JobRefArgs, WatchedArg
from hfjobs_mcp.tools.base import Hints, PlanContext, ToolArgs, ToolContext, ToolDef, ToolResult, View
from hfjobs_mcp.tools.specs import review_request, secret_values_for, volume_facts, what_runs


class CreateJobWebhookArgs(JobRefArgs):
    """Arguments of create_job_webhook."""

    watched: list[WatchedArg] = Field(
        min_length=1, description="What triggers it, e.g. [{'type': 'model', 'name': 'alice/m'}]."
    )
    domains: list[Literal["repo", "discussion"]] = Field(
        default_factory=lambda: ["repo", "discussion"],  # type: ignore[arg-type]
        min_length=1,
        description="Events: repo changes, discussions.",
    )
    secrets: list[str] = Field(
        default_factory=list,
        description="NAMES of secrets for the triggered jobs (not copied from the source job).",
    )
    dry_run: bool = Field(default=False, description="Show the request; send nothing.")
    confirm: ConfirmField


class WebhookView(View):
    id: str | None = None
    watched: list[dict[str, str]]
    domains: list[str]
    job_source_id: str | None = None
    disabled: bool = False
    secrets: list[str] = Field(default_factory=list)
    job: str | None = Field(default=None, description="What each event runs: image, command, flavor.")
    url: str | None = Field(default=None, description="A URL webhook's target (not a job webhook).")

    @classmethod
    def of(cls, hook: WebhookInfo) -> WebhookView:
        spec = hook.job or {}
        image = spec.get("dockerImage") or (f"hf.co/spaces/{spec['spaceId']}" if spec.get("spaceId") else None)
        command = [*spec.get("command", []), *spec.get("arguments", [])]
        job = (
            f"{image}: {shlex.join(str(c) for c in command)} on {spec.get('flavor') or DEFAULT_FLAVOR}"
            if spec
            else None
        )
        secrets = spec.get("secrets") or []
        return cls(
            id=hook.id,
            watched=[{"type": w.type, "name": w.name} for w in hook.watched],
            domains=list(hook.domains or []),
            job_source_id=hook.job_source_id,
            disabled=bool(hook.disabled),
            secrets=sorted(secrets) if isinstance(secrets, list | dict) else [],
            job=job,
            url=hook.url,
        )

    def line(self) -> str:
        watched = ", ".join(f"{x['type']}:{x['name']}" for x in self.watched)
        state = "DISABLED" if self.disabled else "active"
        target = self.job or self.url or "?"
        return f"{self.id}  {state}  on {watched}  runs {target}"


class CreateJobWebhookResult(ToolResult):
    dry_run: bool
    webhook: WebhookView
    needs_approval: list[str] = Field(
        default_factory=list, description="Dry run: why a real call would need the user's yes."
    )

    def written_ref(self) -> str | None:
        return None if self.webhook.id is None else f"webhook {self.webhook.id}"

    def render(self) -> str:
        w = self.webhook
        watched = ", ".join(f"{x['type']}:{x['name']}" for x in w.watched)
        head = "DRY RUN: nothing was sent. Would create" if self.dry_run else f"Created webhook {w.id}:"
        return f"{head} on {watched} ({', '.join(w.domains)}) starting a copy of job {w.job_source_id}."


@dataclass(frozen=True)
class WebhookPayload:
    """What creating the webhook sends."""

    watched: list[dict[str, str]]
    domains: list[str]
    job_id: str
    secret_values: dict[str, str]
    secret_names: list[str]


async def plan_create_job_webhook(args: CreateJobWebhookArgs, ctx: PlanContext) -> Plan[WebhookPayload]:
    secret_values = await secret_values_for(ctx, list(args.secrets), dry_run=args.dry_run)
    job = await ctx.reader.inspect_job(args.job_id)
    watched = [{"type": w.type, "name": w.name} for w in args.watched]
    ports = tuple(job.expose.ports) if job.expose else ()
    # Each event starts a copy of the job, billed to the job's namespace, with the secrets given here only (the
    # source job's secrets are not copied: wire-protocol §11).
    request = Request(
        tool="create_job_webhook",
        action=f"create a webhook that starts a copy of job {job.owner.name}/{job.id} on every event of "
        + ", ".join(f"{w['type']}:{w['name']}" for w in watched),
        namespace=job.owner.name,
        runs=what_runs(job),
        price=await price_run(
            ctx.reader,
            flavor=job.flavor or DEFAULT_FLAVOR,
            timeout_seconds=job.timeout,
            attempts=(job.retry or 0) + 1,
            ports=ports,
        ),
        unbounded=True,
        secrets=tuple(secret_values),
        ports=ports,
        volumes=volume_facts(job.volumes),
    )
    reviewed = await review_request(ctx, request)
    payload = WebhookPayload(watched, list(args.domains), job.id, secret_values, list(args.secrets))
    dry = None
    if args.dry_run:
        view = WebhookView(
            watched=watched, domains=list(args.domains), job_source_id=job.id, secrets=list(args.secrets)
        )
        dry = CreateJobWebhookResult(dry_run=True, webhook=view, needs_approval=list(reviewed.reasons))
    return Plan(request, reviewed, payload, dry_result=dry)


async def execute_create_job_webhook(plan: Plan[WebhookPayload], ctx: ToolContext) -> CreateJobWebhookResult:
    p = plan.payload
    hook = await ctx.client.create_webhook(
        watched=p.watched, domains=p.domains, job_id=p.job_id, secrets=p.secret_values or None
    )
    view = WebhookView(
        id=hook.id,
        watched=[{"type": w.type, "name": w.name} for w in hook.watched],
        domains=list(hook.domains or []),
        job_source_id=p.job_id,
        disabled=bool(hook.disabled),
        secrets=p.secret_names,
    )
    return CreateJobWebhookResult(dry_run=False, webhook=view)


class ListWebhooksArgs(ToolArgs):
    """Arguments of list_job_webhooks."""


class ListWebhooksResult(ToolResult):
    webhooks: list[WebhookView]

    def render(self) -> str:
        return "\n".join(w.line() for w in self.webhooks) or "No webhooks."


async def list_job_webhooks(args: ListWebhooksArgs, ctx: ToolContext) -> ListWebhooksResult:
    return ListWebhooksResult(webhooks=[WebhookView.of(h) for h in await ctx.client.list_webhooks()])


class WebhookRefArgs(ToolArgs):
    """Which webhook."""

    webhook_id: str = Field(min_length=1, pattern=r"^[A-Za-z0-9._-]+$", description="Webhook id (list_job_webhooks).")


class EnableWebhookArgs(WebhookRefArgs):
    """Arguments of enable_job_webhook."""

    confirm: ConfirmField


class WebhookResult(ToolResult):
    webhook: WebhookView
    next_step: str

    def render(self) -> str:
        return f"{self.webhook.line()}\n{self.next_step}"

    def written_ref(self) -> str | None:
        return f"webhook {self.webhook.id}"


async def plan_enable(args: EnableWebhookArgs, ctx: PlanContext) -> Plan[str]:
    hook = await ctx.reader.get_webhook(args.webhook_id)
    spec = hook.job or {}
    price = None
    if hook.disabled and (spec or hook.job_source_id):
        price = await price_run(
            ctx.reader,
            flavor=spec.get("flavor") or DEFAULT_FLAVOR,
            timeout_seconds=spec.get("timeout"),
            attempts=(spec.get("retry") or 0) + 1,
        )
    # A webhook's job spec names no owner: its runs are billed to the webhook's owner, the token's user.
    request = Request(
        tool="enable_job_webhook",
        action=f"enable webhook {hook.id}",
        namespace=await ctx.default_namespace(""),
        runs=WebhookView.of(hook).job or "",
        price=price,
        unbounded=price is not None,
    )
    return Plan(request, await review_request(ctx, request), hook.id)


async def execute_enable(plan: Plan[str], ctx: ToolContext) -> WebhookResult:
    hook = await ctx.client.enable_webhook(plan.payload)
    return WebhookResult(webhook=WebhookView.of(hook), next_step="Enabled: each watched event starts a run again.")


async def _plan_stopping(args: WebhookRefArgs, ctx: PlanContext, *, tool: str, verb: str) -> Plan[str]:
    """The plan of a request that stops a webhook's runs (disable, delete): nothing to ask."""
    hook = await ctx.reader.get_webhook(args.webhook_id)
    request = Request(tool=tool, action=f"{verb} webhook {hook.id}", namespace="")
    return Plan(request, await review_request(ctx, request), hook.id)


async def plan_disable(args: WebhookRefArgs, ctx: PlanContext) -> Plan[str]:
    return await _plan_stopping(args, ctx, tool="disable_job_webhook", verb="disable")


async def execute_disable(plan: Plan[str], ctx: ToolContext) -> WebhookResult:
    hook = await ctx.client.disable_webhook(plan.payload)
    return WebhookResult(
        webhook=WebhookView.of(hook), next_step="Disabled: events start nothing; enable_job_webhook undoes it."
    )


class DeleteWebhookResult(ToolResult):
    webhook_id: str
    deleted: bool

    def render(self) -> str:
        return f"Deleted webhook {self.webhook_id}; runs it already started are not affected."

    def written_ref(self) -> str | None:
        return f"webhook {self.webhook_id}"


async def plan_delete(args: WebhookRefArgs, ctx: PlanContext) -> Plan[str]:
    return await _plan_stopping(args, ctx, tool="delete_job_webhook", verb="delete")


async def execute_delete(plan: Plan[str], ctx: ToolContext) -> DeleteWebhookResult:
    await ctx.client.delete_webhook(plan.payload)
    return DeleteWebhookResult(webhook_id=plan.payload, deleted=True)


TOOLS: tuple[ToolDef[Any, Any], ...] = (
    ToolDef(
        name="create_job_webhook",
        toolset="webhooks",
        title="Create a webhook that runs a job",
        description=(
            "Create a Hub webhook that starts a copy of an existing job (`job_id`) whenever a watched user, org or "
            "repo changes.\nUse it for event-driven automation. Each trigger "
            "costs one run of that job, with no limit on events (paid hardware asks the user). The job gets "
            "WEBHOOK_PAYLOAD in its environment. Next: list_jobs "
            "to watch for triggered runs."
        ),
        args=CreateJobWebhookArgs,
        result=CreateJobWebhookResult,
        hints=Hints(read_only=False, destructive=False, idempotent=False),
        plan=plan_create_job_webhook,
        execute=execute_create_job_webhook,
        may_ask=True,
    ),
    ToolDef(
        name="list_job_webhooks",
        toolset="webhooks",
        title="List webhooks",
        description=(
            "List your webhooks: what each watches, the job each event starts, and whether it is disabled.\n"
            "Use it to find a webhook to disable or delete. Free. Next: disable_job_webhook, delete_job_webhook."
        ),
        args=ListWebhooksArgs,
        result=ListWebhooksResult,
        hints=Hints(read_only=True, destructive=False, idempotent=True),
        handler=list_job_webhooks,
    ),
    ToolDef(
        name="disable_job_webhook",
        toolset="webhooks",
        title="Disable a webhook",
        description=(
            "Disable a webhook: its events start nothing until it is enabled again.\n"
            "Use it to stop what a webhook spends without losing it. Free, and it stops future costs. "
            "Next: enable_job_webhook to undo it."
        ),
        args=WebhookRefArgs,
        result=WebhookResult,
        hints=Hints(read_only=False, destructive=False, idempotent=True),
        plan=plan_disable,
        execute=execute_disable,
    ),
    ToolDef(
        name="enable_job_webhook",
        toolset="webhooks",
        title="Enable a webhook",
        description=(
            "Enable a disabled webhook: each watched event starts a run of its job again.\n"
            "Use it to undo disable_job_webhook. Each event costs one run (asks like create_job_webhook). "
            "Next: list_job_webhooks."
        ),
        args=EnableWebhookArgs,
        result=WebhookResult,
        hints=Hints(read_only=False, destructive=False, idempotent=True),
        plan=plan_enable,
        execute=execute_enable,
        may_ask=True,
    ),
    ToolDef(
        name="delete_job_webhook",
        toolset="webhooks",
        title="Delete a webhook",
        description=(
            "Delete a webhook: its events start nothing any more; runs already started are not affected.\n"
            "Use it when a webhook is no longer wanted. Free, and it stops future costs. Cannot be undone "
            "(disable_job_webhook pauses instead). Next: list_job_webhooks."
        ),
        args=WebhookRefArgs,
        result=DeleteWebhookResult,
        hints=Hints(read_only=False, destructive=True, idempotent=True),
        plan=plan_delete,
        execute=execute_delete,
    ),
)
