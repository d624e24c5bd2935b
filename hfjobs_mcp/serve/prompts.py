"""The workflows of :mod:`hfjobs_mcp.workflows` served as MCP prompts (``prompts/list``, ``prompts/get``).

A workflow is listed only when every tool it names is served (``--toolsets``, ``--read-only``): a prompt never
sends the model to a tool it cannot call. Arguments are validated by the workflow's own model; a refusal names
each field and what it expects.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.prompts.base import Message, Prompt, PromptArgument, UserMessage
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from hfjobs_mcp.workflows import WORKFLOWS, Completes, Facts, Workflow, WorkflowArgumentsError, tools_named


class _WorkflowPrompt(Prompt):
    """A prompt whose arguments are checked by its workflow first, so a refusal says which field and why.

    The SDK's own check of required arguments, and any error raised while rendering, reach the client as a
    generic internal error; here every refusal is an invalid-params error naming the fields.
    """

    workflow: Workflow
    facts: Facts

    async def render(self, arguments: dict[str, Any] | None, context: Any) -> Any:
        try:
            text = self.workflow.render(arguments, self.facts)
        except WorkflowArgumentsError as exc:
            raise MCPError(code=INVALID_PARAMS, message=str(exc)) from None
        return [UserMessage(text)]


def _prompt(workflow: Workflow, facts: Facts) -> Prompt:
    async def unused(**arguments: Any) -> list[Message]:  # rendering is the workflow's (see render above)
        raise NotImplementedError

    return _WorkflowPrompt(
        name=workflow.name,
        title=workflow.title,
        description=workflow.description,
        arguments=[
            PromptArgument(name=name, description=description, required=required)
            for name, description, required in workflow.arguments()
        ],
        fn=unused,
        context_kwarg=None,
        workflow=workflow,
        facts=facts,
    )


def served_workflows(served_tools: Collection[str]) -> list[Workflow]:
    """The workflows whose every named tool is among ``served_tools``."""
    return [w for w in WORKFLOWS if tools_named(w) <= set(served_tools)]


def add_prompts(
    server: MCPServer[Any], served_tools: Collection[str], facts: Facts
) -> dict[str, Mapping[str, Completes]]:
    """Add the served workflows as prompts; returns what each one's arguments are completed from."""
    workflows = served_workflows(served_tools)
    for workflow in workflows:
        server.add_prompt(_prompt(workflow, facts))
    return {w.name: w.completes for w in workflows}
