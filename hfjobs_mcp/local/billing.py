"""``GET /api/settings/billing/usage/jobs``: the token user's Jobs usage in the current billing period.

As the Hub's OpenAPI document describes it (``usage`` and ``hasAccess``): the period (here the calendar month,
UTC), the total used in micro-dollars and minutes, and one entry per job of the user's own namespace that ran in
the period, priced from the local hardware list (running time x the flavor's price). Org jobs are not in it, as
on the Hub, where this route reports the user's own usage.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import hardware
from .auth import check_token
from .clock import to_wire
from .core import LocalCore

MAX_JOBS = 10_000


def _period(now: float) -> tuple[float, float]:
    start = datetime.fromtimestamp(now, UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    end = start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)
    return start.timestamp(), end.timestamp()


async def jobs_usage(request: Request) -> Response:
    core = cast(LocalCore, request.app.state.core)
    user = check_token(request, core.cfg)
    now = time.time()
    start, end = _period(now)
    details = []
    used_micro = minutes_total = 0.0
    for _, rec in core.store.list_jobs(user, limit=MAX_JOBS):
        if rec.started_at is None or (rec.finished_at or now) < start:
            continue
        minutes = max(0.0, (rec.finished_at or now) - max(rec.started_at, start)) / 60
        flavor = hardware.BY_NAME.get(rec.spec.flavor) or hardware.LEGACY_FLAVORS.get(rec.spec.flavor)
        cost = minutes * flavor.unit_cost_micro_usd if flavor is not None else 0.0
        entry = {
            "jobId": rec.id,
            "hardwareFlavor": rec.spec.flavor,
            "totalMinutes": round(minutes, 4),
            "totalCostMicroUsd": round(cost, 2),
            "startedAt": to_wire(rec.started_at),
        }
        if rec.finished_at is not None:
            entry["completedAt"] = to_wire(rec.finished_at)
        details.append(entry)
        used_micro += cost
        minutes_total += minutes
    return JSONResponse(
        {
            "usage": {
                "usedMicroUsd": round(used_micro, 2),
                "totalMinutes": round(minutes_total, 4),
                "periodStart": to_wire(start),
                "periodEnd": to_wire(end),
                "jobDetails": details,
            },
            "hasAccess": True,
        }
    )
