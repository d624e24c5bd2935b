"""Fixtures for the acceptance tests: one local backend behind a recording proxy, and a runner for clients.

Why session-scoped: starting a backend costs little, but the scenarios only add jobs under their own
unique label, so they can share one (2 cores, a ~3 minute budget). Every test still gets its own record
of responses: the ``hub`` fixture clears the proxy's record before the test and, after it, fails listing
every response body that breaks the OpenAPI document (tests/openapi.py) or the SSE wire format.

Clients are real processes (``.venv/bin/python tests/acceptance/hub_client.py`` and ``.venv/bin/hf``) with
``HF_ENDPOINT`` set before import (wire §1), their own ``HF_HOME``, telemetry and update checks off, and no
``HF_*`` variable inherited from the developer's shell.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.recording_proxy import RecordingProxy
from tests.backends import backend_config, serve_backend

TOKEN = "hf_local_test_token_0123456789"  # a fake token: the local backend's, never a real one
HERE = Path(__file__).resolve().parent
SCENARIOS = HERE / "hub_client.py"
VENV_BIN = Path(sys.executable).parent
HF_CLI = VENV_BIN / "hf"


@dataclass
class Completed:
    """A finished client process, printable in full when an assertion about it fails."""

    argv: list[str]
    returncode: int
    stdout: str
    stderr: str

    def report(self) -> str:
        return (
            f"$ {' '.join(self.argv)}\n[exit {self.returncode}]\n"
            f"--- stdout ---\n{self.stdout[-6000:]}\n--- stderr ---\n{self.stderr[-6000:]}"
        )


class Hub:
    """Runs official clients against the proxy in front of the backend."""

    def __init__(self, proxy: RecordingProxy, home: Path) -> None:
        self.proxy = proxy
        self.home = home
        self.label = "acc-" + uuid.uuid4().hex[:12]  # unique per test: list filters see only this test's jobs

    def env(self, token: str | None = TOKEN) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING_FACE_", "HUGGINGFACE_"))}
        env.update(
            HF_ENDPOINT=self.proxy.url,
            HF_HOME=str(self.home),
            HF_HUB_DISABLE_TELEMETRY="1",
            HF_HUB_DISABLE_UPDATE_CHECK="1",
            HF_HUB_DISABLE_PROGRESS_BARS="1",
            NO_COLOR="1",
            TERM="dumb",
            COLUMNS="250",
            PYTHONUNBUFFERED="1",
        )
        if token is not None:
            env["HF_TOKEN"] = token
        return env

    def _run(self, argv: list[str], timeout: float) -> Completed:
        try:
            proc = subprocess.run(
                argv, env=self.env(), capture_output=True, text=True, timeout=timeout, cwd=self.home, check=False
            )
        except subprocess.TimeoutExpired as err:
            out = err.stdout.decode() if isinstance(err.stdout, bytes) else (err.stdout or "")
            errout = err.stderr.decode() if isinstance(err.stderr, bytes) else (err.stderr or "")
            done = Completed(argv, -9, out, errout)
            pytest.fail(f"client timed out after {timeout}s\n{done.report()}")
        done = Completed(argv, proc.returncode, proc.stdout, proc.stderr)
        print(done.report())  # shown by pytest only when the test fails
        return done

    def scenario(self, name: str, timeout: float = 150, **kwargs: Any) -> dict[str, Any]:
        """Run a scenario of hub_client.py; its RESULT as a dict (fails with the full output otherwise)."""
        done = self._run([sys.executable, str(SCENARIOS), name, json.dumps(kwargs)], timeout)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        assert done.returncode == 0, f"scenario {name!r} failed\n{done.report()}"
        assert lines, f"scenario {name!r} printed no RESULT line\n{done.report()}"
        result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
        return result

    def hf(self, *args: str, timeout: float = 120) -> Completed:
        """Run the `hf` CLI (.venv/bin/hf) with the given arguments."""
        return self._run([str(HF_CLI), *args], timeout)


@pytest.fixture(scope="session")
def acceptance_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:

    cfg = backend_config(
        state_dir=tmp_path_factory.mktemp("acceptance-state"),
        token=TOKEN,
        user="alice",
        orgs=("myorg",),
        host="127.0.0.1",
        port=0,
        faults=None,
        page_size=3,  # small pages, so list_jobs and `hf jobs ps` follow Link rel="next" through the proxy
    )
    with serve_backend(cfg) as backend:
        yield backend


@pytest.fixture(scope="session")
def recording_proxy(acceptance_backend: Any) -> Iterator[RecordingProxy]:
    with RecordingProxy(acceptance_backend.url) as proxy:
        yield proxy


@pytest.fixture
def hub(recording_proxy: RecordingProxy, tmp_path: Path) -> Iterator[Hub]:
    recording_proxy.clear()
    home = tmp_path / "hf-home"
    home.mkdir()
    yield Hub(recording_proxy, home)
    problems = recording_proxy.failures()
    assert not problems, f"{len(problems)} response(s) break the OpenAPI document or wire §6:\n" + "\n".join(problems)
