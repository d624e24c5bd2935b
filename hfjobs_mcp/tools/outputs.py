"""A job's files back to the agent: ``list_job_files`` and ``read_job_file`` (read-only, part of ``jobs``).

A job can write to its read-write bucket volumes (``run_uv_job`` mounts one at ``/data``: the script's upload
folder). Those files are bucket files, read here with the caller's own token through the bucket API
(:mod:`hfjobs_mcp.api.artifacts`): paths are the job's own (``/data/outputs/metrics.json``), mapped to the volume's
bucket and folder. Only read-write bucket volumes are read (repos and read-only buckets are inputs, not outputs).

What a job wrote is shown as its logs are: the job's secrets are resolved first, and every known value is masked
(in names, text and parsed JSON). Text comes in windows of at most ``max_bytes`` with a byte ``cursor`` to read
on (:mod:`hfjobs_mcp.tools.textwindow`: no secret can be read in pieces across windows); JSON that fits in one
window comes parsed; a binary file gives its size, sha256 and the command that downloads it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any, Literal

from pydantic import Field, field_validator

from hfjobs_mcp.api import TERMINAL_STAGES
from hfjobs_mcp.api.artifacts import BucketEntry, BucketFiles
from hfjobs_mcp.api.models import JobInfo, VolumeInfo
from hfjobs_mcp.errors import NotFoundError
from hfjobs_mcp.policy.redaction import mask_tree
from hfjobs_mcp.tools.args import JobRefArgs
from hfjobs_mcp.tools.base import Hints, ToolContext, ToolDef, ToolResult, View
from hfjobs_mcp.tools.outcomes import read_write_volumes
from hfjobs_mcp.tools.textwindow import cut, margin

READ = Hints(read_only=True, destructive=False, idempotent=True)
MAX_LISTED = 200
MAX_HASHED_BYTES = 512 << 20
"""A binary file larger than this is not hashed here (that means downloading it whole): its Xet hash is given."""
HUB = "https://huggingface.co"


def check_job_path(value: str, what: str) -> str:
    """An absolute path inside the job, without ``.``/``..`` parts (a trailing ``/`` is dropped)."""
    if not value.startswith("/") or "\0" in value:
        raise ValueError(f"{what} must be an absolute path inside the job, e.g. '/data/outputs/metrics.json'")
    parts = [p for p in value.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"{what} must not contain '.' or '..' parts")
    return "/" + "/".join(parts)


class ListJobFilesArgs(JobRefArgs):
    """Arguments of list_job_files."""

    path: str | None = Field(default=None, description="Only under this folder.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        return None if value is None else check_job_path(value, "path")


class ReadJobFileArgs(JobRefArgs):
    """Arguments of read_job_file."""

    path: str = Field(min_length=1, description="e.g. '/data/outputs/metrics.json'.")
    cursor: int = Field(default=0, ge=0, description="Byte to read from (a result's `cursor`).")
    max_bytes: int = Field(default=20_000, ge=1, le=200_000, description="Most bytes of text returned.")

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        return check_job_path(value, "path")


class JobFile(View):
    path: str
    size: int
    mtime: str | None


class OutputVolume(View):
    mount_path: str
    bucket: str
    folder: str | None


class ListJobFilesResult(ToolResult):
    """The files of a job's read-write volumes."""

    job_id: str
    files: list[JobFile]
    volumes: list[OutputVolume] = Field(description="The job's read-write bucket volumes, where files are listed.")
    truncated: bool = Field(description="More files than listed: narrow with `path`.")
    next_step: str

    def render(self) -> str:
        if not self.volumes:
            return self.next_step
        where = ", ".join(
            f"{v.mount_path} (bucket {v.bucket}{'/' + v.folder if v.folder else ''})" for v in self.volumes
        )
        lines = [f"Files of job {self.job_id} in {where}:"]
        lines += [f"  {f.path}  {f.size} bytes  {f.mtime or ''}".rstrip() for f in self.files] or ["  (none)"]
        if self.truncated:
            lines.append(f"  … more files: narrow with `path` (at most {MAX_LISTED} are listed)")
        return "\n".join([*lines, self.next_step])


