"""The ``scheduled`` toolset: cron-scheduled jobs (create, list, inspect, suspend, resume, trigger, delete)."""

from __future__ import annotations

import json
import shlex
from typing import Any

from pydantic import Field

from hfjobs_mcp.api import DEFAULT_FLAVOR
from hfjobs_mcp.secrets import audit
from hfjobs_mcp.tools.args import (
    CommonSpecArgs,
    ConfirmField,
    ImageArgs,
    LabelFilter,
    NamespaceField,
    ScheduleArgs,
    ScheduledRefArgs,
    UvScriptArgs,
)
from hfjobs_mcp.tools.base import Hints, ToolArgs, ToolContext, ToolDef, ToolResult
from hfjobs_mcp.tools.consent import gate, make_plan
from hfjobs_mcp.tools.specs import Cost, masked_payload, prepare, price_of
from hfjobs_mcp.tools.uv import uv_command_for
from hfjobs_mcp.tools.views import JobView, ScheduledJobView

READ = Hints(read_only=True, destructive=False, idempotent=True)


class ScheduleJobArgs(ImageArgs, CommonSpecArgs, ScheduleArgs):
    """Arguments of schedule_job."""


class ScheduleUvJobArgs(UvScriptArgs, CommonSpecArgs, ScheduleArgs):
    """Arguments of schedule_uv_job."""


class ScheduleResult(ToolResult):
    """A created scheduled job, or (dry run) the exact request that would create it."""

    dry_run: bool
    scheduled_job: ScheduledJobView | None = None
    request: dict[str, Any] | None = Field(default=None, description="Dry run: the exact JSON body (secrets masked).")
    namespace: str
    cost: Cost = Field(description="Price ceiling of one run.")
    runs_per_day: int = Field(description="Runs the schedule starts in the next 24 hours.")
    daily_ceiling_usd: float | None = Field(description="runs_per_day x the ceiling of one run.")
    next_step: str

    def render(self) -> str:
        money = (
            f"{self.cost.flavor}: at most ${self.cost.ceiling_usd} per run, {self.runs_per_day} run(s)/day, "
            f"at most ${self.daily_ceiling_usd}/day"
        )
        if self.dry_run:
            return (
                f"DRY RUN: nothing was sent. POST /api/scheduled-jobs/{self.namespace} with:\n"
                f"{json.dumps(self.request, indent=2)}\n{money}\n{self.next_step}"
            )
        assert self.scheduled_job is not None
        return f"Scheduled {self.scheduled_job.render()}\n{money}\n{self.next_step}"


async def _schedule(
    ctx: ToolContext,
    args: ScheduleJobArgs | ScheduleUvJobArgs,
    *,
    tool: str,
    target: str,
    image: str,
    command: list[str],
    **spec_kw: Any,
) -> ScheduleResult:
    ready = await prepare(
        ctx, args, tool=tool, target=target, image=image, command=command, schedule=args.schedule, **spec_kw
    )
    per_day = ready.runs_per_day or 0
    if args.dry_run:
        body = {
            "jobSpec": masked_payload(ready.spec),
            "schedule": args.schedule,
            "concurrency": args.concurrency,
            "suspend": args.suspend,
        }
        return ScheduleResult(
            dry_run=True,
            request=body,
            namespace=ready.namespace,
            cost=ready.cost,
            runs_per_day=per_day,
            daily_ceiling_usd=ready.daily_ceiling_usd,
            next_step="Call again without dry_run to create it.",
        )
    confirmed_by = await gate(ctx, tool=tool, arguments=args.model_dump(mode="json"), plan=ready.plan)
    sj = await ctx.client.create_scheduled_job(
        ready.spec,
        schedule=args.schedule,
        suspend=args.suspend,
        concurrency=args.concurrency,
        namespace=ready.namespace,
    )
    view = ScheduledJobView.of(sj)
    if ready.secret_values:
        audit(tool=tool, names=ready.secret_values, namespace=view.namespace, job_id=view.id, confirmed_by=confirmed_by)
    return ScheduleResult(
        dry_run=False,
        scheduled_job=view,
        namespace=view.namespace,
        cost=ready.cost,
        runs_per_day=per_day,
        daily_ceiling_usd=ready.daily_ceiling_usd,
        next_step=(
            "Runs appear in list_jobs; suspend_scheduled_job or delete_scheduled_job "
            f"('{view.namespace}/{view.id}') stop it."
        ),
    )


