"""Argument pieces shared by several tools: the job spec fields, UV script fields, ids, schedules.

Each tool's argument model is assembled from these mixins, so ``run_job`` and ``schedule_job`` cannot disagree
on what ``timeout`` or ``volumes`` mean. Field descriptions are what the model reads to fill them: they say the
accepted forms and the defaults.
"""

from __future__ import annotations

import re
import shlex
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator

from hfjobs_mcp.policy.cron import PRESETS, check_schedule
from hfjobs_mcp.tools.base import ToolArgs

DEFAULT_FLAVOR = "cpu-basic"
DEFAULT_UV_IMAGE = "ghcr.io/astral-sh/uv:python3.12-bookworm"
SCHEDULE_PRESETS = PRESETS

_ID_PART = r"[A-Za-z0-9][A-Za-z0-9._-]*"
_JOB_REF = re.compile(rf"^(?:{_ID_PART}/)?{_ID_PART}$")
_FLAVOR = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_LABEL_KEY = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_LABEL_VALUE = re.compile(r"^[A-Za-z0-9._-]{0,100}$")
_PYTHON = re.compile(r"^[0-9]+(\.[0-9]+){0,2}$")


def _check_label_filter(labels: dict[str, str]) -> dict[str, str]:
    # Labels can only hold these characters, so any other filter matches nothing; the API refuses it with a 400,
    # which means the request was sent for nothing (found by tests/reliability/test_fuzz_tools.py).
    for key, value in labels.items():
        if not _LABEL_KEY.match(key) or not _LABEL_VALUE.match(value):
            raise ValueError("labels: keys and values are letters, digits, '.', '_', '-' (at most 100 each)")
    return labels


LabelFilter = Annotated[dict[str, str], AfterValidator(_check_label_filter)]
"""A ``labels`` filter of a list tool: checked here, since the API answers 400 to one no label could match."""

_NAMESPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def _check_namespace(value: str | None) -> str | None:
    if value is not None and not _NAMESPACE.match(value):
        raise ValueError("namespace must be a user or organization name (letters, digits, '.', '_', '-')")
    return value


NamespaceField = Annotated[
    str | None,
    AfterValidator(_check_namespace),
    Field(default=None, description="Owner and payer (default you)."),
]
"""Checked by a validator rather than a schema ``pattern``: the same refusal, and 50 bytes less in each of the
eight tools that take it (``tools/list`` is paid for in every context)."""


ConfirmField = Annotated[
    str | None,
    Field(default=None, description="--confirm-via code only: the approved code."),
]


def check_ref(value: str, what: str) -> str:
    """A job or scheduled job reference, stripped: an id or 'namespace/id'."""
    value = value.strip()
    if not _JOB_REF.match(value):
        raise ValueError(f"{what} must be an id or 'namespace/id' (letters, digits, '.', '_', '-')")
    return value


class VolumeArg(ToolArgs):
    """A Hugging Face repo or bucket mounted into the job's container."""

    type: Literal["bucket", "model", "dataset", "space"]
    source: str = Field(min_length=1, description="Repo or bucket id.")
    mount_path: str = Field(description="Absolute, e.g. '/mnt'.")
    revision: str | None = Field(default=None, description="Branch, tag or commit.")
    read_only: bool | None = Field(default=None, description="Buckets only.")
    path: str | None = Field(default=None, description="Sub-folder to mount.")

    @field_validator("mount_path")
    @classmethod
    def _absolute(cls, value: str) -> str:
        # A validator, not a schema `pattern`: the same refusal, fewer bytes in four tools' schemas.
        if not value.startswith("/"):
            raise ValueError("mount_path must be an absolute path inside the job, e.g. '/mnt'")
        return value


class WatchedArg(ToolArgs):
    """A repository or account whose events trigger a webhook."""

    type: Literal["user", "org", "model", "dataset", "space", "bucket"] = Field(description="Kind of thing watched.")
    name: str = Field(min_length=1, description="Its name, e.g. 'alice' or 'alice/my-model'.")


