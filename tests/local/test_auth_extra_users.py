"""Several users on one backend (``LocalConfig.extra_users``): each token is its own user with its own orgs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import httpx2
import pytest

from hfjobs_mcp.local import LocalBackend, LocalConfig
from tests.backends import serve_backend

from .util import TOKEN, run, spec

pytestmark = pytest.mark.timeout(60)

BOB_TOKEN = "hf_local_bob_token_0123456789abcdef"


@pytest.fixture
def two_users(fast_config: LocalConfig) -> Iterator[LocalBackend]:
    cfg = replace(fast_config, extra_users={BOB_TOKEN: ("bob", ("bobs-org",))})
    with serve_backend(cfg) as b:
        yield b


def _client(backend: LocalBackend, token: str) -> httpx2.Client:
    return httpx2.Client(base_url=backend.url, headers={"authorization": f"Bearer {token}"}, timeout=30)


@pytest.mark.slow
def test_whoami_answers_for_the_token_given(two_users: LocalBackend) -> None:
    with _client(two_users, TOKEN) as alice, _client(two_users, BOB_TOKEN) as bob:
        me = alice.get("/api/whoami-v2").json()
        other = bob.get("/api/whoami-v2").json()
    assert me["name"] == "alice"
    assert [o["name"] for o in me["orgs"]] == ["myorg"]
    assert other["name"] == "bob"
    assert [o["name"] for o in other["orgs"]] == ["bobs-org"]


@pytest.mark.slow
def test_each_user_sees_only_their_namespaces(two_users: LocalBackend) -> None:
    with _client(two_users, TOKEN) as alice, _client(two_users, BOB_TOKEN) as bob:
        job = run(bob, spec("true"), ns="bobs-org")
        assert job["owner"]["name"] == "bobs-org"
        assert alice.get("/api/jobs/bobs-org").status_code == 403
        assert alice.get(f"/api/jobs/bob/{job['id']}").status_code == 403
        assert bob.get("/api/jobs/alice").status_code == 403
        assert [j["id"] for j in bob.get("/api/jobs/bobs-org").json()] == [job["id"]]


@pytest.mark.slow
def test_an_unknown_token_is_still_refused(two_users: LocalBackend) -> None:
    with _client(two_users, "hf_nobody_0123456789abcdefghij") as nobody:
        response = nobody.get("/api/whoami-v2")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
