"""Why a job failed, in one object: so an agent needs no second call to learn it in the common case.

A job that ended in ERROR or CANCELED gets a :class:`Failure`: its kind, the exit code, who canceled it, what the
stage message means and what to do, and the last traceback (or the last lines that look like errors, else the last
lines) of its log. The lines are masked like any output (the server masks every result).

Kinds, from the stage, the message and ``cancelReason``:

- ``oom``: exit code 137 (SIGKILL, which is what the out-of-memory killer sends) or a message that says so;
- ``timeout``: the message says the job timed out;
- ``no_credits``: canceled by the Hub for missing credits or subscription (``NO_CREDITS``, ``NO_SUBSCRIPTION``);
- ``canceled``: canceled by a person (no reason) or by the Hub for another reason (``canceled_by`` says which);
- ``image_pull``: the image could not be pulled;
- ``start_failure``: the command could not be started (e.g. executable not found);
- ``script_error``: the command exited with a non-zero code;
- ``error``: anything else.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from hfjobs_mcp.api import JobInfo
from hfjobs_mcp.errors import HfJobsError
from hfjobs_mcp.tools.base import ToolContext, View

FailureKind = Literal[
    "oom", "timeout", "no_credits", "canceled", "image_pull", "start_failure", "script_error", "error"
]
LOG_LINES_READ = 200
MAX_LINES_SHOWN = 30

_EXIT = re.compile(r"exit code:?\s*(-?\d+)", re.IGNORECASE)
_ERRORISH = re.compile(r"error|exception|fatal|killed|traceback|failed|denied|not found", re.IGNORECASE)
_WHAT_TO_DO: dict[str, str] = {
    "oom": "it ran out of memory: use a flavor with more RAM (list_hardware), or lower the batch size",
    "timeout": "it reached its timeout: raise `timeout`, or make the work shorter",
    "no_credits": "the namespace has no credits or subscription: add them in the billing settings, then rerun_job",
    "canceled": "it was canceled before it ended: rerun_job to start it again if that was not intended",
    "image_pull": "the image could not be pulled: check its name and that it is public (or reachable)",
    "start_failure": "the command could not be started: check that the executable exists in the image",
    "script_error": "the command failed: read the last lines below, fix the script, then run it again",
    "error": "read the last lines below and the stage message",
}


class Failure(View):
    """Why a job ended in ERROR or CANCELED."""

    kind: FailureKind
    exit_code: int | None = None
    canceled_by: Literal["user", "hub"] | None = Field(default=None, description="For a canceled job.")
    message: str | None = Field(default=None, description="The stage message.")
    what_to_do: str
    last_lines: list[str] = Field(default_factory=list, description="The last traceback or error lines of the log.")

    def render(self) -> str:
        code = f", exit code {self.exit_code}" if self.exit_code is not None else ""
        head = f"failure: {self.kind}{code}: {self.what_to_do}"
        return "\n".join([head, *(f"  | {line}" for line in self.last_lines)])


def classify(job: JobInfo) -> tuple[FailureKind, int | None, Literal["user", "hub"] | None]:
    """The kind, exit code and canceller of a job that ended in ERROR or CANCELED."""
    status = job.status
    message = status.message or ""
    match = _EXIT.search(message)
    code = int(match.group(1)) if match else None
    lowered = message.lower()
    if str(status.stage) == "CANCELED":
        reason = status.cancel_reason
        if reason in ("NO_CREDITS", "NO_SUBSCRIPTION"):
            return "no_credits", code, "hub"
        return "canceled", code, "hub" if reason else "user"
    if code == 137 or "out of memory" in lowered or "oomkilled" in lowered or "oom" in lowered.split():
        return "oom", code, None
    if "timed out" in lowered or "timeout" in lowered:
        return "timeout", code, None
    if "pull" in lowered and "image" in lowered:
        return "image_pull", code, None
    if "failed to start" in lowered:
        return "start_failure", code, None
    if code is not None:
        return "script_error", code, None
    return "error", code, None


def pick_lines(lines: list[str]) -> list[str]:
    """The last traceback to the end of the log; else the last error-looking lines; else the last lines."""
    starts = [i for i, line in enumerate(lines) if line.startswith("Traceback (most recent call last)")]
    if starts:
        return lines[starts[-1] :][-MAX_LINES_SHOWN:]
    errorish = [line for line in lines if _ERRORISH.search(line)]
    return (errorish or lines)[-MAX_LINES_SHOWN:]


async def failure_of(ctx: ToolContext, job: JobInfo) -> Failure | None:
    """The :class:`Failure` of ``job``, or None when it did not fail (not over, or COMPLETED)."""
    if str(job.status.stage) not in ("ERROR", "CANCELED"):
        return None
    kind, code, by = classify(job)
    lines: list[str] = []
    try:
        ctx.learn_job_secrets(job.secrets)
        lines = [line.text async for line in ctx.client.stream_logs(f"{job.owner.name}/{job.id}", tail=LOG_LINES_READ)]
    except HfJobsError:
        lines = []  # the log could not be read: the kind and message still say most of it
    # Mask, then pick: the lines are masked as the one text they form (a value printed across lines is found).
    return Failure(
        kind=kind,
        exit_code=code,
        canceled_by=by,
        message=job.status.message,
        what_to_do=_WHAT_TO_DO[kind],
        last_lines=pick_lines(ctx.redactor.redact_lines(lines)),
    )
