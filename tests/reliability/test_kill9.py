"""``kill -9`` of a standalone local backend (``hfjobs-mcp local``, a subprocess) during running jobs and with
schedules, then a restart on the same state folder: every job, log line and schedule is still there, and the jobs
that were running are ERROR with a message saying why.

Nothing in tests/local kills the backend process itself (its stops are graceful), so this is the one place where
the SQLite store and the log files are left exactly as a crash leaves them. The jobs' processes outlive the
backend (they run in their own sessions): the restart must find and kill them, so they are checked too, by the
``JOB_ID`` in their environment.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import psutil
import pytest

from hfjobs_mcp.api import JobInfo, JobsClient, JobSpec
from tests.reliability.conftest import TOKEN, USER, mcp_session, printer_code

pytestmark = pytest.mark.anyio

RESTART_MESSAGE = "The local backend restarted while this job was running"  # hfjobs_mcp.local.core's wording
TERMINAL = {"COMPLETED", "ERROR", "CANCELED", "DELETED"}
LOCAL = [sys.executable, "-m", "hfjobs_mcp", "local", "--port", "0"]


@dataclass
class Standalone:
    """A ``hfjobs-mcp local`` process: its URL and token (what :func:`mcp_session` needs), and the process."""

    url: str
    token: str
    process: subprocess.Popen[bytes]


@contextmanager
def standalone(state_dir: Path, log: Path) -> Iterator[Standalone]:
    """``hfjobs-mcp local`` on a free port, its stderr (URL line, access log) to ``log``; SIGTERM on exit."""
    with log.open("wb") as err:
        process = subprocess.Popen(
            [*LOCAL, "--state-dir", str(state_dir), "--token", TOKEN, "--user", USER],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"hfjobs-mcp local backend: (http://127\.0\.0\.1:\d+)", log.read_text())):
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        url = found.group(1)
        yield Standalone(url=url, token=TOKEN, process=process)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(30)


def processes_of(job_ids: set[str]) -> list[psutil.Process]:
    """Live processes whose environment carries one of these ``JOB_ID`` values."""
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if proc.environ().get("JOB_ID") in job_ids:
                found.append(proc)
        except psutil.Error:
            continue
    return found


async def _until(client: JobsClient, job_id: str, check: object, timeout: float = 30) -> JobInfo:
    with anyio.fail_after(timeout):
        while True:
            job = await client.inspect_job(job_id)
            if check(job):  # type: ignore[operator]
                return job
            await anyio.sleep(0.05)


async def _lines(client: JobsClient, job_id: str) -> list[str]:
    return [line.text async for line in client.stream_logs(job_id, idle_timeout=0.5)]


@pytest.mark.slow
async def test_kill_9_then_restart_keeps_jobs_logs_and_schedules(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with standalone(state, tmp_path / "first.log") as first:
        async with JobsClient(token=first.token, endpoint=first.url) as client:
            done = await client.run_job(
                JobSpec(image="python:3.12", command=["python", "-c", printer_code(20, 0)], labels={"k9": "done"})
            )
            await _until(client, done.id, lambda j: j.status.stage in TERMINAL)
            # Two running jobs: one keeps printing, one printed and now only sleeps (it would outlive us all).
            printing = await client.run_job(
                JobSpec(image="python:3.12", command=["python", "-c", printer_code(100_000, 0.02)], labels={"k9": "p"})
            )
            quiet_code = printer_code(3, 0) + "time.sleep(600)\n"
            quiet = await client.run_job(
                JobSpec(image="python:3.12", command=["python", "-c", quiet_code], labels={"k9": "q"})
            )
            # A schedule with a run going (triggered), and a suspended one.
            sched = await client.create_scheduled_job(
                JobSpec(image="python:3.12", command=["python", "-c", printer_code(100_000, 0.02)], labels={"k9": "s"}),
                schedule="0 3 * * *",
                concurrency=False,
            )
            run = await client.trigger_scheduled_job(sched.id)
            paused = await client.create_scheduled_job(
                JobSpec(image="ubuntu", command=["true"], labels={"k9": "paused"}), schedule="@weekly", suspend=True
            )
            running_ids = {printing.id, quiet.id, run.id}
            for job_id in running_ids:
                await _until(client, job_id, lambda j: j.status.stage == "RUNNING")
            with anyio.fail_after(30):
                while min([len(await _lines(client, i)) for i in running_ids]) < 3:
                    await anyio.sleep(0.05)
            await anyio.sleep(0.5)  # a few more lines for the printers
            before_jobs = {j.id: j for j in await client.list_jobs()}
            before_logs = {i: await _lines(client, i) for i in before_jobs}
            before_scheds = {s.id: s for s in await client.list_scheduled_jobs()}
        assert processes_of(running_ids)  # they run...

        first.process.send_signal(signal.SIGKILL)  # ...when the backend dies without a word
        first.process.wait(10)

    with standalone(state, tmp_path / "second.log") as second:
        async with JobsClient(token=second.token, endpoint=second.url) as client:
            after_jobs = {j.id: j for j in await client.list_jobs()}
            assert set(after_jobs) == set(before_jobs)
            for job_id, job in after_jobs.items():
                if job_id in running_ids:
                    assert job.status.stage == "ERROR"
                    assert job.status.message == RESTART_MESSAGE
                    assert job.finished_at is not None
                else:
                    assert job.status.stage == before_jobs[job_id].status.stage
                lines = await _lines(client, job_id)
                assert lines[: len(before_logs[job_id])] == before_logs[job_id]  # every line seen is still there
                if job_id not in running_ids:
                    assert lines == before_logs[job_id]
            assert before_logs[done.id] == [f"line {i}" for i in range(20)]
            assert before_logs[quiet.id] == [f"line {i}" for i in range(3)]

            after_scheds = {s.id: s for s in await client.list_scheduled_jobs()}
            assert set(after_scheds) == {sched.id, paused.id}
            for sid, s in after_scheds.items():
                was = before_scheds[sid]
                assert (s.schedule, s.suspend, s.concurrency) == (was.schedule, was.suspend, was.concurrency)
                assert s.job_spec.labels == was.job_spec.labels
                assert s.job_spec.command == was.job_spec.command
            assert after_scheds[sched.id].status.last_job is not None
            assert after_scheds[sched.id].status.last_job.id == run.id

            # The leftover processes of the dead backend's jobs were killed by the new one.
            with anyio.fail_after(10):
                while processes_of(running_ids):
                    await anyio.sleep(0.1)

            # And it works: the schedule can run again (its previous run is over), new jobs run.
            again = await client.trigger_scheduled_job(sched.id)
            await client.cancel_job(again.id)
            fresh = await client.run_job(JobSpec(image="ubuntu", command=["true"]))
            assert (await _until(client, fresh.id, lambda j: j.status.stage in TERMINAL)).status.stage == "COMPLETED"

        # What an agent sees through the tools.
        async with mcp_session(second) as s:  # type: ignore[arg-type]
            seen = await s.ok("inspect_job", {"job_id": printing.id})
            assert seen["job"]["stage"] == "ERROR"
            assert seen["job"]["message"] == RESTART_MESSAGE
            logs = await s.ok("fetch_logs", {"job_id": printing.id, "tail": 1000})
            assert [ln["text"] for ln in logs["lines"]][: len(before_logs[printing.id])] == before_logs[printing.id][
                -1000:
            ]
            listed = await s.ok("list_scheduled_jobs", {})
            assert {sj["id"] for sj in listed["scheduled_jobs"]} == {sched.id, paused.id}
