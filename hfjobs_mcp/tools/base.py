"""What a tool is, without MCP: an argument model, a result model, hints, and an async handler.

Every tool is declared once as a :class:`ToolDef`. The same pydantic model gives the MCP input schema and
validates the call, so schema and handler cannot drift apart. The server (the only module that imports the MCP
SDK) adapts these definitions; tests and benchmarks can drive handlers directly with a :class:`ToolContext`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from hfjobs_mcp.api import JobsClient
    from hfjobs_mcp.config import Settings
    from hfjobs_mcp.secret_shapes import Redactor
    from hfjobs_mcp.secrets import ConfirmationCodes, SecretSources

Toolset = Literal["jobs", "hardware", "scheduled", "webhooks"]
TOOLSETS: tuple[Toolset, ...] = ("jobs", "hardware", "scheduled", "webhooks")


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


ConsentState = Literal["planning", "approved", "declined", "cancelled", "unavailable", "not_asked"]


@dataclass(frozen=True)
class Consent:
    """What the user said before the handler ran (``not_asked`` for direct calls and clients never asked).

    ``planning`` is the server's dry pass that computes the question to ask: see :mod:`hfjobs_mcp.tools.consent`.
    """

    state: ConsentState = "not_asked"


@dataclass
class ToolContext:
    """What a handler may use: the API client, the settings, progress, and the secrets machinery.

    Built per call by the server from one shared base. ``local_files`` says whether reading a local script path
    is allowed (stdio only: over HTTP the caller's paths are not the server's). ``sources`` resolves secret
    names to values on the server's side; ``redactor`` masks every value that was or could be forwarded (and
    the server's own token) in anything returned; ``codes`` issues and redeems confirmation codes; ``consent``
    is what the user said through elicitation before this call ran.
    """

    client: JobsClient
    settings: Settings
    progress: ProgressSink = field(default=_no_progress)
    local_files: bool = False
    sources: SecretSources = field(default_factory=lambda: _default_sources())
    redactor: Redactor = field(default_factory=lambda: _default_redactor())
    codes: ConfirmationCodes = field(default_factory=lambda: _default_codes())
    consent: Consent = field(default_factory=Consent)

    def redact(self, text: str) -> str:
        """``text`` with every known secret value masked."""
        return self.redactor.redact(text)


def _default_sources() -> SecretSources:
    from hfjobs_mcp.secrets import SecretSources

    return SecretSources(environ={})


def _default_redactor() -> Redactor:
    from hfjobs_mcp.secret_shapes import Redactor

    return Redactor()


def _default_codes() -> ConfirmationCodes:
    from hfjobs_mcp.secrets import ConfirmationCodes

    return ConfirmationCodes()


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
    handler: Callable[[A, ToolContext], Awaitable[R]]
    needs_consent: bool = False
    """True for tools whose requests may forward secrets or spend above the threshold: the server asks first."""

    def input_schema(self) -> dict[str, Any]:
        """The published input schema: the argument model's, compacted (descriptions kept: the model reads them)."""
        from hfjobs_mcp.tools.schema import compact_root

        return compact_root(self.args.model_json_schema())

    def output_schema(self) -> dict[str, Any]:
        """The published output schema: the result model's, typed at the top level (see ``schema.shallow``)."""
        from hfjobs_mcp.tools.schema import shallow

        return shallow(self.result.model_json_schema())
