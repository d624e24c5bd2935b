"""Fidelity to the Hub (issue 19): what it accepts is accepted, what it refuses is refused before anyone consents,
and the dry run shows the request as it will be sent."""

from __future__ import annotations

from typing import Any

import pytest

from hfjobs_mcp.api import SUBMISSION_LABEL
from tests.e2e.conftest import Asked, text

pytestmark = pytest.mark.anyio

RUN = {"image": "python:3.12", "command": ["true"]}


@pytest.mark.slow
@pytest.mark.parametrize("flavor", ["sprx8", "zero-a10g", "inf2x6"])
async def test_flavors_of_the_hub_schema_missing_from_the_hardware_list_are_accepted(
    session_factory: Any, flavor: str
) -> None:
    async with session_factory() as s:
        dry = await s.ok("run_job", {**RUN, "flavor": flavor, "dry_run": True})
        assert dry["request"]["flavor"] == flavor
        assert dry["cost"]["price_per_hour_usd"] is None
        # An unknown price is treated as above any threshold: a real call asks.
        assert any("unknown amount" in r for r in dry["cost"]["needs_approval"])
    async with session_factory(max_price_per_job=100.0) as s:
        assert "unknown" in text(await s.call("run_job", {**RUN, "flavor": flavor}))


async def test_an_unknown_flavor_is_refused_with_the_closest_one(session_factory: Any) -> None:
    async with session_factory() as s:
        result = await s.call("run_job", {**RUN, "flavor": "a10g-smal"})
        assert result.is_error
        assert "did you mean 'a10g-small'" in text(result)


@pytest.mark.parametrize("schedule", ["* * * * MON", "0 9 * JAN *", "1-5/2 * * * *", "0  9 * * *"])
async def test_cron_forms_the_hub_refuses_are_refused_before_anyone_is_asked(
    session_factory: Any, schedule: str
) -> None:
    asked = Asked()
    async with session_factory(elicitation=asked) as s:
        before = len(await s.api.list_scheduled_jobs())
        result = await s.call("schedule_job", {**RUN, "schedule": schedule, "flavor": "a100-large"})
        assert result.is_error
        assert "not accepted by Hugging Face" in text(result)
        assert asked.prompts == []
        assert len(await s.api.list_scheduled_jobs()) == before


@pytest.mark.slow
@pytest.mark.parametrize(
    ("schedule", "per_day"), [("0 0 9 * * 1", 1), ("*/10 * * * * *", 8640), ("0 30 9 * * 1-5 2030", 1)]
)
async def test_six_and_seven_field_forms_the_hub_allows_are_priced_with_seconds_first(
    session_factory: Any, schedule: str, per_day: int
) -> None:
    async with session_factory() as s:
        dry = await s.ok("schedule_job", {**RUN, "schedule": schedule, "dry_run": True})
        assert dry["runs_per_day"] == per_day


@pytest.mark.slow
async def test_the_dry_run_shows_the_labels_as_sent(session_factory: Any) -> None:
    async with session_factory() as s:
        dry = await s.ok("run_job", {**RUN, "labels": {"team": "ml"}, "dry_run": True})
        assert dry["request"]["labels"]["team"] == "ml"
        assert dry["request"]["labels"][SUBMISSION_LABEL] == "<32 hex digits, new for each submission>"
        started = await s.ok("run_job", {**RUN, "labels": {"team": "ml"}})
        sent = started["job"]["labels"]
        assert set(sent) == set(dry["request"]["labels"])
        assert len(sent[SUBMISSION_LABEL]) == 32
        sched = await s.ok("schedule_job", {**RUN, "schedule": "@yearly", "dry_run": True})
        assert SUBMISSION_LABEL in sched["request"]["jobSpec"]["labels"]
