"""Listing and changing jobs: stage OR / label AND filters, Link pagination, count, duplicate, labels, expose."""

from __future__ import annotations

import re

import httpx2
import pytest

from .util import py, run, wait_stage

pytestmark = pytest.mark.timeout(60)


def _ids(jobs: list[dict[str, object]]) -> list[object]:
    return [j["id"] for j in jobs]


def _all_pages(api: httpx2.Client, url: str, **params: object) -> tuple[list[dict[str, object]], int]:
    jobs, pages = [], 0
    r = api.get(url, params=params)
    while True:
        pages += 1
        assert r.status_code == 200, r.text
        jobs.extend(r.json())
        link = r.headers.get("link")
        if not link:
            return jobs, pages
        m = re.fullmatch(r'<(http://127\.0\.0\.1:\d+/[^>]+)>; rel="next"', link)
        assert m, link
        r = api.get(m.group(1))  # absolute, used verbatim as huggingface_hub does


@pytest.mark.slow
def test_list_is_newest_first_filtered_and_paginated(api: httpx2.Client) -> None:
    done_a = run(api, py("print(1)", labels={"team": "ml", "env": "prod"}))
    done_b = run(api, py("print(1)", labels={"team": "ml", "env": "dev"}))
    failed = run(api, py("raise SystemExit(1)", labels={"team": "ml", "env": "prod"}))
    for job in (done_a, done_b, failed):
        wait_stage(api, job["id"])
    running = [run(api, py("import time; time.sleep(30)", labels={"team": "ops"})) for _ in range(4)]
    for job in running:
        wait_stage(api, job["id"], {"RUNNING"})

    everything, pages = _all_pages(api, "/api/jobs/alice")
    assert pages == 3  # page_size is 3 in these tests
    assert _ids(everything) == [j["id"] for j in reversed([done_a, done_b, failed, *running])]

    active, _ = _all_pages(api, "/api/jobs/alice", stage=["RUNNING", "SCHEDULING"])
    assert _ids(active) == [j["id"] for j in reversed(running)]
    either, _ = _all_pages(api, "/api/jobs/alice", stage=["ERROR", "COMPLETED"])
    assert set(_ids(either)) == {done_a["id"], done_b["id"], failed["id"]}

    prod, _ = _all_pages(api, "/api/jobs/alice", label=["team=ml", "env=prod"])
    assert _ids(prod) == [failed["id"], done_a["id"]]
    both, _ = _all_pages(api, "/api/jobs/alice", label=["team=ml", "env=prod"], stage=["COMPLETED"])
    assert _ids(both) == [done_a["id"]]
    has_env, _ = _all_pages(api, "/api/jobs/alice", label="env")
    assert len(has_env) == 3
    assert _all_pages(api, "/api/jobs/alice", label="team=nobody")[0] == []

    assert api.get("/api/jobs/alice/count").json() == {"count": 7}
    assert api.get("/api/jobs/alice/count", params={"stage": ["RUNNING", "ERROR"]}).json() == {"count": 5}
    assert api.get("/api/jobs/myorg/count").json() == {"count": 0}
    for job in running:
        api.post(f"/api/jobs/alice/{job['id']}/cancel")


@pytest.mark.slow
def test_duplicate_copies_the_spec_and_says_where_it_came_from(api: httpx2.Client) -> None:
    src = run(api, py("import os; print(os.environ['TOKEN_X'])", labels={"k": "v"}, secrets={"TOKEN_X": "val"}))
    wait_stage(api, src["id"])
    r = api.post(f"/api/jobs/alice/{src['id']}/duplicate")
    assert r.status_code == 200
    dup = r.json()
    assert dup["id"] != src["id"]
    assert dup["initiator"] == {"type": "duplicated-job", "id": src["id"]}
    for key in ("command", "labels", "secrets", "environment", "flavor", "timeout", "retry"):
        assert dup[key] == src[key]
    done = wait_stage(api, dup["id"])
    assert done["status"]["stage"] == "COMPLETED"  # the secret's value was kept for the re-run


@pytest.mark.slow
def test_labels_are_replaced(api: httpx2.Client) -> None:
    job = run(api, py("print(1)", labels={"name": "first", "a": "1"}))
    r = api.put(f"/api/jobs/alice/{job['id']}/labels", json={"labels": {"name": "second"}})
    assert r.status_code == 200
    assert r.json()["labels"] == {"name": "second"}
    assert api.get(f"/api/jobs/alice/{job['id']}").json()["labels"] == {"name": "second"}
    assert api.put(f"/api/jobs/alice/{job['id']}/labels", json={"labels": {}}).json()["labels"] == {}
    bad = api.put(f"/api/jobs/alice/{job['id']}/labels", json={"labels": {"x": "no spaces"}})
    assert bad.status_code == 400
    assert "labels.x" in bad.json()["error"]
    assert api.put(f"/api/jobs/alice/{job['id']}/labels", json={}).status_code == 400


@pytest.mark.slow
def test_expose_sets_local_urls_and_can_be_cleared(api: httpx2.Client) -> None:
    job = run(api, py("print(1)", expose={"ports": [8000, 9000], "portsPublic": [9000]}))
    assert job["expose"] == {"ports": [8000, 9000], "portsPublic": [9000]}
    assert job["status"]["exposeUrls"] == ["http://127.0.0.1:8000", "http://127.0.0.1:9000"]
    r = api.put(f"/api/jobs/alice/{job['id']}/expose", json={"ports": [7000], "portsPublic": []})
    assert r.json()["status"]["exposeUrls"] == ["http://127.0.0.1:7000"]
    cleared = api.put(f"/api/jobs/alice/{job['id']}/expose", json={"ports": [], "portsPublic": []}).json()
    assert cleared["expose"] == {"ports": [], "portsPublic": []}
    assert "exposeUrls" not in cleared["status"]
    bad = api.put(f"/api/jobs/alice/{job['id']}/expose", json={"ports": [1], "portsPublic": [2]})
    assert bad.status_code == 400
    plain = run(api, py("print(1)"))
    assert "expose" not in plain
    assert "exposeUrls" not in plain["status"]


@pytest.mark.slow
def test_auth_check_routes(api: httpx2.Client) -> None:
    r = api.post("/api/jobs/myorg/auth-check/write")
    assert r.json()["namespace"]["name"] == "myorg"
    assert r.json()["user"]["name"] == "alice"
    assert api.post("/api/jobs/bob/auth-check/read").status_code == 403
