"""MCP resources: a job, its logs and metrics, a scheduled job, and the hardware price table.

People @-mention or attach these in Claude Code, VS Code and Claude Desktop without an agent turn. Each read goes
through the same handler as the tool that shows the same thing (``inspect_job``, ``fetch_logs``,
``fetch_metrics``, ``inspect_scheduled_job``, ``list_hardware``) with the caller's own context, and is presented by
the same function as a tool result (``present``: masked, then rendered), so a resource shows exactly what the
tool would: the same secrets masked, and only what the caller's token may read (over HTTP with ``--auth hf``, a
caller reading another namespace's job gets the Hub's refusal, as with ``inspect_job``).

Run and wait results carry ``resource_link`` content blocks to the job and its logs (:func:`job_links`): content
only, so ``tools/list`` (output schemas) does not grow. No subscriptions: a read is a snapshot.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import quote

from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError
from mcp_types import CallToolResult, ContentBlock, ResourceLink, TextContent
from pydantic import ValidationError

from hfjobs_mcp.errors import HfJobsError, NotFoundError
from hfjobs_mcp.workflows import Completes

if TYPE_CHECKING:
    from hfjobs_mcp.tools.base import ToolContext, ToolResult

logger = logging.getLogger("hfjobs_mcp.serve")

JOB = "hfjobs://jobs/{namespace}/{job_id}"
JOB_LOGS = "hfjobs://jobs/{namespace}/{job_id}/logs"
JOB_METRICS = "hfjobs://jobs/{namespace}/{job_id}/metrics"
SCHEDULED_JOB = "hfjobs://scheduled-jobs/{namespace}/{scheduled_job_id}"
HARDWARE = "hfjobs://hardware"
LOG_TAIL = 200  # lines of a log resource: the end of the output, as fetch_logs' tail
JSON = "application/json"

Present: TypeAlias = "Callable[[ToolResult, ToolContext], CallToolResult]"
"""How a tool result is shown (masked, rendered): the server's own, so a resource and a tool show the same."""

TEMPLATE_COMPLETIONS: dict[str, dict[str, Completes]] = {
    JOB: {"namespace": "namespace", "job_id": "job_id"},
    JOB_LOGS: {"namespace": "namespace", "job_id": "job_id"},
    JOB_METRICS: {"namespace": "namespace", "job_id": "job_id"},
    SCHEDULED_JOB: {"namespace": "namespace", "scheduled_job_id": "scheduled_job_id"},
}


def _uri(template: str, **values: str) -> str:
    out = template
    for name, value in values.items():
        out = out.replace("{" + name + "}", quote(value, safe=""))
    return out


def job_links(structured: Mapping[str, Any] | None) -> list[ContentBlock]:
    """``resource_link`` blocks to the job a result shows (its ``job``), its logs and metrics; none without one."""
    job = (structured or {}).get("job")
    if not isinstance(job, Mapping) or not job.get("id") or not job.get("namespace"):
        return []
    ns, job_id = str(job["namespace"]), str(job["id"])
    return [
        ResourceLink(
            uri=_uri(JOB, namespace=ns, job_id=job_id),
            name=f"job {ns}/{job_id}",
            description="The job: stage, times, cost, why it failed.",
            mime_type=JSON,
        ),
        ResourceLink(
            uri=_uri(JOB_LOGS, namespace=ns, job_id=job_id),
            name=f"logs of {ns}/{job_id}",
            description=f"The last {LOG_TAIL} lines of its output (secrets masked).",
            mime_type="text/plain",
        ),
    ]


def _text(shown: CallToolResult) -> str:
    return "\n".join(c.text for c in shown.content if isinstance(c, TextContent))


def served_templates(*, jobs: bool, scheduled: bool) -> dict[str, dict[str, Completes]]:
    """The templates :func:`add_resources` adds for these toolsets, and what each one's variables are completed
    from."""
    served = ([JOB, JOB_LOGS, JOB_METRICS] if jobs else []) + ([SCHEDULED_JOB] if scheduled else [])
    return {template: TEMPLATE_COMPLETIONS[template] for template in served}


RESOURCE_METHODS = frozenset(
    {"resources/list", "resources/templates/list", "resources/read", "resources/subscribe", "resources/unsubscribe"}
)


def on_first_resources_request(register: Callable[[], None]) -> ServerMiddleware[Any]:
    """Middleware: ``register`` the resources when the first ``resources/*`` request arrives.

    The SDK's resource decorator builds and validates an argument model per function: 4 ms of every start, before
    ``tools/list`` (start-up time), for resources many sessions never read. Completions need only
    :func:`served_templates`, and the advertised capabilities follow the flags, not the registry.
    """
    registered = False

    async def middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        nonlocal registered
        if not registered and ctx.method in RESOURCE_METHODS:
            registered = True  # one event loop: no request can come between this and the registration
            register()
        return await call_next(ctx)

    return middleware


