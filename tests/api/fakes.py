"""Offline doubles for the client tests: a recording fake of the Jobs API, SSE bodies, a sleep that never sleeps.

``FakeHub`` keeps server-side state (jobs, scheduled jobs, logs) and answers through ``httpx2.MockTransport``,
so a test can check what the client sent *and* what it caused (e.g. that exactly one job exists after a dropped
response). Faults are armed per route: answer with a status, or do the work and then drop the response.
Every response carries a ``Date`` header, as the real service's do.
"""

from __future__ import annotations

import email.utils
import itertools
import json
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx2

from hfjobs_mcp.api import JobsClient, LogLine, RetryPolicy

TOKEN = "hf_FAKEtokenForTests0123456789abcdef"  # not a real token
USER = "alice"
ENDPOINT = "https://hub.test"
NO_WAIT = RetryPolicy(attempts=5, base_delay=0.5, max_delay=8.0, budget=30.0)


def iso(epoch: float) -> str:
    """``2025-07-22T16:06:25.079Z``: the only timestamp form the Hub's clients accept."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def http_date(epoch: float | None = None) -> str:
    return email.utils.formatdate(time.time() if epoch is None else epoch, usegmt=True)


class FakeSleep:
    """Records every requested delay and returns at once: retries and backoff without real waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)

    @property
    def total(self) -> float:
        return sum(self.delays)


def job_json(job_id: str = "abc", stage: str = "RUNNING", **over: Any) -> dict[str, Any]:
    """A JobInfo body as the Hub sends it (wire §5.1)."""
    body: dict[str, Any] = {
        "id": job_id,
        "type": "job",
        "createdAt": "2025-07-22T16:06:25.079Z",
        "dockerImage": "python:3.12",
        "command": ["python", "-c", "print(1)"],
        "arguments": [],
        "environment": {},
        "secrets": [],
        "flavor": "cpu-basic",
        "labels": {"name": "python-3-12-3212e188"},
        "status": {"stage": stage, "message": None},
        "owner": {"id": "5e9ecfc04957053f60648a3e", "name": USER, "type": "user"},
        "initiator": {"type": "user", "id": "5e9ecfc04957053f60648a3e", "name": USER},
    }
    body.update(over)
    return body


def scheduled_json(sid: str = "sj1", **over: Any) -> dict[str, Any]:
    """A ScheduledJobInfo body (wire §5.3)."""
    body: dict[str, Any] = {
        "id": sid,
        "type": "scheduled-job",
        "createdAt": "2025-07-22T16:06:25.079Z",
        "schedule": "@hourly",
        "suspend": False,
        "concurrency": False,
        "status": {"lastJob": None, "nextJobRunAt": "2025-07-22T17:00:00.000Z"},
        "owner": {"id": "5e9ecfc04957053f60648a3e", "name": USER, "type": "user"},
        "jobSpec": {
            "dockerImage": "python:3.12",
            "command": ["echo", "hi"],
            "arguments": [],
            "environment": {},
            "secrets": [],
            "flavor": "cpu-basic",
            "timeout": 300,
            "labels": {"name": "x"},
        },
    }
    body.update(over)
    return body


def reference_events(body: str) -> list[LogLine | None]:
    """Wire §6.1 read literally, one line at a time: every line starting with ``data: {`` is one event (a line cut at
    CR, LF or CRLF), a log line if its JSON is an object with string ``data`` and an ISO 8601 ``timestamp``. What the
    log decoder must give, whichever of its paths decoded a line."""
    out: list[LogLine | None] = []
    for line in re.split(r"\r\n|\r|\n", body):
        if not line.startswith("data: {"):
            continue
        try:
            event = json.loads(line[6:])
        except ValueError:
            out.append(None)
            continue
        text, stamp = (event.get("data"), event.get("timestamp")) if isinstance(event, dict) else (None, None)
        try:
            when = datetime.fromisoformat(stamp.replace("Z", "+00:00")) if isinstance(stamp, str) else None
        except ValueError:
            when = None
        out.append(LogLine(when, text) if isinstance(text, str) and when is not None else None)
    return out


def sse_event(text: str, epoch: float) -> str:
    return "data: " + json.dumps({"data": text, "timestamp": iso(epoch)}) + "\n\n"


