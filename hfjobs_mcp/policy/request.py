"""What a writing request will do, as facts the policy reviews and the user is shown.

A tool's plan phase describes its request with a :class:`Request`: who pays (namespace), what runs, what it can
cost (:class:`~hfjobs_mcp.policy.pricing.RunPrice`, with the schedule or the unbounded events that repeat it),
which secrets travel (named by the agent, or a job's stored secrets sent again), and everything else a person
would want to see before saying yes: exposed ports, mounted volumes with their mode, the files uploaded for the job
(where the job sees them, size, sha256, and where each comes from: inline text, a file of the server's disk, a
download), and the script of a UV job. The review (:mod:`hfjobs_mcp.policy.review`) and the question
(:mod:`hfjobs_mcp.policy.question`) are computed from these facts only, so what is asked is what is sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

from hfjobs_mcp.policy.pricing import RunPrice

SCRIPT_HEAD_LINES = 8
HEAD_LINE_CHARS = 300


def _cut(line: str) -> str:
    """A head line kept short: a one-line script can be hundreds of kilobytes."""
    return (
        line
        if len(line) <= HEAD_LINE_CHARS
        else f"{line[:HEAD_LINE_CHARS]}… (+{len(line) - HEAD_LINE_CHARS} characters)"
    )


@dataclass(frozen=True)
class ScriptFacts:
    """A UV job's script as the user should see it: how it was given, its first lines, size and sha256."""

    origin: str
    """'inline source', 'file <path> of the server's disk', or the URL it is fetched from."""
    size: int | None
    sha256: str | None
    head: tuple[str, ...] = ()
    settings: tuple[str, ...] = ()
    """Arguments its ``[tool.hf-jobs]`` table set (``flavor``, ``env.WANDB_PROJECT``, ``secrets.HF_TOKEN``...)."""

    @classmethod
    def of(cls, origin: str, source: bytes, *, settings: tuple[str, ...] = (), head: bool = True) -> ScriptFacts:
        """``head``: show its first lines. Not for a file of the server's disk: the question is also part of what
        the agent reads (a dry run, a refusal, an approval card's result), and any file can be named as a script."""
        text = source.decode("utf-8", errors="replace")
        return cls(
            origin=origin,
            size=len(source),
            sha256=hashlib.sha256(source).hexdigest(),
            head=tuple(_cut(line) for line in text.splitlines()[:SCRIPT_HEAD_LINES]) if head else (),
            settings=settings,
        )


@dataclass(frozen=True)
class UploadFacts:
    """A file uploaded for the job before it starts: where the job sees it, its size and sha256, its origin."""

    path: str
    """Where the job finds it, e.g. ``/data/config.yml``."""
    size: int
    sha256: str
    origin: str
    """'inline', 'file <path> of the server's disk', or 'downloaded from <url>'."""
    from_disk: bool = False
    """Read from the server's disk: its content leaves the machine, and the agent can read it back."""


@dataclass(frozen=True)
class VolumeFacts:
    """A repo or bucket mounted into the job, and whether the job may write to it."""

    type: str
    source: str
    mount_path: str
    read_only: bool
    revision: str | None = None

    @property
    def mode(self) -> Literal["read-only", "read-write"]:
        return "read-only" if self.read_only else "read-write"


@dataclass(frozen=True)
class Request:
    """One writing request, described for the review and the question."""

    tool: str
    action: str
    """What it does, in a few words: 'start a job', 'create a scheduled job', 'cancel job alice/abc'."""
    namespace: str
    runs: str = ""
    """What runs: the image and command, or the script; empty for requests that start nothing."""
    price: RunPrice | None = None
    """The most one run can cost; None when the request starts no paid work (cancel, suspend, delete)."""
    schedule: str | None = None
    unbounded: bool = False
    """True when runs start on outside events with no limit (webhooks)."""
    secrets: tuple[str, ...] = ()
    stored_secrets: bool = False
    """True when ``secrets`` are a job's stored secrets that this request sends again (rerun, trigger, resume)."""
    ports: tuple[int, ...] = ()
    volumes: tuple[VolumeFacts, ...] = ()
    uploads: tuple[UploadFacts, ...] = ()
    """Files uploaded (only once the request is approved) to ``upload_bucket`` for the job to read."""
    upload_bucket: str | None = None
    script: ScriptFacts | None = None

    def content_digest(self) -> str:
        """A hash of the content this request sends that its arguments only name (files read from disk or
        downloaded, the script): '' when there is none."""
        parts = [f"{f.path}\0{f.sha256}" for f in self.uploads]
        if self.script is not None and self.script.sha256:
            parts.append(f"script\0{self.script.sha256}")
        return hashlib.sha256("\n".join(parts).encode()).hexdigest() if parts else ""

    @property
    def daily_ceiling_usd(self) -> float | None:
        """The most a schedule can cost in 24 hours (None: not a schedule, or an unknown price)."""
        if self.schedule is None or self.price is None:
            return None
        return self.price.daily_ceiling_usd(self.schedule)

    @property
    def adds_usd(self) -> float | None:
        """What this request adds to the namespace's committed spend of the next 24 hours; None if unbounded."""
        if self.price is None:
            return 0.0
        if self.unbounded:
            return 0.0 if self.price.free else None
        if self.schedule is not None:
            return self.daily_ceiling_usd
        return self.price.ceiling_usd
