"""``BucketFiles``: huggingface_hub's bucket API as this server uses it, against the local backend, and the cases a
real backend cannot be made to produce (a server that ignores ``Range``) against a stand-in on 127.0.0.1.

Start-up never pays for huggingface_hub: it is imported by the first bucket operation only.
"""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from hfjobs_mcp.api.artifacts import BucketFiles, new_folder
from hfjobs_mcp.errors import ApiError, NotFoundError, TokenNotFoundError

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(120)]

TOKEN = "hf_local_artifacts_token_0123456789"
BOB = "hf_local_artifacts_bob_0123456789"


@pytest.mark.slow  # a fresh interpreter
def test_start_up_does_not_import_huggingface_hub() -> None:
    code = (
        "import sys\n"
        "from hfjobs_mcp.cli import main\n"
        "from hfjobs_mcp.serve.server import build_server\n"
        "from hfjobs_mcp.tools.registry import ALL_TOOLS\n"
        "import hfjobs_mcp.api.artifacts, hfjobs_mcp.tools.uv, hfjobs_mcp.tools.outputs\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('huggingface_hub', 'hf_xet')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"


def test_upload_folders_are_named_as_huggingface_hub_names_them() -> None:
    import re

    assert re.fullmatch(r"\d{8}T\d{6}-[0-9a-f]{6}", new_folder())
    assert new_folder() != new_folder()


@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from tests.backends import serve_backend

    monkeypatch.setenv("HF_XET_CACHE", str(tmp_path / "xet-cache"))
    with serve_backend(tmp_path / "state", token=TOKEN, extra_users={BOB: ("bob", ())}) as served:
        yield served.url


@pytest.mark.slow  # Xet uploads to a backend
async def test_upload_list_info_and_ranges_against_the_local_backend(backend: str, tmp_path: Path) -> None:
    files = BucketFiles(endpoint=backend, token=SecretStr(TOKEN))
    await files.ensure_private_bucket("alice/jobs-artifacts")
    await files.ensure_private_bucket("alice/jobs-artifacts")  # exists: fine
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 4096)
    await files.upload("alice/jobs-artifacts", [(b"hello world", "run/a.txt"), (big, "run/big.bin"), (b"x", "runs/b")])
    listed, more = await files.list_files("alice/jobs-artifacts", "run", limit=10)
    assert (sorted(e.path for e in listed), more) == (["run/a.txt", "run/big.bin"], False)  # not 'runs/'
    one, more = await files.list_files("alice/jobs-artifacts", "run", limit=1)
    assert (len(one), more) == (1, True)
    info = await files.file_info("alice/jobs-artifacts", "run/big.bin")
    assert info is not None
    assert info.size == 256 * 4096
    assert await files.file_info("alice/jobs-artifacts", "run") is None  # a folder is not a file
    assert await files.read_range("alice/jobs-artifacts", "run/a.txt", 6, 11) == b"world"
    assert await files.read_range("alice/jobs-artifacts", "run/big.bin", 255, 258) == bytes([255, 0, 1])
    import hashlib

    assert await files.sha256("alice/jobs-artifacts", "run/big.bin") == hashlib.sha256(big.read_bytes()).hexdigest()
    with pytest.raises(NotFoundError):
        await files.read_range("alice/jobs-artifacts", "run/none.txt", 0, 3)


@pytest.mark.slow  # Xet uploads to a backend
async def test_another_namespaces_bucket_is_neither_read_nor_written(backend: str) -> None:
    alice = BucketFiles(endpoint=backend, token=SecretStr(TOKEN))
    await alice.ensure_private_bucket("alice/jobs-artifacts")
    await alice.upload("alice/jobs-artifacts", [(b"alice only", "x.txt")])
    bob = BucketFiles(endpoint=backend, token=SecretStr(BOB))
    with pytest.raises(NotFoundError):
        await bob.list_files("alice/jobs-artifacts", "", limit=10)
    with pytest.raises(NotFoundError):
        await bob.read_range("alice/jobs-artifacts", "x.txt", 0, 10)
    with pytest.raises(ApiError) as refused:
        await bob.ensure_private_bucket("alice/mine")
    assert refused.value.status == 403
    with pytest.raises(TokenNotFoundError):
        await BucketFiles(endpoint=backend, token=None).list_files("alice/jobs-artifacts", "", limit=1)


@contextmanager
def ignores_ranges(body: bytes) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A file server that sends the whole file, whatever ``Range`` says (some proxies do)."""
    seen: list[dict[str, Any]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({k.lower(): v for k, v in self.headers.items()})
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow  # imports huggingface_hub
async def test_a_server_that_ignores_the_range_is_cut_to_it() -> None:
    body = bytes(range(256)) * 64
    with ignores_ranges(body) as (url, seen):
        files = BucketFiles(endpoint=url, token=SecretStr(TOKEN))
        assert await files.read_range("alice/b", "f.bin", 1000, 1010) == body[1000:1010]
    assert seen[0]["range"] == "bytes=1000-1009"
    assert seen[0]["authorization"] == f"Bearer {TOKEN}"


@pytest.mark.slow  # Xet uploads to a backend
async def test_bucket_operations_reach_no_host_but_the_endpoint(
    backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """huggingface_hub fetches an agent-harness list for its user-agent header from *its* endpoint (read from
    HF_ENDPOINT at import): a ``--local`` rehearsal must not reach huggingface.co for it."""
    import socket

    from huggingface_hub import constants
    from huggingface_hub.utils import _detect_agent

    monkeypatch.setattr(constants, "ENDPOINT", "https://huggingface.co")  # as in a server started without HF_ENDPOINT
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "harnesses.json"))
    monkeypatch.setattr(_detect_agent, "_registry", None)  # not fetched yet in this process
    looked_up: list[str] = []
    real = socket.getaddrinfo

    def recording(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", recording)
    files = BucketFiles(endpoint=backend, token=SecretStr(TOKEN))
    await files.ensure_private_bucket("alice/jobs-artifacts")
    await files.upload("alice/jobs-artifacts", [(b"data", "f.txt")])
    assert await files.read_range("alice/jobs-artifacts", "f.txt", 0, 4) == b"data"
    assert looked_up
    assert set(looked_up) == {"127.0.0.1"}