class CommonSpecArgs(ToolArgs):
    """Fields every job spec has, whatever runs in it."""

    env: dict[str, str] = Field(
        default_factory=dict,
        description="Plain env vars (never secrets).",
    )
    secrets: list[str] = Field(
        default_factory=list,
        description="Env var NAMES to forward (user confirms), never values.",
    )
    flavor: str = Field(
        default=DEFAULT_FLAVOR,
        description="See list_hardware.",
    )
    timeout: str | int | None = Field(
        default=None,
        description="Seconds or '90s', '30m', '1.5h', '2d' (default 30m).",
    )
    labels: dict[str, str] = Field(default_factory=dict, description="Letters, digits, '.', '_', '-'.")
    volumes: list[VolumeArg] = Field(default_factory=list, description="Repos or buckets to mount.")
    expose: list[Annotated[int, Field(ge=1, le=65535)]] = Field(
        default_factory=list, max_length=20, description="Ports to expose over HTTPS."
    )
    name: str | None = Field(default=None, description="Job name.")
    namespace: NamespaceField
    attempts: int | None = Field(default=None, ge=1, description="Max attempts (first included).")
    dry_run: bool = Field(default=False, description="Only show the request and price.")
    confirm: ConfirmField

    @field_validator("flavor")
    @classmethod
    def _flavor_shape(cls, value: str) -> str:
        if not _FLAVOR.match(value):
            raise ValueError("flavor must be a hardware flavor name such as 'cpu-basic' or 't4-small'")
        return value


class ImageArgs(ToolArgs):
    """What a Docker-image job runs."""

    image: str = Field(
        min_length=1,
        description=("Docker image (e.g. 'python:3.12') or a Space ('hf.co/spaces/owner/name')."),
    )
    command: list[Annotated[str, Field(min_length=1)]] = Field(
        min_length=1,
        description="e.g. ['python', '-c', 'print(1)'] (a string is split as sh would).",
    )

    @field_validator("command", mode="before")
    @classmethod
    def _split_command(cls, value: object) -> object:
        # Agents often send a command line as one string; split it as `sh` would (quotes kept together), so
        # "python -c 'print(1)'" means ['python', '-c', 'print(1)'], not a one-word command.
        if isinstance(value, str):
            try:
                return shlex.split(value)
            except ValueError as exc:
                raise ValueError(f"command could not be split as a shell would ({exc})") from None
        return value


class UvScriptArgs(ToolArgs):
    """What a UV-script job runs."""

    script: str = Field(
        min_length=1,
        description="Python source (PEP 723 ok), an http(s) URL, a local path (stdio only) or a command name.",
    )
    script_args: list[str] = Field(default_factory=list)
    dependencies: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Packages (uv --with)."
    )
    python: str | None = Field(default=None, description="Python version, e.g. '3.12'.")

    @field_validator("python")
    @classmethod
    def _version(cls, value: str | None) -> str | None:
        if value is not None and not _PYTHON.match(value):
            raise ValueError("python must be a version such as '3.12' or '3.11.9'")
        return value

    image: str = Field(default=DEFAULT_UV_IMAGE, min_length=1, description="Image with uv in it.")
    files: list[Annotated[str, Field(min_length=1)]] = Field(
        default_factory=list, description="Local files or folders for /data (stdio only)."
    )
    file_texts: dict[str, str] = Field(default_factory=dict, description="More /data files as name -> text.")


class ScheduleArgs(ToolArgs):
    """When a scheduled job runs."""

    schedule: str = Field(
        min_length=1,
        description="UTC cron (e.g. '0 9 * * 1') or @hourly, @daily, @weekly, @monthly, @yearly.",
    )
    suspend: bool = Field(default=False, description="Create it suspended.")
    concurrency: bool = Field(default=False, description="Let runs overlap.")

    @field_validator("schedule")
    @classmethod
    def _valid_schedule(cls, value: str) -> str:
        # The same helper prices schedules: what is accepted here is priced, and one that never fires is refused.
        return check_schedule(value)


class JobRefArgs(ToolArgs):
    """Which job."""

    job_id: str = Field(min_length=1, description="Id or 'namespace/id'.")

    @field_validator("job_id")
    @classmethod
    def _ref(cls, value: str) -> str:
        return check_ref(value, "job_id")


class ScheduledRefArgs(ToolArgs):
    """Which scheduled job."""

    scheduled_job_id: str = Field(min_length=1, description="Id or 'namespace/id'.")

    @field_validator("scheduled_job_id")
    @classmethod
    def _ref(cls, value: str) -> str:
        return check_ref(value, "scheduled_job_id")
