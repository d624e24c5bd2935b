"""No duplicate job, ever (design §8): a submission whose answer is lost is looked up, never resent.

The fake Hub creates the job and then the response is lost (``ReadError``, ``RemoteProtocolError``, a 502 from
a gateway). The client must return the job that exists and the server must hold exactly one. When nothing was
created, the client says so with ``TransportError(maybe_sent=True)`` and still sends nothing twice.
"""

from __future__ import annotations

import time
from typing import Any

import httpx2
import pytest

from hfjobs_mcp.api import SUBMISSION_LABEL, JobSpec
from hfjobs_mcp.errors import BadRequestError, ServerError, TransportError
from tests.api.fakes import FakeHub, FakeSleep, iso, make_client

pytestmark = pytest.mark.anyio

SPEC = JobSpec(image="python:3.12", command=["python", "-c", "print(1)"])
LOST = [httpx2.ReadError, httpx2.RemoteProtocolError, httpx2.ReadTimeout, httpx2.WriteError]


@pytest.mark.parametrize("error", LOST)
async def test_run_job_answer_lost_returns_the_created_job(error: type[Exception]) -> None:
    hub = FakeHub()
    hub.fault("POST", "/api/jobs/alice", raise_after=error)
    async with hub.client() as client:
        job = await client.run_job(SPEC)
    assert len(hub.jobs) == 1
    assert job.id == hub.jobs[0]["id"]
    assert len(hub.seen("POST", "/api/jobs/alice")) == 1
    lookup = hub.seen("GET", "/api/jobs/alice")[0]
    assert lookup.url.params.get_list("label") == [f"{SUBMISSION_LABEL}={job.labels[SUBMISSION_LABEL]}"]


async def test_run_job_502_after_create_is_found() -> None:
    hub = FakeHub()
    hub.fault("POST", "/api/jobs/alice", status_after=502)
    async with hub.client() as client:
        job = await client.run_job(SPEC)
    assert [j["id"] for j in hub.jobs] == [job.id]


async def test_run_job_502_before_create_is_a_server_error_and_nothing_exists() -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("POST", "/api/jobs/alice", status=502)
    async with hub.client(sleep=sleep) as client:
        with pytest.raises(ServerError) as info:
            await client.run_job(SPEC)
    assert info.value.status == 502
    assert "not created" in (info.value.hint or "")
    assert hub.jobs == []
    assert len(hub.seen("POST", "/api/jobs/alice")) == 1


@pytest.mark.parametrize("error", [httpx2.ReadError, httpx2.RemoteProtocolError])
async def test_run_job_nothing_created_is_maybe_sent(error: type[Exception]) -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("POST", "/api/jobs/alice", raise_before=error)
    async with hub.client(sleep=sleep) as client:
        with pytest.raises(TransportError) as info:
            await client.run_job(SPEC)
    assert info.value.maybe_sent
    assert "list_jobs" in (info.value.hint or "")
    assert hub.jobs == []
    assert len(hub.seen("POST", "/api/jobs/alice")) == 1
    assert len(hub.seen("GET", "/api/jobs/alice")) == 3  # looked up three times...
    assert sleep.delays == [1.0, 2.0]  # ...waiting in between, never really


async def test_run_job_lookup_failing_too_is_still_maybe_sent() -> None:
    hub, sleep = FakeHub(), FakeSleep()
    hub.fault("POST", "/api/jobs/alice", raise_after=httpx2.ReadError)
    hub.fault("GET", "/api/jobs/alice", status=503, times=1000)
    async with hub.client(sleep=sleep) as client:
        with pytest.raises(TransportError) as info:
            await client.run_job(SPEC)
    assert info.value.maybe_sent
    assert len(hub.jobs) == 1  # it does exist: the caller was told it may
    assert len(hub.seen("POST", "/api/jobs/alice")) == 1


async def test_run_job_lookup_recovers_on_a_later_attempt() -> None:
    hub = FakeHub()
    hub.fault("POST", "/api/jobs/alice", raise_after=httpx2.ReadError)
    hub.fault("GET", "/api/jobs/alice", raise_before=httpx2.ConnectError, times=6)  # the first lookup gives up
    async with hub.client() as client:
        job = await client.run_job(SPEC)
    assert [j["id"] for j in hub.jobs] == [job.id]


