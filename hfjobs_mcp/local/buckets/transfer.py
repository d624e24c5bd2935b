"""Moving files between a bucket folder and the Xet storage, with the real Xet client (``hf_xet``).

The backend keeps bucket files as plain files and the storage as uploaded xorbs; it crosses between the
two with the same client users run, against its own storage endpoint over loopback:

- after a ``batch`` adds a file by its Xet hash, the backend *downloads* that hash into a staging file
  and moves it into the bucket folder (so a job mounting the bucket sees it);
- when a client asks for a file a job wrote (its hash computed with ``hf_xet.hash_files`` at listing
  time), the backend *uploads* it first, so the storage can serve its reconstruction.

This keeps chunking, hashing and compression out of this package (they must match the client's bit for
bit), at the cost of a loopback round trip. ``hf_xet`` is imported on first use only. The calls block:
run them in a worker thread while the event loop serves the storage endpoint they talk to.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

from .cas import CasStore


class TransferUnavailableError(RuntimeError):
    """The backend does not know its own URL (an ASGI app not served over HTTP), so it cannot reach its storage."""


_CONFIG = {
    "telemetry.enabled": False,
    "deduplication.global_dedup_query_enabled": False,
    "client.legacy_direct_xorb_upload": True,
    "client.reconstruction_api_version": 1,
    "client.shard_api_version": 1,
    "client.retry_max_attempts": 2,
}


class XetTransfer:
    """The backend's own Xet client session against its storage endpoint (one per backend, made lazily)."""

    def __init__(self, cas: CasStore) -> None:
        self.cas = cas
        self.base_url: str | None = None
        self._session: Any = None
        self._lock = threading.Lock()

    def endpoint(self) -> str:
        if not self.base_url:
            raise TransferUnavailableError(
                "bucket files move through the backend's own Xet endpoint, which needs it served over HTTP "
                "(LocalBackend or `hfjobs-mcp local`)"
            )
        return f"{self.base_url}/xet/{self.cas.store_id}"

    def _client(self) -> Any:
        with self._lock:
            if self._session is None:
                import hf_xet

                self._session = hf_xet.XetSession(hf_xet.XetConfig().with_config(dict(_CONFIG)))
            return self._session

    def _auth(self) -> dict[str, Any]:
        token, expires = self.cas.mint("*", write=True)
        return {"endpoint": self.endpoint(), "token": token, "token_expiry_unix_secs": expires}

    def download(self, file_hash: str, size: int, dest: Path) -> None:
        """Write the stored file ``file_hash`` to ``dest``."""
        import hf_xet

        session = self._client()
        with session.new_file_download_group(**self._auth()) as group:
            group.start_download_file(hf_xet.XetFileInfo(file_hash, size), str(dest))

    def upload(self, path: str) -> tuple[str, int]:
        """Store the file at ``path`` (chunked, deduplicated, compressed by the client); its hash and size."""
        import hf_xet

        session = self._client()
        with session.new_upload_commit(**self._auth()) as commit:
            handle = commit.start_upload_file(path, sha256=hf_xet.SKIP_SHA256)
        info = handle.result().xet_info
        return str(info.hash), int(info.file_size)

    @staticmethod
    def hash_files(paths: list[str]) -> list[tuple[str, int]]:
        """The Xet hashes and sizes of local files, computed as an upload would (nothing is sent)."""
        import hf_xet

        if not paths:
            return []
        return [(str(i.hash), int(i.file_size)) for i in hf_xet.hash_files(paths)]


def staging_file(cas: CasStore) -> Path:
    """A fresh path in the storage's staging folder (same file system as the buckets, for a rename)."""
    return cas.staging / f"{time.time_ns()}-{threading.get_ident()}.part"