async def schedule_job(args: ScheduleJobArgs, ctx: ToolContext) -> ScheduleResult:
    target = f"image {args.image}: {shlex.join(args.command)}"
    return await _schedule(ctx, args, tool="schedule_job", target=target, image=args.image, command=list(args.command))


async def schedule_uv_job(args: ScheduleUvJobArgs, ctx: ToolContext) -> ScheduleResult:
    uv = uv_command_for(args, local_files=ctx.local_files)
    return await _schedule(
        ctx,
        args,
        tool="schedule_uv_job",
        target=uv.target(args.image),
        image=args.image,
        command=uv.command,
        extra_env=uv.env,
        default_name=uv.default_name,
    )


class ListScheduledJobsArgs(ToolArgs):
    """Arguments of list_scheduled_jobs."""

    labels: LabelFilter = Field(default_factory=dict, description="Only scheduled jobs having all these labels.")
    namespace: NamespaceField


class ListScheduledJobsResult(ToolResult):
    scheduled_jobs: list[ScheduledJobView]

    def render(self) -> str:
        return "\n".join(s.render() for s in self.scheduled_jobs) or "No scheduled jobs."


async def list_scheduled_jobs(args: ListScheduledJobsArgs, ctx: ToolContext) -> ListScheduledJobsResult:
    items = await ctx.client.list_scheduled_jobs(namespace=args.namespace, labels=dict(args.labels))
    return ListScheduledJobsResult(scheduled_jobs=[ScheduledJobView.of(s) for s in items])


class ScheduledJobResult(ToolResult):
    scheduled_job: ScheduledJobView
    next_step: str

    def render(self) -> str:
        return f"{self.scheduled_job.render()}\n{self.next_step}"


async def _show(ctx: ToolContext, args: ScheduledRefArgs, next_step: str) -> ScheduledJobResult:
    sj = await ctx.client.inspect_scheduled_job(args.scheduled_job_id)
    return ScheduledJobResult(scheduled_job=ScheduledJobView.of(sj), next_step=next_step)


async def inspect_scheduled_job(args: ScheduledRefArgs, ctx: ToolContext) -> ScheduledJobResult:
    return await _show(ctx, args, "Its runs appear in list_jobs; trigger_scheduled_job starts one now.")


async def suspend_scheduled_job(args: ScheduledRefArgs, ctx: ToolContext) -> ScheduledJobResult:
    await ctx.client.suspend_scheduled_job(args.scheduled_job_id)
    return await _show(ctx, args, "Suspended: no new runs until resume_scheduled_job.")


async def resume_scheduled_job(args: ScheduledRefArgs, ctx: ToolContext) -> ScheduledJobResult:
    await ctx.client.resume_scheduled_job(args.scheduled_job_id)
    return await _show(ctx, args, "Resumed: runs start again on schedule.")


class TriggerResult(ToolResult):
    job: JobView
    next_step: str

    def render(self) -> str:
        return f"Started {self.job.render()}\n{self.next_step}"


class TriggerScheduledJobArgs(ScheduledRefArgs):
    """Arguments of trigger_scheduled_job."""

    confirm: ConfirmField


async def trigger_scheduled_job(args: TriggerScheduledJobArgs, ctx: ToolContext) -> TriggerResult:
    sj = await ctx.client.inspect_scheduled_job(args.scheduled_job_id)
    timeout = int(sj.job_spec.timeout) if sj.job_spec.timeout else None
    plan = await make_plan(
        ctx,
        tool="trigger_scheduled_job",
        namespace=sj.owner.name,
        target=f"one run of scheduled job {sj.id} ({sj.job_spec.docker_image or sj.job_spec.space_id})",
        cost=await price_of(ctx, sj.job_spec.flavor or DEFAULT_FLAVOR, timeout),
        secrets=[],
    )
    await gate(ctx, tool="trigger_scheduled_job", arguments=args.model_dump(mode="json"), plan=plan)
    job = await ctx.client.trigger_scheduled_job(f"{sj.owner.name}/{sj.id}")
    view = JobView.of(job, endpoint=ctx.client.endpoint)
    return TriggerResult(
        job=view, next_step=f"Follow it with wait_for_job or fetch_logs ('{view.namespace}/{view.id}')."
    )


class DeleteResult(ToolResult):
    scheduled_job_id: str
    deleted: bool

    def render(self) -> str:
        return f"Deleted scheduled job {self.scheduled_job_id}; runs already started are not affected."


