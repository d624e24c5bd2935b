"""The job endpoints (wire-protocol.md §3): run, list, count, inspect, cancel, rerun, labels, ports, hardware, usage
and the metrics stream. Logs are :mod:`hfjobs_mcp.api.logs`'s.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any

import httpx2

from hfjobs_mcp.api.base import ClientBase, body_of, load, load_list, loader, unreadable
from hfjobs_mcp.api.http import close_stream
from hfjobs_mcp.api.models import HardwareFlavor, JobInfo, JobsUsage, MetricsSample
from hfjobs_mcp.api.spec import JobSpec
from hfjobs_mcp.api.sse import SseLines, data_payloads
from hfjobs_mcp.errors import TransportError

__all__ = ["SUBMISSION_LABEL", "SUBMISSION_MARK_SHOWN", "JobCalls", "same_site"]

SUBMISSION_LABEL = "hfjobs-mcp-submission"
SUBMISSION_MARK_SHOWN = "<32 hex digits, new for each submission>"
"""What a dry run shows for the submission label's value: it is made when the request is really sent."""

# Hosts that are one site: a next-page link to any of them stays on the endpoint the token was given for.
HUB_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co"})
CLOCK_SKEW = 2.0  # seconds of slack when matching a rerun or trigger by its creation time


def same_site(here: httpx2.URL, target: httpx2.URL) -> bool:
    """True when ``target`` is on the endpoint's site: the same host or an alias of it (``www.`` and, for the Hub,
    ``huggingface.co``/``hf.co``), the same port, and no downgrade from https. The bearer token goes with every page,
    so a next-page link anywhere else is refused."""
    if target.scheme not in (here.scheme, "https") or target.port != here.port:
        return False
    a, b = here.host.lower(), target.host.lower()
    if a in HUB_HOSTS and b in HUB_HOSTS:
        return True
    return a.removeprefix("www.") == b.removeprefix("www.")


