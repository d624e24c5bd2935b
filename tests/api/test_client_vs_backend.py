"""The client against the real local backend over loopback HTTP: workflows, then reliability under its faults.

The backend (``hfjobs_mcp.local``) is written independently from the wire spec, so agreement here is evidence
that both read it the same way. Its fault injection (``backend.faults.add(SPEC)``, grammar in
``hfjobs_mcp.local.faults``) drives the reliability cases: 429, 503 on reads, a response dropped after a job
was created (log streams cut mid-way: tests/api/test_logs.py). Sleeps are shortened (and recorded), so the whole
file stays quick.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anyio
import pytest

from hfjobs_mcp.api import JobInfo, JobsClient, JobSpec, RetryPolicy
from hfjobs_mcp.errors import ConflictError, NotFoundError, PaymentRequiredError, ServerError
from tests.api.fakes import FakeSleep
from tests.backends import backend_config, serve_backend

pytestmark = pytest.mark.anyio

LABEL = {"suite": "client-vs-backend"}


class QuickSleep(FakeSleep):
    """Records the requested delay, sleeps a twentieth of a second at most."""

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await anyio.sleep(min(seconds, 0.05))


def printer(n: int, pause: float = 0.02) -> list[str]:
    """A command printing ``line 0`` .. ``line n-1``, one every ``pause`` seconds."""
    code = f"import time\nfor i in range({n}):\n    print('line', i, flush=True)\n    time.sleep({pause})\n"
    return ["python", "-c", code]


@pytest.fixture
async def client(local_backend: Any) -> AsyncIterator[JobsClient]:
    sleep = QuickSleep()
    async with JobsClient(
        token=local_backend.token, endpoint=local_backend.url, sleep=sleep, retry=RetryPolicy(attempts=5)
    ) as c:
        c.test_sleep = sleep  # type: ignore[attr-defined]
        yield c


async def wait_for(client: JobsClient, job_id: str, stages: set[str], timeout: float = 20.0) -> JobInfo:
    with anyio.fail_after(timeout):
        while True:
            job = await client.inspect_job(job_id)
            if job.status.stage in stages:
                return job
            await anyio.sleep(0.05)


# --- workflows ------------------------------------------------------------------------------------------------


@pytest.mark.slow
async def test_run_follow_logs_until_completed(client: JobsClient) -> None:
    job = await client.run_job(JobSpec(image="python:3.12", command=printer(8), labels=LABEL))
    assert job.status.stage in ("SCHEDULING", "RUNNING")
    assert job.owner.name == "alice"
    assert job.labels["name"] == "python-3-12-" + job.labels["name"].rsplit("-", 1)[1]
    texts = [line.text async for line in client.stream_logs(job.id, follow=True)]
    assert texts == [f"line {i}" for i in range(8)]
    done = await client.inspect_job(job.id)
    assert done.status.stage == "COMPLETED"
    assert done.finished_at is not None
    # A one-shot read of a finished job gives the same lines, the banner left out; tail keeps the last ones.
    assert [line.text async for line in client.stream_logs(job.id)] == texts
    assert [line.text async for line in client.stream_logs(job.id, tail=2)] == texts[-2:]
    assert [s async for s in client.stream_metrics(job.id)] == []  # 406 once finished


@pytest.mark.slow
async def test_list_with_filters_and_namespaces(client: JobsClient) -> None:
    a = await client.run_job(JobSpec(image="ubuntu", command=["true"], labels={"team": "a", **LABEL}))
    b = await client.run_job(JobSpec(image="ubuntu", command=["sleep", "30"], labels={"team": "b", **LABEL}))
    await wait_for(client, a.id, {"COMPLETED", "ERROR"})
    await wait_for(client, b.id, {"RUNNING"})
    assert [j.id for j in await client.list_jobs(labels={"team": "a"})] == [a.id]
    assert [j.id for j in await client.list_jobs(labels={"team": "b", **LABEL})] == [b.id]
    assert await client.list_jobs(labels={"team": "a", "suite": "other"}) == []
    running = await client.list_jobs(stages=["RUNNING", "SCHEDULING"], labels=LABEL)
    assert [j.id for j in running] == [b.id]
    assert {j.id for j in await client.list_jobs(labels=LABEL)} == {a.id, b.id}
    assert len(await client.list_jobs(limit=1)) == 1
    assert await client.count_jobs(stages=["RUNNING"]) == 1
    assert (await client.inspect_job(f"alice/{a.id}")).id == a.id
    with pytest.raises(NotFoundError):
        await client.inspect_job("0123456789abcdef01234567")
    await client.cancel_job(b.id)
    canceled = await wait_for(client, b.id, {"CANCELED"})
    assert canceled.finished


@pytest.mark.slow
async def test_rerun_and_labels(client: JobsClient) -> None:
    job = await client.run_job(JobSpec(image="ubuntu", command=["true"], name="first"))
    await wait_for(client, job.id, {"COMPLETED"})
    again = await client.duplicate_job(job.id)
    assert again.id != job.id
    assert again.initiator is not None
    assert (again.initiator.type, again.initiator.id) == ("duplicated-job", job.id)
    relabeled = await client.update_job_labels(job.id, {"env": "prod"})
    assert relabeled.labels.get("env") == "prod"


@pytest.mark.slow
async def test_scheduled_cycle(client: JobsClient) -> None:
    spec = JobSpec(image="python:3.12", command=["sleep", "30"], labels={"kind": "nightly"}, timeout="5m")
    sj = await client.create_scheduled_job(spec, schedule="@hourly", suspend=True, concurrency=False)
    assert sj.suspend
    assert sj.job_spec.timeout == 300
    assert sj.status.next_job_run_at is not None
    assert [s.id for s in await client.list_scheduled_jobs(labels={"kind": "nightly"})] == [sj.id]
    assert await client.list_scheduled_jobs(labels={"kind": "nightly", "other": "x"}) == []
    await client.resume_scheduled_job(sj.id)
    assert not (await client.inspect_scheduled_job(sj.id)).suspend
    await client.suspend_scheduled_job(sj.id)
    assert (await client.inspect_scheduled_job(sj.id)).suspend
    run = await client.trigger_scheduled_job(sj.id)
    assert run.initiator is not None
    assert (run.initiator.type, run.initiator.id) == ("scheduled-job", sj.id)
    await wait_for(client, run.id, {"RUNNING"})
    with pytest.raises(ConflictError) as info:
        await client.trigger_scheduled_job(sj.id)
    assert "concurrency" in (info.value.server_message or "")
    await client.cancel_job(run.id)
    moved = await client.reschedule_scheduled_job(sj.id, "0 9 * * 1")
    assert moved.schedule == "0 9 * * 1"
    await client.delete_scheduled_job(sj.id)
    with pytest.raises(NotFoundError):
        await client.inspect_scheduled_job(sj.id)


@pytest.mark.slow
async def test_webhook_cycle(client: JobsClient) -> None:
    job = await client.run_job(JobSpec(image="ubuntu", command=["true"]))
    hook = await client.create_webhook(
        watched=[{"type": "user", "name": "alice"}], job_id=job.id, secrets={"HF_TOKEN": "hf_fake_for_hook"}
    )
    assert hook.id
    assert not hook.disabled
    assert [w.id for w in await client.list_webhooks()] == [hook.id]
    assert (await client.get_webhook(hook.id)).id == hook.id
    assert (await client.disable_webhook(hook.id)).disabled
    assert not (await client.enable_webhook(hook.id)).disabled
    updated = await client.update_webhook(hook.id, watched=[{"type": "model", "name": "alice/m"}], domains=["repo"])
    assert [(w.type, w.name) for w in updated.watched] == [("model", "alice/m")]
    await client.delete_webhook(hook.id)
    assert await client.list_webhooks() == []
    with pytest.raises(NotFoundError):
        await client.get_webhook(hook.id)


@pytest.mark.slow
async def test_pagination_against_the_backend(tmp_path: Any) -> None:

    cfg = backend_config(
        state_dir=tmp_path / "paged", token="hf_fake_paged_token_0123456789", user="alice", page_size=2
    )
    with serve_backend(cfg) as backend:
        async with JobsClient(token=backend.token, endpoint=backend.url) as client:
            ids = [(await client.run_job(JobSpec(image="ubuntu", command=["true"], labels=LABEL))).id for _ in range(5)]
            listed = await client.list_jobs()
            assert sorted(j.id for j in listed) == sorted(ids)
            assert len({j.id for j in listed}) == 5
            assert len(await client.list_jobs(labels=LABEL, limit=3)) == 3


# --- reliability under injected faults ------------------------------------------------------------------------


@pytest.mark.slow
async def test_429_then_success(local_backend: Any, client: JobsClient) -> None:
    await client.namespace()
    local_backend.faults.add("429:method=GET:path=/api/jobs/*:retry_after=1")
    assert await client.list_jobs() == []
    assert client.test_sleep.delays == [1.0]  # type: ignore[attr-defined]
    assert [kind for kind, _, _ in local_backend.faults.history] == ["429"]


@pytest.mark.slow
async def test_503_on_reads_is_retried(local_backend: Any, client: JobsClient) -> None:
    job = await client.run_job(JobSpec(image="ubuntu", command=["true"]))
    local_backend.faults.add("503:method=GET:path=/api/jobs/**:times=3")
    assert (await client.inspect_job(job.id)).id == job.id
    assert len(client.test_sleep.delays) == 3  # type: ignore[attr-defined]
    assert [kind for kind, _, _ in local_backend.faults.history] == ["503"] * 3


@pytest.mark.slow
async def test_503_on_a_submission_is_not_retried(local_backend: Any, client: JobsClient) -> None:
    await client.namespace()
    local_backend.faults.add("503:method=POST:path=/api/jobs/*")
    with pytest.raises(ServerError):
        await client.run_job(JobSpec(image="ubuntu", command=["true"]))
    assert await client.list_jobs() == []


@pytest.mark.slow
async def test_drop_after_create_makes_exactly_one_job(local_backend: Any, client: JobsClient) -> None:
    await client.namespace()
    local_backend.faults.add("drop-after-create")
    job = await client.run_job(JobSpec(image="ubuntu", command=["true"], labels=LABEL))
    listed = await client.list_jobs()
    assert [j.id for j in listed] == [job.id]
    assert local_backend.faults.history == [("drop-after-create", "POST", "/api/jobs/alice")]


@pytest.mark.slow
async def test_drop_after_create_on_rerun_scheduled_and_trigger(local_backend: Any, client: JobsClient) -> None:
    job = await client.run_job(JobSpec(image="ubuntu", command=["true"]))
    await wait_for(client, job.id, {"COMPLETED"})
    local_backend.faults.add("drop-after-create:path=/api/jobs/*/*/duplicate")
    rerun = await client.duplicate_job(job.id)
    assert {j.id for j in await client.list_jobs()} == {job.id, rerun.id}

    local_backend.faults.add("drop-after-create:path=/api/scheduled-jobs/*")
    sj = await client.create_scheduled_job(JobSpec(image="ubuntu", command=["true"]), schedule="@daily")
    assert [s.id for s in await client.list_scheduled_jobs()] == [sj.id]

    local_backend.faults.add("drop-after-create:path=/api/scheduled-jobs/*/*/run")
    run = await client.trigger_scheduled_job(sj.id)
    triggered = [j for j in await client.list_jobs() if j.initiator and j.initiator.type == "scheduled-job"]
    assert [j.id for j in triggered] == [run.id]
    assert [kind for kind, _, _ in local_backend.faults.history] == ["drop-after-create"] * 3


@pytest.mark.slow
async def test_402_is_payment_required_with_a_billing_hint(local_backend: Any, client: JobsClient) -> None:
    await client.namespace()
    local_backend.faults.add("402:method=POST:path=/api/jobs/*")
    with pytest.raises(PaymentRequiredError) as info:
        await client.run_job(JobSpec(image="ubuntu", command=["true"]))
    assert "billing" in (info.value.hint or "")
    assert await client.list_jobs() == []
