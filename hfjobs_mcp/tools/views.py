"""How jobs, scheduled jobs and flavors look to the model: compact result models and their text renderings.

Wire models carry everything the API sends; these views keep what an agent needs to decide its next step
(stage and its message, where to look, what it costs) in snake_case, with timestamps as ISO strings ending
in ``Z``. Each view renders to a few readable lines.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field

from hfjobs_mcp.api import HardwareFlavor, JobInfo, ScheduledJobInfo
from hfjobs_mcp.policy.pricing import HardwareSource
from hfjobs_mcp.tools.base import View
from hfjobs_mcp.tools.costs import JobCost, cost_of, prices


def iso(ts: datetime | None) -> str | None:
    """UTC timestamps as the Hub writes them (``2025-07-22T16:06:25.079Z``)."""
    if ts is None:
        return None
    utc = ts.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class JobView(View):
    """A job as the model sees it."""

    id: str
    namespace: str
    name: str | None = None
    stage: str
    message: str | None = Field(default=None, description="Why it is in this stage (e.g. the exit code).")
    flavor: str
    image: str | None = Field(default=None, description="Docker image, or 'hf.co/spaces/<id>' for a Space.")
    command: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict)
    secrets: list[str] = Field(default_factory=list, description="Names of the secrets the job has (never values).")
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    running_seconds: float | None = None
    timeout_seconds: float | None = None
    expose_urls: list[str] = Field(default_factory=list)
    cancel_reason: str | None = None
    initiator: str | None = Field(default=None, description="Who started it: user, scheduled-job, duplicated-job...")
    url: str = Field(description="Web page of the job.")
    cost: JobCost | None = Field(default=None, description="Price, ceiling, and cost so far or in all (USD).")

    @classmethod
    def of(cls, job: JobInfo, *, endpoint: str, price_per_hour: float | None = None, priced: bool = False) -> JobView:
        """The view of ``job``; ``priced``: with its cost at ``price_per_hour`` (None: the price is unknown)."""
        status = job.status
        image = job.docker_image or (f"hf.co/spaces/{job.space_id}" if job.space_id else None)
        initiator = None
        if job.initiator is not None:
            initiator = job.initiator.type + (f":{job.initiator.id}" if job.initiator.id else "")
        return cls(
            id=job.id,
            namespace=job.owner.name,
            name=(job.labels or {}).get("name"),
            stage=str(status.stage),
            message=status.message,
            flavor=job.flavor or "",
            image=image,
            command=list(job.command or []),
            labels=dict(job.labels or {}),
            secrets=list(job.secrets or []),
            created_at=iso(job.created_at),
            started_at=iso(job.started_at),
            finished_at=iso(job.finished_at),
            running_seconds=job.durations.running_secs if job.durations else None,
            timeout_seconds=job.timeout,
            expose_urls=list(status.expose_urls or []),
            cancel_reason=status.cancel_reason,
            initiator=initiator,
            url=f"{endpoint.rstrip('/')}/jobs/{job.owner.name}/{job.id}",
            cost=cost_of(job, price_per_hour) if priced else None,
        )

    def line(self) -> str:
        """One line: id, stage, flavor, name."""
        bits = [f"{self.namespace}/{self.id}", self.stage, self.flavor]
        if self.name:
            bits.append(f"name={self.name}")
        if self.message:
            bits.append(f"({self.message})")
        return "  ".join(bits)

    def render(self) -> str:
        lines = [self.line(), f"  image: {self.image}  command: {' '.join(self.command)}"]
        if self.secrets:
            lines.append(f"  secrets: {', '.join(self.secrets)}")
        if self.expose_urls:
            lines.append(f"  urls: {', '.join(self.expose_urls)}")
        when = [f"created {self.created_at}"]
        when.append(f"started {self.started_at}" if self.started_at else "not started yet")
        if self.finished_at:
            when.append(f"finished {self.finished_at}")
        lines.append("  " + "  ".join(when))
        if self.cost is not None:
            lines.append(f"  {self.cost.line()}")
        lines.append(f"  {self.url}")
        return "\n".join(lines)


async def job_views(source: HardwareSource, jobs: list[JobInfo], *, endpoint: str) -> list[JobView]:
    """Views of ``jobs`` with their costs, priced from the (cached) hardware list."""
    by_flavor = await prices(source)
    return [JobView.of(j, endpoint=endpoint, price_per_hour=by_flavor.get(j.flavor or ""), priced=True) for j in jobs]


class ScheduledJobView(View):
    """A scheduled job as the model sees it."""

    id: str
    namespace: str
    name: str | None = None
    schedule: str
    suspended: bool
    concurrency: bool
    next_run_at: str | None = None
    last_job_id: str | None = None
    last_run_at: str | None = None
    flavor: str
    image: str | None = None
    command: list[str] = Field(default_factory=list)
    secrets: list[str] = Field(default_factory=list)
    timeout_seconds: float | None = None

    @classmethod
    def of(cls, sj: ScheduledJobInfo) -> ScheduledJobView:
        spec = sj.job_spec
        image = spec.docker_image or (f"hf.co/spaces/{spec.space_id}" if spec.space_id else None)
        last = sj.status.last_job if sj.status else None
        return cls(
            id=sj.id,
            namespace=sj.owner.name,
            name=(spec.labels or {}).get("name"),
            schedule=sj.schedule,
            suspended=bool(sj.suspend),
            concurrency=bool(sj.concurrency),
            next_run_at=iso(sj.status.next_job_run_at) if sj.status else None,
            last_job_id=last.id if last else None,
            last_run_at=iso(last.at) if last else None,
            flavor=spec.flavor or "",
            image=image,
            command=list(spec.command or []),
            secrets=list(spec.secrets or []),
            timeout_seconds=spec.timeout,
        )

    def render(self) -> str:
        state = "suspended" if self.suspended else f"next run {self.next_run_at}"
        head = f"{self.namespace}/{self.id}  '{self.schedule}'  {state}  {self.flavor}"
        if self.name:
            head += f"  name={self.name}"
        body = f"  image: {self.image}  command: {' '.join(self.command)}"
        if self.last_job_id:
            body += f"\n  last run: {self.last_job_id} at {self.last_run_at}"
        return head + "\n" + body


class FlavorView(View):
    """A hardware flavor with its price."""

    name: str
    pretty_name: str
    kind: str = Field(description="cpu, gpu, or the accelerator type.")
    cpu: str
    ram: str
    accelerator: str | None = Field(default=None, description="e.g. '1x A10G (24GB)'.")
    price_per_hour_usd: float

    @classmethod
    def of(cls, hw: HardwareFlavor) -> FlavorView:
        acc = hw.accelerator
        return cls(
            name=hw.name,
            pretty_name=hw.pretty_name,
            kind="cpu" if acc is None else acc.type,
            cpu=hw.cpu,
            ram=hw.ram,
            accelerator=None if acc is None else f"{acc.quantity}x {acc.model} ({acc.vram})",
            price_per_hour_usd=round(hw.price_per_hour, 4),
        )
