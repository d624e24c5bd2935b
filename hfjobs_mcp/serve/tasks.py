"""Tasks (extension ``io.modelcontextprotocol/tasks``, 2026-07-28): ``wait_for_job`` as a task a client polls.

A client that declares the extension on a ``tools/call`` of ``wait_for_job`` gets a task handle at once instead of
a call held open until the job ends (MCP clients time calls out; ``--max-wait`` caps a plain wait). There is **no
task store**: the Hub job is the durable state, and the task id is the job reference sealed (AES-256-GCM, the
SDK's request-state codec) together with the caller's principal, the stage waited for and the creation time. Any
worker holding the deployment's key answers ``tasks/get`` by reading the job; ``tasks/cancel`` cancels it. An id
is refused (as an unknown task, ``-32602``) when it was tampered with, sealed under another key, or presented by
another caller than the one it was made for.

What the task reports is what ``wait_for_job`` returns, through the same code and the same masking: ``working``
while the job has not reached the stage waited for (its stage as the status message), then ``completed`` with the
tool's result (a tool error, e.g. a job no longer visible, is a completed task with an ``isError`` result, as the
spec says), or ``cancelled`` when the job ended CANCELED (unless CANCELED is the stage waited for).

Never a task: for a client that did not declare the extension on that request, on the 2025-11-25 protocol (the
extension's ``resultType: "task"`` cannot be carried there; that era's in-core tasks are not served), for any
other tool, and for a call whose arguments or job the tool itself refuses (the caller gets the tool's own
``isError`` result). The run tools are not tasks: none takes a ``wait`` argument (``tools/list`` has 41 bytes
left of its 30 kB budget), so a run's result is the started job, as for every client, after the consent gate.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding
from mcp.server.mcpserver.server import require_client_extension
from mcp.server.request_state import AESGCMRequestStateCodec, InvalidRequestState
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    CallToolRequestParams,
    CancelTaskRequestParams,
    GetTaskRequestParams,
    RequestParams,
)
from mcp_types.version import MODERN_PROTOCOL_VERSIONS

from hfjobs_mcp.errors import ForbiddenError, HfJobsError, NotFoundError
from hfjobs_mcp.serve.context import ContextFactory
from hfjobs_mcp.serve.resources import job_links
from hfjobs_mcp.serve.results import cut, error_result, success_result

if TYPE_CHECKING:
    from hfjobs_mcp.tools.base import ToolContext

IDENTIFIER = "io.modelcontextprotocol/tasks"
TASK_TOOL = "wait_for_job"
POLL_INTERVAL_MS = 2000  # wait_for_job's own polling backs off from 1 s to 5 s
_KIND = "hfjobs-mcp/task/v1"
_ONE_READ = 0.5  # a wait_for_job bounded to this returns after its first read of the job


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class TaskRef:
    """What a task id seals: whose task, which job, the stage waited for, when it was made."""

    principal: str
    job: str
    until: str | None
    created: str


class TaskIds:
    """Task ids: a :class:`TaskRef` sealed under the deployment's task key (encrypted: clients cannot read it)."""

    def __init__(self, key: bytes) -> None:
        self._codec = AESGCMRequestStateCodec([key])

    def mint(self, ref: TaskRef) -> str:
        payload = {"k": _KIND, "p": ref.principal, "j": ref.job, "u": ref.until, "c": ref.created}
        return self._codec.seal(json.dumps(payload, separators=(",", ":")).encode())

    def open(self, task_id: str, principal: str) -> TaskRef | None:
        """The task ``task_id`` names if it is genuine and ``principal``'s; None otherwise (never says which)."""
        try:
            payload = json.loads(self._codec.unseal(task_id))
        except (InvalidRequestState, ValueError):
            return None
        if not isinstance(payload, dict) or payload.get("k") != _KIND:
            return None
        owner = payload.get("p")
        if not isinstance(owner, str) or not hmac.compare_digest(owner.encode(), principal.encode()):
            return None
        return TaskRef(principal=owner, job=str(payload["j"]), until=payload.get("u"), created=str(payload["c"]))


class UpdateTaskRequestParams(RequestParams):
    """``tasks/update`` params; this server's tasks never ask for input, so the responses are ignored."""

    task_id: str
    input_responses: dict[str, Any] | None = None


def _unknown() -> MCPError:
    return MCPError(code=INVALID_PARAMS, message="Failed to retrieve task: Task not found")


