"""The local backend's billing-usage route, as the Hub's OpenAPI document describes it (validated by the client)."""

from __future__ import annotations

import httpx2
import pytest

from .util import py, run, wait_stage


@pytest.mark.slow
def test_usage_lists_the_users_own_jobs_of_the_period_priced(api: httpx2.Client) -> None:
    own = run(api, py("print(1)", flavor="t4-small"))
    org = run(api, py("print(2)"), ns="myorg")
    wait_stage(api, own["id"], "COMPLETED")
    wait_stage(api, org["id"], "COMPLETED", ns="myorg")
    usage = api.get("/api/settings/billing/usage/jobs").json()["usage"]
    details = {d["jobId"]: d for d in usage["jobDetails"]}
    assert set(details) == {own["id"]}  # the user's own usage: not the org's
    mine = details[own["id"]]
    assert mine["hardwareFlavor"] == "t4-small"
    assert mine["totalMinutes"] > 0
    # t4-small is $0.40/h: micro-dollars per minute = 6,667 (rounded as the hardware list's unitCostMicroUSD).
    assert abs(mine["totalCostMicroUsd"] - mine["totalMinutes"] * 6667) < 1
    assert usage["usedMicroUsd"] == round(mine["totalCostMicroUsd"], 2)
    assert usage["periodStart"] < mine["startedAt"] < usage["periodEnd"]
    assert "completedAt" in mine


@pytest.mark.slow
def test_usage_needs_a_token(api: httpx2.Client) -> None:
    assert httpx2.get(str(api.base_url) + "/api/settings/billing/usage/jobs").status_code == 401
