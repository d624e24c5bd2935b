"""Wire models: what the Jobs API sends back, parsed into typed objects.

camelCase on the wire, snake_case in Python (aliases); unknown keys are ignored so that a field the Hub adds
tomorrow does not break today's client. Only ``id``, ``status.stage`` and ``owner`` are required of a job, as
in ``huggingface_hub``: everything else may be missing on some response.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, NamedTuple, overload

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "TERMINAL_STAGES",
    "Accelerator",
    "GpuSample",
    "HardwareFlavor",
    "JobDurations",
    "JobExpose",
    "JobInfo",
    "JobInitiator",
    "JobOwner",
    "JobStage",
    "JobStatus",
    "LastJob",
    "LogBatch",
    "LogLine",
    "MetricsSample",
    "ScheduledJobInfo",
    "ScheduledJobSpec",
    "ScheduledJobStatus",
    "VolumeInfo",
    "WatchedItem",
    "WebhookInfo",
    "WhoAmI",
    "WhoAmIOrg",
]


class JobStage(StrEnum):
    """The stages a job goes through; members compare equal to their wire strings."""

    SCHEDULING = "SCHEDULING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    CANCELED = "CANCELED"
    ERROR = "ERROR"
    DELETED = "DELETED"


TERMINAL_STAGES: frozenset[str] = frozenset({JobStage.COMPLETED, JobStage.CANCELED, JobStage.ERROR, JobStage.DELETED})
"""A job in one of these stages will not change again (wire-protocol §5.2)."""


class _Wire(BaseModel):
    # defer_build: validators are built on first use, not at import (start-up speed).
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", defer_build=True)


def _names(value: Any) -> Any:
    """Secrets come back as a list of names; older responses used a ``{name: null}`` map."""
    if isinstance(value, dict):
        return list(value)
    return [] if value is None else value


class JobOwner(_Wire):
    id: str
    name: str
    type: str = "user"


class JobInitiator(_Wire):
    type: str
    id: str | None = None
    name: str | None = None


class JobStatus(_Wire):
    stage: str
    message: str | None = None
    expose_urls: list[str] = Field(default_factory=list)
    ssh_url: str | None = None
    cancel_reason: str | None = None
    failure_count: int | None = None


class JobDurations(_Wire):
    scheduling_secs: float | None = None
    running_secs: float | None = None
    total_secs: float | None = None


class VolumeInfo(_Wire):
    type: str
    source: str
    mount_path: str
    revision: str | None = None
    read_only: bool | None = None
    path: str | None = None


class JobExpose(_Wire):
    ports: list[int] = Field(default_factory=list)
    ports_public: list[int] = Field(default_factory=list)


class JobInfo(_Wire):
    """A job as ``GET /api/jobs/{ns}/{id}`` (and every job-returning route) describes it."""

    id: str
    status: JobStatus
    owner: JobOwner
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    docker_image: str | None = None
    space_id: str | None = None
    command: list[str] = Field(default_factory=list)
    arguments: list[str] = Field(default_factory=list)
    environment: dict[str, str] = Field(default_factory=dict)
    secrets: list[str] = Field(default_factory=list)
    flavor: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    volumes: list[VolumeInfo] = Field(default_factory=list)
    durations: JobDurations | None = None
    initiator: JobInitiator | None = None
    retry: int | None = None
    expose: JobExpose | None = None
    timeout: float | None = None

    _secret_names = field_validator("secrets", mode="before")(_names)

    @field_validator("labels", "environment", mode="before")
    @classmethod
    def _no_null_map(cls, value: Any) -> Any:
        return {} if value is None else value

    @property
    def finished(self) -> bool:
        return self.status.stage in TERMINAL_STAGES


class ScheduledJobSpec(_Wire):
    """The job spec a scheduled job runs, as echoed back (``timeout`` in seconds, secrets as names)."""

    docker_image: str | None = None
    space_id: str | None = None
    command: list[str] = Field(default_factory=list)
    arguments: list[str] = Field(default_factory=list)
    environment: dict[str, str] = Field(default_factory=dict)
    secrets: list[str] = Field(default_factory=list)
    flavor: str | None = None
    timeout: float | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    volumes: list[VolumeInfo] = Field(default_factory=list)
    expose: JobExpose | None = None
    retry: int | None = None

    _secret_names = field_validator("secrets", mode="before")(_names)


class LastJob(_Wire):
    id: str
    at: datetime


class ScheduledJobStatus(_Wire):
    last_job: LastJob | None = None
    next_job_run_at: datetime | None = None


class ScheduledJobInfo(_Wire):
    """A scheduled job (``/api/scheduled-jobs/...``)."""

    id: str
    owner: JobOwner
    schedule: str = ""
    suspend: bool = False
    concurrency: bool = False
    created_at: datetime | None = None
    status: ScheduledJobStatus = Field(default_factory=ScheduledJobStatus)
    job_spec: ScheduledJobSpec = Field(default_factory=ScheduledJobSpec)


class Accelerator(_Wire):
    type: str
    model: str
    quantity: str
    vram: str
    manufacturer: str | None = None

    @field_validator("quantity", "vram", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value


class HardwareFlavor(_Wire):
    """One entry of ``GET /api/jobs/hardware``; the price is per ``unit_label`` (a minute)."""

    name: str
    pretty_name: str
    cpu: str
    ram: str
    ephemeral_storage: str = "N/A"
    accelerator: Accelerator | None = None
    unit_cost_micro_usd: float = Field(alias="unitCostMicroUSD")
    unit_cost_usd: float = Field(alias="unitCostUSD")
    unit_label: str = "minute"

    @property
    def price_per_hour(self) -> float:
        """USD per hour, whatever the billing unit."""
        per_unit = {"second": 3600, "minute": 60, "hour": 1}.get(self.unit_label, 60)
        return self.unit_cost_usd * per_unit


class GpuSample(_Wire):
    utilization: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None


class MetricsSample(BaseModel):
    """One metrics event (snake_case on the wire too)."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    cpu_usage_pct: float | None = None
    cpu_millicores: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    rx_bps: float | None = None
    tx_bps: float | None = None
    gpus: dict[str, GpuSample] = Field(default_factory=dict)
    replica: str | None = None

    @field_validator("gpus", mode="before")
    @classmethod
    def _falsy_is_none(cls, value: Any) -> Any:
        return value or {}


