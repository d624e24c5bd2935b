"""The ``scheduled`` toolset: cron-scheduled jobs (create, list, inspect, suspend, resume, trigger, delete)."""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from pydantic import Field, field_validator

from hfjobs_mcp.api import DEFAULT_FLAVOR, ScheduledJobInfo
from hfjobs_mcp.api.artifacts import ARTIFACTS_MOUNT
from hfjobs_mcp.policy.cron import check_schedule, max_runs_per_day
from hfjobs_mcp.policy.plan import Plan
from hfjobs_mcp.policy.pricing import RunPrice, price_run
from hfjobs_mcp.policy.request import Request
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
from hfjobs_mcp.tools.base import Hints, PlanContext, ToolArgs, ToolContext, ToolDef, ToolResult
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
from hfjobs_mcp.tools.views import JobView, ScheduledJobView, job_views

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
    runs_per_day: int = Field(description="The most runs the schedule starts in any 24 hours.")
    daily_ceiling_usd: float | None = Field(description="runs_per_day x the ceiling of one run.")
    next_step: str

    def written_ref(self) -> str | None:
        return None if self.scheduled_job is None else f"{self.scheduled_job.namespace}/{self.scheduled_job.id}"

    def details(self) -> str:
        """More lines of the text rendering (a UV job's script and uploads)."""
        return ""

    def render(self) -> str:
        money = (
            f"{self.cost.flavor}: at most ${self.cost.ceiling_usd} per run, {self.runs_per_day} run(s)/day, "
            f"at most ${self.daily_ceiling_usd}/day"
        )
        if self.dry_run:
            return (
                f"DRY RUN: nothing was sent. POST /api/scheduled-jobs/{self.namespace} with:\n"
                f"{json.dumps(self.request, indent=2)}{self.details()}\n{money}\n"
                f"{self.next_step}"
            )
        assert self.scheduled_job is not None
        return f"Scheduled {self.scheduled_job.render()}{self.details()}\n{money}\n{self.next_step}"


class UvScheduleResult(ScheduleResult):
    """A created UV scheduled job (or its dry run), with its script and the files uploaded for it."""

    uploads: UploadsView | None = Field(default=None, description="The files uploaded for it (names, sha256).")

    def details(self) -> str:
        return f"\n{self.uploads.render()}" if self.uploads else ""


@dataclass(frozen=True)
class SchedulePayload:
    """What creating a scheduled job sends: the checked job spec, and how the schedule runs it."""

    ready: SpecPlan
    suspend: bool
    concurrency: bool


async def _plan_schedule(
    ctx: PlanContext,
    args: ScheduleJobArgs | ScheduleUvJobArgs,
    *,
    tool: str,
    runs: str,
    image: str,
    command: list[str],
    **spec_kw: Any,
) -> Plan[SchedulePayload]:
    ready = await plan_spec(
        ctx,
        args,
        tool=tool,
        action="create a scheduled job",
        runs=runs,
        image=image,
        command=command,
        schedule=args.schedule,
        **spec_kw,
    )
    dry = None
    if args.dry_run:
        body = {
            "jobSpec": masked_payload(ready.spec),
            "schedule": args.schedule,
            "concurrency": args.concurrency,
            "suspend": args.suspend,
        }
        dry = (UvScheduleResult if tool == "schedule_uv_job" else ScheduleResult)(
            dry_run=True,
            request=body,
            namespace=ready.namespace,
            cost=ready.cost,
            runs_per_day=max_runs_per_day(args.schedule),
            daily_ceiling_usd=ready.request.daily_ceiling_usd,
            next_step=f"Call again without dry_run to create it (with {ctx.reader.token_origin()}).",
        )
        if isinstance(dry, UvScheduleResult):
            dry.uploads = UploadsView.of(ready.uploads, script=ready.request.script)
    payload = SchedulePayload(ready, suspend=args.suspend, concurrency=args.concurrency)
    return Plan(ready.request, ready.review, payload, dry_result=dry)


async def execute_schedule(plan: Plan[SchedulePayload], ctx: ToolContext) -> ScheduleResult:
    ready = plan.payload.ready
    schedule = plan.request.schedule
    assert schedule is not None
    spec, uploads = await sent_spec(ready, ctx)
    sj = await ctx.client.create_scheduled_job(
        spec,
        schedule=schedule,
        suspend=plan.payload.suspend,
        concurrency=plan.payload.concurrency,
        namespace=ready.namespace,
    )
    view = ScheduledJobView.of(sj)
    stop = (
        "Runs appear in list_jobs; suspend_scheduled_job or delete_scheduled_job "
        f"('{view.namespace}/{view.id}') stop it."
    )
    common: dict[str, Any] = {
        "dry_run": False,
        "scheduled_job": view,
        "namespace": view.namespace,
        "cost": ready.cost,
        "runs_per_day": max_runs_per_day(schedule),
        "daily_ceiling_usd": plan.request.daily_ceiling_usd,
    }
    if plan.request.tool != "schedule_uv_job":
        return ScheduleResult(**common, next_step=stop)
    shared = (
        f" Every run uses the uploaded files in {ARTIFACTS_MOUNT} (one folder, shared by the runs): "
        f"{OUTPUTS_HINT} (e.g. {ARTIFACTS_MOUNT}/outputs/$JOB_ID)."
    )
    return UvScheduleResult(**common, uploads=uploads, next_step=stop + (shared if uploads else ""))


