"""The MCP prompts' workflows, as data: what a user asks for by name, written from what the tools really do.

Hosts turn prompts into slash commands (Claude Code, VS Code) or list them (fast-agent, Claude Desktop). Each
workflow here has typed arguments (a pydantic model: the same model describes the arguments and validates them),
says which argument is completed from what (:data:`Completes`), and a text in which every tool and tool argument
is written as ``[[tool]]`` or ``[[tool.argument]]``. Those references are what :func:`references` returns; the
server lists a workflow only when every tool it names is served, and a test checks each reference against the
tool registry, so a renamed tool or argument cannot leave a prompt pointing at nothing.

No MCP here: :mod:`hfjobs_mcp.serve.prompts` adapts these to the SDK.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

__all__ = [
    "WORKFLOWS",
    "Completes",
    "Facts",
    "Workflow",
    "WorkflowArgumentsError",
    "references",
]

Completes = Literal["flavor", "gpu_flavor", "job_id", "failed_job_id", "scheduled_job_id", "namespace"]
"""What a value is completed from: the hardware list (all, or GPU flavors), the recent jobs (failed ones first),
the scheduled jobs, the token's namespaces (:mod:`hfjobs_mcp.serve.completions`)."""

_REF = re.compile(r"\[\[([a-z_]+)(?:\.([a-z_]+))?\]\]")


class WorkflowArgumentsError(ValueError):
    """Arguments a workflow refuses; the message names each field and what it expects (never the value)."""


class _Args(BaseModel):
    # Prompt arguments arrive as strings: numbers are parsed from them (lax mode), unknown names are refused.
    # Built on the first prompts/get, not on import (start-up time).
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, str_strip_whitespace=True, defer_build=True)


@dataclass(frozen=True)
class Facts:
    """What the rendering may know of the server it is served by."""

    local_backend: bool = False
    """This server runs its jobs on the local backend (``--local``): free, on this machine."""


@dataclass(frozen=True)
class Workflow:
    """One prompt: its name (the slash command), title, description, argument model and text."""

    name: str
    title: str
    description: str
    args: type[_Args]
    text: str
    """``str.format`` template over the arguments (and ``{where}``), with ``[[tool]]`` / ``[[tool.arg]]`` markup."""
    completes: Mapping[str, Completes] = field(default_factory=dict)

    def arguments(self) -> list[tuple[str, str, bool]]:
        """(name, description, required) of each argument, in declaration order."""
        return [(name, f.description or "", f.is_required()) for name, f in self.args.model_fields.items()]

    def validate(self, arguments: Mapping[str, Any] | None) -> _Args:
        """The arguments parsed by the workflow's model, or an error naming each field (without its value)."""
        given = {k: v for k, v in (arguments or {}).items() if v not in (None, "")}
        try:
            return self.args.model_validate(given)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()
            )
            raise WorkflowArgumentsError(f"{self.name}: {problems}") from None

    def render(self, arguments: Mapping[str, Any] | None, facts: Facts = Facts()) -> str:
        """The prompt text for these arguments, references written as the tool and argument names."""
        parsed = self.validate(arguments)
        values = {k: ("not given" if v is None else v) for k, v in parsed.model_dump().items()}
        text = _REF.sub(lambda m: f"`{m.group(2) or m.group(1)}`", self.text)
        return text.format(**values, where=_where(facts)).strip()


def references(workflow: Workflow) -> set[tuple[str, str | None]]:
    """Every (tool, argument or None) the workflow's text names."""
    return {(m.group(1), m.group(2)) for m in _REF.finditer(workflow.text)}


def tools_named(workflow: Workflow) -> set[str]:
    return {tool for tool, _ in references(workflow)}


def _where(facts: Facts) -> str:
    if facts.local_backend:
        return (
            "This server runs jobs on the local Jobs backend (started with --local): jobs run as processes on this "
            "machine, cost nothing and need no token, so rehearse here."
        )
    return (
        "This server runs jobs on Hugging Face (billed). Rehearse with the same tools on a server started with "
        "`hfjobs-mcp --local` (often configured as `hf-jobs-local`) if the user has one; if not, rehearse with "
        "dry runs only and say so."
    )


# --- the workflows ----------------------------------------------------------------------------------------------


class FineTuneArgs(_Args):
    model: str = Field(min_length=1, description="Hub model id to fine-tune (text), e.g. Qwen/Qwen2.5-0.5B.")
    dataset: str = Field(min_length=1, description="Hub dataset id to train on (text), e.g. trl-lib/Capybara.")
    budget_usd: float = Field(gt=0, le=10_000, description="Most this run may cost, in USD (a number).")
    flavor: str | None = Field(default=None, description="GPU flavor (optional; completed from the hardware list).")
    output_repo: str | None = Field(default=None, description="Hub repo id to push the result to (optional text).")


