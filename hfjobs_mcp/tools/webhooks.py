"""The ``webhooks`` toolset: a webhook that starts a copy of a job when a watched repo or account changes."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from hfjobs_mcp.api import DEFAULT_FLAVOR
from hfjobs_mcp.policy.plan import Plan
from hfjobs_mcp.policy.pricing import price_run
from hfjobs_mcp.policy.request import Request
from hfjobs_mcp.tools.args import ConfirmField, JobRefArgs, WatchedArg
from hfjobs_mcp.tools.base import Hints, PlanContext, ToolContext, ToolDef, ToolResult, View
from hfjobs_mcp.tools.jobs import job_volumes
from hfjobs_mcp.tools.specs import review_request, secret_values_for


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
        runs=f"{job.docker_image or job.space_id}: {shlex.join([*job.command, *job.arguments])}",
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
        volumes=job_volumes(job.volumes),
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
)