async def plan_schedule_job(args: ScheduleJobArgs, ctx: PlanContext) -> Plan[SchedulePayload]:
    runs = f"image {args.image}: {shlex.join(args.command)}"
    return await _plan_schedule(ctx, args, tool="schedule_job", runs=runs, image=args.image, command=list(args.command))


async def plan_schedule_uv_job(args: ScheduleUvJobArgs, ctx: PlanContext) -> Plan[SchedulePayload]:
    args, uv = await uv_command_for(args, local_files=ctx.local_files)
    return await _plan_schedule(
        ctx,
        args,
        tool="schedule_uv_job",
        runs=uv.target(args.image),
        image=args.image,
        command=uv.command,
        default_name=uv.default_name,
        script=uv.script,
        uploads=uv.uploads,
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

    def written_ref(self) -> str | None:
        return f"{self.scheduled_job.namespace}/{self.scheduled_job.id}"


async def _show(ctx: ToolContext, ref: str, next_step: str) -> ScheduledJobResult:
    sj = await ctx.client.inspect_scheduled_job(ref)
    return ScheduledJobResult(scheduled_job=ScheduledJobView.of(sj), next_step=next_step)


async def inspect_scheduled_job(args: ScheduledRefArgs, ctx: ToolContext) -> ScheduledJobResult:
    return await _show(
        ctx, args.scheduled_job_id, "Its runs appear in list_jobs; trigger_scheduled_job starts one now."
    )


async def _schedule_price(ctx: PlanContext, sj: ScheduledJobInfo) -> RunPrice:
    spec = sj.job_spec
    return await price_run(
        ctx.reader,
        flavor=spec.flavor or DEFAULT_FLAVOR,
        timeout_seconds=spec.timeout,
        attempts=(spec.retry or 0) + 1,
        ports=tuple(spec.expose.ports) if spec.expose else (),
    )


async def _plan_acting_on(ctx: PlanContext, args: ScheduledRefArgs, *, tool: str, verb: str, spends: bool) -> Plan[str]:
    """The plan of a request on an existing scheduled job; ``spends``: it starts runs with the stored secrets."""
    sj = await ctx.reader.inspect_scheduled_job(args.scheduled_job_id)
    ref = f"{sj.owner.name}/{sj.id}"
    if not spends:
        request = Request(tool=tool, action=f"{verb} scheduled job {ref}", namespace=sj.owner.name)
        return Plan(request, await review_request(ctx, request), ref)
    spec = sj.job_spec
    request = Request(
        tool=tool,
        action=f"{verb} scheduled job {ref}",
        namespace=sj.owner.name,
        runs=what_runs(sj.job_spec),
        price=await _schedule_price(ctx, sj),
        schedule=sj.schedule if tool == "resume_scheduled_job" else None,
        secrets=tuple(spec.secrets),
        stored_secrets=True,
        ports=tuple(spec.expose.ports) if spec.expose else (),
        volumes=volume_facts(spec.volumes),
    )
    return Plan(request, await review_request(ctx, request), ref)


async def plan_suspend(args: ScheduledRefArgs, ctx: PlanContext) -> Plan[str]:
    return await _plan_acting_on(ctx, args, tool="suspend_scheduled_job", verb="suspend", spends=False)


async def execute_suspend(plan: Plan[str], ctx: ToolContext) -> ScheduledJobResult:
    await ctx.client.suspend_scheduled_job(plan.payload)
    return await _show(ctx, plan.payload, "Suspended: no new runs until resume_scheduled_job.")


class ResumeScheduledJobArgs(ScheduledRefArgs):
    """Arguments of resume_scheduled_job."""

    confirm: ConfirmField


async def plan_resume(args: ResumeScheduledJobArgs, ctx: PlanContext) -> Plan[str]:
    sj = await ctx.reader.inspect_scheduled_job(args.scheduled_job_id)
    # Resuming a schedule that is not suspended changes nothing and starts nothing new.
    return await _plan_acting_on(ctx, args, tool="resume_scheduled_job", verb="resume", spends=sj.suspend)


async def execute_resume(plan: Plan[str], ctx: ToolContext) -> ScheduledJobResult:
    await ctx.client.resume_scheduled_job(plan.payload)
    return await _show(ctx, plan.payload, "Resumed: runs start again on schedule.")


class TriggerResult(ToolResult):
    job: JobView
    next_step: str

    def render(self) -> str:
        return f"Started {self.job.render()}\n{self.next_step}"

    def written_ref(self) -> str | None:
        return f"{self.job.namespace}/{self.job.id}"


class TriggerScheduledJobArgs(ScheduledRefArgs):
    """Arguments of trigger_scheduled_job."""

    confirm: ConfirmField


async def plan_trigger(args: TriggerScheduledJobArgs, ctx: PlanContext) -> Plan[str]:
    return await _plan_acting_on(ctx, args, tool="trigger_scheduled_job", verb="start one run of", spends=True)


async def execute_trigger(plan: Plan[str], ctx: ToolContext) -> TriggerResult:
    job = await ctx.client.trigger_scheduled_job(plan.payload)
    (view,) = await job_views(ctx.client, [job], endpoint=ctx.client.endpoint)
    return TriggerResult(
        job=view, next_step=f"Follow it with wait_for_job or fetch_logs ('{view.namespace}/{view.id}')."
    )


class DeleteResult(ToolResult):
    scheduled_job_id: str
    deleted: bool

    def render(self) -> str:
        return f"Deleted scheduled job {self.scheduled_job_id}; runs already started are not affected."

    def written_ref(self) -> str | None:
        return self.scheduled_job_id


async def plan_delete(args: ScheduledRefArgs, ctx: PlanContext) -> Plan[str]:
    return await _plan_acting_on(ctx, args, tool="delete_scheduled_job", verb="delete", spends=False)


async def execute_delete(plan: Plan[str], ctx: ToolContext) -> DeleteResult:
    await ctx.client.delete_scheduled_job(plan.payload)
    return DeleteResult(scheduled_job_id=plan.payload, deleted=True)


class UpdateScheduledJobArgs(ScheduledRefArgs):
    """Arguments of update_scheduled_job."""

    schedule: str | None = Field(default=None, description="New cron in UTC or @hourly... (unchanged if omitted).")
    labels: LabelFilter | None = Field(default=None, description="New labels, all of them (unchanged if omitted).")
    confirm: ConfirmField

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: str | None) -> str | None:
        return None if value is None else check_schedule(value)