async def chunked(data: bytes, sizes: Iterable[int]) -> AsyncIterator[bytes]:
    """``data`` cut at odd places: every SSE line has to survive being split across chunks."""
    pos = 0
    for size in itertools.cycle(sizes):
        if pos >= len(data):
            return
        yield data[pos : pos + size]
        pos += size


def sse_response(
    body: str, *, date: float | None = None, sizes: Iterable[int] = (7, 1, 13, 3), status: int = 200
) -> httpx2.Response:
    return httpx2.Response(
        status,
        headers={"content-type": "text/event-stream", "date": http_date(date)},
        content=chunked(body.encode(), list(sizes)),
    )


def make_client(
    handler: Callable[[httpx2.Request], Any],
    *,
    sleep: FakeSleep | None = None,
    retry: RetryPolicy | None = None,
    namespace: str | None = None,
    token: str | None = TOKEN,
) -> JobsClient:
    return JobsClient(
        token=token,
        endpoint=ENDPOINT,
        transport=httpx2.MockTransport(handler),
        sleep=sleep or FakeSleep(),
        retry=retry or NO_WAIT,
        namespace=namespace,
    )


@dataclass
class Fault:
    """What to do to the next matching requests: answer ``status`` (before any work), or do the work then raise."""

    method: str
    path: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    raise_after: type[Exception] | None = None  # the server did the work, then the response was lost
    raise_before: type[Exception] | None = None  # the request never took effect
    status_after: int | None = None  # the server did the work, then a gateway answered this status
    times: int = 1


