"""Settings: everything the server is configured with, validated once at start-up.

The command line is built from these fields (:class:`Flag`) and fills them from flags and the environment; tests
build them directly. The HF token is a ``SecretStr`` so that it never shows in a repr, a log line or a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Toolset = Literal["jobs", "hardware", "scheduled", "webhooks"]
TOOLSETS: tuple[Toolset, ...] = ("jobs", "hardware", "scheduled", "webhooks")
# Served unless --toolsets says otherwise: webhooks (whose events start paid runs with no limit) are opt-in, and
# the default tools/list stays within 30 kB of every agent's context (bench/run_all.py measures it).
DEFAULT_TOOLSETS: tuple[Toolset, ...] = ("jobs", "hardware", "scheduled")


def wanted_toolsets(toolsets: Sequence[str] | None) -> set[str]:
    """The toolsets asked for (the default ones when None).

    An unknown name is an error rather than an empty server: a typo in ``--toolsets`` must be loud.
    """
    wanted = set(DEFAULT_TOOLSETS if toolsets is None else toolsets)
    unknown = sorted(wanted - set(TOOLSETS))
    if unknown:
        raise ValueError(f"unknown toolset(s) {', '.join(unknown)}; choose from {', '.join(TOOLSETS)}")
    return wanted


Transport = Literal["stdio", "http"]
AuthMode = Literal["token", "hf", "none"]
SecretsPolicy = Literal["confirm", "strict", "allowlist", "deny"]
ConfirmVia = Literal["client", "code"]

# Caps on how long one tool call may block. MCP clients time calls out (often after 60 s unless progress
# arrives), and an agent can always call again with a cursor, so long waits are split rather than held open.
MAX_FOLLOW_SECONDS = 300.0
MAX_WAIT_SECONDS = 900.0

HOME_ENV = "HFJOBS_MCP_HOME"


def home_dir() -> Path:
    """The server's own folder: ``$HFJOBS_MCP_HOME``, else ``~/.cache/hfjobs-mcp``.

    The local backend keeps its jobs in ``local/`` (``hfjobs-mcp local`` finds the same folder with its own copy of
    this rule, :mod:`hfjobs_mcp.local` importing nothing from the rest of the package), the HTTP workers of one
    machine share their approvals in ``http/``.
    """
    home = os.environ.get(HOME_ENV)
    return Path(home).expanduser() if home else Path.home() / ".cache" / "hfjobs-mcp"


@dataclass(frozen=True)
class Flag:
    """Marks a :class:`Settings` field as an option of ``hfjobs-mcp serve``; :mod:`hfjobs_mcp.cli` builds it.

    The option is ``--<field-name-with-dashes>`` unless ``name`` says otherwise; its help is the field's
    description, its default the field's, and the field's type says how its text is read: choices for a
    ``Literal``, a switch for a ``bool``, comma-separated items for a tuple (or ``all`` for a tuple of choices),
    ``none`` for an optional number whose default is not None. Fields without a ``Flag`` are not on the command
    line (the token comes from the environment, never from the command line where ``ps`` would show it).
    """

    name: str | None = None  # the option, when it is not the field's name with dashes
    metavar: str | None = None
    http: bool = False  # listed under the HTTP deployment's options
    repeat: bool = False  # given once per item (``--allow-secret A --allow-secret B``), not comma-separated
    duration: bool = False  # seconds, written as a duration (``2h``, ``90m``, ``3600``)


class Settings(BaseModel):
    """The server's configuration: every default is here, once (the command line is built from these fields).

    ``endpoint`` None means "as huggingface_hub finds it" (``HF_ENDPOINT``, else https://huggingface.co).
    ``token`` None means "as huggingface_hub finds it" (``HF_TOKEN``, ..., the token file); with ``local`` the
    local backend's own token is used instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    transport: Annotated[Transport, Flag()] = Field(default="stdio", description="stdio, or streamable HTTP")
    host: Annotated[str, Flag()] = Field(default="127.0.0.1", description="HTTP bind address")
    port: Annotated[int, Flag()] = Field(default=8000, ge=0, le=65535, description="HTTP port")
    endpoint: Annotated[str | None, Flag()] = Field(
        default=None, description="Jobs API base URL (default: HF_ENDPOINT, else https://huggingface.co)"
    )
    token: SecretStr | None = None
    namespace: Annotated[str | None, Flag()] = Field(
        default=None, description="default user or org for jobs (default: the token's user)"
    )
    local: Annotated[bool, Flag()] = Field(
        default=False,
        description="use the local Jobs backend (started in the background if none runs): no token, no network, "
        "no cost",
    )
    state_dir: Annotated[Path | None, Flag()] = Field(
        default=None, description="local backend state (default $HFJOBS_MCP_HOME/local, else ~/.cache/hfjobs-mcp/local)"
    )
    read_only: Annotated[bool, Flag()] = Field(default=False, description="only tools that change nothing")
    toolsets: Annotated[tuple[Toolset, ...], Flag()] = Field(
        default=DEFAULT_TOOLSETS, description="the toolsets served"
    )
    max_follow_seconds: float = Field(default=MAX_FOLLOW_SECONDS, gt=0)
    max_wait_seconds: float = Field(default=MAX_WAIT_SECONDS, gt=0)
    # Secrets policy (design §5): how a request that forwards secret values gets the user's yes.
    secrets_policy: Annotated[SecretsPolicy, Flag()] = Field(
        default="confirm",
        description="how forwarding secrets is approved: confirm (asked through elicitation or an MCP Apps approval "
        "card), strict (elicitation only), allowlist (--allow-secret names without asking), deny (never)",
    )
    allow_secrets: Annotated[tuple[str, ...], Flag(name="--allow-secret", metavar="NAME", repeat=True)] = Field(
        default=(), description="a secret forwarded without asking, for --secrets-policy allowlist (repeat the option)"
    )
    secrets_file: Annotated[Path | None, Flag()] = Field(
        default=None, description="dotenv file of secret values the server may forward by name"
    )
    # How a yes is asked for when the client has no elicitation (design §5.5): "client" = an MCP Apps approval
    # card, else refuse; "code" = also a confirmation code relayed by the agent (an explicit opt-in).
    confirm_via: Annotated[ConfirmVia, Flag()] = Field(
        default="client",
        description="client: a yes comes only through the client (elicitation, an MCP Apps approval card); a client "
        "with neither is refused. code: such clients get a one-time code in the tool result instead, which TRUSTS "
        "THE AGENT to show it to you rather than approve itself",
    )
    # Spending consent (design §5.1): above this price ceiling (USD per run, or per day for a schedule) the
    # user must say yes; hard caps refuse outright. None: never ask because of the price.
    confirm_above: Annotated[float | None, Flag(metavar="USD|none")] = Field(
        default=1.0,
        ge=0,
        description="ask the user when a run may cost more (per run; per day for schedules); 0 asks for every paid "
        "job, none never asks for price",
    )
    # Rolling budget: committed spend per namespace per 24 hours above which the user must say yes (None: none);
    # max_spend_per_day refuses outright instead.
    budget: Annotated[float | None, Flag(metavar="USD|none")] = Field(
        default=10.0,
        ge=0,
        description="ask the user when a request would take a namespace's committed spend over 24 hours (what ran, "
        "the ceilings of running jobs and the daily ceilings of active schedules) above this",
    )
    max_spend_per_day: Annotated[float | None, Flag(metavar="USD")] = Field(
        default=None,
        ge=0,
        description="refuse requests that would take a namespace's committed spend over 24 hours above this",
    )
    max_price_per_job: Annotated[float | None, Flag(metavar="USD")] = Field(
        default=None, ge=0, description="refuse runs whose ceiling is above this"
    )
    max_timeout: Annotated[int | None, Flag(metavar="DURATION", duration=True)] = Field(
        default=None, gt=0, description="refuse longer timeouts (e.g. 2h, 90m, 3600)"
    )
    only_namespaces: Annotated[tuple[str, ...], Flag(metavar="NS,...")] = Field(
        default=(), description="refuse every other namespace"
    )
    allowed_namespaces: Annotated[tuple[str, ...], Flag(metavar="NS,...")] = Field(
        default=(), description="namespaces billed without asking, besides the default one"
    )
    # HTTP deployment (design §6, hfjobs_mcp.serve.http): who may call, which Host/Origin headers are accepted
    # besides loopback, the request body cap, uvicorn workers, and how long running calls may finish after SIGTERM.
    auth: Annotated[AuthMode, Flag(http=True)] = Field(
        default="none",
        description="token: one bearer token from HFJOBS_MCP_AUTH_TOKEN, calls use the server's HF token; hf: each "
        "caller's bearer token is its own Hugging Face token; none: loopback only",
    )
    allowed_hosts: Annotated[tuple[str, ...], Flag(metavar="HOSTS", http=True)] = Field(
        default=(), description="Host headers accepted besides loopback"
    )
    allowed_origins: Annotated[tuple[str, ...], Flag(metavar="ORIGINS", http=True)] = Field(
        default=(), description="Origin headers accepted besides loopback"
    )
    max_body_bytes: Annotated[int, Flag(http=True)] = Field(
        default=1024 * 1024, gt=0, description="request body cap in bytes"
    )
    workers: Annotated[int, Flag(http=True)] = Field(default=1, ge=1, description="uvicorn worker processes")
    shutdown_grace_seconds: Annotated[float, Flag(name="--shutdown-grace", metavar="SECONDS", http=True)] = Field(
        default=60.0, gt=0, description="on SIGTERM, let running calls finish for this long"
    )
    # OAuth (--auth hf, hfjobs_mcp.serve.oauth): the URL clients reach /mcp at (the resource a token is issued for;
    # default this server's own address) and the authorization server named in its metadata (default the Hub).
    public_url: Annotated[str | None, Flag(metavar="URL", http=True)] = Field(
        default=None,
        pattern=r"^https?://",
        description="the URL clients use for /mcp (e.g. https://mcp.example.com/mcp): the OAuth resource of --auth hf",
    )
    authorization_server: Annotated[str | None, Flag(metavar="URL", http=True)] = Field(
        default=None,
        pattern=r"^https?://",
        description="the OAuth authorization server --auth hf names (default: the Hub, --endpoint)",
    )
