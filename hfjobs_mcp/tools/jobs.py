"""The ``jobs`` toolset: run, list, inspect, logs, metrics, wait, cancel, rerun.

Handlers take validated arguments and a :class:`ToolContext` and return result models; errors the model can
act on are raised as :class:`~hfjobs_mcp.errors.HfJobsError` and become ``isError`` results in the server.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from pydantic import Field

from hfjobs_mcp.api import DEFAULT_FLAVOR, JobStage
from hfjobs_mcp.api.artifacts import ARTIFACTS_MOUNT
from hfjobs_mcp.policy.plan import Plan
from hfjobs_mcp.policy.pricing import price_run
from hfjobs_mcp.policy.request import Request
from hfjobs_mcp.tools.args import (
    CommonSpecArgs,
    ConfirmField,
    ImageArgs,
    JobRefArgs,
    LabelFilter,
    NamespaceField,
    UvScriptArgs,
)
from hfjobs_mcp.tools.base import Hints, PlanContext, ToolArgs, ToolContext, ToolDef, ToolResult
from hfjobs_mcp.tools.logs import FetchLogsArgs, FetchLogsResult, fetch_logs
from hfjobs_mcp.tools.metrics import FetchMetricsArgs, FetchMetricsResult, fetch_metrics
from hfjobs_mcp.tools.outcomes import JobResult, job_result
from hfjobs_mcp.tools.specs import (
    OUTPUTS_HINT,
    Cost,
    SpecPlan,
    UploadsView,
    masked_payload,
    plan_spec,
    review_request,
    sent_spec,
    volume_facts,
    what_runs,
)
from hfjobs_mcp.tools.uv import uv_command_for
from hfjobs_mcp.tools.views import JobView, job_views
from hfjobs_mcp.tools.waiting import (
    WaitForJobArgs,
    WaitForJobsArgs,
    WaitJobsResult,
    WaitResult,
    wait_for_job,
    wait_for_jobs,
)

READ = Hints(read_only=True, destructive=False, idempotent=True)
SPEND = Hints(read_only=False, destructive=False, idempotent=False)


# --- run_job / run_uv_job -------------------------------------------------------------------------------


class RunJobArgs(ImageArgs, CommonSpecArgs):
    """Arguments of run_job."""


class RunUvJobArgs(UvScriptArgs, CommonSpecArgs):
    """Arguments of run_uv_job."""


class RunResult(ToolResult):
    """A started job, or (dry run) the exact request that would start it."""

    dry_run: bool
    job: JobView | None = Field(default=None, description="The job that was started (None on a dry run).")
    request: dict[str, Any] | None = Field(
        default=None, description="Dry run: the exact JSON body that would be POSTed (secret values masked)."
    )
    namespace: str
    cost: Cost
    next_step: str

    def details(self) -> str:
        """More lines of the text rendering (a UV job's script and uploads)."""
        return ""

    def render(self) -> str:
        c = self.cost
        price = f"${c.price_per_hour_usd}/h" if c.price_per_hour_usd is not None else "price unknown"
        ceiling = f"at most ${c.ceiling_usd}" if c.ceiling_usd is not None else "ceiling unknown"
        money = f"{c.flavor} {price}, timeout {c.timeout_seconds}s, {ceiling}"
        if self.dry_run:
            return (
                f"DRY RUN: nothing was sent. POST /api/jobs/{self.namespace} with:\n"
                f"{json.dumps(self.request, indent=2)}{self.details()}\n{money}\n"
                f"{self.next_step}"
            )
        assert self.job is not None
        return f"Started {self.job.render()}{self.details()}\n{money}\n{self.next_step}"

    def written_ref(self) -> str | None:
        return None if self.job is None else f"{self.job.namespace}/{self.job.id}"


class UvRunResult(RunResult):
    """A started UV job (or its dry run), with its script and the files uploaded for it."""

    uploads: UploadsView | None = Field(default=None, description="The files uploaded for it (names, sha256).")

    def details(self) -> str:
        return f"\n{self.uploads.render()}" if self.uploads else ""


async def _plan_run(
    ctx: PlanContext,
    args: CommonSpecArgs,
    *,
    tool: str,
    runs: str,
    image: str,
    command: list[str],
    **spec_kw: Any,
) -> Plan[SpecPlan]:
    ready = await plan_spec(
        ctx, args, tool=tool, action="start a job", runs=runs, image=image, command=command, **spec_kw
    )
    dry = None
    if args.dry_run:
        dry = (UvRunResult if tool == "run_uv_job" else RunResult)(
            dry_run=True,
            request=masked_payload(ready.spec),
            namespace=ready.namespace,
            cost=ready.cost,
            next_step=f"Call again without dry_run to start it (with {ctx.reader.token_origin()}).",
        )
        if isinstance(dry, UvRunResult):
            dry.uploads = UploadsView.of(ready.uploads, script=ready.request.script)
    return Plan(ready.request, ready.review, ready, dry_result=dry)


async def execute_run(plan: Plan[SpecPlan], ctx: ToolContext) -> RunResult:
    ready = plan.payload
    spec, uploads = await sent_spec(ready, ctx)
    job = await ctx.client.run_job(spec, namespace=ready.namespace)
    (view,) = await job_views(ctx.client, [job], endpoint=ctx.client.endpoint)
    follow = f"Follow it with wait_for_job or fetch_logs (job_id '{view.namespace}/{view.id}')."
    if plan.request.tool != "run_uv_job":
        return RunResult(dry_run=False, job=view, namespace=view.namespace, cost=ready.cost, next_step=follow)
    outputs = f" Its files are in {ARTIFACTS_MOUNT}: {OUTPUTS_HINT}." if uploads else ""
    return UvRunResult(
        dry_run=False,
        job=view,
        namespace=view.namespace,
        cost=ready.cost,
        uploads=uploads,
        next_step=follow + outputs,
    )


async def plan_run_job(args: RunJobArgs, ctx: PlanContext) -> Plan[SpecPlan]:
    runs = f"image {args.image}: {shlex.join(args.command)}"
    return await _plan_run(ctx, args, tool="run_job", runs=runs, image=args.image, command=list(args.command))


async def plan_run_uv_job(args: RunUvJobArgs, ctx: PlanContext) -> Plan[SpecPlan]:
    args, uv = await uv_command_for(args, local_files=ctx.local_files)
    return await _plan_run(
        ctx,
        args,
        tool="run_uv_job",
        runs=uv.target(args.image),
        image=args.image,
        command=uv.command,
        default_name=uv.default_name,
        script=uv.script,
        uploads=uv.uploads,
    )


# --- list_jobs / inspect_job ----------------------------------------------------------------------------


class ListJobsArgs(ToolArgs):
    """Arguments of list_jobs."""

    stages: list[JobStage] = Field(
        default_factory=list,
        description="Only jobs in these stages (default all).",
    )
    labels: LabelFilter = Field(default_factory=dict, description="Only jobs having all these labels.")
    limit: int = Field(default=20, ge=1, le=200, description="At most this many jobs.")
    namespace: NamespaceField


class ListJobsResult(ToolResult):
    jobs: list[JobView]
    truncated: bool = Field(description="True when more jobs matched than `limit`.")

    def render(self) -> str:
        if not self.jobs:
            return "No jobs match."
        more = "\n(more jobs match; raise `limit` or filter by stage/labels)" if self.truncated else ""
        return "\n".join(j.line() for j in self.jobs) + more


async def list_jobs(args: ListJobsArgs, ctx: ToolContext) -> ListJobsResult:
    jobs = await ctx.client.list_jobs(
        namespace=args.namespace, stages=list(args.stages), labels=dict(args.labels), limit=args.limit + 1
    )
    views = await job_views(ctx.client, jobs, endpoint=ctx.client.endpoint)
    return ListJobsResult(jobs=views[: args.limit], truncated=len(views) > args.limit)


async def inspect_job(args: JobRefArgs, ctx: ToolContext) -> JobResult:
    return await job_result(ctx, await ctx.client.inspect_job(args.job_id))


# --- cancel_job / rerun_job -----------------------------------------------------------------------------


async def plan_cancel_job(args: JobRefArgs, ctx: PlanContext) -> Plan[str]:
    job = await ctx.reader.inspect_job(args.job_id)
    ref = f"{job.owner.name}/{job.id}"
    request = Request(tool="cancel_job", action=f"cancel job {ref}", namespace=job.owner.name)
    return Plan(request, await review_request(ctx, request), ref)


async def execute_cancel_job(plan: Plan[str], ctx: ToolContext) -> JobResult:
    await ctx.client.cancel_job(plan.payload)
    return await job_result(ctx, await ctx.client.inspect_job(plan.payload))


class RerunJobArgs(JobRefArgs):
    """Arguments of rerun_job."""

    confirm: ConfirmField


async def plan_rerun_job(args: RerunJobArgs, ctx: PlanContext) -> Plan[str]:
    original = await ctx.reader.inspect_job(args.job_id)
    ports = tuple(original.expose.ports) if original.expose else ()
    ref = f"{original.owner.name}/{original.id}"
    price = await price_run(
        ctx.reader,
        flavor=original.flavor or DEFAULT_FLAVOR,
        timeout_seconds=original.timeout,
        attempts=(original.retry or 0) + 1,
        ports=ports,
    )
    request = Request(
        tool="rerun_job",
        action=f"start a copy of job {ref}",
        namespace=original.owner.name,
        runs=what_runs(original),
        price=price,
        secrets=tuple(original.secrets),
        stored_secrets=True,
        ports=ports,
        volumes=volume_facts(original.volumes),
    )
    return Plan(request, await review_request(ctx, request), ref)


async def execute_rerun_job(plan: Plan[str], ctx: ToolContext) -> JobResult:
    return await job_result(ctx, await ctx.client.duplicate_job(plan.payload))


class UpdateJobLabelsArgs(JobRefArgs):
    """Arguments of update_job_labels."""

    labels: LabelFilter = Field(description="The job's new labels (all of them).")


async def plan_update_job_labels(args: UpdateJobLabelsArgs, ctx: PlanContext) -> Plan[tuple[str, dict[str, str]]]:
    job = await ctx.reader.inspect_job(args.job_id)
    ref = f"{job.owner.name}/{job.id}"
    request = Request(tool="update_job_labels", action=f"replace the labels of job {ref}", namespace=job.owner.name)
    return Plan(request, await review_request(ctx, request), (ref, dict(args.labels)))


async def execute_update_job_labels(plan: Plan[tuple[str, dict[str, str]]], ctx: ToolContext) -> JobResult:
    ref, labels = plan.payload
    return await job_result(ctx, await ctx.client.update_job_labels(ref, labels))


TOOLS: tuple[ToolDef[Any, Any], ...] = (
    ToolDef(
        name="run_job",
        toolset="jobs",
        title="Run a Docker-image job",
        description=(
            "Run `command` in a Docker `image` (or a Space) on Hugging Face hardware.\n"
            "Use it for work needing a container (Python scripts: run_uv_job). Costs the flavor's hourly price; "
            "dry_run shows the ceiling. Next: wait_for_job."
        ),
        args=RunJobArgs,
        result=RunResult,
        hints=SPEND,
        plan=plan_run_job,
        execute=execute_run,
        may_ask=True,
        shows_job=True,
    ),
    ToolDef(
        name="run_uv_job",
        toolset="jobs",
        title="Run a UV script job",
        description=(
            "Run a Python script with `uv run` on Hugging Face hardware; it and `files` go to /data.\n"
            "Use it for Python work; write outputs under /data/outputs to read them back with read_job_file. Costs "
            "the flavor's hourly price (dry_run: the ceiling). Next: wait_for_job."
        ),
        args=RunUvJobArgs,
        result=UvRunResult,
        hints=SPEND,
        plan=plan_run_uv_job,
        execute=execute_run,
        may_ask=True,
        shows_job=True,
    ),
    ToolDef(
        name="list_jobs",
        toolset="jobs",
        title="List jobs",
        description=(
            "List a namespace's jobs, filtered by stage and labels.\n"
            "Use it to find a job id or what runs. Free. Next: inspect_job."
        ),
        args=ListJobsArgs,
        result=ListJobsResult,
        hints=READ,
        handler=list_jobs,
    ),
    ToolDef(
        name="inspect_job",
        toolset="jobs",
        title="Inspect a job",
        description=(
            "Show one job: stage, message, image, command, flavor, times, cost, why it failed.\n"
            "Use it to check a job once. Free. Next: fetch_logs."
        ),
        args=JobRefArgs,
        result=JobResult,
        hints=READ,
        handler=inspect_job,
        shows_job=True,
    ),
    ToolDef(
        name="fetch_logs",
        toolset="jobs",
        title="Fetch job logs",
        description=(
            "Read a job's log: the last `tail` lines, `grep`-filtered, waiting `follow_seconds` for more.\n"
            "Use it to see what a job printed (`cursor` reads on). Free. Next: wait_for_job."
        ),
        args=FetchLogsArgs,
        result=FetchLogsResult,
        hints=READ,
        handler=fetch_logs,
    ),
    ToolDef(
        name="fetch_metrics",
        toolset="jobs",
        title="Fetch job metrics",
        description=(
            "Sample a running job's CPU, memory, network and GPU use.\n"
            "Use it to check a job uses its hardware. Free. Next: cancel_job if stuck."
        ),
        args=FetchMetricsArgs,
        result=FetchMetricsResult,
        hints=READ,
        handler=fetch_metrics,
    ),
    ToolDef(
        name="wait_for_job",
        toolset="jobs",
        title="Wait for a job",
        description=(
            "Wait until a job ends (or reaches `until_stage`), up to `timeout_seconds`.\n"
            "Use it instead of polling; call again if it returns early. Free. Next: fetch_logs, read_job_file."
        ),
        args=WaitForJobArgs,
        result=WaitResult,
        hints=READ,
        handler=wait_for_job,
        shows_job=True,
    ),
    ToolDef(
        name="wait_for_jobs",
        toolset="jobs",
        title="Wait for several jobs",
        description=(
            "Wait until all (or any) of several jobs end, by ids or labels.\n"
            "Use it after starting a sweep; failed ones come with why. Free. Next: fetch_logs."
        ),
        args=WaitForJobsArgs,
        result=WaitJobsResult,
        hints=READ,
        handler=wait_for_jobs,
    ),
    ToolDef(
        name="cancel_job",
        toolset="jobs",
        title="Cancel a job",
        description=(
            "Cancel a scheduling or running job (it ends CANCELED; no undo).\n"
            "Use it to stop a stuck, wrong or unneeded job. Free; stops the spending. Next: rerun_job."
        ),
        args=JobRefArgs,
        result=JobResult,
        hints=Hints(read_only=False, destructive=True, idempotent=True),
        plan=plan_cancel_job,
        execute=execute_cancel_job,
    ),
    ToolDef(
        name="rerun_job",
        toolset="jobs",
        title="Rerun a job",
        description=(
            "Start a copy of a job (same spec and secrets).\n"
            "Use it to retry a job unchanged. Costs like the original. Next: wait_for_job."
        ),
        args=RerunJobArgs,
        result=JobResult,
        hints=SPEND,
        plan=plan_rerun_job,
        execute=execute_rerun_job,
        may_ask=True,
        shows_job=True,
    ),
    ToolDef(
        name="update_job_labels",
        toolset="jobs",
        title="Replace a job's labels",
        description=(
            "Replace a job's labels (pass every label to keep).\n"
            "Use it to tag runs for list_jobs and wait_for_jobs. Free. Next: list_jobs."
        ),
        args=UpdateJobLabelsArgs,
        result=JobResult,
        hints=Hints(read_only=False, destructive=False, idempotent=True),
        plan=plan_update_job_labels,
        execute=execute_update_job_labels,
    ),
)