class JobTasks(Extension):
    """The tasks extension for ``wait_for_job`` (see the module docstring)."""

    identifier = IDENTIFIER

    def __init__(
        self,
        *,
        current_context: ContextFactory,
        redact: Callable[[str], str],
        ids: TaskIds,
        can_cancel: bool,
        links: bool,
    ) -> None:
        self._context = current_context
        self._redact = redact
        self._ids = ids
        self._can_cancel = can_cancel
        self._links = links

    def methods(self) -> Sequence[MethodBinding]:
        modern = frozenset(MODERN_PROTOCOL_VERSIONS)
        return (
            MethodBinding("tasks/get", GetTaskRequestParams, self._get, protocol_versions=modern),
            MethodBinding("tasks/cancel", CancelTaskRequestParams, self._cancel, protocol_versions=modern),
            MethodBinding("tasks/update", UpdateTaskRequestParams, self._update, protocol_versions=modern),
        )

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        if params.name != TASK_TOOL or not declared(ctx):
            return await call_next(ctx)
        # The tool's module on the first task, not before tools/list (start-up time).
        from hfjobs_mcp.tools.arguments import parse_arguments
        from hfjobs_mcp.tools.waiting import WaitForJobArgs

        try:
            context = self._context()
            args = parse_arguments(WaitForJobArgs, dict(params.arguments or {}), tool=TASK_TOOL)
            job = await context.client.inspect_job(args.job_id)
        except HfJobsError:
            return await call_next(ctx)  # the tool refuses it again, with its own isError result
        ref = TaskRef(
            principal=context.principal, job=f"{job.owner.name}/{job.id}", until=args.until_stage, created=_now()
        )
        redact = _both(self._redact, context.redact)
        message = cut(redact(f"{ref.job}: {job.status.stage}"), 500)
        return {"resultType": "task", **self._task(self._ids.mint(ref), ref, "working"), "statusMessage": message}

    def _task(self, task_id: str, ref: TaskRef, status: str) -> dict[str, Any]:
        return {
            "taskId": task_id,
            "status": status,
            "createdAt": ref.created,
            "lastUpdatedAt": _now(),
            "ttlMs": None,  # the job is the state: the task lasts as long as the Hub keeps the job
            "pollIntervalMs": POLL_INTERVAL_MS,
        }

    def _open(self, ctx: ServerRequestContext[Any, Any], task_id: str) -> tuple[TaskRef, ToolContext]:
        require_client_extension(ctx, IDENTIFIER)  # -32021 for a client that did not declare the extension
        context = self._context()
        ref = self._ids.open(task_id, context.principal)
        if ref is None:
            raise _unknown()
        return ref, context

    async def _get(self, ctx: ServerRequestContext[Any, Any], params: GetTaskRequestParams) -> HandlerResult:
        # The tool's module on the first poll, not before tools/list (start-up time).
        from hfjobs_mcp.tools.waiting import WaitForJobArgs, wait_for_job

        ref, context = self._open(ctx, params.task_id)
        context.redactor.refresh()
        redact = _both(self._redact, context.redact)
        task = self._task(params.task_id, ref, "working")
        try:
            one_read = WaitForJobArgs(job_id=ref.job, timeout_seconds=_ONE_READ, until_stage=ref.until)  # type: ignore[arg-type]
            waited = await wait_for_job(one_read, context)
        except (NotFoundError, ForbiddenError) as exc:  # the job is gone, or no longer this caller's to see
            return {**task, "status": "completed", "result": _dump(error_result(exc, redact))}
        except HfJobsError as exc:  # the Hub could not answer now: this poll fails, the task goes on
            raise MCPError(code=INTERNAL_ERROR, message=cut(redact(exc.message), 500)) from None
        stage = waited.job.stage
        if stage == "CANCELED" and ref.until != "CANCELED":
            return {**task, "status": "cancelled", "statusMessage": f"{ref.job} was canceled"}
        if not waited.reached:
            return {**task, "statusMessage": cut(redact(f"{ref.job}: {stage}"), 500)}
        created = datetime.fromisoformat(ref.created.replace("Z", "+00:00"))
        waited.waited_seconds = round((datetime.now(UTC) - created).total_seconds(), 1)
        result = success_result(waited, redact)
        if self._links:
            result.content = [*result.content, *job_links(result.structured_content)]
        return {**task, "status": "completed", "result": _dump(result)}

    async def _cancel(self, ctx: ServerRequestContext[Any, Any], params: CancelTaskRequestParams) -> HandlerResult:
        ref, context = self._open(ctx, params.task_id)
        if not self._can_cancel:
            raise MCPError(code=INVALID_REQUEST, message="This server is read-only: it cannot cancel jobs.")
        try:
            await context.client.cancel_job(ref.job)
        except HfJobsError as exc:
            from hfjobs_mcp.api.models import TERMINAL_STAGES  # a model of the client, loaded by now (start-up time)

            try:
                ended = str((await context.client.inspect_job(ref.job)).status.stage) in TERMINAL_STAGES
            except HfJobsError:
                ended = False
            if not ended:
                redact = _both(self._redact, context.redact)
                raise MCPError(code=INTERNAL_ERROR, message=cut(redact(exc.message), 500)) from None
        return {}

    async def _update(self, ctx: ServerRequestContext[Any, Any], params: UpdateTaskRequestParams) -> HandlerResult:
        self._open(ctx, params.task_id)
        return {}


def declared(ctx: ServerRequestContext[Any, Any]) -> bool:
    """True if this request (2026-07-28) declares the tasks extension in its client capabilities."""
    if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
        return False
    capabilities = ctx.session.client_capabilities
    extensions: Mapping[str, Any] | None = capabilities.extensions if capabilities else None
    return bool(extensions) and IDENTIFIER in (extensions or {})


def _both(first: Callable[[str], str], second: Callable[[str], str]) -> Callable[[str], str]:
    return first if first == second else lambda text: second(first(text))


def _dump(result: Any) -> dict[str, Any]:
    return dict(result.model_dump(mode="json", by_alias=True, exclude_none=True))


__all__ = ["IDENTIFIER", "JobTasks", "TaskIds", "TaskRef", "declared"]
