"""The ``webhooks`` toolset: a webhook that starts a copy of a job when a watched repo or account changes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hfjobs_mcp.secrets import ConfirmationPlan, audit
from hfjobs_mcp.tools.args import ConfirmField, JobRefArgs, WatchedArg
from hfjobs_mcp.tools.base import Hints, ToolContext, ToolDef, ToolResult, View
from hfjobs_mcp.tools.consent import gate
from hfjobs_mcp.tools.forwarding import secret_values_for


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
    job_source_id: str
    disabled: bool = False
    secrets: list[str] = Field(default_factory=list)


class CreateJobWebhookResult(ToolResult):
    dry_run: bool
    webhook: WebhookView

    def render(self) -> str:
        w = self.webhook
        watched = ", ".join(f"{x['type']}:{x['name']}" for x in w.watched)
        head = "DRY RUN: nothing was sent. Would create" if self.dry_run else f"Created webhook {w.id}:"
        return f"{head} on {watched} ({', '.join(w.domains)}) starting a copy of job {w.job_source_id}."


async def create_job_webhook(args: CreateJobWebhookArgs, ctx: ToolContext) -> CreateJobWebhookResult:
    secret_values = await secret_values_for(ctx, args, dry_run=args.dry_run)
    job = await ctx.client.inspect_job(args.job_id)
    watched = [{"type": w.type, "name": w.name} for w in args.watched]
    if args.dry_run:
        view = WebhookView(
            watched=watched, domains=list(args.domains), job_source_id=job.id, secrets=list(args.secrets)
        )
        return CreateJobWebhookResult(dry_run=True, webhook=view)
    plan = None
    if secret_values:
        plan = ConfirmationPlan(
            tool="create_job_webhook",
            reasons=(
                f"forwards secret values of: {', '.join(secret_values)}",
                "each watched event starts a paid copy of the job",
            ),
            namespace=job.owner.name,
            target=f"copy of job {job.id} on events of {', '.join(w['type'] + ':' + w['name'] for w in watched)}",
            flavor=job.flavor or "",
            timeout_seconds=int(job.timeout or 1800),
            price_ceiling_usd=None,
            secrets=tuple(secret_values),
        )
    confirmed_by = await gate(ctx, tool="create_job_webhook", arguments=args.model_dump(mode="json"), plan=plan)
    hook = await ctx.client.create_webhook(
        watched=watched, domains=list(args.domains), job_id=job.id, secrets=secret_values or None
    )
    if secret_values:
        audit(
            tool="create_job_webhook",
            names=secret_values,
            namespace=job.owner.name,
            job_id=f"webhook {hook.id}",
            confirmed_by=confirmed_by,
        )
    view = WebhookView(
        id=hook.id,
        watched=[{"type": w.type, "name": w.name} for w in hook.watched],
        domains=list(hook.domains or []),
        job_source_id=job.id,
        disabled=bool(hook.disabled),
        secrets=list(args.secrets),
    )
    return CreateJobWebhookResult(dry_run=False, webhook=view)


TOOLS: tuple[ToolDef[Any, Any], ...] = (
    ToolDef(
        name="create_job_webhook",
        toolset="webhooks",
        title="Create a webhook that runs a job",
        description=(
            "Create a Hub webhook that starts a copy of an existing job (`job_id`) whenever a watched user, org or "
            "repo changes.\nUse it for event-driven automation. Each trigger "
            "costs one run of that job. The job receives WEBHOOK_PAYLOAD in its environment. Next: list_jobs "
            "to watch for triggered runs."
        ),
        args=CreateJobWebhookArgs,
        result=CreateJobWebhookResult,
        hints=Hints(read_only=False, destructive=False, idempotent=False),
        handler=create_job_webhook,
        needs_consent=True,
    ),
)
