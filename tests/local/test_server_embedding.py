"""The embedding API: ``create_app`` behind an in-process ASGI transport and ``LocalBackend`` in the test's loop."""

from __future__ import annotations

from pathlib import Path

import httpx2
import pytest

from hfjobs_mcp.local import LocalBackend, create_app
from tests.backends import backend_config

from .util import TOKEN, py

pytestmark = [pytest.mark.timeout(60), pytest.mark.anyio]

HEADERS = {"authorization": f"Bearer {TOKEN}"}


async def test_create_app_serves_in_process(tmp_path: Path) -> None:
    app = create_app(backend_config(state_dir=tmp_path / "state", token=TOKEN, user="alice"))
    transport = httpx2.ASGITransport(app=app)
    try:
        async with httpx2.AsyncClient(transport=transport, base_url="http://local", headers=HEADERS) as api:
            assert (await api.get("/api/whoami-v2")).json()["name"] == "alice"
            assert len((await api.get("/api/jobs/hardware")).json()) == 26
            r = await api.get("/api/jobs/alice")
            assert r.json() == []
            assert "date" in r.headers
    finally:
        await app.state.core.aclose()


@pytest.mark.slow
async def test_local_backend_in_the_current_loop(tmp_path: Path) -> None:
    cfg = backend_config(state_dir=tmp_path / "state", token=TOKEN, user="alice", orgs=("myorg",))
    async with LocalBackend(cfg) as backend:
        assert backend.url.startswith("http://127.0.0.1:")
        assert not backend.url.endswith("/")
        assert backend.token == TOKEN
        async with httpx2.AsyncClient(base_url=backend.url, headers=HEADERS) as api:
            job = (await api.post("/api/jobs/myorg", json=py("import time; time.sleep(60)"))).json()
            async with api.stream("GET", f"/api/jobs/myorg/{job['id']}/logs") as r:
                async for line in r.aiter_lines():
                    if line.startswith("data: "):
                        break  # the banner: it runs
    # Leaving the block stopped the job's process and the server.
    with pytest.raises(httpx2.ConnectError):
        httpx2.get(f"{backend.url}/api/jobs/hardware")
    async with LocalBackend(cfg) as again, httpx2.AsyncClient(base_url=again.url, headers=HEADERS) as api:
        seen = (await api.get(f"/api/jobs/myorg/{job['id']}")).json()
        assert seen["status"]["stage"] == "ERROR"
