"""The files a UV job uploads: named, checked and hashed while planning, sent only once the request goes.

``hf jobs uv run`` (huggingface_hub 2.4, wire-protocol.md §8.3) uploads a script and the local files among its
arguments to a new folder of the private ``{namespace}/jobs-artifacts`` bucket, mounted read-write at ``/data``;
each file keeps its base name (spaces become ``_``, a name already taken gets ``(0)``, ``(1)``... before its
suffix). A local folder given as a volume (``./dir:/mnt``) goes to a folder of its own in the same bucket.

Here the plan reads and hashes every file (the user is asked about names, sizes and sha256, never a blob) and the
execute phase uploads them. What was approved is what is sent: a file of the disk is read again when it is
uploaded and refused if its sha256 changed since the plan. Nothing is uploaded by a plan or a dry run.

Names the agent chooses are paths inside the upload folder: relative, ``/``-separated, no ``.``/``..`` part, so
nothing can land outside the folder. Local paths are only read in stdio mode (over HTTP the caller's paths are
not the server's); inside a folder, links and special files are skipped, never followed.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import stat
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

import anyio.to_thread

from hfjobs_mcp.api import JobsClient, JobSpec, Volume
from hfjobs_mcp.api.artifacts import ARTIFACTS_BUCKET, ARTIFACTS_MOUNT, PENDING_FOLDER, BucketFiles, new_folder
from hfjobs_mcp.errors import InvalidRequestError
from hfjobs_mcp.policy.request import UploadFacts

MAX_FILES = 1000
MAX_TOTAL_BYTES = 2 << 30
KEEP_IN_MEMORY = 16 << 20
MEMORY_BUDGET = 64 << 20
"""At upload, files up to :data:`KEEP_IN_MEMORY` (within :data:`MEMORY_BUDGET` in all) are read again whole and
sent as the very bytes checked; the others are hashed again on the disk, then sent from it."""
_MAX_NAME = 1024
_BLOCK = 1 << 20


def check_name(name: str, what: str) -> str:
    """``name`` as a path inside the upload folder, or :class:`InvalidRequestError` saying why not."""
    if not name or len(name) > _MAX_NAME or "\0" in name or "\\" in name:
        raise InvalidRequestError(
            f"{what} {name[:80]!r} is not a usable file name; nothing was sent",
            hint="use e.g. 'config.yml' or 'inputs/train.csv'",
        )
    if name.startswith("/"):
        raise InvalidRequestError(
            f"{what} {name[:80]!r} is absolute; uploaded files go under {ARTIFACTS_MOUNT}; nothing was sent",
            hint=f"give a relative name such as 'config.yml' (the job reads {ARTIFACTS_MOUNT}/config.yml)",
        )
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts) or any(len(p.encode()) > 255 for p in parts):
        raise InvalidRequestError(
            f"{what} {name[:80]!r} has an empty, '.' or '..' part (or one over 255 bytes); nothing was sent",
            hint="give a plain relative name such as 'config.yml' or 'inputs/train.csv'",
        )
    return name


@dataclass(frozen=True)
class Upload:
    """One file to upload: its name in its folder, size, sha256, origin, and where its bytes are."""

    name: str
    size: int
    sha256: str
    origin: str
    data: bytes | None = field(default=None, repr=False)
    local: Path | None = None

    def source(self, *, in_memory: bool) -> bytes | Path:
        """What to hand the uploader, checked against the planned sha256 (blocking: run in a thread)."""
        if self.data is not None:
            return self.data
        assert self.local is not None
        try:
            if in_memory:
                data = self.local.read_bytes()
                digest = hashlib.sha256(data).hexdigest()
            else:
                data, digest = None, _hash_file(self.local)[1]
        except OSError as exc:
            raise InvalidRequestError(
                f"{self.local} could not be read any more ({exc.strerror}); nothing was uploaded or started",
                hint="check the file and call again",
            ) from None
        if digest != self.sha256:
            raise InvalidRequestError(
                f"{self.local} changed since the request was planned (sha256 {digest[:12]}…, approved "
                f"{self.sha256[:12]}…); nothing was uploaded or started",
                hint="call again: the new content will be shown and asked about",
            )
        return data if data is not None else self.local


@dataclass(frozen=True)
class UploadGroup:
    """Files that share one folder of the bucket and one mount: ``/data`` (a new folder per request), or a local
    folder of the script's header (a folder named after it, re-used)."""

    mount_path: str
    folder: str | None
    """None: the request's own new folder (named at upload); else a fixed folder."""
    read_only: bool
    files: tuple[Upload, ...]

    def volume(self, bucket_id: str) -> Volume:
        return Volume(
            type="bucket",
            source=bucket_id,
            mount_path=self.mount_path,
            path=self.folder or PENDING_FOLDER,
            read_only=self.read_only,
        )


