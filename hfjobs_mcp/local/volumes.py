"""A job's volumes, mounted where it asks: buckets from the backend's folders, repos from the local HF cache.

- ``bucket``: the bucket's folder (``buckets.store``), created on first use, or its ``path`` subfolder,
  which must exist (as on Hugging Face, where mounting a missing folder fails the job). Read-write
  unless ``readOnly``. The job's owner must be allowed the bucket's namespace.
- ``model``, ``dataset``, ``space``: the snapshot of ``revision`` (default ``main``, or a commit hash)
  in the local Hugging Face cache (``HF_HUB_CACHE``, ``$HF_HOME/hub``, ``~/.cache/huggingface/hub``),
  always read-only. The cache's snapshot folders hold relative links into the repo's ``blobs``, so the
  whole repo folder is mounted read-only under ``/run/hfjobs/volumes/<n>`` and the mount path is a link
  to the snapshot (or its ``path`` subfolder) there: every file resolves inside the sandbox.

Anything missing fails the job at start with :class:`VolumeError`, whose message names it and says how
to get it.

Without a sandbox (no bubblewrap: macOS, a machine where it is not installed) nothing can appear at
``/data``: the job runs as a plain process of this user. Rather than fail every job with a volume (every
uploaded UV script is one), the volume stays where it is on this machine and :func:`host_argv` rewrites
the command's arguments that name a path under a mount (``uv run /data/script.py`` runs the uploaded
file); the job's log says so, and that a path the program names itself (``open('/data/outputs/x')``)
does not exist here. Read-only is then not enforced either: the job can write whatever this user can.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .buckets import paths as bucket_paths
from .buckets.store import BucketNameError, BucketStore
from .sandbox import Bind, Link

REPO_FOLDER = {"model": "models", "dataset": "datasets", "space": "spaces"}
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_FORBIDDEN_MOUNTS = ("/proc", "/dev", "/usr", "/etc", "/jobs", "/run/hfjobs")


class VolumeError(Exception):
    """A volume that cannot be mounted; ``str(err)`` names what is missing and what to do."""


@dataclass
class Mounts:
    """What the sandbox must add for a job's volumes, and a line per volume for the log."""

    binds: list[Bind] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    writable: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    hosts: dict[str, str] = field(default_factory=dict)
    """Mount path -> the folder on this machine it shows, for running without a sandbox."""


def host_argv(argv: Sequence[str], hosts: Mapping[str, str]) -> list[str]:
    """``argv`` with each argument naming a path under a mount (or ``--opt=PATH``) pointed at its host folder.

    The innermost mount wins when mounts nest. Only whole path components match: ``/database`` is not
    under ``/data``.
    """
    targets = sorted(hosts, key=len, reverse=True)

    def one(path: str) -> str | None:
        for target in targets:
            if path == target or path.startswith(target.rstrip("/") + "/"):
                return hosts[target] + path[len(target) :]
        return None

    out: list[str] = []
    for arg in argv:
        moved = one(arg)
        if moved is None and arg.startswith("-") and "=" in arg:
            option, _, value = arg.partition("=")
            if (value_moved := one(value)) is not None:
                moved = f"{option}={value_moved}"
        out.append(arg if moved is None else moved)
    return out


