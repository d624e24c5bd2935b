"""No duplicate jobs, ever (design §8), at scale: 200 submissions whose responses are all dropped after the job
was created, through the MCP tools an agent calls.

The backend's ``drop-after-create`` fault lets each submission through (the job or schedule IS created), sends the
response headers, then closes the connection without the body: the client cannot know whether anything happened.
It must look the submission up (by its unique label, or for reruns and triggers by initiator and time) and answer
with what exists, never send it again. Ten calls run at a time, so lookups also race other submissions.

tests/api/test_client_vs_backend.py covers one drop per submission kind; this file is the issue's scale and adds
the case where the lookup fails too: then the answer must say the job may exist and how to check.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import anyio
import pytest

from hfjobs_mcp.api import SUBMISSION_LABEL, RetryPolicy
from tests.e2e.conftest import Session, text
from tests.reliability.conftest import USER, Counted, RecordingSleep, error_of, mcp_session

pytestmark = pytest.mark.anyio

RUNS = 160
SCHEDULES = 20
RERUNS = 10
TRIGGERS = 10
TOTAL = RUNS + SCHEDULES + RERUNS + TRIGGERS  # 200
PARALLEL = 10
DROP_ALL = ",".join(
    [
        "drop-after-create:times=inf",  # POST /api/jobs/{ns}
        "drop-after-create:path=/api/jobs/*/*/duplicate:times=inf",
        "drop-after-create:path=/api/scheduled-jobs/*:times=inf",
        "drop-after-create:path=/api/scheduled-jobs/*/*/run:times=inf",
    ]
)


async def _all(calls: list[Any]) -> list[Any]:
    """Run the zero-argument coroutine functions ``calls``, ``PARALLEL`` at a time; results in call order."""
    results: list[Any] = [None] * len(calls)
    limiter = anyio.CapacityLimiter(PARALLEL)

    async def one(i: int) -> None:
        async with limiter:
            results[i] = await calls[i]()

    async with anyio.create_task_group() as tg:
        for i in range(len(calls)):
            tg.start_soon(one, i)
    return results


def _job_of(s: Session, result: Any) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    job: dict[str, Any] = result.structured_content["job"]
    return job


@pytest.mark.slow
async def test_200_dropped_submissions_make_200_jobs_and_each_call_returns_its_own(backend: Counted) -> None:
    backend.faults.add(DROP_ALL)
    async with mcp_session(backend, sleep=RecordingSleep()) as s:
        # 160 runs, each labelled with its call number.
        runs = await _all(
            [
                lambda i=i: s.call("run_job", {"image": "ubuntu", "command": ["true"], "labels": {"call": f"run-{i}"}})
                for i in range(RUNS)
            ]
        )
        run_jobs = [_job_of(s, r) for r in runs]

        # 20 schedules (suspended, yearly: none fires by itself).
        scheds = await _all(
            [
                lambda i=i: s.call(
                    "schedule_job",
                    {
                        "image": "ubuntu",
                        "command": ["true"],
                        "schedule": "@yearly",
                        "suspend": True,
                        "concurrency": True,
                        "labels": {"call": f"sched-{i}"},
                    },
                )
                for i in range(SCHEDULES)
            ]
        )
        for r in scheds:
            assert not r.is_error, text(r)
        sched_views = [r.structured_content["scheduled_job"] for r in scheds]

        # 10 reruns of distinct jobs and 10 triggers of distinct schedules, all at once.
        copies = await _all(
            [lambda j=j: s.call("rerun_job", {"job_id": j["id"]}) for j in run_jobs[:RERUNS]]
            + [
                lambda sv=sv: s.call("trigger_scheduled_job", {"scheduled_job_id": sv["id"]})
                for sv in sched_views[:TRIGGERS]
            ]
        )
        copy_jobs = [_job_of(s, r) for r in copies]

        fired = Counter(kind for kind, _, _ in backend.faults.history)
        assert fired["drop-after-create"] == TOTAL  # every single response was lost

        backend.faults.clear()
        jobs = await s.api.list_jobs()
        schedules = await s.api.list_scheduled_jobs()

    # Exactly one job per run call, and the call answered with that very job.
    by_call = Counter(j.labels.get("call") for j in jobs if j.initiator is None or j.initiator.type == "user")
    assert len(jobs) == RUNS + RERUNS + TRIGGERS
    assert all(by_call[f"run-{i}"] == 1 for i in range(RUNS)), by_call
    listed = {j.labels["call"]: j.id for j in jobs if j.initiator is None or j.initiator.type == "user"}
    assert [job["id"] for job in run_jobs] == [listed[f"run-{i}"] for i in range(RUNS)]
    assert len({j.labels[SUBMISSION_LABEL] for j in jobs if j.initiator is None or j.initiator.type == "user"}) == RUNS

    # Exactly one schedule per schedule call, answered with itself.
    assert len(schedules) == SCHEDULES
    sched_by_call = {sj.job_spec.labels["call"]: sj.id for sj in schedules}
    assert [sv["id"] for sv in sched_views] == [sched_by_call[f"sched-{i}"] for i in range(SCHEDULES)]

    # Exactly one copy per rerun or trigger, each answered with the copy of the right source.
    reruns = [j for j in jobs if j.initiator is not None and j.initiator.type == "duplicated-job"]
    triggered = [j for j in jobs if j.initiator is not None and j.initiator.type == "scheduled-job"]
    assert sorted(j.initiator.id for j in reruns) == sorted(j["id"] for j in run_jobs[:RERUNS])  # type: ignore[union-attr]
    assert sorted(j.initiator.id for j in triggered) == sorted(sv["id"] for sv in sched_views[:TRIGGERS])  # type: ignore[union-attr]
    source_of = {j.id: j.initiator.id for j in [*reruns, *triggered]}  # type: ignore[union-attr]
    sources = [j["id"] for j in run_jobs[:RERUNS]] + [sv["id"] for sv in sched_views[:TRIGGERS]]
    assert [source_of[c["id"]] for c in copy_jobs] == sources


@pytest.mark.slow
async def test_a_dropped_submission_whose_lookup_fails_too_says_it_may_exist(backend: Counted) -> None:
    """The lookup cannot see either (the listing answers 503 throughout): the call must not guess or resend; its
    error says the job may exist and how to check, and once the API is back there is exactly one job."""
    sleep = RecordingSleep(cap=0)
    # No budget: its read of the job list would meet the same 503 before anything is sent (see the next test).
    async with mcp_session(backend, sleep=sleep, retry=RetryPolicy(attempts=3), budget=None) as s:
        await s.api.namespace()
        backend.faults.add(f"drop-after-create,503:method=GET:path=/api/jobs/{USER}:times=inf")
        result = await s.call("run_job", {"image": "ubuntu", "command": ["true"], "labels": {"call": "lost"}})
        error = error_of(result)
        assert error["type"] == "TransportError"
        assert "was sent but no answer came back" in error["message"]
        assert "looking it up failed too" in error["message"]
        assert "list_jobs" in error["hint"]
        assert "duplicate" in error["hint"]
        posts = [h for h in backend.counter.requests if h[0] == "POST"]
        assert len(posts) == 1  # never resent
        backend.faults.clear()
        found = await s.call("list_jobs", {"labels": {"call": "lost"}})
        assert not found.is_error, text(found)
        assert found.structured_content is not None
        assert len(found.structured_content["jobs"]) == 1


@pytest.mark.slow
async def test_a_budget_that_cannot_be_read_sends_nothing(backend: Counted) -> None:
    """The rolling budget reads the namespace's jobs before a paid run; if the Hub cannot say, nothing is sent."""
    sleep = RecordingSleep(cap=0)
    async with mcp_session(backend, sleep=sleep, retry=RetryPolicy(attempts=2)) as s:
        await s.api.namespace()
        mark = backend.counter.count
        backend.faults.add(f"503:method=GET:path=/api/jobs/{USER}:times=inf")
        try:
            result = await s.call("run_job", {"image": "ubuntu", "command": ["true"], "labels": {"call": "budget"}})
        finally:
            backend.faults.clear()
        assert error_of(result)["type"] == "ServerError"
        assert [h for h in backend.counter.since(mark) if h[0] != "GET"] == []
