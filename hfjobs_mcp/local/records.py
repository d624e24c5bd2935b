"""What the backend stores: job specs, jobs, scheduled jobs and webhooks, as plain dataclasses.

Each record round-trips through JSON (``to_json`` / ``from_json``) for the SQLite store. Secret
*values* live here because a job, a re-run or a scheduled run needs them; they are never rendered
(see ``render``) and never logged.
"""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

SCHEDULING = "SCHEDULING"
RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
CANCELED = "CANCELED"
ERROR = "ERROR"
DELETED = "DELETED"
STAGES: tuple[str, ...] = (COMPLETED, CANCELED, ERROR, DELETED, RUNNING, SCHEDULING)
TERMINAL_STAGES: frozenset[str] = frozenset({COMPLETED, CANCELED, ERROR, DELETED})
ACTIVE_STAGES: tuple[str, ...] = (SCHEDULING, RUNNING)


def _known(cls: type, data: dict[str, Any]) -> dict[str, Any]:
    # Tolerate records written by another version: unknown keys are dropped, missing ones take defaults.
    names = {f.name for f in dataclasses.fields(cls)}
    return {k: v for k, v in data.items() if k in names}


@dataclass
class JobSpec:
    """A validated job specification (the request body of ``POST /api/jobs/{ns}``, snake_case)."""

    flavor: str
    command: list[str] = field(default_factory=list)
    arguments: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    docker_image: str | None = None
    space_id: str | None = None
    timeout_seconds: int | None = None
    attempts: int = 1
    labels: dict[str, str] = field(default_factory=dict)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    expose: dict[str, list[int]] | None = None
    ssh_enabled: bool = False
    arch: str | None = None
    resource_group_id: str | None = None

    @property
    def image(self) -> str | None:
        """What the log banner calls the image (a Space as ``hf.co/spaces/<id>``), or None."""
        if self.space_id:
            return f"hf.co/spaces/{self.space_id}"
        return self.docker_image

    def copy(self) -> JobSpec:
        return copy.deepcopy(self)

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobSpec:
        return cls(**_known(cls, data))


@dataclass
class JobRecord:
    """One job: its spec, who made it, and where it is in its lifecycle."""

    id: str
    namespace: str
    owner_type: str  # "user" | "org"
    created_by: str
    initiator: dict[str, Any]
    created_at: float
    spec: JobSpec
    stage: str = SCHEDULING
    message: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    failure_count: int = 0
    pid: int | None = None
    pgid: int | None = None
    schedule_id: str | None = None

    @property
    def terminal(self) -> bool:
        return self.stage in TERMINAL_STAGES

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobRecord:
        known = _known(cls, data)
        known["spec"] = JobSpec.from_json(known["spec"])
        return cls(**known)


@dataclass
class ScheduledRecord:
    """A scheduled job: a spec, a cron schedule, and what it last spawned."""

    id: str
    namespace: str
    owner_type: str
    created_by: str
    created_at: float
    schedule: str
    spec: JobSpec
    next_run_at: float
    suspend: bool = False
    concurrency: bool = False
    last_job_id: str | None = None
    last_job_at: float | None = None

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ScheduledRecord:
        known = _known(cls, data)
        known["spec"] = JobSpec.from_json(known["spec"])
        return cls(**known)


@dataclass
class WebhookRecord:
    """A webhook: stored and listed; the local backend has no repository events, so it never fires."""

    id: str
    owner: str
    created_at: float
    watched: list[dict[str, str]]
    domains: list[str]
    url: str | None = None
    job: JobSpec | None = None
    job_source_id: str | None = None
    secret: str | None = None
    disabled: bool = False

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WebhookRecord:
        known = _known(cls, data)
        if known.get("job") is not None:
            known["job"] = JobSpec.from_json(known["job"])
        return cls(**known)
