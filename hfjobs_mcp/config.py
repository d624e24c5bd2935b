"""Settings: everything the server is configured with, validated once at start-up.

The command line fills these from flags and the environment; tests build them directly. The HF token is a
``SecretStr`` so that it never shows in a repr, a log line or a traceback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

Toolset = Literal["jobs", "hardware", "scheduled", "webhooks"]
TOOLSETS: tuple[Toolset, ...] = ("jobs", "hardware", "scheduled", "webhooks")
# Served unless --toolsets says otherwise: webhooks (whose events start paid runs with no limit) are opt-in, and
# the default tools/list stays within 30 kB of every agent's context (bench/run_all.py measures it).
DEFAULT_TOOLSETS: tuple[Toolset, ...] = ("jobs", "hardware", "scheduled")

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


class Settings(BaseModel):
    """The server's configuration.

    ``endpoint`` None means "as huggingface_hub finds it" (``HF_ENDPOINT``, else https://huggingface.co).
    ``token`` None means "as huggingface_hub finds it" (``HF_TOKEN``, ..., the token file); with ``local`` the
    local backend's own token is used instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    transport: Transport = "stdio"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    endpoint: str | None = None
    token: SecretStr | None = None
    namespace: str | None = None
    local: bool = False
    state_dir: Path | None = None
    read_only: bool = False
    toolsets: tuple[Toolset, ...] = DEFAULT_TOOLSETS
    max_follow_seconds: float = Field(default=MAX_FOLLOW_SECONDS, gt=0)
    max_wait_seconds: float = Field(default=MAX_WAIT_SECONDS, gt=0)
    # Secrets policy (design §5): how a request that forwards secret values gets the user's yes.
    secrets_policy: SecretsPolicy = "confirm"
    allow_secrets: tuple[str, ...] = ()
    secrets_file: Path | None = None
    # How a yes is asked for when the client has no elicitation (design §5.5): "client" = an MCP Apps approval
    # card, else refuse; "code" = also a confirmation code relayed by the agent (an explicit opt-in).
    confirm_via: ConfirmVia = "client"
    # Spending consent (design §5.1): above this price ceiling (USD per run, or per day for a schedule) the
    # user must say yes; hard caps refuse outright.
    confirm_above: float | None = Field(default=1.0, ge=0)  # None: never ask because of the price
    # Rolling budget: committed spend per namespace per 24 hours above which the user must say yes (None: none);
    # max_spend_per_day refuses outright instead.
    budget: float | None = Field(default=10.0, ge=0)
    max_spend_per_day: float | None = Field(default=None, ge=0)
    max_price_per_job: float | None = Field(default=None, ge=0)
    max_timeout: int | None = Field(default=None, gt=0)
    only_namespaces: tuple[str, ...] = ()
    allowed_namespaces: tuple[str, ...] = ()  # billed without asking, besides the default namespace
    # HTTP deployment (design §6, hfjobs_mcp.serve.http): who may call, which Host/Origin headers are accepted
    # besides loopback, the request body cap, uvicorn workers, and how long running calls may finish after SIGTERM.
    auth: AuthMode = "none"
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    workers: int = Field(default=1, ge=1)
    shutdown_grace_seconds: float = Field(default=60.0, gt=0)