class ReadJobFileResult(ToolResult):
    """One window of a job's file: text, parsed JSON, or what a binary file is."""

    path: str
    size: int
    kind: Literal["text", "json", "binary"]
    text: str | None = Field(default=None, description="The file's text from the cursor asked for, secrets masked.")
    parsed: Any = Field(default=None, description="Kind json: the whole file, parsed (secrets masked).")
    cursor: int | None = Field(default=None, description="Pass it back to read on; null at the end of the file.")
    sha256: str | None = Field(default=None, description="Binary: the file's sha256 (null when too large to hash).")
    download: str | None = Field(default=None, description="Binary: a command that downloads it.")
    next_step: str

    def render(self) -> str:
        head = f"{self.path}: {self.size} bytes"
        if self.kind == "binary":
            digest = f"sha256 {self.sha256}" if self.sha256 else "too large to hash here"
            return f"{head}, binary ({digest}).\nDownload: {self.download}\n{self.next_step}"
        if self.kind == "json":
            return f"{head}, JSON:\n{json.dumps(self.parsed, indent=2, ensure_ascii=False)}\n{self.next_step}"
        return f"{head}:\n{self.text}\n{self.next_step}"


def _mount(v: VolumeInfo) -> str:
    return "/" + "/".join(p for p in v.mount_path.split("/") if p)


def _folder(v: VolumeInfo) -> str:
    return "/".join(p for p in (v.path or "").split("/") if p)


def _in_bucket(v: VolumeInfo, rel: str) -> str:
    return "/".join(p for p in (_folder(v), rel) if p)


def _volume_of(job: JobInfo, path: str) -> tuple[VolumeInfo, str]:
    """The read-write volume holding ``path`` (the deepest mount), and the path relative to its mount."""
    holding = [v for v in read_write_volumes(job) if path == _mount(v) or path.startswith(_mount(v).rstrip("/") + "/")]
    if not holding:
        mounts = ", ".join(_mount(v) for v in read_write_volumes(job)) or "none"
        raise NotFoundError(
            f"no file {path} for job {job.owner.name}/{job.id}: it is not in a read-write volume of the job "
            f"(its read-write volumes: {mounts})",
            status=404,
            hint="list_job_files shows the files the job can have written",
        )
    v = max(holding, key=lambda x: len(_mount(x)))
    return v, path[len(_mount(v)) :].strip("/")


def _when(value: datetime | None) -> str | None:
    if value is None:
        return None
    utc = value.astimezone(UTC) if value.tzinfo else value
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ref(job: JobInfo) -> str:
    return f"{job.owner.name}/{job.id}"


async def list_job_files(args: ListJobFilesArgs, ctx: ToolContext) -> ListJobFilesResult:
    job = await ctx.client.inspect_job(args.job_id)
    ctx.learn_job_secrets(job.secrets)
    ref = _ref(job)
    volumes = read_write_volumes(job)
    shown = [OutputVolume(mount_path=_mount(v), bucket=v.source, folder=_folder(v) or None) for v in volumes]
    if not volumes:
        return ListJobFilesResult(
            job_id=ref,
            files=[],
            volumes=[],
            truncated=False,
            next_step=(
                f"Job {ref} has no read-write bucket volume, so nothing it wrote can be read back. run_uv_job mounts "
                "/data read-write: write outputs under /data/outputs to read them back with read_job_file."
            ),
        )
    buckets = BucketFiles.of(ctx.client)
    wanted = None if args.path in (None, "/") else args.path
    files: list[JobFile] = []
    truncated = False
    for v in volumes:
        mount = _mount(v)
        if wanted is not None and not (
            wanted == mount or wanted.startswith(mount.rstrip("/") + "/") or mount.startswith(wanted + "/")
        ):
            continue
        if len(files) >= MAX_LISTED:
            truncated = True
            break
        rel = wanted[len(mount) :].strip("/") if wanted and len(wanted) > len(mount) else ""
        found, more = await buckets.list_files(v.source, _in_bucket(v, rel), limit=MAX_LISTED - len(files))
        truncated = truncated or more
        folder = _folder(v)
        for entry in found:
            inside = entry.path[len(folder) :].lstrip("/") if folder else entry.path
            path = ctx.redact(f"{mount.rstrip('/')}/{inside}")
            files.append(JobFile(path=path, size=entry.size, mtime=_when(entry.mtime)))
    running = job.status.stage not in TERMINAL_STAGES
    over = " It still runs: its files may change." if running else ""
    return ListJobFilesResult(
        job_id=ref,
        files=files,
        volumes=shown,
        truncated=truncated,
        next_step=f"Read one with read_job_file (job_id '{ref}', path).{over}",
    )


