"""The result of the tools that show one job (inspect, cancel, rerun, trigger): the job priced, why it failed, and
what to call next."""

from __future__ import annotations

from pydantic import Field

from hfjobs_mcp.api import TERMINAL_STAGES, JobInfo
from hfjobs_mcp.api.models import VolumeInfo
from hfjobs_mcp.tools.base import ToolContext, ToolResult
from hfjobs_mcp.tools.failure import Failure, failure_of
from hfjobs_mcp.tools.views import JobView, job_views


class JobResult(ToolResult):
    job: JobView
    finished: bool = Field(description="True when the job reached a terminal stage.")
    failure: Failure | None = Field(default=None, description="Ended in ERROR or CANCELED: why, and what to do.")
    next_step: str

    def render(self) -> str:
        failure = f"\n{self.failure.render()}" if self.failure else ""
        return f"{self.job.render()}{failure}\n{self.next_step}"

    def written_ref(self) -> str | None:
        return f"{self.job.namespace}/{self.job.id}"


BILLING_URL = "https://huggingface.co/settings/billing"


def next_for(view: JobView, *, files: bool = False) -> str:
    """What to call next for a job in this state (``files``: it has a read-write bucket volume to read back)."""
    ref = f"'{view.namespace}/{view.id}'"
    if view.cancel_reason in ("NO_CREDITS", "NO_SUBSCRIPTION"):
        lack = "credits" if view.cancel_reason == "NO_CREDITS" else "a subscription"
        return (
            f"The job was canceled: namespace {view.namespace!r} has no {lack}. Add it at {BILLING_URL} "
            f"(or use a namespace that has it), then rerun_job {ref}."
        )
    if view.stage in {str(s) for s in TERMINAL_STAGES}:
        read = "fetch_logs, and what it wrote with list_job_files" if files else "fetch_logs"
        return f"The job is over ({view.stage}). Read its output with {read} (job_id {ref})."
    return f"The job is {view.stage}. Use wait_for_job or fetch_logs with follow_seconds (job_id {ref})."


def is_over(view: JobView) -> bool:
    return view.stage in {str(s) for s in TERMINAL_STAGES}


async def job_result(ctx: ToolContext, job: JobInfo) -> JobResult:
    """A job, priced, with why it failed when it did (one log read, only then)."""
    (view,) = await job_views(ctx.client, [job], endpoint=ctx.client.endpoint)
    step = next_for(view, files=writes_files(job))
    return JobResult(job=view, finished=is_over(view), failure=await failure_of(ctx, job), next_step=step)


def read_write_volumes(job: JobInfo) -> list[VolumeInfo]:
    """The job's read-write bucket volumes: where it can write files that list_job_files and read_job_file read."""
    return [v for v in job.volumes if v.type == "bucket" and v.read_only is not True]


def writes_files(job: JobInfo) -> bool:
    return bool(read_write_volumes(job))