@dataclass
class FakeHub:
    """A stateful fake of the Jobs API with per-route faults and a log of every request."""

    user: str = USER
    token: str = TOKEN
    page_size: int = 50
    requests: list[httpx2.Request] = field(default_factory=list)
    jobs: list[dict[str, Any]] = field(default_factory=list)  # newest first
    scheduled: dict[str, dict[str, Any]] = field(default_factory=dict)
    logs: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    label_filter: bool = True  # False: an old server that ignores ?label= on job lists
    clock_offset: float = 0.0  # the server's clock minus ours (Date headers and createdAt use it)

    def now(self) -> float:
        return time.time() + self.clock_offset

    # --- helpers for tests ----------------------------------------------------------------------------

    def transport(self) -> httpx2.MockTransport:
        return httpx2.MockTransport(self.handle)

    def client(self, **kwargs: Any) -> JobsClient:
        return JobsClient(
            token=kwargs.pop("token", self.token),
            endpoint=ENDPOINT,
            transport=self.transport(),
            sleep=kwargs.pop("sleep", FakeSleep()),
            retry=kwargs.pop("retry", NO_WAIT),
            **kwargs,
        )

    def fault(self, method: str, path: str, **kwargs: Any) -> Fault:
        f = Fault(method, path, **kwargs)
        self.faults.append(f)
        return f

    def seen(self, method: str, path: str) -> list[httpx2.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == path]

    def add_job(self, **over: Any) -> dict[str, Any]:
        job = job_json(secrets.token_hex(12), **over)
        job["createdAt"] = iso(self.now())
        self.jobs.insert(0, job)
        return job

    # --- the server -----------------------------------------------------------------------------------

    async def handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        fault = self._fault_for(request)
        if fault is not None and fault.raise_before is not None:
            raise fault.raise_before("fault: before", request=request)  # type: ignore[call-arg]
        if fault is not None and fault.status is not None:
            body = fault.body if fault.body is not None else {"error": f"fault {fault.status}"}
            return self._json(fault.status, body, headers=fault.headers)
        response = self._route(request)
        if fault is not None and fault.raise_after is not None:
            raise fault.raise_after("fault: after", request=request)  # type: ignore[call-arg]
        if fault is not None and fault.status_after is not None:
            return self._json(fault.status_after, {"error": "Bad Gateway"})
        return response

    def _fault_for(self, request: httpx2.Request) -> Fault | None:
        for f in self.faults:
            if f.times > 0 and f.method == request.method and f.path == request.url.path:
                f.times -= 1
                return f
        return None

    def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> httpx2.Response:
        return httpx2.Response(status, json=body, headers={"date": http_date(self.now()), **(headers or {})})

    def _route(self, request: httpx2.Request) -> httpx2.Response:
        if request.headers.get("authorization") != f"Bearer {self.token}" and request.url.path != "/api/jobs/hardware":
            return self._json(401, {"error": "Invalid credentials in Authorization header"})
        parts = request.url.path.strip("/").split("/")
        method = request.method
        if parts == ["api", "whoami-v2"]:
            return self._json(200, {"type": "user", "id": "u1", "name": self.user, "orgs": [{"name": "myorg"}]})
        if parts == ["api", "jobs", "hardware"]:
            return self._json(200, [])
        if parts[:2] == ["api", "jobs"] and len(parts) >= 3:
            if parts[2] != self.user:
                return self._json(403, {"error": "You cannot act on this namespace"})
            if len(parts) == 3 and method == "POST":
                return self._json(200, self._create(json.loads(request.content), {"type": "user", "id": "u1"}))
            if len(parts) == 3 and method == "GET":
                return self._list(request)
            job = next((j for j in self.jobs if j["id"] == parts[3]), None)
            if job is None:
                return self._json(404, {"error": "Job not found"})
            if len(parts) == 4 and method == "GET":
                return self._json(200, job)
            if parts[4:] == ["cancel"] and method == "POST":
                job["status"] = {"stage": "CANCELED", "message": None}
                return self._json(200, job)
            if parts[4:] == ["duplicate"] and method == "POST":
                spec = {k: job[k] for k in ("command", "arguments", "environment", "flavor", "labels", "dockerImage")}
                return self._json(200, self._create(spec, {"type": "duplicated-job", "id": job["id"]}))
        if parts[:2] == ["api", "scheduled-jobs"] and len(parts) >= 3:
            if len(parts) == 3 and method == "POST":
                body = json.loads(request.content)
                sid = secrets.token_hex(12)
                spec = dict(body["jobSpec"])
                spec["timeout"] = spec.pop("timeoutSeconds", None)
                spec["secrets"] = list(spec.get("secrets", {}))
                self.scheduled[sid] = scheduled_json(sid, schedule=body["schedule"], jobSpec=spec)
                return self._json(200, self.scheduled[sid])
            if len(parts) == 3 and method == "GET":
                wanted = [v.split("=", 1) for k, v in parse_qsl(request.url.query.decode()) if k == "label"]
                found = [
                    s for s in self.scheduled.values() if all(s["jobSpec"]["labels"].get(k) == v for k, v in wanted)
                ]
                return self._json(200, found)
            sj = self.scheduled.get(parts[3])
            if sj is None:
                return self._json(404, {"error": "Scheduled job not found"})
            if len(parts) == 4 and method == "GET":
                return self._json(200, sj)
            if parts[4:] == ["run"] and method == "POST":
                spec = sj["jobSpec"]
                created = self._create(
                    {k: spec[k] for k in ("command", "environment", "flavor", "labels", "dockerImage")},
                    {"type": "scheduled-job", "id": sj["id"]},
                )
                return self._json(200, created)
        return self._json(404, {"error": f"no route {method} {request.url.path}"})

    def _create(self, spec: dict[str, Any], initiator: dict[str, Any]) -> dict[str, Any]:
        job = job_json(
            secrets.token_hex(12),
            stage="SCHEDULING",
            command=spec["command"],
            environment=spec.get("environment", {}),
            flavor=spec["flavor"],
            labels=dict(spec.get("labels", {})),
            initiator=initiator,
        )
        job.pop("dockerImage")
        job.update({k: spec[k] for k in ("dockerImage", "spaceId") if k in spec})
        job["createdAt"] = iso(self.now())
        self.jobs.insert(0, job)
        return job

    def _list(self, request: httpx2.Request) -> httpx2.Response:
        query = parse_qsl(request.url.query.decode())
        stages = [v for k, v in query if k == "stage"]
        labels = [v.split("=", 1) for k, v in query if k == "label" and self.label_filter]
        offset = int(next((v for k, v in query if k == "cursor"), "0"))
        found = [
            j
            for j in self.jobs
            if (not stages or j["status"]["stage"] in stages) and all(j["labels"].get(k) == v for k, v in labels)
        ]
        page = found[offset : offset + self.page_size]
        headers: dict[str, str] = {}
        if offset + self.page_size < len(found):
            rest = [(k, v) for k, v in query if k != "cursor"] + [("cursor", str(offset + self.page_size))]
            headers["link"] = f'<{ENDPOINT}{request.url.path}?{urlencode(rest)}>; rel="next"'
        return self._json(200, page, headers)
