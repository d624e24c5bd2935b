"""The result of the tools that show one job (inspect, cancel, rerun, trigger): the job priced, why it failed, and
what to call next."""

from __future__ import annotations

from pydantic import Field

from hfjobs_mcp.api import TERMINAL_STAGES, JobInfo
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


def next_for(view: JobView) -> str:
    """What to call next for a job in this state."""
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


def is_over(view: JobView) -> bool:
    return view.stage in {str(s) for s in TERMINAL_STAGES}


async def job_result(ctx: ToolContext, job: JobInfo) -> JobResult:
    """A job, priced, with why it failed when it did (one log read, only then)."""
    (view,) = await job_views(ctx.client, [job], endpoint=ctx.client.endpoint)
    return JobResult(job=view, finished=is_over(view), failure=await failure_of(ctx, job), next_step=next_for(view))
