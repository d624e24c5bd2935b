"""Tool outcomes as MCP results: a result model as structured content plus text, an error as an ``isError`` result.

Errors the model can act on (:class:`~hfjobs_mcp.errors.HfJobsError`) become ``isError`` results with a
structured ``error`` object; anything else is a bug and is left to the SDK, which reports it without leaking its
text. Everything shown is masked first, then cut, so a cut can never leave part of a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcp_types import CallToolResult, TextContent
from pydantic import ValidationError

from hfjobs_mcp.errors import ApprovalPending, ConfirmationRequired, HfJobsError, InvalidArgumentsError
from hfjobs_mcp.serve.app_page import APPROVAL_META

if TYPE_CHECKING:
    from hfjobs_mcp.tools.base import ToolResult

MAX_MESSAGE_CHARS = 2000  # an error message is cut here, after masking (an API may echo a whole request)


def cut(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters: only ever after masking, so a cut cannot leave part of a value."""
    return text if len(text) <= limit else text[:limit] + f"… [{len(text) - limit} more characters cut]"


def error_result(exc: HfJobsError, redact: Callable[[str], str] = lambda s: s) -> CallToolResult:
    """An ``isError`` result the model can act on: the message, what to do next, and the same as structure.

    Masked first, then cut: an API error that echoes a secret shows none of it, wherever the cut falls.
    """
    from hfjobs_mcp.policy.redaction import mask_tree  # with the first result, not before tools/list (start-up time)

    message = cut(redact(exc.message))
    hint = cut(redact(exc.hint)) if exc.hint else None
    text = f"{message}\n\nWhat to do: {hint}" if hint else message
    error: dict[str, Any] = {"type": type(exc).__name__, "message": message}
    if hint:
        error["hint"] = hint
    meta: dict[str, Any] | None = None
    if isinstance(exc, InvalidArgumentsError):
        error["problems"] = [mask_tree(dict(vars(p)), redact) for p in exc.problems]
    if isinstance(exc, ConfirmationRequired):  # --confirm-via code only: the agent relays the code
        error["plan"] = mask_tree(exc.plan, redact)
        error["confirm"] = exc.code
    if isinstance(exc, ApprovalPending):
        error["plan"] = mask_tree(exc.plan, redact)
        # The approval id goes only where the host hands it to the approval card, never where the model reads.
        meta = {APPROVAL_META: {"id": exc.approval_id, "tool": exc.tool, "plan": error["plan"]}}
    return CallToolResult(
        content=[TextContent(type="text", text=text)], structured_content={"error": error}, is_error=True, _meta=meta
    )


def success_result(result: ToolResult, redact: Callable[[str], str] = lambda s: s) -> CallToolResult:
    """Structured content from the result model, plus its short text rendering; known secrets masked in both.

    The data is masked before it is rendered (keys of mappings included): the text is the rendering of the masked
    result, masked once more as a whole (a value the rendering brought together).
    """
    from hfjobs_mcp.policy.redaction import mask_tree  # with the first result, not before tools/list (start-up time)

    data = mask_tree(result.model_dump(mode="json"), redact)
    try:
        shown = type(result).model_validate(data)
    except ValidationError:  # a masked field no longer fits its type: render the original, masked as a whole
        shown = result
    return CallToolResult(content=[TextContent(type="text", text=redact(shown.render()))], structured_content=data)


__all__ = ["MAX_MESSAGE_CHARS", "cut", "error_result", "success_result"]