async def test_run_job_lookup_checks_the_label_itself() -> None:
    """An old server that ignores ``?label=`` must not make the client adopt someone else's job."""
    hub = FakeHub(label_filter=False)
    hub.add_job(labels={"name": "other"})
    hub.fault("POST", "/api/jobs/alice", raise_before=httpx2.ReadError)
    async with hub.client() as client:
        with pytest.raises(TransportError):
            await client.run_job(SPEC)
    hub.fault("POST", "/api/jobs/alice", raise_after=httpx2.ReadError)
    hub.add_job(labels={"name": "newer"})
    async with hub.client() as client:
        job = await client.run_job(SPEC)
    assert job.labels["name"] == "python-3-12-3212e188"


class RerunningHub(FakeHub):
    """Reruns every new job at once: the copy carries the same labels, the submission label included."""

    def _create(self, spec: dict[str, Any], initiator: dict[str, Any]) -> dict[str, Any]:
        job = super()._create(spec, initiator)
        if initiator["type"] == "user":
            super()._create(spec, {"type": "duplicated-job", "id": job["id"]})
        return job


async def test_run_job_lookup_ignores_reruns_carrying_the_same_label() -> None:
    hub = RerunningHub()
    hub.fault("POST", "/api/jobs/alice", raise_after=httpx2.ReadError)
    async with hub.client() as client:
        job = await client.run_job(SPEC)
    rerun, original = hub.jobs  # newest first: the listing shows the rerun first
    assert rerun["labels"][SUBMISSION_LABEL] == original["labels"][SUBMISSION_LABEL]
    assert job.id == original["id"]


async def test_400_is_a_clear_refusal_not_a_lookup() -> None:
    hub = FakeHub()
    hub.fault("POST", "/api/jobs/alice", status=400, body={"error": "Invalid flavor"})
    async with hub.client() as client:
        with pytest.raises(BadRequestError, match="Invalid flavor"):
            await client.run_job(SPEC)
    assert hub.seen("GET", "/api/jobs/alice") == []


# --- scheduled create, rerun, trigger -------------------------------------------------------------------------


@pytest.mark.parametrize("error", [httpx2.ReadError, httpx2.RemoteProtocolError])
async def test_create_scheduled_job_answer_lost(error: type[Exception]) -> None:
    hub = FakeHub()
    hub.fault("POST", "/api/scheduled-jobs/alice", raise_after=error)
    async with hub.client() as client:
        sj = await client.create_scheduled_job(SPEC, schedule="@hourly")
    assert list(hub.scheduled) == [sj.id]
    assert len(hub.seen("POST", "/api/scheduled-jobs/alice")) == 1


async def test_create_scheduled_job_nothing_created() -> None:
    hub = FakeHub()
    hub.fault("POST", "/api/scheduled-jobs/alice", raise_before=httpx2.ReadError)
    async with hub.client() as client:
        with pytest.raises(TransportError) as info:
            await client.create_scheduled_job(SPEC, schedule="@hourly")
    assert info.value.maybe_sent
    assert hub.scheduled == {}


@pytest.mark.parametrize("error", [httpx2.ReadError, httpx2.RemoteProtocolError])
async def test_duplicate_job_answer_lost(error: type[Exception]) -> None:
    hub = FakeHub()
    original = hub.add_job(stage="COMPLETED")
    old_rerun = hub.add_job(initiator={"type": "duplicated-job", "id": original["id"]})
    old_rerun["createdAt"] = iso(time.time() - 3600)
    hub.fault("POST", f"/api/jobs/alice/{original['id']}/duplicate", raise_after=error)
    async with hub.client() as client:
        await client.namespace()  # learn the server's clock from its Date header
        dup = await client.duplicate_job(original["id"])
    reruns = [j for j in hub.jobs if j["initiator"]["type"] == "duplicated-job"]
    assert len(reruns) == 2
    assert dup.id == reruns[0]["id"] != old_rerun["id"]


async def test_duplicate_job_nothing_created_ignores_an_old_rerun() -> None:
    hub = FakeHub()
    original = hub.add_job(stage="COMPLETED")
    old_rerun = hub.add_job(initiator={"type": "duplicated-job", "id": original["id"]})
    old_rerun["createdAt"] = iso(time.time() - 3600)
    hub.fault("POST", f"/api/jobs/alice/{original['id']}/duplicate", raise_before=httpx2.ReadError)
    async with hub.client() as client:
        with pytest.raises(TransportError) as info:
            await client.duplicate_job(original["id"])
    assert info.value.maybe_sent
    assert len(hub.jobs) == 2