def hf_cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where huggingface_hub keeps downloaded repos on this machine."""
    env = os.environ if environ is None else environ
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    return Path.home() / ".cache" / "huggingface" / "hub"


def mount_volumes(
    volumes: Sequence[Mapping[str, Any]],
    *,
    may_use: Callable[[str], bool],
    buckets: BucketStore,
    hf_cache: Path,
    now: float,
) -> Mounts:
    """Resolve every volume of a job, or raise :class:`VolumeError` for the first one that cannot be."""
    mounts = Mounts()
    seen: set[str] = set()
    for i, vol in enumerate(volumes):
        target = os.path.normpath(str(vol["mountPath"]))
        if target == "/" or any(target == p or target.startswith(p + "/") for p in _FORBIDDEN_MOUNTS):
            raise VolumeError(f"volume {i + 1}: mountPath {vol['mountPath']!r} is not allowed here; use e.g. /data")
        if target in seen:
            raise VolumeError(f"volume {i + 1}: two volumes are mounted at {target}")
        seen.add(target)
        if vol["type"] == "bucket":
            _bucket(vol, target, mounts, may_use=may_use, buckets=buckets, now=now)
        else:
            _repo(vol, target, i, mounts, hf_cache=hf_cache)
    return mounts


def _subpath(vol: Mapping[str, Any]) -> list[str]:
    raw = vol.get("path")
    if not raw:
        return []
    try:
        return bucket_paths.split(str(raw).strip("/"))
    except bucket_paths.BadPath as exc:
        raise VolumeError(f"{vol['type']} volume {vol['source']}: path {raw!r}: {exc}") from None


def _bucket(
    vol: Mapping[str, Any],
    target: str,
    mounts: Mounts,
    *,
    may_use: Callable[[str], bool],
    buckets: BucketStore,
    now: float,
) -> None:
    source = str(vol["source"])
    namespace, _, name = source.partition("/")
    if not namespace or not name or "/" in name:
        raise VolumeError(f"bucket volume {source!r}: the source must be 'namespace/bucket-name'")
    if not may_use(namespace):
        raise VolumeError(f"bucket volume {source}: you don't have access to namespace {namespace!r}")
    try:
        rec = buckets.ensure(namespace, name, now=now)
    except BucketNameError as exc:
        raise VolumeError(f"bucket volume {source}: {exc}") from None
    root = buckets.folder(rec.id)
    sub = _subpath(vol)
    if sub and not bucket_paths.is_dir(root, sub):
        raise VolumeError(
            f"bucket volume {source}: folder {'/'.join(sub)!r} does not exist in the bucket "
            "(upload a file under it first, as on Hugging Face)"
        )
    host = root.joinpath(*sub)
    writable = vol.get("readOnly") is not True
    mounts.binds.append(Bind(source=str(host), target=target, writable=writable))
    mounts.hosts[target] = str(host)
    if writable:
        mounts.writable.append(host)
    where = f"{source}/{'/'.join(sub)}" if sub else source
    mounts.lines.append(f"{target}: bucket {where} ({'read-write' if writable else 'read-only'})")


def _repo(vol: Mapping[str, Any], target: str, index: int, mounts: Mounts, *, hf_cache: Path) -> None:
    kind, source = str(vol["type"]), str(vol["source"])
    revision = str(vol.get("revision") or "main")
    if not source or source.startswith("/") or ".." in source.split("/") or source.count("/") > 1:
        raise VolumeError(f"{kind} volume {source!r}: the source must be 'namespace/name' (or 'name')")
    repo = hf_cache / f"{REPO_FOLDER[kind]}--{source.replace('/', '--')}"
    commit = revision if _COMMIT.match(revision) else _read_ref(repo, revision)
    snapshot = repo / "snapshots" / commit if commit else None
    if commit is None or snapshot is None or not snapshot.is_dir():
        flag = "" if kind == "model" else f" --repo-type {kind}"
        raise VolumeError(
            f"{kind} volume {source} at revision {revision} is not in the local Hugging Face cache ({hf_cache}): "
            f"download it first with `hf download {source}{flag} --revision {revision}`"
        )
    sub = _subpath(vol)
    if sub and not snapshot.joinpath(*sub).is_dir():
        raise VolumeError(f"{kind} volume {source}: folder {'/'.join(sub)!r} is not in the cached snapshot {commit}")
    inside = f"/run/hfjobs/volumes/{index}"
    mounts.binds.append(Bind(source=str(repo), target=inside, writable=False))
    points_to = "/".join([inside, "snapshots", commit, *sub])
    mounts.links.append(Link(path=target, points_to=points_to))
    mounts.hosts[target] = str(snapshot.joinpath(*sub))
    where = f"{source}/{'/'.join(sub)}" if sub else source
    mounts.lines.append(f"{target}: {kind} {where}@{revision} from the local cache (read-only)")


def _read_ref(repo: Path, revision: str) -> str | None:
    if ".." in revision.split("/") or revision.startswith("/"):
        return None
    try:
        commit = (repo / "refs" / revision).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return commit if _COMMIT.match(commit) else None
