"""The backend's state and operations: jobs, scheduled jobs and webhooks over the store, runner and scheduler.

The HTTP layer (``app``) authenticates, validates and renders; everything that changes state is
here, and runs on the event loop that serves the app. One ``LocalCore`` owns one state folder,
guarded by a lock file so two backends never share (and corrupt) it.

Startup recovery: jobs the store still calls SCHEDULING or RUNNING belonged to a backend that
stopped or died; their leftover processes are killed and they become ERROR with the message
:data:`RESTART_MESSAGE`. Scheduled runs missed meanwhile are not caught up.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import time
from pathlib import Path
from typing import IO, Any

from . import procs, render, scheduler
from .buckets.service import Buckets
from .buckets.store import BucketStore
from .config import LocalConfig
from .faults import FaultInjector
from .ids import new_id
from .private import private_dir, private_file, tighten
from .records import (
    CANCELED,
    ERROR,
    SCHEDULING,
    JobRecord,
    JobSpec,
    ScheduledRecord,
    WebhookRecord,
)
from .retention import Housekeeper
from .runner import Runner
from .signals import Signal, Watchers
from .store import Store
from .validation import RequestError, WebhookIn

log = logging.getLogger("hfjobs_mcp.local")

RESTART_MESSAGE = "The local backend restarted while this job was running"
CANCEL_MESSAGE = "Canceled by the user"
CONFLICT_MESSAGE = (
    "Another job is already running at the same time, set `concurrency` to allow multiple instances "
    "of scheduled jobs to run concurrently"
)


class NotFoundError(Exception):
    """404: ``str(err)`` is the ``error`` body."""


class ConflictError(Exception):
    """409: ``str(err)`` is the ``error`` body."""


class StateDirBusyError(RuntimeError):
    """Another backend already serves this state folder."""


def _lock_state_dir(state_dir: Path) -> IO[str]:
    private_file(state_dir / "backend.lock")
    lock = open(state_dir / "backend.lock", "a+")  # noqa: SIM115 (held for the backend's life)
    try:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise StateDirBusyError(f"another local backend is already using the state folder {state_dir}") from None
    return lock


class LocalCore:
    """Everything one local backend knows and does, independent of HTTP."""

    def __init__(self, cfg: LocalConfig) -> None:
        self.cfg = cfg
        private_dir(cfg.state_dir)  # refuses a folder another user owns or may write to
        self._lock_file = _lock_state_dir(cfg.state_dir)
        tighten(cfg.state_dir)
        try:
            self.store = Store(cfg.state_dir / "state.db")
        except BaseException:
            self._lock_file.close()
            raise
        self.faults = FaultInjector(cfg.faults)
        self.started_at = time.time()
        self.closing = asyncio.Event()
        self.buckets = Buckets(cfg.state_dir, BucketStore(cfg.state_dir))
        self.runner = Runner(cfg, self.store, self.buckets.store, notify=self.notify, notify_log=self.notify_log)
        self._signals = Watchers()
        self._stage_signals = Watchers()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._scheduler_task: asyncio.Task[None] | None = None
        self.housekeeper = Housekeeper(cfg, self.store, busy=self._busy)
        self._housekeeping_task: asyncio.Task[None] | None = None
        self._stopped = False
        self._closed = False
        self._recover()

    # Life cycle

    def _recover(self) -> None:
        stale = self.store.active_jobs()
        if stale:
            leftovers = procs.processes_of_jobs({rec.id for rec in stale})
            groups = {rec.pgid for rec in stale if rec.pgid} & {_pgid(p.pid) for p in leftovers}
            for pgid in groups:
                procs.signal_group(pgid, signal.SIGKILL)
            procs.kill_all(leftovers)
            now = time.time()
            for rec in stale:
                rec.stage, rec.message, rec.finished_at = ERROR, RESTART_MESSAGE, now
                rec.pid = rec.pgid = None
                self.store.update_job(rec)
            log.warning("marked %d job(s) left running by a previous backend as ERROR", len(stale))
        now = self.cfg.clock()
        for sched in self.store.list_scheduled():
            if sched.next_run_at <= now:
                sched.next_run_at = scheduler.next_run(sched.schedule, now)
                self.store.update_scheduled(sched)

    async def ensure_started(self) -> None:
        """Start the scheduler on the serving loop (idempotent; called by the lifespan and each request)."""
        if self._loop is not None or self._stopped:
            return
        self._loop = asyncio.get_running_loop()
        loop = scheduler.SchedulerLoop(tick=self.cfg.scheduler_tick, clock=self.cfg.clock, fire_due=self.fire_due)
        self._scheduler_task = self._loop.create_task(loop.run(), name="hfjobs-local-scheduler")
        self._housekeeping_task = self._loop.create_task(self.housekeeper.run(), name="hfjobs-local-retention")

    def request_shutdown(self) -> None:
        """Thread-safe: ask open streams to end (used before the HTTP server stops)."""
        if self._loop is not None and not self._loop.is_closed():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self.closing.set)
        else:
            self.closing.set()

    async def stop_jobs(self) -> None:
        """End streams, stop the scheduler and every job's process group (idempotent)."""
        if self._stopped:
            return
        self._stopped = True
        self.closing.set()
        self._signals.notify_all()
        self._stage_signals.notify_all()
        for task in (self._scheduler_task, self._housekeeping_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.runner.shutdown()

    def close(self) -> None:
        """Close the store and release the state folder (call after :meth:`stop_jobs`)."""
        if self._closed:
            return
        self._closed = True
        self.store.close()
        self.buckets.close()
        self.buckets.store.close()
        self._lock_file.close()

    async def aclose(self) -> None:
        await self.stop_jobs()
        self.close()

    # Change notification (log lines, stage changes): signals exist only while a stream watches (see ``signals``)

    def watch(self, job_id: str) -> contextlib.AbstractContextManager[Signal]:
        """``with core.watch(id) as signal``: notified on every new log line and every change of the job's stage."""
        return self._signals.watch(job_id)

    def watch_stage(self, job_id: str) -> contextlib.AbstractContextManager[Signal]:
        """Notified on every change of the job's record (stage, pid), not on log lines."""
        return self._stage_signals.watch(job_id)

    def notify_log(self, job_id: str) -> None:
        self._signals.notify(job_id)

    def notify(self, job_id: str) -> None:
        self._signals.notify(job_id)
        self._stage_signals.notify(job_id)

    def _busy(self, job_id: str) -> bool:
        """Retention leaves this job for later: its processes are being wound down, or a stream reads it."""
        return self.runner.is_running(job_id) or self._signals.watched(job_id) or self._stage_signals.watched(job_id)

    def per_job_state(self) -> dict[str, int]:
        """How many entries each in-memory per-job structure holds; all 0 once no job runs and no stream is open."""
        return {
            "log signals": len(self._signals),
            "stage signals": len(self._stage_signals),
            **self.runner.per_job_state(),
        }

    # Rendering

    def job_info(self, rec: JobRecord) -> dict[str, Any]:
        return render.job_info(rec, now=time.time(), default_timeout=self.cfg.default_timeout_seconds)

    def scheduled_info(self, rec: ScheduledRecord) -> dict[str, Any]:
        return render.scheduled_info(rec, default_timeout=self.cfg.default_timeout_seconds)

    def job_finished(self, rec: JobRecord) -> bool:
        """Terminal *and* no process of it is still being wound down (its last output is in the log)."""
        return rec.terminal and not self.runner.is_running(rec.id)

    # Jobs

    def create_job(
        self,
        namespace: str,
        owner_type: str,
        user: str,
        spec: JobSpec,
        *,
        initiator: dict[str, Any] | None = None,
        schedule_id: str | None = None,
    ) -> JobRecord:
        rec = JobRecord(
            id=new_id(),
            namespace=namespace,
            owner_type=owner_type,
            created_by=user,
            initiator=initiator or render.user_initiator(user),
            created_at=time.time(),
            spec=spec,
            stage=SCHEDULING,
            schedule_id=schedule_id,
        )
        self.store.insert_job(rec)
        self.runner.start(rec.id)
        return rec

    def get_job(self, namespace: str, job_id: str) -> JobRecord:
        rec = self.store.get_job(job_id)
        if rec is None or rec.namespace != namespace:
            raise NotFoundError(f"Job not found: {namespace}/{job_id}")
        return rec

    def cancel_job(self, namespace: str, job_id: str) -> JobRecord:
        """CANCELED at once; the processes get SIGTERM, then SIGKILL after the grace period. No-op if finished."""
        rec = self.get_job(namespace, job_id)
        if not rec.terminal:
            rec.stage, rec.message, rec.finished_at = CANCELED, CANCEL_MESSAGE, time.time()
            self.store.update_job(rec)
            self.notify(job_id)
            self.runner.cancel(job_id)
            log.info("job %s: %s (%s)", job_id, CANCELED, CANCEL_MESSAGE)
        return rec

    def duplicate_job(self, namespace: str, job_id: str, user: str) -> JobRecord:
        """A new job with the same spec (secrets, labels, attempts, timeout included)."""
        src = self.get_job(namespace, job_id)
        return self.create_job(
            src.namespace,
            src.owner_type,
            user,
            src.spec.copy(),
            initiator={"type": "duplicated-job", "id": src.id},
        )

    def set_job_labels(self, namespace: str, job_id: str, labels: dict[str, str]) -> JobRecord:
        rec = self.get_job(namespace, job_id)
        rec.spec.labels = dict(labels)
        self.store.update_job(rec)
        return rec

    def set_job_expose(self, namespace: str, job_id: str, ports: list[int], public: list[int]) -> JobRecord:
        rec = self.get_job(namespace, job_id)
        rec.spec.expose = {"ports": list(ports), "portsPublic": list(public)}
        self.store.update_job(rec)
        return rec

    # Scheduled jobs

    def create_scheduled(
        self,
        namespace: str,
        owner_type: str,
        user: str,
        spec: JobSpec,
        schedule: str,
        *,
        suspend: bool,
        concurrency: bool,
    ) -> ScheduledRecord:
        _check_schedule(schedule, self.cfg.clock())
        now = time.time()
        rec = ScheduledRecord(
            id=new_id(),
            namespace=namespace,
            owner_type=owner_type,
            created_by=user,
            created_at=now,
            schedule=schedule,
            spec=spec,
            next_run_at=scheduler.next_run(schedule, self.cfg.clock()),
            suspend=suspend,
            concurrency=concurrency,
        )
        self.store.insert_scheduled(rec)
        return rec

    def get_scheduled(self, namespace: str, scheduled_id: str) -> ScheduledRecord:
        rec = self.store.get_scheduled(scheduled_id)
        if rec is None or rec.namespace != namespace:
            raise NotFoundError(f"Scheduled job not found: {namespace}/{scheduled_id}")
        return rec

    def delete_scheduled(self, namespace: str, scheduled_id: str) -> None:
        self.get_scheduled(namespace, scheduled_id)
        self.store.delete_scheduled(scheduled_id)

    def set_suspended(self, namespace: str, scheduled_id: str, suspend: bool) -> ScheduledRecord:
        rec = self.get_scheduled(namespace, scheduled_id)
        rec.suspend = suspend
        if not suspend:
            rec.next_run_at = scheduler.next_run(rec.schedule, self.cfg.clock())
        self.store.update_scheduled(rec)
        return rec

    def reschedule(self, namespace: str, scheduled_id: str, schedule: str) -> ScheduledRecord:
        _check_schedule(schedule, self.cfg.clock())
        rec = self.get_scheduled(namespace, scheduled_id)
        rec.schedule = schedule
        rec.next_run_at = scheduler.next_run(schedule, self.cfg.clock())
        self.store.update_scheduled(rec)
        return rec

    def set_scheduled_labels(self, namespace: str, scheduled_id: str, labels: dict[str, str]) -> ScheduledRecord:
        rec = self.get_scheduled(namespace, scheduled_id)
        rec.spec.labels = dict(labels)
        self.store.update_scheduled(rec)
        return rec

    def trigger(self, namespace: str, scheduled_id: str) -> JobRecord:
        """Run a scheduled job now (even if suspended); 409 if it would overlap and concurrency is off."""
        rec = self.get_scheduled(namespace, scheduled_id)
        if not rec.concurrency and self.store.active_jobs_of_schedule(rec.id):
            raise ConflictError(CONFLICT_MESSAGE)
        return self._spawn(rec, time.time())

    def _spawn(self, rec: ScheduledRecord, at: float) -> JobRecord:
        job = self.create_job(
            rec.namespace,
            rec.owner_type,
            rec.created_by,
            rec.spec.copy(),
            initiator={"type": "scheduled-job", "id": rec.id},
            schedule_id=rec.id,
        )
        # Re-read: creating the job may not change the schedule, but keep writes read-modify-write.
        fresh = self.store.get_scheduled(rec.id) or rec
        fresh.last_job_id, fresh.last_job_at = job.id, at
        self.store.update_scheduled(fresh)
        return job

    def fire_due(self, now: float) -> None:
        """Spawn the scheduled jobs whose time has come (``now`` from the configured clock)."""
        if self._stopped:
            return
        for rec in self.store.list_scheduled():
            if rec.next_run_at > now:
                continue
            rec.next_run_at = scheduler.next_run(rec.schedule, now)
            self.store.update_scheduled(rec)
            if rec.suspend:
                continue
            if not rec.concurrency and self.store.active_jobs_of_schedule(rec.id):
                log.info("scheduled job %s: previous run still going and concurrency is off; skipping", rec.id)
                continue
            job = self._spawn(rec, time.time())
            log.info("scheduled job %s: started job %s", rec.id, job.id)

    # Webhooks (stored and listed; nothing fires them locally)

    def _webhook_job(self, body: WebhookIn, user: str, previous: JobSpec | None) -> tuple[JobSpec | None, str | None]:
        if body.job is not None:
            return body.job.to_spec(), None
        if body.jobSourceId is not None:
            src = self.store.get_job(body.jobSourceId)
            if src is None or src.namespace not in (user, *self.cfg.orgs_of(user)):
                raise RequestError(f"jobSourceId: no job {body.jobSourceId!r} in your namespaces")
            spec = src.spec.copy()
            # The source job's secrets are not copied (wire §9); the webhook's own are merged.
            secrets = dict(previous.secrets) if previous is not None else {}
            for name, value in (body.secrets or {}).items():
                if value == "":
                    secrets.pop(name, None)
                else:
                    secrets[name] = value
            spec.secrets = secrets
            return spec, body.jobSourceId
        return None, None

    def create_webhook(self, user: str, body: WebhookIn) -> WebhookRecord:
        if body.url is None and body.job is None and body.jobSourceId is None:
            raise RequestError("exactly one of url, job and jobSourceId is required")
        job, source = self._webhook_job(body, user, None)
        rec = WebhookRecord(
            id=new_id(),
            owner=user,
            created_at=time.time(),
            watched=[w.model_dump() for w in body.watched],
            domains=list(body.domains),
            url=body.url,
            job=job,
            job_source_id=source,
            secret=body.secret,
        )
        self.store.insert_webhook(rec)
        return rec

    def get_webhook(self, user: str, webhook_id: str) -> WebhookRecord:
        rec = self.store.get_webhook(webhook_id)
        if rec is None or rec.owner != user:
            raise NotFoundError(f"Webhook not found: {webhook_id}")
        return rec

    def update_webhook(self, user: str, webhook_id: str, body: WebhookIn) -> WebhookRecord:
        rec = self.get_webhook(user, webhook_id)
        # The OAS makes url/job/jobSourceId optional on update, and huggingface_hub sends them only when
        # given: without one, the webhook keeps its target.
        if body.url is not None or body.job is not None or body.jobSourceId is not None:
            rec.job, rec.job_source_id = self._webhook_job(body, user, rec.job)
            rec.url = body.url
        rec.watched = [w.model_dump() for w in body.watched]
        rec.domains = list(body.domains)
        if body.secret is not None:
            rec.secret = body.secret
        self.store.update_webhook(rec)
        return rec

    def set_webhook_disabled(self, user: str, webhook_id: str, disabled: bool) -> WebhookRecord:
        rec = self.get_webhook(user, webhook_id)
        rec.disabled = disabled
        self.store.update_webhook(rec)
        return rec

    def delete_webhook(self, user: str, webhook_id: str) -> None:
        self.get_webhook(user, webhook_id)
        self.store.delete_webhook(webhook_id)


def _check_schedule(schedule: str, now: float) -> None:
    try:
        scheduler.check_schedule(schedule, now)
    except ValueError as exc:
        raise RequestError(str(exc)) from None


def _pgid(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None