@dataclass(frozen=True)
class ScheduleUpdate:
    ref: str
    schedule: str | None
    labels: dict[str, str] | None


async def plan_update_scheduled_job(args: UpdateScheduledJobArgs, ctx: PlanContext) -> Plan[ScheduleUpdate]:
    sj = await ctx.reader.inspect_scheduled_job(args.scheduled_job_id)
    ref = f"{sj.owner.name}/{sj.id}"
    update = ScheduleUpdate(ref, args.schedule, None if args.labels is None else dict(args.labels))
    action = f"change scheduled job {ref}"
    rate_up = (
        args.schedule is not None and not sj.suspend and max_runs_per_day(args.schedule) > max_runs_per_day(sj.schedule)
    )
    if not rate_up:
        # Fewer or as many runs a day (or a suspended schedule): nothing more is spent than was approved.
        request = Request(tool="update_scheduled_job", action=action, namespace=sj.owner.name)
        return Plan(request, await review_request(ctx, request), update)
    request = Request(
        tool="update_scheduled_job",
        action=f"{action} from {sj.schedule!r} to {args.schedule!r} (more runs a day)",
        namespace=sj.owner.name,
        runs=what_runs(sj.job_spec),
        price=await _schedule_price(ctx, sj),
        schedule=args.schedule,
        ports=tuple(sj.job_spec.expose.ports) if sj.job_spec.expose else (),
        volumes=volume_facts(sj.job_spec.volumes),
    )
    return Plan(request, await review_request(ctx, request), update)


async def execute_update_scheduled_job(plan: Plan[ScheduleUpdate], ctx: ToolContext) -> ScheduledJobResult:
    update = plan.payload
    if update.schedule is not None:
        await ctx.client.reschedule_scheduled_job(update.ref, update.schedule)
    if update.labels is not None:
        await ctx.client.update_scheduled_job_labels(update.ref, update.labels)
    return await _show(ctx, update.ref, "Changed: inspect_scheduled_job shows the next run.")