@dataclass(frozen=True)
class Uploads:
    """Everything a request uploads, to which bucket; the facts shown; the volumes the job gets."""

    bucket_id: str
    groups: tuple[UploadGroup, ...]
    notes: tuple[str, ...] = ()

    def facts(self) -> tuple[UploadFacts, ...]:
        return tuple(
            UploadFacts(
                path=f"{g.mount_path.rstrip('/')}/{u.name}",
                size=u.size,
                sha256=u.sha256,
                origin=u.origin,
                from_disk=u.local is not None,
            )
            for g in self.groups
            for u in g.files
        )

    def volumes(self) -> list[Volume]:
        return [g.volume(self.bucket_id) for g in self.groups]


def with_folder(spec: JobSpec, folder: str) -> JobSpec:
    """``spec`` with the upload folder named (it is :data:`PENDING_FOLDER` until the files are uploaded)."""
    return replace(spec, volumes=[replace(v, path=folder) if v.path == PENDING_FOLDER else v for v in spec.volumes])


def artifacts_bucket(namespace: str) -> str:
    return f"{namespace}/{ARTIFACTS_BUCKET}"


def synced_folder_name(path: Path) -> str:
    """The bucket folder of a local folder mounted as a volume, named as huggingface_hub 2.4 names it: the folder's
    name and a hash of this machine's name and the absolute path, so the same folder re-uses the same place."""
    resolved = path.expanduser().resolve()
    digest = hashlib.sha256(f"{platform.node()}:{resolved}".encode()).hexdigest()[:8]
    return f"{resolved.name.replace(' ', '_') or 'root'}-{digest}"


def _hash_file(path: Path) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with path.open("rb") as f:
        while block := f.read(_BLOCK):
            h.update(block)
            size += len(block)
    return size, h.hexdigest()


