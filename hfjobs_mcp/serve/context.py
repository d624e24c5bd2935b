"""The context every tool call starts from (:func:`base_context`), and each call's own copy of it.

Tools see a :class:`~hfjobs_mcp.tools.base.ToolContext`, never the SDK's ``Context``: the server binds each call's
copy to that call's progress notifications (:func:`call_context_maker`), and over HTTP to the caller of the
request (its client, secrets and redaction).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeAlias

from mcp.server.mcpserver import Context

from hfjobs_mcp.config import Settings

if TYPE_CHECKING:
    from hfjobs_mcp.api import JobsClient
    from hfjobs_mcp.tools.base import ProgressSink, ToolContext

ContextFactory: TypeAlias = "Callable[[], ToolContext]"
"""Returns the context of the caller of the current request (HTTP deployments)."""

ContextMaker: TypeAlias = "Callable[[Context[Any, Any]], ToolContext]"
"""One call's context, from the SDK's context of that call."""


def base_context(settings: Settings, client: JobsClient, *, environ: Mapping[str, str] | None = None) -> ToolContext:
    """The context every tool call starts from (the server adds per-call progress and consent).

    The redactor knows, from the start, the server's own token and every value of the secrets file; values
    resolved from the environment join it when they are first resolved.
    """
    # The secrets machinery with the context, not on import: a stdio server makes its context on the first call
    # (:class:`LazyContext`, start-up time).
    from hfjobs_mcp.policy.approvals import Approvals
    from hfjobs_mcp.policy.redaction import Redactor, mask_logs
    from hfjobs_mcp.policy.sources import SecretSources
    from hfjobs_mcp.tools.base import ToolContext

    sources = SecretSources(
        environ=environ,
        secrets_file=settings.secrets_file,
        hf_token=client.token_secret,  # the token in use now (a refreshed browser login included)
        # Served over HTTP, the server's own environment is nobody's to forward (design §5.8).
        use_environment=settings.transport == "stdio",
    )
    redactor = Redactor(sources.file_values())
    client.on_new_token(lambda token: redactor.add([token.get_secret_value()]))
    mask_logs(redactor)
    return ToolContext(
        client=client,
        settings=settings,
        local_files=settings.transport == "stdio",
        sources=sources,
        redactor=redactor,
        approvals=Approvals(),
        principal="stdio" if settings.transport == "stdio" else "anyone",
    )


class LazyContext:
    """A server's base context, made when a request first needs it (``get``).

    Making it imports the API client and the secrets machinery (and opens the client): nothing ``initialize`` and
    ``tools/list`` need, and every session starts with those two, timed by the MCP client that launched the server
    (start-up time, issue 15). Nothing secret is handled before it exists, since no call has run. Requests are
    served on one event loop, so it is made once.
    """

    def __init__(self, settings: Settings, make: Callable[[], ToolContext]) -> None:
        self.settings = settings
        self._make = make
        self._made: ToolContext | None = None

    def get(self) -> ToolContext:
        if self._made is None:
            self._made = self._make()
        return self._made

    @property
    def made(self) -> ToolContext | None:
        """The context if a request made it (to close its client), else None."""
        return self._made


def _progress_sink(ctx: Context[Any, Any]) -> ProgressSink:
    async def sink(progress: float, total: float | None, message: str) -> None:
        await ctx.report_progress(progress, total, message)

    return sink


def call_context_maker(base: ContextFactory, caller_context: ContextFactory | None = None) -> ContextMaker:
    """Each call's context: the base context (or the current caller's, with ``caller_context``) bound to its
    progress."""

    def make_context(ctx: Context[Any, Any]) -> ToolContext:
        start = base() if caller_context is None else caller_context()
        return replace(start, progress=_progress_sink(ctx))

    return make_context


__all__ = ["ContextFactory", "ContextMaker", "LazyContext", "base_context", "call_context_maker"]
