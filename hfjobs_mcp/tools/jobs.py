"""The ``jobs`` toolset: run, list, inspect, logs, metrics, wait, cancel, rerun.

Handlers take validated arguments and a :class:`ToolContext` and return result models; errors the model can
act on are raised as :class:`~hfjobs_mcp.errors.HfJobsError` and become ``isError`` results in the server.
"""

from __future__ import annotations

import shlex
import time
from typing import Any, Literal

import anyio
from pydantic import Field

from hfjobs_mcp.api import DEFAULT_FLAVOR, TERMINAL_STAGES, JobInfo, JobStage
from hfjobs_mcp.policy.plan import Plan
from hfjobs_mcp.policy.pricing import price_run
from hfjobs_mcp.policy.request import Request, VolumeFacts
from hfjobs_mcp.tools.args import (
    CommonSpecArgs,
    ConfirmField,
    ImageArgs,
    JobRefArgs,
    LabelFilter,
    NamespaceField,
    UvScriptArgs,
)
from hfjobs_mcp.tools.base import Hints, PlanContext, ToolArgs, ToolContext, ToolDef, ToolResult, View
from hfjobs_mcp.tools.logs import FetchLogsArgs, FetchLogsResult, fetch_logs
from hfjobs_mcp.tools.specs import Cost, SpecPlan, masked_payload, plan_spec, review_request
from hfjobs_mcp.tools.uv import uv_command_for
from hfjobs_mcp.tools.views import JobView

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

    def render(self) -> str:
        c = self.cost
        price = f"${c.price_per_hour_usd}/h" if c.price_per_hour_usd is not None else "price unknown"
        ceiling = f"at most ${c.ceiling_usd}" if c.ceiling_usd is not None else "ceiling unknown"
        money = f"{c.flavor} {price}, timeout {c.timeout_seconds}s, {ceiling}"
        if self.dry_run:
            import json

            return (
                f"DRY RUN: nothing was sent. POST /api/jobs/{self.namespace} with:\n"
                f"{json.dumps(self.request, indent=2)}\n{money}\n{self.next_step}"
            )
        assert self.job is not None
        return f"Started {self.job.render()}\n{money}\n{self.next_step}"

    def written_ref(self) -> str | None:
        return None if self.job is None else f"{self.job.namespace}/{self.job.id}"


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
        dry = RunResult(
            dry_run=True,
            request=masked_payload(ready.spec),
            namespace=ready.namespace,
            cost=ready.cost,
            next_step="Call again without dry_run to start it.",
        )
    return Plan(ready.request, ready.review, ready, dry_result=dry)


async def execute_run(plan: Plan[SpecPlan], ctx: ToolContext) -> RunResult:
    ready = plan.payload
    job = await ctx.client.run_job(ready.spec, namespace=ready.namespace)
    view = JobView.of(job, endpoint=ctx.client.endpoint)
    return RunResult(
        dry_run=False,
        job=view,
        namespace=view.namespace,
        cost=ready.cost,
        next_step=f"Follow it with wait_for_job or fetch_logs (job_id '{view.namespace}/{view.id}').",
    )


async def plan_run_job(args: RunJobArgs, ctx: PlanContext) -> Plan[SpecPlan]:
    runs = f"image {args.image}: {shlex.join(args.command)}"
    return await _plan_run(ctx, args, tool="run_job", runs=runs, image=args.image, command=list(args.command))


async def plan_run_uv_job(args: RunUvJobArgs, ctx: PlanContext) -> Plan[SpecPlan]:
    uv = uv_command_for(args, local_files=ctx.local_files)
    return await _plan_run(
        ctx,
        args,
        tool="run_uv_job",
        runs=uv.target(args.image),
        image=args.image,
        command=uv.command,
        extra_env=uv.env,
        default_name=uv.default_name,
        script=uv.script,
        files=(uv.file,) if uv.file else (),
    )


# --- list_jobs / inspect_job ----------------------------------------------------------------------------