class NightlyEvalArgs(_Args):
    model: str = Field(min_length=1, description="Hub model id to evaluate every night (text).")
    evaluation: str = Field(
        min_length=1, description="What to evaluate: a script URL, or the benchmark and metric in words (text)."
    )
    schedule: str = Field(default="0 2 * * *", description="Cron schedule in UTC (text; default 0 2 * * *).")
    flavor: str | None = Field(default=None, description="Hardware flavor (optional; completed from the list).")
    namespace: str | None = Field(default=None, description="Namespace that owns and pays (optional; completed).")


class DebugJobArgs(_Args):
    job_id: str = Field(min_length=1, description="The failed job: its id or namespace/id (completed).")


class SpendArgs(_Args):
    namespace: str | None = Field(default=None, description="Namespace to review (optional; default yours).")
    hours: int = Field(default=24, ge=1, le=24 * 31, description="Look back this many hours (a whole number).")


class RehearseArgs(_Args):
    task: str = Field(min_length=1, description="What the job should do, in words or as a script URL (text).")
    flavor: str | None = Field(
        default=None, description="The paid flavor it will use for real (optional; completed from the list)."
    )


WORKFLOWS: tuple[Workflow, ...] = (
    Workflow(
        name="fine_tune_with_trl",
        title="Fine-tune a model with TRL on a GPU, within a budget",
        description="Pick a GPU that fits the budget, check the price with a dry run, train with TRL, follow it.",
        args=FineTuneArgs,
        completes={"flavor": "gpu_flavor"},
        text="""
Fine-tune the model {model} on the dataset {dataset} with TRL on a Hugging Face GPU. The whole run must cost at
most {budget_usd} USD. Preferred flavor: {flavor} (if not given, choose). Push the result to: {output_repo} (if not
given, do not push).

1. Call [[list_hardware]] with [[list_hardware.kind]] "gpu" to get the GPU flavors and their price per hour. Pick
   the cheapest flavor whose GPU memory fits the model (about 2 bytes per parameter for the weights in bf16, plus
   room for activations; use LoRA through `peft` for models above about 3B parameters on one 24 GB GPU). Compute
   the longest run the budget allows: {budget_usd} / price per hour, in hours. Say both to the user.
2. Write one Python script for TRL's `SFTTrainer` (load {model} and {dataset}, train, save; push to the Hub only if
   a repo was given, with `push_to_hub` and `hub_model_id`). Give it its dependencies (`trl`, `transformers`,
   `datasets`, `accelerate`, and `peft` when using LoRA) in [[run_uv_job.dependencies]], or as PEP 723 metadata.
3. Call [[run_uv_job]] with the script inline in [[run_uv_job.script]], the chosen [[run_uv_job.flavor]], a
   [[run_uv_job.timeout]] no longer than the budget allows, [[run_uv_job.secrets]] ["HF_TOKEN"] only if pushing
   (secrets go by name, never by value), and [[run_uv_job.dry_run]] true. Check that the price ceiling it reports
   is at most {budget_usd} USD; if not, shorten the timeout or pick a cheaper flavor, and dry-run again.
4. Show the user the flavor, timeout and ceiling, then call [[run_uv_job]] again without [[run_uv_job.dry_run]].
   The server asks the user itself when the price or the secrets need a yes: never answer for them.
5. Follow the job with [[wait_for_job]] (call it again while it is still running). While it runs,
   [[fetch_metrics]] tells whether the GPU is busy; [[fetch_logs]] with [[fetch_logs.grep]] "loss" shows
   training progress.
6. When it ends, report: job id, flavor, duration, cost, the last loss values, and where the model is. If it ends
   in ERROR, read [[inspect_job]] and [[fetch_logs]] and propose a fix before running anything again.
""",
    ),
    Workflow(
        name="schedule_nightly_evaluation",
        title="Schedule a nightly evaluation, after one test run",
        description="Run the evaluation once, check its output, then schedule it and state its daily cost.",
        args=NightlyEvalArgs,
        completes={"flavor": "flavor", "namespace": "namespace"},
        text="""
Set up a nightly evaluation of {model}: {evaluation}. Schedule: {schedule} (cron, UTC). Flavor: {flavor} (if not given,
the cheapest that fits: [[list_hardware]]). Namespace: {namespace} (if not given, the user's own).

1. Write the evaluation as one Python script (inline) with its dependencies, printing one final line with the
   metric, e.g. `RESULT accuracy=0.83`.
2. Test it once: [[run_uv_job]] with the script in [[run_uv_job.script]], [[run_uv_job.flavor]],
   [[run_uv_job.namespace]] and a [[run_uv_job.timeout]] that fits (a dry run first with
   [[run_uv_job.dry_run]] true if the flavor is paid). Follow it with [[wait_for_job]] and read
   [[fetch_logs]] with [[fetch_logs.grep]] "RESULT".
3. Only if that run COMPLETED and printed the metric: call [[schedule_uv_job]] with the same script, flavor and
   timeout, [[schedule_uv_job.schedule]] "{schedule}" and [[schedule_uv_job.namespace]], first with
   [[schedule_uv_job.dry_run]] true. Tell the user the cost per day it reports before creating it.
4. Check the schedule with [[inspect_scheduled_job]]: say when the next run is.
5. If the test run failed, do not schedule anything: show the failing log lines and propose a fix.
""",
    ),
    Workflow(
        name="debug_failed_job",
        title="Debug a failed job",
        description="Find why a job failed from its status, its logs and its usage, and propose a fix.",
        args=DebugJobArgs,
        completes={"job_id": "failed_job_id"},
        text="""
Find out why the job {job_id} failed and propose a fix. Do not start, rerun or cancel anything unless the user
asks.

1. Call [[inspect_job]] with [[inspect_job.job_id]] "{job_id}": its stage, status message (exit code, timeout,
   cancellation), flavor, timeout and the failure summary it gives.
2. Call [[fetch_logs]] for the same job with [[fetch_logs.tail]] 200 to read the end of its output; look for the
   first error, not the last one: [[fetch_logs.grep]] "Traceback|Error|Killed" with [[fetch_logs.regex]] true
   finds them in a long log.
3. Classify it: a bug in the code or command (quote the failing lines); a missing dependency or image; a missing
   secret or permission (secrets are names: check the names, never ask for values); out of memory (look for
   "Killed", "CUDA out of memory"; compare the flavor's RAM and GPU memory in [[list_hardware]]); or a timeout
   (the status message says so; running time against the timeout).
4. Propose the smallest fix: the changed command or script, a bigger flavor with its price, or a longer timeout
   with its cost. A corrected run is a new run of the fixed job (a dry run first, to see its price); rerunning
   the job unchanged fits only a transient failure (a network error, a preempted machine).
""",
    ),
    Workflow(
        name="review_spend",
        title="Review a namespace's spend",
        description="What the namespace's jobs and schedules cost and may add, and what is paid for but idle.",
        args=SpendArgs,
        completes={"namespace": "namespace"},
        text="""
Namespace: {namespace} (if not given, the user's own). Review what it spent on Hugging Face Jobs in the last
{hours} hours, and what it may still spend.

1. Call [[spend_report]] with [[spend_report.namespace]] and [[spend_report.hours]] {hours}: the cost by flavor
   and label, the running jobs' ceilings and the schedules' daily ceilings.
2. List what is running with [[list_jobs]] and [[list_jobs.stages]] ["RUNNING"], and the schedules with
   [[list_scheduled_jobs]].
3. For each running job on paid hardware, sample its use with [[fetch_metrics]]: a GPU near 0% or a CPU near idle
   for minutes is paid for and unused.
4. Report: total spent, the three most expensive flavors or labels, what the running jobs and schedules may
   add per day, and idle or unexpectedly expensive items. Propose what to cancel or suspend, but change nothing
   unless the user says so.
""",
    ),
    Workflow(
        name="rehearse_locally",
        title="Rehearse a job on the local backend before paying",
        description="Run the job for free on this machine first, then check the real request and its price.",
        args=RehearseArgs,
        completes={"flavor": "flavor"},
        text="""
Rehearse this job before paying for it: {task}. It will run for real on the flavor {flavor} (if not given, choose
with [[list_hardware]]).

{where}

1. On the local backend, run it exactly as it will run for real (same image or script, command, environment,
   secret names) with [[run_job]] or [[run_uv_job]] and a short [[run_uv_job.timeout]]: the local backend
   records the flavor but runs on this machine's CPU, so keep the rehearsal small (a few steps, a data sample).
2. Follow it with [[wait_for_job]], read [[fetch_logs]] and, while it runs, [[fetch_metrics]] (memory use tells
   whether the real flavor has room). Fix and repeat until it COMPLETES.
3. On the real server, call the same tool with [[run_uv_job.dry_run]] true (or [[run_job.dry_run]]) and the real
   flavor and timeout: show the user the exact request and its price ceiling.
4. Run it for real only when the user says so.
""",
    ),
)