@pytest.mark.parametrize("offset", [-3600.0, 3600.0])
async def test_rerun_lookup_uses_the_servers_clock(offset: float) -> None:
    """No Date seen before the POST (namespace given, first call): a skewed local clock must not matter."""
    hub = FakeHub(clock_offset=offset)
    original = hub.add_job(stage="COMPLETED")
    older = hub.add_job(initiator={"type": "duplicated-job", "id": original["id"]})
    older["createdAt"] = iso(hub.now() - 1800)  # a rerun from half an hour ago, server time
    hub.fault("POST", f"/api/jobs/alice/{original['id']}/duplicate", raise_before=httpx2.ReadError)
    async with hub.client(namespace="alice") as client:
        with pytest.raises(TransportError) as info:
            await client.duplicate_job(original["id"])
    assert info.value.maybe_sent
    hub.fault("POST", f"/api/jobs/alice/{original['id']}/duplicate", raise_after=httpx2.ReadError)
    async with hub.client(namespace="alice") as client:
        dup = await client.duplicate_job(original["id"])
    assert dup.id == hub.jobs[0]["id"] != older["id"]


@pytest.mark.parametrize("error", [httpx2.ReadError, httpx2.RemoteProtocolError])
async def test_trigger_scheduled_job_answer_lost(error: type[Exception]) -> None:
    hub = FakeHub()
    async with hub.client() as client:
        sj = await client.create_scheduled_job(SPEC, schedule="@hourly")
        hub.fault("POST", f"/api/scheduled-jobs/alice/{sj.id}/run", raise_after=error)
        run = await client.trigger_scheduled_job(sj.id)
    assert [j["id"] for j in hub.jobs] == [run.id]
    assert run.initiator is not None
    assert run.initiator.type == "scheduled-job"
    assert len(hub.seen("POST", f"/api/scheduled-jobs/alice/{sj.id}/run")) == 1


async def test_trigger_nothing_created() -> None:
    hub = FakeHub()
    async with hub.client() as client:
        sj = await client.create_scheduled_job(SPEC, schedule="@hourly")
        hub.fault("POST", f"/api/scheduled-jobs/alice/{sj.id}/run", raise_before=httpx2.RemoteProtocolError)
        with pytest.raises(TransportError) as info:
            await client.trigger_scheduled_job(sj.id)
    assert info.value.maybe_sent
    assert hub.jobs == []


# --- idempotent writes and webhooks ---------------------------------------------------------------------------


async def test_cancel_answer_lost_is_retried_once() -> None:
    hub = FakeHub()
    job = hub.add_job()
    path = f"/api/jobs/alice/{job['id']}/cancel"
    hub.fault("POST", path, raise_after=httpx2.ReadError)
    async with hub.client() as client:
        await client.cancel_job(job["id"])
    assert job["status"]["stage"] == "CANCELED"
    assert len(hub.seen("POST", path)) == 2


async def test_cancel_lost_twice_is_a_transport_error() -> None:
    hub = FakeHub()
    job = hub.add_job()
    hub.fault("POST", f"/api/jobs/alice/{job['id']}/cancel", raise_after=httpx2.ReadError, times=2)
    async with hub.client() as client:
        with pytest.raises(TransportError) as info:
            await client.cancel_job(job["id"])
    assert info.value.maybe_sent


async def test_delete_lost_then_404_means_done() -> None:
    calls: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request.method)
        if len(calls) == 1:
            raise httpx2.ReadError("reset", request=request)
        return httpx2.Response(404, json={"error": "Scheduled job not found"})

    async with make_client(handler, namespace="alice") as client:
        await client.delete_scheduled_job("sj1")
    assert calls == ["DELETE", "DELETE"]


async def test_webhook_create_answer_lost_is_not_resent() -> None:
    calls: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        calls.append(request)
        raise httpx2.RemoteProtocolError("peer closed", request=request)

    async with make_client(handler) as client:
        with pytest.raises(TransportError) as info:
            await client.create_webhook(watched=[{"type": "user", "name": "alice"}], job_id="abc")
    assert info.value.maybe_sent
    assert len(calls) == 1
