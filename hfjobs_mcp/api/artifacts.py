"""Job files in buckets: uploads to the namespace's ``jobs-artifacts`` bucket and reads of what a job wrote.

``hf jobs uv run`` (huggingface_hub >= 1.13) ships a script and its files to a private bucket,
``{namespace}/jobs-artifacts``, in a folder of their own (``YYYYMMDDTHHMMSS-<6 hex>``), and mounts that folder
read-write at ``/data`` (wire-protocol.md §8.3). This module does the same through huggingface_hub's own bucket
API, whose uploads go through ``hf_xet`` (content-defined chunking, deduplication, the Xet storage protocol):
rewriting that client by hand would be the largest and least tested part of this server. The same API lists a
job's bucket volumes and reads one file by byte range (``GET /buckets/{id}/resolve/{path}`` with ``Range``).

huggingface_hub takes about half a second to import and its calls are blocking: it is imported on the first call
of a method here (start-up never pays for it), and its calls run in worker threads. Errors come back as the
exception tree of :mod:`hfjobs_mcp.errors`, with every known secret value masked.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

import anyio
import anyio.to_thread

from hfjobs_mcp.api.http import error_for
from hfjobs_mcp.errors import ApiError, HfJobsError, TokenNotFoundError, TransportError

if TYPE_CHECKING:
    from pydantic import SecretStr

    from hfjobs_mcp.api.client import JobsClient

__all__ = [
    "ARTIFACTS_BUCKET",
    "ARTIFACTS_MOUNT",
    "PENDING_FOLDER",
    "BucketEntry",
    "BucketFiles",
    "new_folder",
]

ARTIFACTS_BUCKET = "jobs-artifacts"
ARTIFACTS_MOUNT = "/data"
PENDING_FOLDER = "<YYYYMMDDTHHMMSS-6 hex, made at upload>"
"""What a dry run shows for the upload folder: its name is made when the files are really uploaded."""

_READ_SECONDS = 120.0
_UPLOAD_SECONDS = 3600.0
_HASH_BLOCK = 1 << 20
_T = TypeVar("_T")


def new_folder(now: datetime | None = None) -> str:
    """A fresh upload folder, named as huggingface_hub 2.4 names it: ``20261129T120000-a1b2c3``."""
    return f"{(now or datetime.now(UTC)).strftime('%Y%m%dT%H%M%S')}-{secrets.token_hex(3)}"


@dataclass(frozen=True)
class BucketEntry:
    """A file of a bucket: its path in the bucket, size in bytes, modification time and Xet hash."""

    path: str
    size: int
    mtime: datetime | None
    xet_hash: str


Source = bytes | Path
"""What to upload: the bytes themselves, or a file of this machine's disk."""


