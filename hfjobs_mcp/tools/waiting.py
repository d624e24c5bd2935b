"""``wait_for_job`` and ``wait_for_jobs``: poll to the end (or a stage), with progress, instead of the agent polling.

Polling starts at one second and backs off to five; each call is capped by ``--max-wait`` (MCP clients time calls
out), and the result says how to keep waiting. A job that ended in ERROR or CANCELED comes back with its
:class:`~hfjobs_mcp.tools.failure.Failure`, so the common case needs no second call.
"""

from __future__ import annotations

import time
from typing import Literal

import anyio
from pydantic import Field, model_validator

from hfjobs_mcp.api import TERMINAL_STAGES, JobInfo
from hfjobs_mcp.tools.args import JobRefArgs, LabelFilter, NamespaceField, check_ref
from hfjobs_mcp.tools.base import ToolArgs, ToolContext, ToolResult, View
from hfjobs_mcp.tools.failure import Failure, failure_of
from hfjobs_mcp.tools.outcomes import is_over, next_for, writes_files
from hfjobs_mcp.tools.views import JobView, job_views

TERMINAL = {str(s) for s in TERMINAL_STAGES}
MAX_JOBS = 50


class WaitForJobArgs(JobRefArgs):
    """Arguments of wait_for_job."""

    timeout_seconds: float = Field(default=60, gt=0, description="Give up after this long (max 900 s).")
    until_stage: Literal["RUNNING", "COMPLETED", "ERROR", "CANCELED"] | None = Field(
        default=None,
        description="Also stop at this stage; the end always stops.",
    )


class WaitResult(ToolResult):
    job: JobView
    finished: bool
    reached: bool = Field(description="True when the job reached `until_stage` or a terminal stage.")
    failure: Failure | None = Field(default=None, description="Ended in ERROR or CANCELED: why, and what to do.")
    waited_seconds: float
    next_step: str

    def render(self) -> str:
        head = "Reached" if self.reached else f"Still waiting after {self.waited_seconds:.0f}s:"
        failure = f"\n{self.failure.render()}" if self.failure else ""
        return f"{head} {self.job.render()}{failure}\n{self.next_step}"


async def _backoff(interval: float) -> float:
    await anyio.sleep(interval)
    return min(interval * 1.5, 5.0)


async def wait_for_job(args: WaitForJobArgs, ctx: ToolContext) -> WaitResult:
    limit = min(args.timeout_seconds, ctx.settings.max_wait_seconds)
    targets = TERMINAL | ({args.until_stage} if args.until_stage else set())
    started = time.monotonic()
    interval = 1.0
    last_stage = None
    while True:
        job = await ctx.client.inspect_job(args.job_id)
        elapsed = time.monotonic() - started
        stage = str(job.status.stage)
        if stage != last_stage:
            await ctx.progress(min(elapsed, limit), limit, f"{job.id}: {stage}")
            last_stage = stage
        if stage in targets or elapsed + interval > limit:
            (view,) = await job_views(ctx.client, [job], endpoint=ctx.client.endpoint)
            reached = stage in targets
            return WaitResult(
                job=view,
                finished=is_over(view),
                reached=reached,
                failure=await failure_of(ctx, job),
                waited_seconds=round(elapsed, 1),
                next_step=next_for(view, files=writes_files(job))
                if reached
                else "Call wait_for_job again to keep waiting, or fetch_logs.",
            )
        interval = await _backoff(interval)
        await ctx.progress(min(time.monotonic() - started, limit), limit, f"{job.id}: {stage}")


class WaitForJobsArgs(ToolArgs):
    """Arguments of wait_for_jobs."""

    job_ids: list[str] = Field(default_factory=list, max_length=MAX_JOBS, description="Job ids ('ns/id' or id).")
    labels: LabelFilter = Field(default_factory=dict, description="Or: the jobs having all these labels, now.")
    namespace: NamespaceField
    until: Literal["all", "any"] = Field(default="all", description="Stop when all or any have ended.")
    timeout_seconds: float = Field(default=60, gt=0, description="Give up after this long (max 900 s).")

    @model_validator(mode="after")
    def _one_selector(self) -> WaitForJobsArgs:
        if bool(self.job_ids) == bool(self.labels):
            raise ValueError("give either `job_ids` or `labels` (not both, not neither)")
        self.job_ids = [check_ref(j, "job_ids") for j in self.job_ids]
        return self


class WaitedJob(View):
    job: JobView
    failure: Failure | None = None


class WaitJobsResult(ToolResult):
    done: bool = Field(description="True when the condition (`until`) was met.")
    ended: list[WaitedJob] = Field(description="Jobs that ended, in the order they ended.")
    pending: list[JobView] = Field(description="Jobs still scheduling or running.")
    waited_seconds: float
    next_step: str

    def render(self) -> str:
        head = "Done:" if self.done else f"Still waiting after {self.waited_seconds:.0f}s:"
        lines = [f"{head} {len(self.ended)} ended, {len(self.pending)} still going"]
        for w in self.ended:
            lines.append(w.job.line() + (f"  [{w.failure.kind}]" if w.failure else ""))
        lines += [v.line() for v in self.pending]
        return "\n".join([*lines, self.next_step])


async def _poll(ctx: ToolContext, args: WaitForJobsArgs, refs: list[str] | None) -> list[JobInfo]:
    """The jobs now: by label, one listing (then only the jobs first matched, any missing one inspected); by id,
    one inspect each. ``refs`` None: the first poll, which fixes the set."""
    if not args.labels:
        return [await ctx.client.inspect_job(ref, namespace=args.namespace) for ref in args.job_ids]
    listed = await ctx.client.list_jobs(namespace=args.namespace, labels=dict(args.labels), limit=MAX_JOBS)
    if refs is None:
        return listed
    by_ref = {f"{j.owner.name}/{j.id}": j for j in listed}
    return [by_ref[r] if r in by_ref else await ctx.client.inspect_job(r) for r in refs]


async def wait_for_jobs(args: WaitForJobsArgs, ctx: ToolContext) -> WaitJobsResult:
    limit = min(args.timeout_seconds, ctx.settings.max_wait_seconds)
    started = time.monotonic()
    interval = 1.0
    jobs = await _poll(ctx, args, None)
    refs = [f"{j.owner.name}/{j.id}" for j in jobs]  # a label selector is fixed to the jobs it matched at first
    ended: dict[str, WaitedJob] = {}
    while True:
        for job in jobs:
            if str(job.status.stage) in TERMINAL and job.id not in ended:
                (view,) = await job_views(ctx.client, [job], endpoint=ctx.client.endpoint)
                ended[job.id] = WaitedJob(job=view, failure=await failure_of(ctx, job))
                await ctx.progress(len(ended), len(jobs), f"{job.id}: {job.status.stage} ({len(ended)}/{len(jobs)})")
        elapsed = time.monotonic() - started
        done = len(ended) == len(jobs) if args.until == "all" else bool(ended) or not jobs
        if done or elapsed + interval > limit:
            pending = await job_views(ctx.client, [j for j in jobs if j.id not in ended], endpoint=ctx.client.endpoint)
            ids = ", ".join(f"'{v.namespace}/{v.id}'" for v in pending)
            return WaitJobsResult(
                done=done,
                ended=list(ended.values()),
                pending=pending,
                waited_seconds=round(elapsed, 1),
                next_step=(
                    "Read their output with fetch_logs."
                    if done
                    else f"Call wait_for_jobs again with job_ids [{ids}] to keep waiting."
                ),
            )
        interval = await _backoff(interval)
        jobs = await _poll(ctx, args, refs)