class JobCalls(ClientBase):
    """The job endpoints of :class:`~hfjobs_mcp.api.client.JobsClient`."""

    async def jobs_usage(self) -> JobsUsage:
        """The token user's Jobs usage in the current billing period (``/api/settings/billing/usage/jobs``)."""
        body = await self._json("GET", "/api/settings/billing/usage/jobs")
        return load(JobsUsage, body.get("usage") if isinstance(body, dict) else body)

    async def run_job(self, spec: JobSpec, *, namespace: str | None = None) -> JobInfo:
        """Start a job (``POST /api/jobs/{ns}``)."""
        ns = await self._ns(namespace)
        mark = uuid.uuid4().hex
        body = spec.with_labels({SUBMISSION_LABEL: mark}).to_wire()

        async def find() -> JobInfo | None:
            jobs = await self.list_jobs(namespace=ns, labels={SUBMISSION_LABEL: mark}, limit=10)
            originals = [
                j
                for j in jobs
                if j.labels.get(SUBMISSION_LABEL) == mark
                and not (j.initiator and j.initiator.type in ("duplicated-job", "scheduled-job", "webhook"))
            ]
            return originals[0] if originals else None

        return await self._submit("POST", f"/api/jobs/{ns}", json=body, parse=loader(JobInfo), find=find)

    async def list_jobs(
        self,
        *,
        namespace: str | None = None,
        stages: Iterable[str] = (),
        labels: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> list[JobInfo]:
        """Jobs, newest first: any of ``stages`` (OR), all of ``labels`` (AND); follows ``Link: rel="next"``."""
        ns = await self._ns(namespace)
        params: list[tuple[str, str]] = [("stage", s) for s in stages]
        params += [("label", f"{k}={v}") for k, v in (labels or {}).items()]
        out: list[JobInfo] = []
        url: str | None = f"/api/jobs/{ns}"
        query: Any = params
        visited: set[str] = set()
        while url is not None and (limit is None or len(out) < limit):
            self._need_token()
            response = await self._http.request("GET", url, params=query)
            out.extend(load_list(JobInfo, body_of(response)))
            visited.add(str(response.request.url))
            url, query = _next_page(response, visited), None
        return out if limit is None else out[:limit]

    async def count_jobs(self, *, namespace: str | None = None, stages: Iterable[str] = ()) -> int:
        ns = await self._ns(namespace)
        body = await self._json("GET", f"/api/jobs/{ns}/count", params=[("stage", s) for s in stages])
        count = body.get("count") if isinstance(body, dict) else None
        if not isinstance(count, int):
            raise unreadable("count", body)
        return count

    async def inspect_job(self, job_id: str, *, namespace: str | None = None) -> JobInfo:
        ns, ident = await self._ref(job_id, namespace)
        return load(JobInfo, await self._json("GET", f"/api/jobs/{ns}/{ident}"))

    async def cancel_job(self, job_id: str, *, namespace: str | None = None) -> None:
        ns, ident = await self._ref(job_id, namespace)
        await self._write("POST", f"/api/jobs/{ns}/{ident}/cancel")

    async def duplicate_job(self, job_id: str, *, namespace: str | None = None) -> JobInfo:
        """Start a copy of a job (``POST .../duplicate``); the copy's initiator names the original."""
        ns, ident = await self._ref(job_id, namespace)
        sent = time.monotonic()

        async def find() -> JobInfo | None:
            return await self._newest_started_by(ns, "duplicated-job", ident, sent)

        return await self._submit(
            "POST", f"/api/jobs/{ns}/{ident}/duplicate", json=None, parse=loader(JobInfo), find=find
        )

    async def _newest_started_by(self, ns: str, kind: str, source: str, sent: float) -> JobInfo | None:
        """The newest job started by ``kind``/``source`` since ``sent`` (a local monotonic time).

        Creation times are the server's: the send time is put on the server's clock through the ``Date`` of the
        listing itself (read just now) minus the time elapsed since sending, so a skewed local clock cannot make
        an older run pass for the new one.
        """
        jobs = await self.list_jobs(namespace=ns, limit=50)
        sent_at = self._http.server_now() - (time.monotonic() - sent)
        for job in jobs:
            ini = job.initiator
            created = job.created_at.timestamp() if job.created_at else 0.0
            if ini and ini.type == kind and ini.id == source and created >= sent_at - CLOCK_SKEW:
                return job
        return None

    async def update_job_labels(
        self, job_id: str, labels: Mapping[str, str], *, namespace: str | None = None
    ) -> JobInfo:
        """Replace the job's labels (all of them)."""
        JobSpec(image="x", command=["x"], labels=dict(labels))  # same label rules as a run
        ns, ident = await self._ref(job_id, namespace)
        body = await self._write("PUT", f"/api/jobs/{ns}/{ident}/labels", json={"labels": dict(labels)})
        return load(JobInfo, body)

    async def update_job_expose(
        self, job_id: str, ports: Iterable[int], *, public: Iterable[int] = (), namespace: str | None = None
    ) -> JobInfo:
        """Replace the exposed ports (``[]`` closes them all); public ports are exposed too."""
        spec = JobSpec(image="x", command=["x"], expose=list(ports), expose_public=list(public))
        ns, ident = await self._ref(job_id, namespace)
        wire = spec.to_wire().get("expose", {"ports": [], "portsPublic": []})
        return load(JobInfo, await self._write("PUT", f"/api/jobs/{ns}/{ident}/expose", json=wire))

    async def list_hardware(self) -> list[HardwareFlavor]:
        """The flavors with their prices (no token needed)."""
        response = await self._http.request("GET", "/api/jobs/hardware")
        return load_list(HardwareFlavor, body_of(response))

    async def stream_metrics(self, job_id: str, *, namespace: str | None = None) -> AsyncIterator[MetricsSample]:
        """Metrics samples (about one a second) while the job runs; nothing once it is over (the API says 406)."""
        ns, ident = await self._ref(job_id, namespace)
        self._need_token()
        response = await self._http.open_stream(
            f"/api/jobs/{ns}/{ident}/metrics", params={}, read=10.0, tolerate=(406, 500)
        )
        chunks = response.aiter_bytes()
        try:
            if response.status_code in (406, 500):
                return
            lines = SseLines()
            async for chunk in chunks:
                for sample in _samples(lines.feed(chunk)):
                    yield sample
            for sample in _samples(lines.flush()):
                yield sample
        except httpx2.ReadTimeout:
            return
        except (httpx2.TransportError, httpx2.DecodingError) as exc:
            raise TransportError(f"the metrics stream broke: {type(exc).__name__}", hint="try again") from None
        finally:
            await close_stream(response, chunks)


def _next_page(response: httpx2.Response, visited: set[str]) -> str | None:
    """The next page's URL from ``Link: rel="next"``, None at the end (or on a link back to a page already read)."""
    nxt = response.links.get("next", {}).get("url")
    if not nxt:
        return None
    here = response.request.url
    target = here.join(nxt)  # absolute links are kept verbatim; relative ones resolve against this page
    if not same_site(here, target):
        # The bearer token goes with every page: never to another host.
        raise unreadable("a next-page link on the same host", nxt)
    return None if str(target) in visited else str(target)


def _samples(text: str) -> list[MetricsSample]:
    """The metrics samples of complete SSE lines (a malformed event is skipped, as huggingface_hub does)."""
    out = []
    for payload in data_payloads(text):
        try:
            event = json.loads(payload)
        except ValueError:
            continue
        if isinstance(event, dict):
            out.append(load(MetricsSample, event))
    return out