def _def(
    name: str, title: str, description: str, args: type[Any], result: type[Any], hints: Hints, phases: Any
) -> ToolDef[Any, Any]:
    """One tool of this toolset: ``phases`` is the handler of a read-only tool, or (plan, execute)."""
    phased: dict[str, Any] = {"handler": phases}
    if isinstance(phases, tuple):
        plan, execute = phases
        # Creating, resuming and triggering start runs with stored secrets; suspend and delete only stop them.
        asks = plan in (plan_schedule_job, plan_schedule_uv_job, plan_resume, plan_trigger, plan_update_scheduled_job)
        phased = {"plan": plan, "execute": execute, "may_ask": asks}
    return ToolDef(
        name=name,
        toolset="scheduled",
        title=title,
        description=description,
        args=args,
        result=result,
        hints=hints,
        **phased,
    )


TOOLS: tuple[ToolDef[Any, Any], ...] = (
    _def(
        "schedule_job",
        "Schedule a Docker-image job",
        "Run `command` in `image` on a cron `schedule` (UTC).\n"
        "Use it for recurring work (nightly evals). Each run costs like run_job (ceilings shown). "
        "Next: trigger_scheduled_job.",
        ScheduleJobArgs,
        ScheduleResult,
        Hints(read_only=False, destructive=False, idempotent=False),
        (plan_schedule_job, execute_schedule),
    ),
    _def(
        "schedule_uv_job",
        "Schedule a UV script job",
        "Run a Python script (uploaded to /data with `files`) with `uv run` on a cron `schedule` (UTC).\n"
        "Use it for recurring Python work; write outputs under /data/outputs to read them back with "
        "read_job_file. Each run costs like run_uv_job. Next: trigger_scheduled_job.",
        ScheduleUvJobArgs,
        UvScheduleResult,
        Hints(read_only=False, destructive=False, idempotent=False),
        (plan_schedule_uv_job, execute_schedule),
    ),
    _def(
        "list_scheduled_jobs",
        "List scheduled jobs",
        "List a namespace's scheduled jobs: schedule, next and last run.\n"
        "Use it to find a scheduled job id. Free. Next: inspect_scheduled_job.",
        ListScheduledJobsArgs,
        ListScheduledJobsResult,
        READ,
        list_scheduled_jobs,
    ),
    _def(
        "inspect_scheduled_job",
        "Inspect a scheduled job",
        "Show one scheduled job: schedule, suspended or not, next and last run, its job.\n"
        "Use it to check when it runs next. Free. Next: inspect_job.",
        ScheduledRefArgs,
        ScheduledJobResult,
        READ,
        inspect_scheduled_job,
    ),
    _def(
        "suspend_scheduled_job",
        "Suspend a scheduled job",
        "Stop a scheduled job from starting new runs.\n"
        "Use it to pause spending, keeping the schedule. Free; stops future costs. Next: resume_scheduled_job.",
        ScheduledRefArgs,
        ScheduledJobResult,
        Hints(read_only=False, destructive=False, idempotent=True),
        (plan_suspend, execute_suspend),
    ),
    _def(
        "resume_scheduled_job",
        "Resume a scheduled job",
        "Resume a suspended scheduled job.\n"
        "Use it to undo suspend_scheduled_job. Runs cost as scheduled (asks like schedule_job). "
        "Next: inspect_scheduled_job.",
        ResumeScheduledJobArgs,
        ScheduledJobResult,
        Hints(read_only=False, destructive=False, idempotent=True),
        (plan_resume, execute_resume),
    ),
    _def(
        "trigger_scheduled_job",
        "Trigger a scheduled job now",
        "Start one run of a scheduled job now.\n"
        "Use it to test a schedule or catch up a run. Costs one run (refused while one runs, unless "
        "concurrency). Next: wait_for_job.",
        TriggerScheduledJobArgs,
        TriggerResult,
        Hints(read_only=False, destructive=False, idempotent=False),
        (plan_trigger, execute_trigger),
    ),
    _def(
        "delete_scheduled_job",
        "Delete a scheduled job",
        "Delete a scheduled job (started runs go on; no undo).\n"
        "Use it when a schedule is no longer wanted (suspend_scheduled_job pauses). Free; stops future costs. "
        "Next: list_scheduled_jobs.",
        ScheduledRefArgs,
        DeleteResult,
        Hints(read_only=False, destructive=True, idempotent=True),
        (plan_delete, execute_delete),
    ),
    _def(
        "update_scheduled_job",
        "Change a scheduled job",
        "Change a scheduled job's cron schedule and/or labels (all of them).\n"
        "Use it to run a schedule more or less often. Free; more runs a day cost more (asks). "
        "Next: inspect_scheduled_job.",
        UpdateScheduledJobArgs,
        ScheduledJobResult,
        Hints(read_only=False, destructive=False, idempotent=True),
        (plan_update_scheduled_job, execute_update_scheduled_job),
    ),
)