def _download(buckets: BucketFiles, bucket: str, path: str) -> str:
    name = PurePosixPath(path).name or "file"
    command = f"hf buckets cp {buckets.url(bucket, path)} ./{name}"
    return command if buckets.endpoint == HUB else f"HF_ENDPOINT={buckets.endpoint} {command}"


async def read_job_file(args: ReadJobFileArgs, ctx: ToolContext) -> ReadJobFileResult:
    job = await ctx.client.inspect_job(args.job_id)
    ctx.learn_job_secrets(job.secrets)
    ref = _ref(job)
    volume, rel = _volume_of(job, args.path)
    if not rel:
        raise NotFoundError(
            f"no file {args.path}: it is the volume's folder, not a file", status=404, hint="list_job_files lists it"
        )
    buckets = BucketFiles.of(ctx.client)
    where = _in_bucket(volume, rel)
    entry = await buckets.file_info(volume.source, where)
    if entry is None:
        raise NotFoundError(
            f"no file {args.path} in job {ref}'s volumes (a folder, a link or nothing is there)",
            status=404,
            hint="list_job_files shows the files that exist",
        )
    base: dict[str, Any] = {"path": args.path, "size": entry.size}
    if args.cursor >= entry.size:
        return ReadJobFileResult(
            **base,
            kind="text",
            text="",
            next_step="The end of the file: nothing more.",
        )
    m = margin(ctx.redactor)
    lo = max(0, args.cursor - m)
    hi = min(entry.size, args.cursor + args.max_bytes + m)
    data = await buckets.read_range(volume.source, where, lo, hi)
    window = cut(data, data_start=lo, size=entry.size, cursor=args.cursor, limit=args.max_bytes, redactor=ctx.redactor)
    if window is None:
        return await _binary(buckets, volume, where, entry, base)
    more = window.end < entry.size
    cursor = window.end if more else None
    if window.start == 0 and not more:
        parsed = _json(window.text, args.path)
        if parsed is not None:
            return ReadJobFileResult(
                **base,
                kind="json",
                parsed=mask_tree(parsed[0], ctx.redact),
                next_step="The whole file, parsed.",
            )
    return ReadJobFileResult(
        **base,
        kind="text",
        text=window.text,
        cursor=cursor,
        next_step=f"Bytes {window.start}-{window.end} of {entry.size}. "
        + (f"Read on with cursor={cursor}." if more else "The end of the file."),
    )


def _json(text: str, path: str) -> tuple[Any] | None:
    stripped = text.lstrip()
    if not (path.endswith(".json") or stripped[:1] in ("{", "[")):
        return None
    try:
        return (json.loads(text),)
    except ValueError:
        return None


async def _binary(
    buckets: BucketFiles, volume: VolumeInfo, where: str, entry: BucketEntry, base: dict[str, Any]
) -> ReadJobFileResult:
    digest = await buckets.sha256(volume.source, where) if entry.size <= MAX_HASHED_BYTES else None
    return ReadJobFileResult(
        **base,
        kind="binary",
        sha256=digest,
        download=_download(buckets, volume.source, where),
        next_step="Not text: download it with the command above (or list_job_files for other files).",
    )


TOOLS: tuple[ToolDef[Any, Any], ...] = (
    ToolDef(
        name="list_job_files",
        toolset="jobs",
        title="List a job's files",
        description=(
            "List the files in a job's read-write volumes (/data): path, size, time.\n"
            "Use it to find a job's outputs. Free. Next: read_job_file."
        ),
        args=ListJobFilesArgs,
        result=ListJobFilesResult,
        hints=READ,
        handler=list_job_files,
    ),
    ToolDef(
        name="read_job_file",
        toolset="jobs",
        title="Read a job's file",
        description=(
            "Read a file a job wrote: text from `cursor` (secrets masked), JSON parsed, a binary's sha256.\n"
            "Use it to get results (metrics.json, a report). Free. Next: read on with `cursor`."
        ),
        args=ReadJobFileArgs,
        result=ReadJobFileResult,
        hints=READ,
        handler=read_job_file,
    ),
)
