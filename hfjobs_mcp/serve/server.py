"""The MCP server: the selected tools, in their fixed order, as one ``MCPServer``.

Each tool is adapted by :mod:`hfjobs_mcp.serve.adapter`; tools whose results the job page renders are bound to
it (:mod:`hfjobs_mcp.serve.app_page`). The tools are registered from their published listing
(:mod:`hfjobs_mcp.tools.listing`, cached): the tool modules are imported on a tool's first call, not before
``tools/list`` (start-up time). The schemas are published without the ``confirm`` argument unless
``--confirm-via code``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.request_state import RequestStateSecurity

from hfjobs_mcp import __version__
from hfjobs_mcp.serve.adapter import both, sdk_tool
from hfjobs_mcp.serve.app_page import ANSWER_TOOL, APP_URI, APPROVAL_META, bound_to_app, job_app
from hfjobs_mcp.serve.capabilities import CACHE_HINTS, WEBSITE, honest_capabilities, icons
from hfjobs_mcp.serve.completions import install_completions
from hfjobs_mcp.serve.context import ContextFactory, LazyContext, call_context_maker
from hfjobs_mcp.serve.prompts import add_prompts
from hfjobs_mcp.serve.resources import add_resources, on_first_resources_request, served_templates
from hfjobs_mcp.serve.results import success_result
from hfjobs_mcp.serve.sdk_shim import keep_configured_logging
from hfjobs_mcp.serve.tasks import IDENTIFIER as TASKS
from hfjobs_mcp.serve.tasks import TASK_TOOL, JobTasks, TaskIds
from hfjobs_mcp.tools.listing import Listed, published_listing, select_listed, tool_named
from hfjobs_mcp.workflows import Facts

if TYPE_CHECKING:
    from hfjobs_mcp.tools.base import ToolContext

SERVER_NAME = "hfjobs-mcp"

INSTRUCTIONS = """\
Tools for Hugging Face Jobs: run Docker-image or UV-script jobs on Hugging Face hardware, schedule them with
cron, read their logs and metrics, wait for them, cancel them. Jobs cost money on paid hardware: call
list_hardware for prices and use dry_run to see the exact request and its price ceiling before running.
Secrets are passed by environment-variable NAME only, never by value."""


def _without_confirm(listed: Listed) -> Listed:
    """The schemas without the ``confirm`` argument, which only ``--confirm-via code`` servers use.

    A model shown a ``confirm`` field is invited to fill it; on a server that never issues codes it could only be
    a guess (ignored all the same: the argument model still accepts and the gate ignores it), and it costs
    ``tools/list`` bytes in every agent's context.
    """
    schema = listed.input
    if "confirm" not in schema.get("properties", {}):
        return listed
    properties = {k: v for k, v in schema["properties"].items() if k != "confirm"}
    return replace(listed, input={**schema, "properties": properties})


def build_server(
    base_context: ToolContext | LazyContext,
    *,
    toolsets: Sequence[str] | None = None,
    read_only: bool = False,
    caller_context: ContextFactory | None = None,
    request_state_security: RequestStateSecurity | None = None,
    task_key: bytes | None = None,
) -> MCPServer[Any]:
    """The MCP server with the selected tools, in their fixed order.

    ``base_context`` carries the API client and settings; each call gets a copy bound to its own progress sink. A
    :class:`~hfjobs_mcp.serve.context.LazyContext` (stdio) is made by the first request that needs it.
    ``caller_context`` (HTTP deployments, :mod:`hfjobs_mcp.serve.http.app`) returns the context of the caller of
    the current request instead, with that caller's client, secrets and redaction. ``request_state_security``
    carries the deployment's shared request-state key, so a 2026-07-28 elicitation round trip can land on another
    worker.
    """
    settings = base_context.settings
    base = base_context.get if isinstance(base_context, LazyContext) else lambda: base_context
    make_context = call_context_maker(base, caller_context)

    def current_context() -> ToolContext:
        return base() if caller_context is None else caller_context()

    def redact(text: str) -> str:  # what the base context knows (over HTTP: every caller's forwarded values)
        return base().redact(text)

    selected = select_listed(published_listing(), toolsets=toolsets, read_only=read_only)
    if settings.confirm_via != "code":
        selected = [_without_confirm(t) for t in selected]
    page = {"ui": {"resourceUri": APP_URI}}
    served_sets = {t.toolset for t in selected}
    tools = [
        sdk_tool(
            t,
            partial(tool_named, t.name, t),
            make_context,
            redact,
            meta=page if bound_to_app(t) else None,
            links="jobs" in served_sets,
        )
        for t in selected
    ]
    asks = any(t.may_ask for t in selected)
    extensions: list[Any] = [job_app(make_context, approvals=asks)] if any(bound_to_app(t) for t in selected) else []
    names = {t.name for t in selected}
    if TASK_TOOL in names:  # tasks/get, tasks/cancel: wait_for_job as a task, for clients that declare it
        ids = TaskIds(task_key or os.urandom(32))
        can_cancel = "cancel_job" in names
        extensions.append(
            JobTasks(current_context=current_context, redact=redact, ids=ids, can_cancel=can_cancel, links=True)
        )
    keep_configured_logging()
    server: MCPServer[Any] = MCPServer(
        SERVER_NAME,
        version=__version__,
        instructions=INSTRUCTIONS,
        tools=tools,
        request_state_security=request_state_security,
        extensions=extensions,
        website_url=WEBSITE,
        icons=icons(),
        cache_hints=CACHE_HINTS,
        subscriptions=False,
    )
    prompts = add_prompts(server, [t.name for t in selected], Facts(local_backend=settings.local))
    templates = served_templates(jobs="jobs" in served_sets, scheduled="scheduled" in served_sets)

    def register_resources() -> None:
        add_resources(
            server,
            current_context,
            lambda result, context: success_result(result, both(redact, context.redact)),
            jobs="jobs" in served_sets,
            scheduled="scheduled" in served_sets,
            hardware="hardware" in served_sets,
        )

    server.middleware.append(on_first_resources_request(register_resources))
    if prompts or templates:
        install_completions(server, current_context, prompts=prompts, templates=templates)
    resources = bool(templates) or "hardware" in served_sets or bool(extensions)
    server.middleware.append(
        honest_capabilities(
            prompts=bool(prompts),
            resources=resources,
            completions=bool(prompts or templates),
            modern_only=[TASKS],
        )
    )
    return server


__all__ = ["ANSWER_TOOL", "APPROVAL_META", "APP_URI", "SERVER_NAME", "build_server"]
