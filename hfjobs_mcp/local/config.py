"""LocalConfig: every setting of one local Jobs backend instance, in one frozen value."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_TIMEOUT_SECONDS = 30 * 60
"""Jobs without ``timeoutSeconds`` are stopped after 30 minutes, as on Hugging Face."""


@dataclass(frozen=True, kw_only=True)
class LocalConfig:
    """Settings of a local backend.

    ``state_dir`` holds the SQLite database, the job logs and the jobs' working folders. ``token`` is
    the bearer token accepted; ``user`` and ``orgs`` are the namespaces it may use. ``extra_users``
    (``token -> (user, orgs)``) accepts more tokens, each for its own user, so that several users can
    share one backend (a multi-user MCP server's tests). ``port=0`` picks a free port. ``faults`` is a
    fault-injection spec (see ``hfjobs_mcp.local.faults``) or None.

    The remaining fields exist so tests run fast; their defaults are what a user wants.
    """

    state_dir: Path
    token: str
    user: str = "local-user"
    orgs: tuple[str, ...] = ()
    host: str = "127.0.0.1"
    port: int = 0
    faults: str | None = None
    extra_users: Mapping[str, tuple[str, tuple[str, ...]]] = field(default_factory=dict, repr=False)
    page_size: int = 50
    """Jobs per page of ``GET /api/jobs/{ns}``; further pages are linked with ``Link: rel="next"``."""
    keepalive_interval: float = 30.0
    """Seconds of silence after which an SSE stream sends ``: keep-alive``."""
    metrics_interval: float = 1.0
    """Seconds between two ``event: metric`` samples."""
    kill_grace_seconds: float = 5.0
    """Seconds between SIGTERM and SIGKILL when a job is canceled or times out."""
    default_timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS
    scheduler_tick: float = 1.0
    """Seconds between two looks at the scheduled jobs that are due."""
    clock: Callable[[], float] = field(default=time.time, repr=False)
    """Wall clock the scheduler and retention read (epoch seconds); tests swap in a fake one to make cron fire."""
    max_line_bytes: int = 64 * 1024
    """Longer log lines are split into pieces of this size."""
    hf_cache_dir: Path | None = None
    """The Hugging Face cache model, dataset and space volumes are served from (None: ``HF_HUB_CACHE``,
    ``$HF_HOME/hub`` or ``~/.cache/huggingface/hub``, read when a job starts)."""
    sandbox: str = "auto"
    """``auto``: run each job in a bubblewrap sandbox when one can be made (else say why, and run it plainly);
    ``require``: fail jobs that cannot be sandboxed; ``off``: never sandbox."""
    max_body_bytes: int = 1024 * 1024
    """Longer request bodies are refused with 413 (a job spec with a 64 KiB inline script is far below)."""
    keep_days: float = 30.0
    """Finished jobs are removed (rows, logs, folders) this many days after they ended (``inf``: never)."""
    keep_jobs: int = 10_000
    """At most this many finished jobs are kept: older ones are removed first."""
    housekeeping_interval: float = 3600.0
    """Seconds between two retention sweeps (one also runs at start); see ``retention``."""
    prune_uv_cache: bool = True
    """Whether the sweeps also run ``uv cache prune`` on the jobs' shared uv cache."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "state_dir", Path(self.state_dir))
        if not self.token:
            raise ValueError("LocalConfig.token must not be empty")
        if self.page_size < 1:
            raise ValueError("LocalConfig.page_size must be at least 1")
        if self.sandbox not in ("auto", "off", "require"):
            raise ValueError("LocalConfig.sandbox must be 'auto', 'off' or 'require'")
        if not self.keep_days > 0:
            raise ValueError("LocalConfig.keep_days must be more than 0 (inf keeps finished jobs forever)")
        if self.keep_jobs < 1:
            raise ValueError("LocalConfig.keep_jobs must be at least 1")
        if not self.housekeeping_interval > 0:
            raise ValueError("LocalConfig.housekeeping_interval must be more than 0")
        if any(not t for t in self.extra_users):
            raise ValueError("LocalConfig.extra_users: tokens must not be empty")

    def user_for_token(self, token: str) -> str | None:
        """The user a bearer token belongs to, or None; compared in constant time."""
        found = None
        for known, user in ((self.token, self.user), *((t, u) for t, (u, _) in self.extra_users.items())):
            if secrets.compare_digest(token.encode(), known.encode()):
                found = user
        return found

    def orgs_of(self, user: str) -> tuple[str, ...]:
        """The organisations ``user`` belongs to."""
        if user == self.user:
            return self.orgs
        return next((orgs for u, orgs in self.extra_users.values() if u == user), ())