class LogLine(NamedTuple):
    """One line a job printed, with the time the service recorded it."""

    timestamp: datetime
    text: str


_new_line = functools.partial(tuple.__new__, LogLine)  # LogLine((when, text)) without a Python-level __new__


class LogBatch(Sequence[LogLine]):
    """Consecutive lines of a log, held as two columns: what the log follower hands out, a chunk at a time.

    Why columns: a long log is hundreds of thousands of lines, replayed whole on every connection, and an object
    per line (a tuple the garbage collector tracks) cost more than reading the line did (bench/follow_throughput.py).
    ``texts`` and ``timestamps`` are plain lists a caller can use in bulk; indexing or iterating gives
    :class:`LogLine` objects, made on demand.
    """

    __slots__ = ("texts", "timestamps")

    def __init__(self, timestamps: list[datetime], texts: list[str]) -> None:
        self.timestamps = timestamps
        self.texts = texts

    def __len__(self) -> int:
        return len(self.texts)

    @overload
    def __getitem__(self, index: int) -> LogLine: ...

    @overload
    def __getitem__(self, index: slice) -> LogBatch: ...

    def __getitem__(self, index: int | slice) -> LogLine | LogBatch:
        if isinstance(index, slice):
            return LogBatch(self.timestamps[index], self.texts[index])
        return LogLine(self.timestamps[index], self.texts[index])

    def __iter__(self) -> Iterator[LogLine]:
        return map(_new_line, zip(self.timestamps, self.texts, strict=True))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LogBatch):
            return self.texts == other.texts and self.timestamps == other.timestamps
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable columns

    def __repr__(self) -> str:
        return f"LogBatch({len(self)} lines)"


class WatchedItem(_Wire):
    type: str
    name: str


class WebhookInfo(_Wire):
    id: str
    watched: list[WatchedItem] = Field(default_factory=list)
    domains: list[str] = Field(default_factory=list)
    url: str | None = None
    job: dict[str, Any] | None = None
    job_source_id: str | None = None
    disabled: bool = False


class JobUsage(_Wire):
    """One job in the billing period's usage (``GET /api/settings/billing/usage/jobs``)."""

    job_id: str
    hardware_flavor: str
    total_minutes: float
    total_cost_micro_usd: float = Field(alias="totalCostMicroUsd")
    started_at: datetime
    completed_at: datetime | None = None


class JobsUsage(_Wire):
    """The token user's Jobs usage in the current billing period."""

    used_micro_usd: float = Field(alias="usedMicroUsd")
    total_minutes: float
    period_start: datetime
    period_end: datetime
    job_details: list[JobUsage] = Field(default_factory=list)


class WhoAmIOrg(_Wire):
    name: str
    type: str = "org"


class WhoAmI(_Wire):
    name: str
    type: str = "user"
    orgs: list[WhoAmIOrg] = Field(default_factory=list)
