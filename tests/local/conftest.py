"""Fixtures for the local backend's tests: a fast-configured backend in a thread and an HTTP client for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from hfjobs_mcp.local import LocalBackend, LocalConfig
from tests.backends import backend_config, serve_backend
from tests.openapi import UnknownOperation, validate_response

from .util import TOKEN, FakeClock


def check_against_openapi(response: httpx2.Response) -> None:
    """Response hook: every JSON body the local tests see must match the Hub's OpenAPI document."""
    if not response.headers.get("content-type", "").startswith("application/json"):
        return
    response.read()
    try:
        validate_response(response.request.method, str(response.request.url), response.status_code, response.json())
    except UnknownOperation:  # a route the Hub does not have: only our JSON 404 may answer it
        assert response.status_code == 404


def client(backend: LocalBackend) -> httpx2.Client:
    return httpx2.Client(
        base_url=backend.url,
        headers={"authorization": f"Bearer {backend.token}"},
        timeout=30,
        event_hooks={"response": [check_against_openapi]},
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fast_config(tmp_path: Path, clock: FakeClock) -> LocalConfig:
    """Short intervals so streams, kills and the scheduler act within a test's patience."""
    return backend_config(
        state_dir=tmp_path / "state",
        token=TOKEN,
        user="alice",
        orgs=("myorg",),
        keepalive_interval=0.5,
        metrics_interval=0.2,
        kill_grace_seconds=1.0,
        scheduler_tick=0.05,
        clock=clock,
        page_size=3,
    )


@pytest.fixture
def backend(fast_config: LocalConfig) -> Iterator[LocalBackend]:
    with serve_backend(fast_config) as b:
        yield b


@pytest.fixture
def api(backend: LocalBackend) -> Iterator[httpx2.Client]:
    with client(backend) as c:
        yield c


@pytest.fixture(scope="module")
def shared_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalBackend]:
    """One backend for a whole module of tests that do not depend on each other's jobs."""
    cfg = backend_config(
        state_dir=tmp_path_factory.mktemp("shared") / "state",
        token=TOKEN,
        user="alice",
        orgs=("myorg",),
        keepalive_interval=0.5,
        kill_grace_seconds=1.0,
    )
    with serve_backend(cfg) as b:
        yield b


@pytest.fixture
def sapi(shared_backend: LocalBackend) -> Iterator[httpx2.Client]:
    with client(shared_backend) as c:
        yield c
