"""The scheduled-job endpoints (wire-protocol.md §3): create, list, inspect, suspend, resume, run now, reschedule,
relabel and delete.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from hfjobs_mcp.api.base import load, load_list, loader
from hfjobs_mcp.api.jobs import SUBMISSION_LABEL, JobCalls
from hfjobs_mcp.api.models import JobInfo, ScheduledJobInfo
from hfjobs_mcp.api.spec import JobSpec
from hfjobs_mcp.errors import InvalidRequestError

__all__ = ["ScheduledCalls"]


class ScheduledCalls(JobCalls):
    """The scheduled-job endpoints of :class:`~hfjobs_mcp.api.client.JobsClient` (a trigger is found, after a lost
    answer, among the jobs, hence :class:`JobCalls`)."""

    async def create_scheduled_job(
        self,
        spec: JobSpec,
        *,
        schedule: str,
        suspend: bool | None = None,
        concurrency: bool | None = None,
        namespace: str | None = None,
    ) -> ScheduledJobInfo:
        """Create a scheduled job (cron or ``@hourly``-style preset)."""
        if not schedule.strip():
            raise InvalidRequestError("schedule must not be empty", hint="e.g. '@hourly' or '0 9 * * 1'")
        ns = await self._ns(namespace)
        mark = uuid.uuid4().hex
        body: dict[str, Any] = {"jobSpec": spec.with_labels({SUBMISSION_LABEL: mark}).to_wire(), "schedule": schedule}
        if concurrency is not None:
            body["concurrency"] = concurrency
        if suspend is not None:
            body["suspend"] = suspend

        async def find() -> ScheduledJobInfo | None:
            found = await self.list_scheduled_jobs(namespace=ns, labels={SUBMISSION_LABEL: mark})
            return found[0] if found else None

        return await self._submit(
            "POST", f"/api/scheduled-jobs/{ns}", json=body, parse=loader(ScheduledJobInfo), find=find
        )

    async def list_scheduled_jobs(
        self, *, namespace: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[ScheduledJobInfo]:
        """Scheduled jobs having all ``labels`` (the API filters on the first; the rest are checked here)."""
        ns = await self._ns(namespace)
        wanted = dict(labels or {})
        params = [("label", f"{k}={v}") for k, v in list(wanted.items())[:1]]
        body = await self._json("GET", f"/api/scheduled-jobs/{ns}", params=params)
        items = load_list(ScheduledJobInfo, body or [])
        return [sj for sj in items if all(sj.job_spec.labels.get(k) == v for k, v in wanted.items())]

    async def inspect_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> ScheduledJobInfo:
        ns, ident = await self._ref(scheduled_job_id, namespace)
        return load(ScheduledJobInfo, await self._json("GET", f"/api/scheduled-jobs/{ns}/{ident}"))

    async def delete_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> None:
        ns, ident = await self._ref(scheduled_job_id, namespace)
        await self._write("DELETE", f"/api/scheduled-jobs/{ns}/{ident}", gone_ok=True)

    async def suspend_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> None:
        ns, ident = await self._ref(scheduled_job_id, namespace)
        await self._write("POST", f"/api/scheduled-jobs/{ns}/{ident}/suspend")

    async def resume_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> None:
        ns, ident = await self._ref(scheduled_job_id, namespace)
        await self._write("POST", f"/api/scheduled-jobs/{ns}/{ident}/resume")

    async def trigger_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> JobInfo:
        """Run a scheduled job now; 409 (:class:`ConflictError`) if a run is going and concurrency is off."""
        ns, ident = await self._ref(scheduled_job_id, namespace)
        sent = time.monotonic()

        async def find() -> JobInfo | None:
            return await self._newest_started_by(ns, "scheduled-job", ident, sent)

        return await self._submit(
            "POST", f"/api/scheduled-jobs/{ns}/{ident}/run", json=None, parse=loader(JobInfo), find=find
        )

    async def reschedule_scheduled_job(
        self, scheduled_job_id: str, schedule: str, *, namespace: str | None = None
    ) -> ScheduledJobInfo:
        if not schedule.strip():
            raise InvalidRequestError("schedule must not be empty", hint="e.g. '@hourly' or '0 9 * * 1'")
        ns, ident = await self._ref(scheduled_job_id, namespace)
        body = await self._write("POST", f"/api/scheduled-jobs/{ns}/{ident}/schedule", json={"schedule": schedule})
        return load(ScheduledJobInfo, body)

    async def update_scheduled_job_labels(
        self, scheduled_job_id: str, labels: Mapping[str, str], *, namespace: str | None = None
    ) -> ScheduledJobInfo:
        JobSpec(image="x", command=["x"], labels=dict(labels))
        ns, ident = await self._ref(scheduled_job_id, namespace)
        body = await self._write("PUT", f"/api/scheduled-jobs/{ns}/{ident}/labels", json={"labels": dict(labels)})
        return load(ScheduledJobInfo, body)