class BucketFiles:
    """Bucket operations for one caller (endpoint and token), over huggingface_hub's ``HfApi``."""

    def __init__(self, *, endpoint: str, token: SecretStr | None, redact: Callable[[str], str] = lambda s: s) -> None:
        self.endpoint = endpoint.rstrip("/")
        self._token = token
        self._redact = redact

    @classmethod
    def of(cls, client: JobsClient) -> BucketFiles:
        """The bucket API of the caller ``client`` serves (same endpoint, same token)."""
        return cls(endpoint=client.endpoint, token=client.token_secret(), redact=client.redact)

    def url(self, bucket_id: str, path: str = "") -> str:
        """The bucket (or one of its files) as an ``hf://`` URI, as ``hf buckets cp`` takes it."""
        return f"hf://buckets/{bucket_id}" + (f"/{path}" if path else "")

    # --- plumbing ------------------------------------------------------------------------------------------------

    def _secret(self) -> str:
        token = None if self._token is None else self._token.get_secret_value()
        if not token:
            raise TokenNotFoundError()
        return token

    def _api(self) -> Any:
        from huggingface_hub import HfApi  # start-up time: about half a second, paid by the first bucket operation

        self._configure()
        return HfApi(endpoint=self.endpoint, token=self._secret(), library_name="hfjobs-mcp")

    def _configure(self) -> None:
        """Point huggingface_hub's process-wide settings at this server's endpoint, and turn its progress bars off.

        It reads ``HF_ENDPOINT`` once, at import, and sends a few requests of its own to that endpoint whatever
        ``HfApi`` is given (the agent-harness list its user-agent header is built from; the host it accepts in a
        bucket's URL): left at ``https://huggingface.co``, a ``--local`` rehearsal would reach the internet. A server
        talks to one endpoint, so this is set, not guessed. A server has no terminal to draw bars on: over stdio
        its stdout is the protocol.
        """
        # huggingface_hub on first use (start-up time)
        from huggingface_hub import constants
        from huggingface_hub.utils import disable_progress_bars

        if self.endpoint != constants.ENDPOINT:
            constants.ENDPOINT = self.endpoint
        disable_progress_bars()

    async def _call(self, what: str, fn: Callable[[], _T], *, seconds: float = _READ_SECONDS) -> _T:
        """``fn()`` in a worker thread, with its failures mapped to the exception tree."""
        try:
            with anyio.fail_after(seconds):
                return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)
        except HfJobsError:
            raise
        except TimeoutError:
            raise TransportError(
                f"{what}: no answer within {seconds:.0f}s", hint="try again later", maybe_sent=True
            ) from None
        except Exception as exc:  # huggingface_hub and hf_xet raise their own kinds
            raise self._mapped(what, exc) from None

    def _mapped(self, what: str, exc: Exception) -> HfJobsError:
        response = getattr(exc, "response", None)
        if response is not None and getattr(response, "status_code", 0) >= 400:
            error: HfJobsError = error_for(response, redact=self._redact)
            error.message = f"{what}: {error.message}"
            return error
        detail = self._redact(str(exc) or type(exc).__name__)[:400]
        if isinstance(exc, OSError | ConnectionError) and "403" in detail:
            return ApiError(
                f"{what}: not allowed ({detail})",
                status=403,
                hint="the token cannot write to this namespace's buckets; check `namespace`",
            )
        return TransportError(f"{what}: {detail}", hint="try again; if it persists, check the endpoint")

    # --- writing -------------------------------------------------------------------------------------------------

    async def ensure_private_bucket(self, bucket_id: str) -> str:
        """Create the private bucket ``bucket_id`` unless it exists (as huggingface_hub does); its web URL."""

        def create() -> str:
            return str(self._api().create_bucket(bucket_id, private=True, exist_ok=True).url)

        return await self._call(f"creating bucket {bucket_id}", create)

    async def upload(self, bucket_id: str, adds: Sequence[tuple[Source, str]]) -> None:
        """Upload every ``(source, path in the bucket)`` with ``batch_bucket_files`` (hf_xet moves the data)."""
        ops: list[tuple[str | Path | bytes, str]] = [(src, dest) for src, dest in adds]

        def batch() -> None:
            self._api().batch_bucket_files(bucket_id, add=ops)

        await self._call(f"uploading {len(ops)} file(s) to bucket {bucket_id}", batch, seconds=_UPLOAD_SECONDS)

    # --- reading -------------------------------------------------------------------------------------------------

    async def list_files(self, bucket_id: str, prefix: str, *, limit: int) -> tuple[list[BucketEntry], bool]:
        """Up to ``limit`` files under ``prefix`` (a folder, '' for all), and whether more were there."""

        def walk() -> tuple[list[BucketEntry], bool]:
            found: list[BucketEntry] = []
            for item in self._api().list_bucket_tree(bucket_id, prefix=prefix or None, recursive=True):
                if getattr(item, "type", "") != "file":
                    continue
                if prefix and not item.path.startswith(prefix.rstrip("/") + "/"):
                    continue  # a prefix matches whole folders only: 'out' must not list 'outputs/...'
                if len(found) == limit:
                    return found, True
                found.append(BucketEntry(item.path, int(item.size), item.mtime, str(item.xet_hash)))
            return found, False

        return await self._call(f"listing bucket {bucket_id}", walk)

    async def file_info(self, bucket_id: str, path: str) -> BucketEntry | None:
        """The file at ``path`` (None if there is none: a folder, a link or nothing)."""

        def info() -> BucketEntry | None:
            for item in self._api().get_bucket_paths_info(bucket_id, [path]):
                if getattr(item, "type", "") == "file" and item.path == path:
                    return BucketEntry(item.path, int(item.size), item.mtime, str(item.xet_hash))
            return None

        return await self._call(f"reading bucket {bucket_id}", info)

    def _file_url(self, bucket_id: str, path: str) -> str:
        return f"{self.endpoint}/buckets/{bucket_id}/resolve/{quote(path, safe='/')}"

    async def read_range(self, bucket_id: str, path: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (excluded) of a file, by an HTTP range read; never more than asked.

        A server that ignores the range (200 with the whole file) is read up to ``end`` and cut: the rest is
        never held in memory.
        """
        if end <= start:
            return b""

        def read() -> bytes:
            # huggingface_hub on first use (start-up time)
            from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_stream_backoff

            self._configure()
            headers = build_hf_headers(token=self._secret(), library_name="hfjobs-mcp")
            headers["Range"] = f"bytes={start}-{end - 1}"
            headers["Accept-Encoding"] = "identity"
            chunks: list[bytes] = []
            with http_stream_backoff("GET", self._file_url(bucket_id, path), headers=headers, timeout=60) as r:
                hf_raise_for_status(r)
                skip = 0 if r.status_code == 206 else start
                want = end - start
                got = 0
                for block in r.iter_bytes():
                    if skip:
                        cut = min(skip, len(block))
                        block, skip = block[cut:], skip - cut
                    chunks.append(block[: want - got])
                    got += len(chunks[-1])
                    if got >= want:
                        break
            return b"".join(chunks)

        return await self._call(f"reading {path} in bucket {bucket_id}", read)

    async def sha256(self, bucket_id: str, path: str) -> str:
        """The sha256 of a whole file, streamed (never held in memory)."""

        def digest() -> str:
            # huggingface_hub on first use (start-up time)
            from huggingface_hub.utils import build_hf_headers, hf_raise_for_status, http_stream_backoff

            self._configure()
            headers = build_hf_headers(token=self._secret(), library_name="hfjobs-mcp")
            headers["Accept-Encoding"] = "identity"
            h = hashlib.sha256()
            with http_stream_backoff("GET", self._file_url(bucket_id, path), headers=headers, timeout=60) as r:
                hf_raise_for_status(r)
                for block in r.iter_bytes(_HASH_BLOCK):
                    h.update(block)
            return h.hexdigest()

        return await self._call(f"hashing {path} in bucket {bucket_id}", digest, seconds=_UPLOAD_SECONDS)
