"""``spend_report``: what a namespace spent in a window, by flavor and by label, and what is committed ahead.

Where the Hub has a billing-usage route (``GET /api/settings/billing/usage/jobs``: the token user's own usage in
the current billing period) the report uses its per-job costs for the user's own namespace; for an org, or when
the route cannot be read, it computes from the job list (running time in the window x the flavor's price) and
says so in ``source``. A job that ran partly inside the window counts for that part only. Jobs still running
add what they can still cost (ceiling minus cost so far), and active schedules their daily ceilings.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import Literal

from pydantic import Field

from hfjobs_mcp.api import SUBMISSION_LABEL, TERMINAL_STAGES, JobInfo
from hfjobs_mcp.errors import ApiError
from hfjobs_mcp.policy.budget import MAX_JOBS_READ
from hfjobs_mcp.policy.cron import ScheduleError, max_runs_per_day
from hfjobs_mcp.policy.pricing import DEFAULT_TIMEOUT_SECONDS
from hfjobs_mcp.tools.args import NamespaceField
from hfjobs_mcp.tools.base import ToolArgs, ToolContext, ToolResult, View
from hfjobs_mcp.tools.costs import cost_of, prices
from hfjobs_mcp.tools.views import iso


class SpendReportArgs(ToolArgs):
    """Arguments of spend_report."""

    namespace: NamespaceField
    hours: int = Field(default=24, ge=1, le=24 * 31, description="The last N hours.")


class ScheduleSpend(View):
    id: str
    schedule: str
    daily_ceiling_usd: float | None


class SpendReportResult(ToolResult):
    namespace: str
    since: str
    source: Literal["billing usage", "job list"]
    spent_usd: float = Field(description="What ran in the window cost.")
    by_flavor: dict[str, float]
    by_label: dict[str, float] = Field(description="'key=value' -> USD, for jobs with that label.")
    jobs_counted: int
    running_may_add_usd: float = Field(description="What jobs still running can add at most.")
    schedules: list[ScheduleSpend] = Field(description="Active schedules and their daily ceilings.")
    notes: list[str] = Field(default_factory=list)

    def render(self) -> str:
        lines = [f"{self.namespace} since {self.since}: ${self.spent_usd:.4f} spent ({self.source})"]
        lines += [f"  {flavor}: ${usd:.4f}" for flavor, usd in sorted(self.by_flavor.items())]
        if self.by_label:
            lines.append("  by label: " + ", ".join(f"{k} ${v:.4f}" for k, v in sorted(self.by_label.items())))
        lines.append(f"  running jobs may add up to ${self.running_may_add_usd:.2f}")
        for s in self.schedules:
            daily = "unknown" if s.daily_ceiling_usd is None else f"${s.daily_ceiling_usd:.2f}/day"
            lines.append(f"  schedule {s.id} {s.schedule!r}: at most {daily}")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def _overlap(start: datetime | None, end: datetime, since: datetime) -> float:
    """Seconds of [start, end] inside the window."""
    return 0.0 if start is None else max(0.0, (end - max(start, since)).total_seconds())


async def _billed(ctx: ToolContext, since: datetime, now: datetime, notes: list[str]) -> dict[str, tuple[str, float]]:
    """job id -> (flavor, USD in the window) from the billing-usage route."""
    usage = await ctx.client.jobs_usage()
    if since < usage.period_start:
        notes.append(f"the billing period started {iso(usage.period_start)}: usage before it is not in this report")
    out: dict[str, tuple[str, float]] = {}
    for d in usage.job_details:
        end = d.completed_at or now
        whole = max((end - d.started_at).total_seconds(), 1e-9)
        part = _overlap(d.started_at, end, since)
        if part > 0:
            out[d.job_id] = (d.hardware_flavor, d.total_cost_micro_usd / 1e6 * min(1.0, part / whole))
    return out


def _computed(
    jobs: list[JobInfo], hourly: dict[str, float], since: datetime, now: datetime
) -> dict[str, tuple[str, float]]:
    out: dict[str, tuple[str, float]] = {}
    for job in jobs:
        flavor = job.flavor or "cpu-basic"
        seconds = _overlap(job.started_at, job.finished_at or now, since)
        if seconds > 0:
            out[job.id] = (flavor, hourly.get(flavor, 0.0) * seconds / 3600)
    return out


async def spend_report(args: SpendReportArgs, ctx: ToolContext) -> SpendReportResult:
    now = datetime.now(UTC)
    since = now - timedelta(hours=args.hours)
    namespace = args.namespace or await ctx.client.namespace()
    jobs = await ctx.client.list_jobs(namespace=namespace, limit=MAX_JOBS_READ)
    hourly = await prices(ctx.client)
    notes: list[str] = []
    source: Literal["billing usage", "job list"] = "job list"
    spent: dict[str, tuple[str, float]] | None = None
    if ctx.client.has_token and namespace == await ctx.client.namespace():
        try:
            spent = await _billed(ctx, since, now, notes)
            source = "billing usage"
        except ApiError as exc:
            notes.append(f"the billing-usage route could not be read ({exc.message}); computed from the job list")
    else:
        notes.append("the billing-usage route covers your own account only: computed from the job list")
    if spent is None:
        spent = _computed(jobs, hourly, since, now)
    if len(jobs) >= MAX_JOBS_READ:
        notes.append(f"only the {MAX_JOBS_READ} newest jobs were read for labels and running jobs")
    missing = sorted({j.flavor for j in jobs if j.flavor and j.flavor not in hourly})
    if missing and source == "job list":
        notes.append(f"no listed price for {', '.join(missing)}: counted as free")

    labels_of = {j.id: j.labels for j in jobs}
    by_flavor: dict[str, float] = defaultdict(float)
    by_label: dict[str, float] = defaultdict(float)
    for job_id, (flavor, usd) in spent.items():
        by_flavor[flavor] += usd
        for key, value in (labels_of.get(job_id) or {}).items():
            if key != SUBMISSION_LABEL:
                by_label[f"{key}={value}"] += usd
    may_add = 0.0
    for job in jobs:
        if job.status.stage not in TERMINAL_STAGES:
            cost = cost_of(job, hourly.get(job.flavor or "cpu-basic"), now=now)
            may_add += max(0.0, (cost.ceiling_usd or 0.0) - (cost.so_far_usd or 0.0))
    schedules = []
    for sj in await ctx.client.list_scheduled_jobs(namespace=namespace):
        if sj.suspend:
            continue
        price = hourly.get(sj.job_spec.flavor or "cpu-basic")
        try:
            runs = max_runs_per_day(sj.schedule)
        except ScheduleError:
            runs = 0
        per_run = None if price is None else price * (sj.job_spec.timeout or DEFAULT_TIMEOUT_SECONDS) / 3600
        attempts = (sj.job_spec.retry or 0) + 1
        daily = None if per_run is None else round(per_run * attempts * runs, 4)
        schedules.append(ScheduleSpend(id=sj.id, schedule=sj.schedule, daily_ceiling_usd=daily))
    return SpendReportResult(
        namespace=namespace,
        since=iso(since) or "",
        source=source,
        spent_usd=round(sum(usd for _, usd in spent.values()), 6),
        by_flavor={k: round(v, 6) for k, v in by_flavor.items()},
        by_label={k: round(v, 6) for k, v in by_label.items()},
        jobs_counted=len(spent),
        running_may_add_usd=round(may_add, 4),
        schedules=schedules,
        notes=notes,
    )