class ListJobsArgs(ToolArgs):
    """Arguments of list_jobs."""

    stages: list[JobStage] = Field(
        default_factory=list,
        description="Only jobs in one of these stages (default: all).",
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
    views = [JobView.of(j, endpoint=ctx.client.endpoint) for j in jobs]
    return ListJobsResult(jobs=views[: args.limit], truncated=len(views) > args.limit)


class JobResult(ToolResult):
    job: JobView
    finished: bool = Field(description="True when the job reached a terminal stage.")
    next_step: str

    def render(self) -> str:
        return f"{self.job.render()}\n{self.next_step}"

    def written_ref(self) -> str | None:
        return f"{self.job.namespace}/{self.job.id}"


BILLING_URL = "https://huggingface.co/settings/billing"


def _next_for(view: JobView) -> str:
    ref = f"'{view.namespace}/{view.id}'"
    if view.cancel_reason in ("NO_CREDITS", "NO_SUBSCRIPTION"):
        lack = "credits" if view.cancel_reason == "NO_CREDITS" else "a subscription"
        return (
            f"The job was canceled: namespace {view.namespace!r} has no {lack}. Add it at {BILLING_URL} "
            f"(or use a namespace that has it), then rerun_job {ref}."
        )
    if view.stage in {str(s) for s in TERMINAL_STAGES}:
        return f"The job is over ({view.stage}). Read its output with fetch_logs (job_id {ref})."
    return f"The job is {view.stage}. Use wait_for_job or fetch_logs with follow_seconds (job_id {ref})."


def _job_result(job_view: JobView) -> JobResult:
    return JobResult(
        job=job_view, finished=job_view.stage in {str(s) for s in TERMINAL_STAGES}, next_step=_next_for(job_view)
    )


async def inspect_job(args: JobRefArgs, ctx: ToolContext) -> JobResult:
    job = await ctx.client.inspect_job(args.job_id)
    return _job_result(JobView.of(job, endpoint=ctx.client.endpoint))


# --- fetch_metrics --------------------------------------------------------------------------------------


class FetchMetricsArgs(JobRefArgs):
    """Arguments of fetch_metrics."""

    samples: int = Field(default=1, ge=1, le=10, description="One-second samples to take.")


class MetricsSampleView(View):
    cpu_usage_pct: float | None = None
    cpu_millicores: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    rx_bps: float | None = None
    tx_bps: float | None = None
    gpus: dict[str, dict[str, float]] = Field(default_factory=dict)


class FetchMetricsResult(ToolResult):
    job_id: str
    finished: bool = Field(description="True when the job is over: finished jobs have no metrics.")
    samples: list[MetricsSampleView]

    def render(self) -> str:
        if not self.samples:
            return f"No metrics for {self.job_id}: " + ("the job is over." if self.finished else "none arrived yet.")
        lines = []
        for s in self.samples:
            mem = (
                f"{(s.memory_used_bytes or 0) / 2**20:.0f} MiB / {(s.memory_total_bytes or 0) / 2**20:.0f} MiB"
                if s.memory_total_bytes
                else "n/a"
            )
            gpu = "".join(f"  gpu {k}: {v.get('utilization', 0)}%" for k, v in sorted(s.gpus.items()))
            lines.append(f"cpu {s.cpu_usage_pct}%  mem {mem}  rx {s.rx_bps} B/s  tx {s.tx_bps} B/s{gpu}")
        return "\n".join(lines)


async def fetch_metrics(args: FetchMetricsArgs, ctx: ToolContext) -> FetchMetricsResult:
    samples: list[MetricsSampleView] = []
    with anyio.move_on_after(args.samples * 3 + 5):
        async for sample in ctx.client.stream_metrics(args.job_id):
            samples.append(MetricsSampleView.model_validate(sample.model_dump()))
            if len(samples) >= args.samples:
                break
    job = await ctx.client.inspect_job(args.job_id)
    return FetchMetricsResult(job_id=job.id, finished=job.status.stage in TERMINAL_STAGES, samples=samples)


# --- wait_for_job ---------------------------------------------------------------------------------------


class WaitForJobArgs(JobRefArgs):
    """Arguments of wait_for_job."""

    timeout_seconds: float = Field(default=60, gt=0, description="Give up after this long (max 900 s).")
    until_stage: Literal["RUNNING", "COMPLETED", "ERROR", "CANCELED"] | None = Field(
        default=None,
        description="Also stop at this stage (e.g. RUNNING); the end always stops.",
    )


class WaitResult(ToolResult):
    job: JobView
    finished: bool
    reached: bool = Field(description="True when the job reached `until_stage` or a terminal stage.")
    waited_seconds: float
    next_step: str

    def render(self) -> str:
        head = "Reached" if self.reached else f"Still waiting after {self.waited_seconds:.0f}s:"
        return f"{head} {self.job.render()}\n{self.next_step}"


async def wait_for_job(args: WaitForJobArgs, ctx: ToolContext) -> WaitResult:
    limit = min(args.timeout_seconds, ctx.settings.max_wait_seconds)
    targets = {str(s) for s in TERMINAL_STAGES} | ({args.until_stage} if args.until_stage else set())
    started = time.monotonic()
    interval = 1.0
    last_stage = None
    while True:
        job = await ctx.client.inspect_job(args.job_id)
        view = JobView.of(job, endpoint=ctx.client.endpoint)
        elapsed = time.monotonic() - started
        if view.stage != last_stage:
            await ctx.progress(min(elapsed, limit), limit, f"{view.id}: {view.stage}")
            last_stage = view.stage
        if view.stage in targets or elapsed + interval > limit:
            reached = view.stage in targets
            next_step = _next_for(view) if reached else "Call wait_for_job again to keep waiting, or fetch_logs."
            return WaitResult(
                job=view,
                finished=view.stage in {str(s) for s in TERMINAL_STAGES},
                reached=reached,
                waited_seconds=round(elapsed, 1),
                next_step=next_step,
            )
        await anyio.sleep(interval)
        interval = min(interval * 1.5, 5.0)
        await ctx.progress(min(time.monotonic() - started, limit), limit, f"{view.id}: {view.stage}")


# --- cancel_job / rerun_job -----------------------------------------------------------------------------


async def plan_cancel_job(args: JobRefArgs, ctx: PlanContext) -> Plan[str]:
    job = await ctx.reader.inspect_job(args.job_id)
    ref = f"{job.owner.name}/{job.id}"
    request = Request(tool="cancel_job", action=f"cancel job {ref}", namespace=job.owner.name)
    return Plan(request, await review_request(ctx, request), ref)


async def execute_cancel_job(plan: Plan[str], ctx: ToolContext) -> JobResult:
    await ctx.client.cancel_job(plan.payload)
    job = await ctx.client.inspect_job(plan.payload)
    return _job_result(JobView.of(job, endpoint=ctx.client.endpoint))


class RerunJobArgs(JobRefArgs):
    """Arguments of rerun_job."""

    confirm: ConfirmField


def job_volumes(volumes: Any) -> tuple[VolumeFacts, ...]:
    """A stored job's volumes as the question shows them (a bucket is read-write unless marked read-only)."""
    return tuple(
        VolumeFacts(
            type=v.type,
            source=v.source,
            mount_path=v.mount_path,
            read_only=bool(v.read_only) if v.type == "bucket" else True,
            revision=v.revision,
        )
        for v in volumes
    )


def _what_runs(job: JobInfo) -> str:
    return f"{job.docker_image or job.space_id}: {shlex.join([*job.command, *job.arguments])}"


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
        runs=_what_runs(original),
        price=price,
        secrets=tuple(original.secrets),
        stored_secrets=True,
        ports=ports,
        volumes=job_volumes(original.volumes),
    )
    return Plan(request, await review_request(ctx, request), ref)


