"""Webhooks: stored, listed, updated, enabled/disabled and deleted (they never fire locally)."""

from __future__ import annotations

import httpx2
import pytest

from .util import py, run

pytestmark = pytest.mark.timeout(60)


@pytest.mark.slow
def test_webhook_lifecycle_with_a_source_job(api: httpx2.Client) -> None:
    job = run(api, py("print(1)", secrets={"JOB_SECRET": "not-copied"}))
    body = {
        "watched": [{"type": "user", "name": "alice"}],
        "domains": ["repo", "discussion"],
        "jobSourceId": job["id"],
        "secret": "shh",
        "secrets": {"HF_TOKEN": "hf_value_never_echoed"},
    }
    r = api.post("/api/settings/webhooks", json=body)
    assert r.status_code == 200, r.text
    hook = r.json()["webhook"]
    assert hook["jobSourceId"] == job["id"]
    assert hook["hasSecret"] is True
    assert hook["disabled"] is False
    assert hook["job"]["secrets"] == ["HF_TOKEN"]
    assert hook["job"]["command"] == job["command"]
    assert "timeoutSeconds" in hook["job"]
    assert "hf_value_never_echoed" not in r.text
    assert "shh" not in r.text
    wid = hook["id"]
    assert api.get("/api/settings/webhooks").json() == [hook]
    assert api.get(f"/api/settings/webhooks/{wid}").json() == {"webhook": hook}
    assert api.post(f"/api/settings/webhooks/{wid}/disable").json()["webhook"]["disabled"] is True
    assert api.post(f"/api/settings/webhooks/{wid}/enable").json()["webhook"]["disabled"] is False
    updated = api.post(
        f"/api/settings/webhooks/{wid}",
        json={"watched": [{"type": "model", "name": "alice/m"}], "domains": ["repo"], "url": "https://example.com/h"},
    ).json()["webhook"]
    assert updated["url"] == "https://example.com/h"
    assert "job" not in updated
    assert updated["watched"] == [{"name": "alice/m", "type": "model"}]
    assert api.delete(f"/api/settings/webhooks/{wid}").status_code == 200
    assert api.get(f"/api/settings/webhooks/{wid}").status_code == 404
    assert api.get("/api/settings/webhooks").json() == []


@pytest.mark.slow
@pytest.mark.parametrize(
    "body",
    [
        {"watched": [{"type": "user", "name": "alice"}], "domains": ["repo"]},
        {"watched": [], "domains": ["repo"], "url": "https://example.com"},
        {"watched": [{"type": "user", "name": "alice"}], "domains": ["repo"], "jobSourceId": "nope"},
        {"watched": [{"type": "user", "name": "alice"}], "domains": ["x"], "url": "https://example.com"},
    ],
)
def test_invalid_webhooks_are_400(api: httpx2.Client, body: dict[str, object]) -> None:
    r = api.post("/api/settings/webhooks", json=body)
    assert r.status_code == 400
    assert r.json()["error"]