async def delete_scheduled_job(args: ScheduledRefArgs, ctx: ToolContext) -> DeleteResult:
    await ctx.client.delete_scheduled_job(args.scheduled_job_id)
    return DeleteResult(scheduled_job_id=args.scheduled_job_id, deleted=True)


def _def(
    name: str, title: str, description: str, args: type[Any], result: type[Any], hints: Hints, handler: Any
) -> ToolDef[Any, Any]:
    return ToolDef(
        name=name,
        toolset="scheduled",
        title=title,
        description=description,
        args=args,
        result=result,
        hints=hints,
        handler=handler,
        needs_consent=handler in (schedule_job, schedule_uv_job, trigger_scheduled_job),
    )


TOOLS: tuple[ToolDef[Any, Any], ...] = (
    _def(
        "schedule_job",
        "Schedule a Docker-image job",
        "Create a scheduled job that runs `command` in `image` on a cron `schedule` (UTC).\n"
        "Use it for recurring work (nightly evals). Each run costs like run_job; the result gives per-run and "
        "per-day ceilings; dry_run creates nothing. Next: list_scheduled_jobs, trigger_scheduled_job.",
        ScheduleJobArgs,
        ScheduleResult,
        Hints(read_only=False, destructive=False, idempotent=False),
        schedule_job,
    ),
    _def(
        "schedule_uv_job",
        "Schedule a UV Python script job",
        "Create a scheduled job that runs a Python script (see `script`) with `uv run` on a cron `schedule` (UTC).\n"
        "Use it for recurring Python work. Each run costs like run_uv_job; the result gives per-run and per-day "
        "ceilings; dry_run creates nothing. Next: list_scheduled_jobs, trigger_scheduled_job.",
        ScheduleUvJobArgs,
        ScheduleResult,
        Hints(read_only=False, destructive=False, idempotent=False),
        schedule_uv_job,
    ),
    _def(
        "list_scheduled_jobs",
        "List scheduled jobs",
        "List the scheduled jobs of a namespace with their schedule, next run and last run.\n"
        "Use it to find a scheduled job id. Free. Next: inspect_scheduled_job, trigger_scheduled_job.",
        ListScheduledJobsArgs,
        ListScheduledJobsResult,
        READ,
        list_scheduled_jobs,
    ),
    _def(
        "inspect_scheduled_job",
        "Inspect a scheduled job",
        "Show one scheduled job: schedule, suspended or not, next and last run, and the job it runs.\n"
        "Use it to check when it runs next or what its last run was. Free. Next: inspect_job on the last run, "
        "fetch_logs.",
        ScheduledRefArgs,
        ScheduledJobResult,
        READ,
        inspect_scheduled_job,
    ),
    _def(
        "suspend_scheduled_job",
        "Suspend a scheduled job",
        "Stop a scheduled job from starting new runs (runs already started go on).\n"
        "Use it to pause spending without losing the schedule. Free, and it stops future costs. "
        "Next: resume_scheduled_job to undo it.",
        ScheduledRefArgs,
        ScheduledJobResult,
        Hints(read_only=False, destructive=False, idempotent=True),
        suspend_scheduled_job,
    ),
    _def(
        "resume_scheduled_job",
        "Resume a scheduled job",
        "Let a suspended scheduled job start runs again on its schedule.\n"
        "Use it to undo suspend_scheduled_job. Free itself; each run then costs as the schedule says. "
        "Next: inspect_scheduled_job for the next run time.",
        ScheduledRefArgs,
        ScheduledJobResult,
        Hints(read_only=False, destructive=False, idempotent=True),
        resume_scheduled_job,
    ),
    _def(
        "trigger_scheduled_job",
        "Trigger a scheduled job now",
        "Start one run of a scheduled job right now, outside its schedule.\n"
        "Use it to test a schedule or catch up a missed run. Costs one run. Refused while a run is still going "
        "unless the schedule allows concurrency. Next: wait_for_job, fetch_logs.",
        TriggerScheduledJobArgs,
        TriggerResult,
        Hints(read_only=False, destructive=False, idempotent=False),
        trigger_scheduled_job,
    ),
    _def(
        "delete_scheduled_job",
        "Delete a scheduled job",
        "Delete a scheduled job: no more runs will start; runs already started are not affected.\n"
        "Use it when a schedule is no longer wanted. Free, and it stops future costs. Cannot be undone "
        "(suspend_scheduled_job pauses instead). Next: list_scheduled_jobs.",
        ScheduledRefArgs,
        DeleteResult,
        Hints(read_only=False, destructive=True, idempotent=True),
        delete_scheduled_job,
    ),
)
