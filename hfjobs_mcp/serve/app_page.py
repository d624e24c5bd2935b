"""The MCP Apps job page (``ui://hfjobs-mcp/job``) and its app-only answer tool.

A tool has one ``_meta.ui.resourceUri``, so one page (``ui/job.html``) serves every bound tool: the approval card
when the result carries the plan of a request that needs a yes (:data:`APPROVAL_META`), the live job dashboard
when the result is a job, the result's text otherwise.
"""

from __future__ import annotations

import logging
from importlib.resources import files
from typing import Any

from mcp.server.apps import Apps
from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, TextContent, ToolAnnotations

from hfjobs_mcp.serve.context import ContextMaker
from hfjobs_mcp.tools.listing import Listed

logger = logging.getLogger("hfjobs_mcp.server")  # the name log lines have always shown

APP_URI = "ui://hfjobs-mcp/job"
APPROVAL_META = "io.github.hfjobs-mcp/approval"
ANSWER_TOOL = "answer_approval"


def bound_to_app(tool: Listed) -> bool:
    """Tools whose results the job page renders: requests that may need a yes, and results that are one job."""
    return tool.may_ask or tool.shows_job


def job_app(make_context: ContextMaker, *, approvals: bool) -> Apps:
    """The MCP Apps job page and its app-only tool (``_meta.ui.visibility: ["app"]``, hidden from the model).

    The card's buttons call :data:`ANSWER_TOOL`, which records the human's answer on the server, bound to the
    caller and to that exact request, single use and expiring (:class:`~hfjobs_mcp.policy.approvals.Approvals`);
    the dashboard keeps itself current through the server's existing read tools, and cancels through
    ``cancel_job``. ``approvals`` False (no selected tool can ask, e.g. ``--read-only``): the page without
    :data:`ANSWER_TOOL`.
    """
    apps = Apps()
    if approvals:
        _add_answer_tool(apps, make_context)
    html = files("hfjobs_mcp.ui").joinpath("job.html").read_text(encoding="utf-8")
    apps.add_html_resource(
        APP_URI,
        html,
        name="job",
        title="Hugging Face job",
        description=(
            "A live job dashboard (stage, logs, usage, cost, Cancel), or the approval card of a request that needs "
            "your yes (price, secrets, schedule...) with Approve and Reject."
        ),
        prefers_border=True,
    )
    return apps


def _add_answer_tool(apps: Apps, make_context: ContextMaker) -> None:
    @apps.tool(
        resource_uri=APP_URI,
        visibility=["app"],
        name=ANSWER_TOOL,
        description="The approval card's answer (app only).",
        annotations=ToolAnnotations(
            read_only_hint=False, destructive_hint=False, idempotent_hint=True, open_world_hint=False
        ),
    )
    async def answer_approval(approval_id: str, approve: bool, ctx: Context[Any, Any]) -> CallToolResult:
        context = make_context(ctx)
        outcome = context.approvals.answer(caller=context.principal, approval_id=approval_id, approve=approve)
        if outcome != "ok":
            why = {
                "unknown": "this approval is unknown (or belongs to someone else)",
                "expired": "this approval has expired; ask the agent to make the request again",
                "answered": "this approval was already answered",
            }[outcome]
            return CallToolResult(content=[TextContent(type="text", text=why)], is_error=True)
        said = "approved" if approve else "rejected"
        logger.info("approval card: the user %s a request", said)
        return CallToolResult(content=[TextContent(type="text", text=f"Recorded: {said}.")])


__all__ = ["ANSWER_TOOL", "APPROVAL_META", "APP_URI", "bound_to_app", "job_app"]