def add_resources(
    server: MCPServer[Any],
    context: Callable[[], ToolContext],
    present: Present,
    *,
    jobs: bool,
    scheduled: bool,
    hardware: bool,
) -> None:
    """Add the resources of the served toolsets (see :func:`on_first_resources_request` for when)."""

    async def read(handler: Callable[[ToolContext], Awaitable[ToolResult]], what: str) -> CallToolResult:
        try:
            ctx = context()
        except HfJobsError as exc:  # a stdio server's first request could not connect (--local: the backend)
            raise ResourceError(_text(present_error(exc, lambda text: text))) from None  # no call yet: no secret
        ctx.redactor.refresh()
        try:
            result = await handler(ctx)
        except ValidationError:  # a variable the tool's own argument model refuses (the value is not repeated)
            raise ResourceNotFoundError(f"{what}: not a valid reference (letters, digits, '.', '_', '-')") from None
        except NotFoundError as exc:
            raise ResourceNotFoundError(_text(present_error(exc, ctx.redact))) from None
        except HfJobsError as exc:
            logger.info("resource %s: %s", what, type(exc).__name__)
            raise ResourceError(_text(present_error(exc, ctx.redact))) from None
        return present(result, ctx)

    def present_error(exc: HfJobsError, redact: Callable[[str], str]) -> CallToolResult:
        text = redact(exc.message) + (f"\n\nWhat to do: {redact(exc.hint)}" if exc.hint else "")
        return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)

    def as_json(shown: CallToolResult) -> str:
        return json.dumps(shown.structured_content, indent=1, ensure_ascii=False)

    if jobs:

        @server.resource(
            JOB_LOGS,
            name="job_logs",
            title="Job logs",
            description=f"The last {LOG_TAIL} lines a job printed, with timestamps; secret values masked.",
            mime_type="text/plain",
        )
        async def job_logs(namespace: str, job_id: str) -> str:
            # The tool's module on the first read, not before tools/list (start-up time).
            from hfjobs_mcp.tools.logs import FetchLogsArgs, fetch_logs

            ref = f"{namespace}/{job_id}"
            return _text(await read(lambda ctx: fetch_logs(FetchLogsArgs(job_id=ref, tail=LOG_TAIL), ctx), "job_logs"))

        @server.resource(
            JOB_METRICS,
            name="job_metrics",
            title="Job metrics",
            description="One sample of a running job's CPU, memory, network and GPU use (none once it ended).",
            mime_type=JSON,
        )
        async def job_metrics(namespace: str, job_id: str) -> str:
            # The tool's module on the first read, not before tools/list (start-up time).
            from hfjobs_mcp.tools.metrics import FetchMetricsArgs, fetch_metrics

            ref = f"{namespace}/{job_id}"
            return as_json(await read(lambda ctx: fetch_metrics(FetchMetricsArgs(job_id=ref), ctx), "job_metrics"))

        @server.resource(
            JOB,
            name="job",
            title="Hugging Face job",
            description="A job: stage and message, image, command, flavor, times, cost, and why it failed.",
            mime_type=JSON,
        )
        async def job(namespace: str, job_id: str) -> str:
            # The tool's module on the first read, not before tools/list (start-up time).
            from hfjobs_mcp.tools.args import JobRefArgs
            from hfjobs_mcp.tools.jobs import inspect_job

            ref = f"{namespace}/{job_id}"
            return as_json(await read(lambda ctx: inspect_job(JobRefArgs(job_id=ref), ctx), "job"))

    if scheduled:

        @server.resource(
            SCHEDULED_JOB,
            name="scheduled_job",
            title="Scheduled job",
            description="A scheduled job: its cron schedule, suspended or not, next and last run, what it runs.",
            mime_type=JSON,
        )
        async def scheduled_job(namespace: str, scheduled_job_id: str) -> str:
            # The tool's module on the first read, not before tools/list (start-up time).
            from hfjobs_mcp.tools.args import ScheduledRefArgs
            from hfjobs_mcp.tools.scheduled import inspect_scheduled_job

            ref = f"{namespace}/{scheduled_job_id}"
            return as_json(
                await read(
                    lambda ctx: inspect_scheduled_job(ScheduledRefArgs(scheduled_job_id=ref), ctx), "scheduled_job"
                )
            )

    if hardware:
        # A static resource cannot take the SDK's context; `context()` finds the caller without it.
        @server.resource(
            HARDWARE,
            name="hardware",
            title="Hardware and prices",
            description="Every hardware flavor with CPU, RAM, accelerator and price per hour (USD), cheapest first.",
            mime_type=JSON,
        )
        async def hardware_table() -> str:
            # The tool's module on the first read, not before tools/list (start-up time).
            from hfjobs_mcp.tools.hardware import ListHardwareArgs, list_hardware

            return as_json(await read(lambda ctx: list_hardware(ListHardwareArgs(), ctx), "hardware"))
