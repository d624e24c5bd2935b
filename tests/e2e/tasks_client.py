"""A client side of the tasks extension (``io.modelcontextprotocol/tasks``) for the tests, on the SDK's extension API.

The SDK ships no tasks runtime (its tasks story is deferred); this is the client half of the extension as the
ext-tasks specification defines it: the extension declared in the client capabilities, a ``ResultClaim`` for the
``resultType: "task"`` shape of ``tools/call``, and ``tasks/get`` / ``tasks/cancel`` sent through the session
(``Mcp-Name`` carries the task id). ``Client.call_tool`` polls a task to its end and returns the tool's result.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import anyio
import mcp
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.client.session import ClientSession
from mcp_types import (
    CallToolResult,
    CancelTaskRequest,
    CancelTaskRequestParams,
    GetTaskRequest,
    GetTaskRequestParams,
    Result,
    TextContent,
)
from pydantic import ConfigDict

IDENTIFIER = "io.modelcontextprotocol/tasks"
TERMINAL = {"completed", "failed", "cancelled"}


class CreatedTask(Result):
    """``CreateTaskResult``: the task handle a ``tools/call`` may return."""

    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"] = "task"
    task_id: str
    status: str
    status_message: str | None = None
    created_at: str
    last_updated_at: str
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None


class DetailedTask(Result):
    """A ``tasks/get`` answer: the task, with its result (completed) or error (failed)."""

    model_config = ConfigDict(extra="allow")
    task_id: str
    status: str
    status_message: str | None = None
    created_at: str
    last_updated_at: str
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class _Get(GetTaskRequest):
    name_param = "taskId"


class _Cancel(CancelTaskRequest):
    name_param = "taskId"


class _Empty(Result):
    model_config = ConfigDict(extra="allow")


async def get_task(session: ClientSession, task_id: str) -> DetailedTask:
    return await session.send_request(_Get(params=GetTaskRequestParams(task_id=task_id)), DetailedTask)


async def cancel_task(session: ClientSession, task_id: str) -> None:
    await session.send_request(_Cancel(params=CancelTaskRequestParams(task_id=task_id)), _Empty)


class Tasks(ClientExtension):
    """Declares the extension; finishes a task by polling it (``max_poll`` caps the server's interval)."""

    identifier = IDENTIFIER

    def __init__(self, max_poll: float = 0.5) -> None:
        self.max_poll = max_poll
        self.created: list[CreatedTask] = []
        self.polls = 0

    def claims(self) -> Sequence[ResultClaim[Any]]:
        return (ResultClaim(result_type="task", model=CreatedTask, resolve=self._resolve),)

    async def _resolve(self, task: CreatedTask, ctx: ClaimContext) -> CallToolResult:
        self.created.append(task)
        while True:
            state = await get_task(ctx.session, task.task_id)
            self.polls += 1
            if state.status == "completed":
                assert state.result is not None
                return CallToolResult.model_validate(state.result)
            if state.status in TERMINAL:
                message = state.status_message or state.status
                return CallToolResult(content=[TextContent(type="text", text=message)], is_error=True)
            await anyio.sleep(min((state.poll_interval_ms or 1000) / 1000, self.max_poll))


def task_client(target: Any, tasks: Tasks, **kwargs: Any) -> mcp.Client:
    return mcp.Client(target, extensions=[tasks], **kwargs)
