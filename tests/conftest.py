"""Shared pytest configuration: async tests run on asyncio through anyio's pytest plugin."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.backends import TOKEN, serve_backend

if TYPE_CHECKING:
    from hfjobs_mcp.local import LocalBackend


# Detached local backends started by `hfjobs-mcp --local` in tests stop soon after their last client leaves.
os.environ.setdefault("HFJOBS_LOCAL_IDLE_SECONDS", "3")


def pytest_sessionfinish(session: pytest.Session) -> None:
    """Stop detached local backends the tests started and left running (a job still going keeps one up)."""
    import psutil

    base = str(session.config._tmp_path_factory.getbasetemp())  # type: ignore[attr-defined]
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info["cmdline"] or []
        if "hfjobs_mcp.local.daemon" in cmd and any(arg.startswith(base) for arg in cmd):
            with contextlib.suppress(psutil.Error):
                proc.terminate()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Install bubblewrap (the local backend's job sandbox) from Debian when it is missing and we may.

    CI runs the suite as root on a fresh machine; the sandbox tests need ``bwrap`` and fail (not skip)
    without it, so a missing sandbox cannot pass unnoticed.
    """
    if shutil.which("bwrap") or os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "bubblewrap"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(f"could not install bubblewrap ({' '.join(cmd)}): {done.stderr.strip()[-500:]}", file=sys.stderr)
            return


@pytest.fixture
def anyio_backend() -> str:
    # The product runs on asyncio (uvicorn, the MCP SDK); testing trio too would test a runtime we do not ship.
    return "asyncio"


LOCAL_TEST_TOKEN = TOKEN


@pytest.fixture
def local_backend(tmp_path: Path) -> Iterator[LocalBackend]:
    """A local Jobs backend served from a thread for one test: ``.url`` (HF_ENDPOINT), ``.token``, ``.faults``.

    User ``alice`` with org ``myorg``; state in ``tmp_path/"state"``. Stopping it kills every job's processes.
    Tests that need another configuration call :func:`tests.backends.serve_backend` with what differs.
    """
    with serve_backend(tmp_path / "state", orgs=("myorg",)) as backend:
        yield backend
