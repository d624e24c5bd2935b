"""What a tool is, without MCP: an argument model, a result model, hints, and its phases.

Every tool is declared once as a :class:`ToolDef`. The same pydantic model gives the MCP input schema and
validates the call, so schema and handler cannot drift apart. A read-only tool has one ``handler``. A tool that
writes has two phases (design §5.1): ``plan`` reads only (its :class:`PlanContext` holds a read-only view of the
API client) and returns a :class:`~hfjobs_mcp.policy.plan.Plan`; ``execute`` sends it. The server (the only
module that imports the MCP SDK) runs the consent gate between the two, in one place.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from hfjobs_mcp.config import TOOLSETS, Settings, Toolset
from hfjobs_mcp.tools.schema import compact_root, shallow

if TYPE_CHECKING:
    # Imported where used instead: the server lists its tools without the client and the policy modules
    # (start-up time, issue 15); a tool module brings them with its first call.
    from hfjobs_mcp.api import JobsClient
    from hfjobs_mcp.api.reader import JobsReader
    from hfjobs_mcp.policy.approvals import Approvals
    from hfjobs_mcp.policy.plan import Plan
    from hfjobs_mcp.policy.redaction import Redactor
    from hfjobs_mcp.policy.sources import SecretSources

__all__ = [
    "TOOLSETS",
    "Hints",
    "PlanContext",
    "ProgressSink",
    "ToolArgs",
    "ToolContext",
    "ToolDef",
    "ToolResult",
    "Toolset",
]


class ToolArgs(BaseModel):
    """Base of every tool's argument model.

    Unknown keys are refused (a misspelt argument must not be silently dropped), and validation errors never
    repeat the input: an agent that pasted a secret into the wrong field must not get it echoed back.
    """

    # defer_build: validators are built on first use, not at import (start-up speed: see bench/cold_start.py).
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True, defer_build=True)


class View(BaseModel):
    """Base of the models that shape results; built on first use rather than at import."""

    model_config = ConfigDict(defer_build=True)


class ToolResult(View):
    """Base of every tool's structured result.

    The structured content must stand on its own (some clients show the model only that); :meth:`render`
    is the short text rendering that goes beside it.
    """

    def render(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} must implement render()")

    def written_ref(self) -> str | None:
        """What a writing call created or acted on (named in the audit line); None when nothing."""
        return None


@dataclass(frozen=True)
class Hints:
    """The four MCP tool annotations, always all set explicitly.

    ``open_world`` is true for every tool here: they all act on an external service (Hugging Face, or the local
    backend standing in for it).
    """

    read_only: bool
    destructive: bool
    idempotent: bool
    open_world: bool = True


class ProgressSink(Protocol):
    """Where a long-running handler reports progress (the server maps it to MCP progress notifications)."""

    async def __call__(self, progress: float, total: float | None, message: str) -> None: ...


async def _no_progress(progress: float, total: float | None, message: str) -> None:
    """The default sink: progress goes nowhere (direct calls, benchmarks)."""


def _no_sources() -> SecretSources:
    from hfjobs_mcp.policy.sources import SecretSources  # made with a context, not on import (start-up time)

    return SecretSources(environ={})


def _new_redactor() -> Redactor:
    from hfjobs_mcp.policy.redaction import Redactor  # made with a context, not on import (start-up time)

    return Redactor()


def _new_approvals() -> Approvals:
    from hfjobs_mcp.policy.approvals import Approvals  # made with a context, not on import (start-up time)

    return Approvals()


@dataclass
class ToolContext:
    """What a handler may use: the API client, the settings, progress, and the secrets machinery.

    Built per call by the server from one shared base. ``local_files`` says whether reading a file of the server's
    disk is allowed, and fetching a script URL on the server (stdio only: over HTTP the caller's paths are not the
    server's, and a remote caller's URL is not the server's to fetch). ``sources`` resolves secret
    names to values on the server's side; ``redactor`` masks every value that was or could be forwarded (and the
    server's own token) in anything returned; ``approvals`` holds the yeses given through an approval card or a
    confirmation code; ``principal`` is who calls (approvals are bound to it).
    """

    client: JobsClient
    settings: Settings
    progress: ProgressSink = field(default=_no_progress)
    local_files: bool = False
    sources: SecretSources = field(default_factory=_no_sources)
    redactor: Redactor = field(default_factory=_new_redactor)
    approvals: Approvals = field(default_factory=_new_approvals)
    principal: str = "local"

    def redact(self, text: str) -> str:
        """``text`` with every known secret value masked."""
        return self.redactor.redact(text)

    def learn_job_secrets(self, names: list[str]) -> None:
        """Know the values of a job's secrets before showing anything it printed.

        A job's secrets come back as names only; the values this server would forward for them are resolved
        afresh on every read (so kept transient), and the deployment's other workers' values are refreshed.
        """
        self.redactor.add(self.sources.known_values(names), transient=True)
        self.redactor.refresh()

    def planning(self) -> PlanContext:
        """The context of this call's plan phase: the same, with a read-only view of the client."""
        from hfjobs_mcp.api.reader import JobsReader  # with the first plan, not before tools/list (start-up time)

        return PlanContext(
            reader=JobsReader(self.client),
            settings=self.settings,
            local_files=self.local_files,
            sources=self.sources,
            redactor=self.redactor,
        )


@dataclass(frozen=True)
class PlanContext:
    """What a plan may use: reads (``reader`` has no writing method), settings and the secret sources."""

    reader: JobsReader
    settings: Settings
    local_files: bool
    sources: SecretSources
    redactor: Redactor

    async def default_namespace(self, fallback: str) -> str:
        """The namespace billed when none is given: the token's user (``fallback`` without a token)."""
        return await self.reader.namespace() if self.reader.has_token else fallback


A = TypeVar("A", bound=ToolArgs)
R = TypeVar("R", bound=ToolResult)


@dataclass(frozen=True)
class ToolDef(Generic[A, R]):
    """One tool: its name, toolset, description, models, hints and handler.

    ``description`` says what the tool does, when to use it, what it costs and what to call next: it is all the
    model reads before choosing a tool.
    """

    name: str
    toolset: Toolset
    title: str
    description: str
    args: type[A]
    result: type[R]
    hints: Hints
    handler: Callable[[A, ToolContext], Awaitable[R]] | None = None
    """Read-only tools: the whole call."""
    plan: Callable[[A, PlanContext], Awaitable[Plan[Any]]] | None = None
    """Writing tools: what the call will send and why it needs a yes; reads only."""
    execute: Callable[[Plan[Any], ToolContext], Awaitable[R]] | None = None
    """Writing tools: send the plan, once the gate let it through."""
    may_ask: bool = False
    """Its requests can spend or forward secrets, so may need the user's yes: the approval card is bound to it."""
    shows_job: bool = False
    """Its result is one job: hosts with MCP Apps render it as the live job dashboard."""

    def __post_init__(self) -> None:
        phased = self.plan is not None and self.execute is not None
        if self.hints.read_only and (self.handler is None or self.plan is not None):
            raise TypeError(f"{self.name}: a read-only tool has a handler and no plan")
        if not self.hints.read_only and (not phased or self.handler is not None):
            raise TypeError(f"{self.name}: a writing tool has a plan and an execute phase, and no handler")

    def input_schema(self) -> dict[str, Any]:
        """The published input schema: the argument model's, compacted (descriptions kept: the model reads them)."""
        return compact_root(self.args.model_json_schema())

    def output_schema(self) -> dict[str, Any]:
        """The published output schema: the result model's, typed at the top level (see ``schema.shallow``)."""
        return shallow(self.result.model_json_schema())