class UploadSet:
    """Builds a request's uploads while it is planned (blocking file reads: call it from a worker thread)."""

    def __init__(self) -> None:
        self.root: list[Upload] = []
        self.extra: list[UploadGroup] = []
        self.notes: list[str] = []
        self._count = 0
        self._bytes = 0
        self._local_root: dict[Path, str] = {}

    def __bool__(self) -> bool:
        return bool(self.root or self.extra)

    def _taken(self) -> set[str]:
        return {u.name for u in self.root}

    def _top_names(self) -> set[str]:
        return {u.name.split("/", 1)[0] for u in self.root}

    def _count_in(self, size: int) -> None:
        self._count += 1
        self._bytes += size
        if self._count > MAX_FILES or self._bytes > MAX_TOTAL_BYTES:
            raise InvalidRequestError(
                f"more than {MAX_FILES} files or {MAX_TOTAL_BYTES >> 30} GiB to upload; nothing was sent",
                hint="upload big data to a bucket or dataset yourself (hf buckets sync) and mount it with `volumes`",
            )

    def free_name(self, wanted: str) -> str:
        """``wanted`` with spaces as ``_``, or, if it is taken, ``stem(0).suffix``, ``stem(1).suffix``... (2.4)."""
        name = wanted.replace(" ", "_")
        taken = self._top_names()
        if name not in taken:
            return name
        stem = PurePosixPath(name)
        i = 0
        while (candidate := stem.with_stem(f"{stem.stem}({i})").name) in taken:
            i += 1
        return candidate

    def add_bytes(self, name: str, data: bytes, origin: str) -> str:
        """Upload ``data`` as ``name`` (chosen by the agent: refused if already used)."""
        check_name(name, "file name")
        if name in self._taken() or any(t.startswith(name + "/") or name.startswith(t + "/") for t in self._taken()):
            raise InvalidRequestError(
                f"two uploaded files would both be {ARTIFACTS_MOUNT}/{name}; nothing was sent",
                hint="give each file its own name (the script is /data/script.py when given as text)",
            )
        self._count_in(len(data))
        digest = hashlib.sha256(data).hexdigest()
        self.root.append(Upload(name=name, size=len(data), sha256=digest, origin=origin, data=data))
        return name

    def add_local(self, path: Path) -> str:
        """Upload a file or a folder of this machine under its base name (made free as 2.4 does); the name the
        job sees it under. The same path given twice is uploaded once."""
        resolved = path.expanduser().resolve()
        if resolved in self._local_root:
            return self._local_root[resolved]
        if not resolved.exists():
            raise InvalidRequestError(
                f"{path} does not exist on the server's disk; nothing was sent",
                hint="give an existing file or folder (relative paths start from the server's working folder)",
            )
        top = self.free_name(resolved.name or "root")
        if resolved.is_dir():
            found = self._scan(resolved)
            if not found:
                raise InvalidRequestError(
                    f"folder {path} holds no regular file to upload; nothing was sent",
                    hint="give a folder with files, or write outputs from the job instead",
                )
            self.root += [self._one(full, f"{top}/{rel}") for full, rel in found]
        elif resolved.is_file():
            self._count_in(resolved.stat().st_size)
            self.root.append(self._one(resolved, top))
        else:
            raise InvalidRequestError(f"{path} is neither a file nor a folder; nothing was sent", hint="give a file")
        self._local_root[resolved] = top
        return top

    def add_folder_volume(self, path: Path, mount_path: str, *, read_only: bool) -> None:
        """A local folder the script's header mounts: uploaded to a folder of its own (an empty one gets a
        ``.keep`` file, since a bucket cannot hold an empty folder), as ``hf jobs uv run -v ./dir:/mnt`` does."""
        resolved = path.expanduser().resolve()
        if not resolved.is_dir():
            raise InvalidRequestError(
                f"volume source {path} is not a folder of the server's disk; nothing was sent",
                hint="give an existing folder, or an hf:// bucket or repo",
            )
        files = tuple(self._one(full, rel) for full, rel in self._scan(resolved))
        if not files:
            files = (Upload(name=".keep", size=0, sha256=hashlib.sha256(b"").hexdigest(), origin="empty", data=b""),)
        self.extra.append(
            UploadGroup(mount_path=mount_path, folder=synced_folder_name(resolved), read_only=read_only, files=files)
        )

    def _one(self, path: Path, name: str) -> Upload:
        """A file counted already (by :meth:`_scan`, or its size), now read and hashed."""
        try:
            size, digest = _hash_file(path)
        except OSError as exc:
            raise InvalidRequestError(
                f"{path} could not be read ({exc.strerror}); nothing was sent", hint="check the file"
            ) from None
        return Upload(name=name, size=size, sha256=digest, origin=f"file {path} of the server's disk", local=path)

    def _scan(self, root: Path) -> list[tuple[Path, str]]:
        """The regular files under ``root`` (path, path relative to it), counted against the limits before any is
        read: ``/`` or a home folder given by mistake is refused after a quick walk, not after gigabytes hashed."""
        found: list[tuple[Path, str]] = []
        for folder, dirs, files in os.walk(root, followlinks=False):
            dirs.sort()
            for entry in sorted(files) + [d for d in dirs if (Path(folder) / d).is_symlink()]:
                full = Path(folder) / entry
                try:
                    st = full.lstat()
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    self.notes.append(f"skipped {full}: a link or special file, not followed")
                    continue
                self._count_in(st.st_size)
                found.append((full, full.relative_to(root).as_posix()))
        return found

    def mount_paths(self) -> list[str]:
        """Where the uploaded folders are mounted (``/data`` first when files go there)."""
        return ([ARTIFACTS_MOUNT] if self.root else []) + [g.mount_path for g in self.extra]

    def build(self, bucket_id: str) -> Uploads:
        groups: list[UploadGroup] = []
        if self.root:
            groups.append(UploadGroup(mount_path=ARTIFACTS_MOUNT, folder=None, read_only=False, files=tuple(self.root)))
        groups += self.extra
        return Uploads(bucket_id=bucket_id, groups=tuple(groups), notes=tuple(self.notes))


async def send_uploads(uploads: Uploads, client: JobsClient) -> str:
    """Upload every file of ``uploads`` (the bucket created private if needed); the new folder's name.

    Each file of the disk is checked against the sha256 the user was shown before anything is sent.
    """
    budget = MEMORY_BUDGET
    adds: list[tuple[bytes | Path, str]] = []
    folder = new_folder()
    for group in uploads.groups:
        for upload in group.files:
            in_memory = upload.local is not None and upload.size <= min(KEEP_IN_MEMORY, budget)
            budget -= upload.size if in_memory else 0
            source = await anyio.to_thread.run_sync(functools.partial(upload.source, in_memory=in_memory))
            adds.append((source, f"{group.folder or folder}/{upload.name}"))
    buckets = BucketFiles.of(client)
    await buckets.ensure_private_bucket(uploads.bucket_id)
    await buckets.upload(uploads.bucket_id, adds)
    return folder