async def execute_rerun_job(plan: Plan[str], ctx: ToolContext) -> JobResult:
    job = await ctx.client.duplicate_job(plan.payload)
    return _job_result(JobView.of(job, endpoint=ctx.client.endpoint))


TOOLS: tuple[ToolDef[Any, Any], ...] = (
    ToolDef(
        name="run_job",
        toolset="jobs",
        title="Run a Docker-image job",
        description=(
            "Start a job that runs `command` in a Docker `image` (or a Space) on Hugging Face hardware.\n"
            "Use it for anything that needs a container (training, batch inference); for one Python script prefer "
            "run_uv_job. Costs the flavor's hourly price while it runs (timeout default 30 min); dry_run shows the "
            "request and its price ceiling. Next: wait_for_job, fetch_logs."
        ),
        args=RunJobArgs,
        result=RunResult,
        hints=SPEND,
        plan=plan_run_job,
        execute=execute_run,
        may_ask=True,
    ),
    ToolDef(
        name="run_uv_job",
        toolset="jobs",
        title="Run a UV Python script job",
        description=(
            "Run a Python script (see `script`) with `uv run` on Hugging Face hardware.\n"
            "Use it for Python work that needs no custom image; PEP 723 metadata and `dependencies` install "
            "packages. Costs the flavor's hourly price while it runs (timeout default 30 min); dry_run shows the "
            "request and its price ceiling. Next: wait_for_job, fetch_logs."
        ),
        args=RunUvJobArgs,
        result=RunResult,
        hints=SPEND,
        plan=plan_run_uv_job,
        execute=execute_run,
        may_ask=True,
    ),
    ToolDef(
        name="list_jobs",
        toolset="jobs",
        title="List jobs",
        description=(
            "List jobs of a namespace, filtered by stage and labels.\n"
            "Use it to find a job id or see what is running. Free. Next: inspect_job, fetch_logs."
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
            "Show one job: stage and its message (e.g. the exit code), image, command, flavor, times, URLs.\n"
            "Use it to check a job's state once. Free. Next: fetch_logs to see its output, wait_for_job to wait."
        ),
        args=JobRefArgs,
        result=JobResult,
        hints=READ,
        handler=inspect_job,
    ),
    ToolDef(
        name="fetch_logs",
        toolset="jobs",
        title="Fetch job logs",
        description=(
            "Read a job's output: the last `tail` lines, optionally filtered by `grep`, optionally waiting "
            "`follow_seconds` for new lines.\nUse it to see what a job printed or why it failed; pass `cursor` back "
            "for the lines after. Free. The result says whether the job finished and whether lines were cut. "
            "Next: wait_for_job if it is still running."
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
            "Sample a running job's CPU, memory, network and GPU use (one sample per second).\n"
            "Use it to check whether a job uses its hardware (e.g. to pick a cheaper flavor). Free. Finished jobs "
            "have no metrics. Next: cancel_job if it is stuck, fetch_logs."
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
            "Wait until a job finishes (or reaches `until_stage`), up to `timeout_seconds`, reporting progress.\n"
            "Use it after run_job/run_uv_job instead of polling inspect_job. Free. If it returns before the end, "
            "call it again. Next: fetch_logs."
        ),
        args=WaitForJobArgs,
        result=WaitResult,
        hints=READ,
        handler=wait_for_job,
    ),
    ToolDef(
        name="cancel_job",
        toolset="jobs",
        title="Cancel a job",
        description=(
            "Cancel a scheduling or running job; it stops and ends CANCELED.\n"
            "Use it to stop a job that is stuck, wrong or no longer needed. Free, and it stops the spending. Cannot "
            "be undone. Next: fetch_logs to see how far it got, rerun_job to start a fresh copy."
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
            "Start a new job with the same spec as an existing one (same image, command, flavor, secrets).\n"
            "Use it to retry a failed or canceled job unchanged. Costs like the original run. Next: wait_for_job."
        ),
        args=RerunJobArgs,
        result=JobResult,
        hints=SPEND,
        plan=plan_rerun_job,
        execute=execute_rerun_job,
        may_ask=True,
    ),
)
