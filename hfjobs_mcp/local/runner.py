"""Running jobs: one process group per job, its output to the log, its end to the job's stage.

Lifecycle: SCHEDULING -> RUNNING (``startedAt``; the banner is logged) -> COMPLETED on exit code 0,
ERROR ("Job failed with exit code: N") otherwise, ERROR when the command cannot be started, ERROR
on timeout, or CANCELED (set by the caller of :meth:`Runner.cancel`).

- The command runs without a shell (``command + arguments`` as argv) in a new session, so its group
  id is its pid; stdout and stderr share one pipe, so their lines stay in order. It runs inside the
  job's sandbox (``sandbox``) when one can be made; the banner says whether it does.
- Timeout (``timeoutSeconds``, default 30 min) and cancel: SIGTERM to the group, ``kill_grace_seconds``
  for it to go, then SIGKILL to the group and to any descendant seen while it ran (even one that
  left the group). When the main process exits on its own, whatever it left behind is killed too:
  no process outlives its job.
- ``attempts``: a run that exits non-zero is started again, up to ``attempts`` runs in all, within
  the same timeout budget; ``status.failureCount`` counts the failed runs. A command that cannot be
  started, a timeout and a cancel are final and not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import psutil

from . import procs
from .buckets.store import BucketStore
from .config import LocalConfig
from .jobenv import build_env, job_dirs, uv_cache_dir
from .logs import LogWriter, banner
from .records import CANCELED, COMPLETED, ERROR, RUNNING, JobRecord
from .sandbox import Sandbox, SandboxMode
from .store import Store
from .volumes import Mounts, VolumeError, hf_cache_dir, host_argv, mount_volumes

log = logging.getLogger("hfjobs_mcp.local.runner")

_EOF_WAIT = 2.0


class _JobProtocol(asyncio.SubprocessProtocol):
    """Feeds the job's output to its log writer and reports the exit (even if a grandchild keeps the pipe)."""

    def __init__(self, writer: LogWriter, loop: asyncio.AbstractEventLoop) -> None:
        self.writer = writer
        self.exited: asyncio.Future[None] = loop.create_future()
        self.eof: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        self.writer.feed(data.encode() if isinstance(data, str) else data)

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if not self.eof.done():
            self.eof.set_result(None)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)


@dataclass
class _Handle:
    """What the runner knows about one running job."""

    job_id: str
    stop: asyncio.Future[str]  # resolved with "cancel" or "shutdown"
    pid: int | None = None
    seen: dict[int, psutil.Process] = field(default_factory=dict)


def _exit_code(returncode: int) -> int:
    # Killed by signal N -> 128 + N, as a container runtime reports it.
    return 128 - returncode if returncode < 0 else returncode


def _start_failure(command: list[str], exc: OSError | ValueError) -> str:
    if isinstance(exc, ValueError):  # e.g. a NUL character in an argument or an environment value
        return f"Job failed to start: invalid command or environment ({exc})"
    if not command:
        return (
            "Job failed to start: no command given. The local backend runs commands as processes "
            "and cannot run an image's default command; pass a command."
        )
    if isinstance(exc, FileNotFoundError):
        return f"Job failed to start: executable not found: {command[0]!r} (the local backend runs it on this machine)"
    if isinstance(exc, PermissionError):
        return f"Job failed to start: permission denied: {command[0]!r}"
    return f"Job failed to start: {command[0]!r}: {exc.strerror or exc}"


def _owner(path: os.PathLike[str]) -> int | None:
    try:
        return os.stat(path).st_uid
    except OSError:
        return None


def _unsandboxed_volumes_note(hosts: dict[str, str]) -> str:
    """The log line that says where a job's volumes are when no sandbox can mount them at their paths."""
    where = ", ".join(f"{target} is {host}" for target, host in sorted(hosts.items()))
    return (
        f"===== No sandbox, so volumes are not mounted: {where} on this machine. Command arguments and "
        "environment values naming those paths were pointed there; a path the program opens itself (e.g. "
        "/data/outputs) does not exist here, and read-only is not enforced. Install bubblewrap (apt install "
        "bubblewrap) to run it as on Hugging Face ====="
    )


class Runner:
    """Starts, supervises, cancels and stops job processes; writes their stages to the store."""

    def __init__(
        self,
        cfg: LocalConfig,
        store: Store,
        buckets: BucketStore,
        *,
        notify: Callable[[str], None],
        notify_log: Callable[[str], None],
    ) -> None:
        self._cfg = cfg
        self._store = store
        self._buckets = buckets
        self.sandbox = Sandbox(state_dir=cfg.state_dir, mode=cast(SandboxMode, cfg.sandbox))
        if self.sandbox.enabled:
            log.info("jobs run in a sandbox: %s", self.sandbox.status.detail)
        else:
            log.warning(
                "jobs run WITHOUT a sandbox: %s. A job can then read what this user can read (the state folder "
                "included) and see its processes; volumes stay in their folders (the job log says where)",
                self.sandbox.status.detail,
            )
        self._notify = notify  # the job's record changed
        self._notify_log = notify_log  # the job's log grew
        self._handles: dict[str, _Handle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._closing = False

    def start(self, job_id: str) -> None:
        """Run the (SCHEDULING) job in the background."""
        loop = asyncio.get_running_loop()
        handle = _Handle(job_id=job_id, stop=loop.create_future())
        self._handles[job_id] = handle
        task = loop.create_task(self._run(handle), name=f"job-{job_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def cancel(self, job_id: str) -> None:
        """Stop the job's processes (the caller has already set its stage to CANCELED)."""
        handle = self._handles.get(job_id)
        if handle is not None and not handle.stop.done():
            handle.stop.set_result("cancel")

    def pid_of(self, job_id: str) -> int | None:
        handle = self._handles.get(job_id)
        return handle.pid if handle else None

    def is_running(self, job_id: str) -> bool:
        return job_id in self._handles

    def active_count(self) -> int:
        """Jobs whose processes are running or being wound down."""
        return len(self._handles)

    def per_job_state(self) -> dict[str, int]:
        """Sizes of the runner's per-job structures (jobs being run, their tasks)."""
        return {"runner handles": len(self._handles), "runner tasks": len(self._tasks)}

    async def shutdown(self) -> None:
        """Stop every job's process group and wait for the runners (stages stay as stored; see ``core``)."""
        self._closing = True
        for handle in list(self._handles.values()):
            if not handle.stop.done():
                handle.stop.set_result("shutdown")
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=self._cfg.kill_grace_seconds + _EOF_WAIT + 2)
            for task in pending:
                task.cancel()

    # One job

    def _update(self, job_id: str, change: Callable[[JobRecord], None]) -> JobRecord | None:
        # Re-read before each write: the API may have changed labels or the stage meanwhile.
        rec = self._store.get_job(job_id)
        if rec is None:
            return None
        stage = rec.stage
        change(rec)
        self._store.update_job(rec)
        self._notify(job_id)
        if rec.stage != stage:
            log.info("job %s: %s%s", job_id, rec.stage, f" ({rec.message})" if rec.message else "")
        return rec

    def _finish(self, job_id: str, stage: str, message: str | None) -> None:
        def change(rec: JobRecord) -> None:
            rec.pid = rec.pgid = None
            if rec.terminal:  # canceled meanwhile: keep CANCELED
                return
            rec.stage, rec.message, rec.finished_at = stage, message, time.time()

        self._update(job_id, change)

    async def _run(self, handle: _Handle) -> None:
        job_id = handle.job_id
        try:
            rec = self._store.get_job(job_id)
            if rec is None or rec.terminal:
                return
            dirs = job_dirs(self._cfg.state_dir, job_id)
            dirs.create()
            writer = LogWriter(
                dirs.log, max_line_bytes=self._cfg.max_line_bytes, on_write=lambda: self._notify_log(job_id)
            )
            try:
                await self._run_attempts(handle, rec, writer)
            finally:
                writer.close()
                dirs.remove_empty()
        except Exception:
            log.exception("job %s: runner failed", job_id)
            if not self._closing:
                self._finish(job_id, ERROR, "The local backend failed to run this job (see its stderr)")
        finally:
            self._handles.pop(job_id, None)
            self._notify(job_id)

    async def _run_attempts(self, handle: _Handle, rec: JobRecord, writer: LogWriter) -> None:
        job_id, spec = rec.id, rec.spec
        timeout = spec.timeout_seconds or self._cfg.default_timeout_seconds
        started = time.time()
        deadline = started + timeout

        def to_running(r: JobRecord) -> None:
            if not r.terminal:
                r.stage, r.started_at, r.message = RUNNING, started, None

        if (current := self._update(job_id, to_running)) is None or current.terminal:
            return
        dirs = job_dirs(self._cfg.state_dir, job_id)
        host_dirs = (dirs.work, dirs.home, dirs.tmp)
        uv_cache = uv_cache_dir(self._cfg.state_dir, rec.namespace)
        uv_cache.mkdir(parents=True, exist_ok=True)
        sandbox = self.sandbox
        env = build_env(job_id, spec, sandbox.view(job_id, host_dirs, uv_cache))
        argv = [*spec.command, *spec.arguments]
        note = sandbox.status.banner_note()
        if not sandbox.enabled and self._cfg.sandbox == "require":
            writer.write_line(banner(spec.image, time.time(), attempt=1, attempts=spec.attempts, sandbox=note))
            why = sandbox.status.detail
            message = f"Job failed to start: the backend requires a sandbox and none can be made: {why}"
            writer.write_line(message)
            self._finish(job_id, ERROR, message)
            return
        mounts = Mounts()
        if spec.volumes:
            try:
                mounts = self._mount_volumes(rec)
            except VolumeError as exc:
                writer.write_line(banner(spec.image, time.time(), attempt=1, attempts=spec.attempts, sandbox=note))
                message = f"Job failed to start: {exc}"
                writer.write_line(message)
                self._finish(job_id, ERROR, message)
                return
            for line in mounts.lines:
                log.info("job %s: volume %s", job_id, line)
            if not sandbox.enabled:
                argv = host_argv(argv, mounts.hosts)
                for key, value in spec.environment.items():
                    if key not in spec.secrets and env.get(key) == value:
                        env[key] = host_argv([value], mounts.hosts)[0]
        sandbox.hand_over(host_dirs)
        sandbox.hand_over([uv_cache], recursive=_owner(uv_cache) != sandbox.job_uid)
        sandbox.hand_over(mounts.writable, recursive=True)
        loop = asyncio.get_running_loop()
        for attempt in range(1, spec.attempts + 1):
            writer.write_line(banner(spec.image, time.time(), attempt=attempt, attempts=spec.attempts, sandbox=note))
            if attempt == 1 and not sandbox.enabled and mounts.hosts:
                writer.write_line(_unsandboxed_volumes_note(mounts.hosts))
            if handle.stop.done():
                return
            proto = _JobProtocol(writer, loop)
            launch = None
            try:
                if not argv:
                    raise FileNotFoundError("no command")
                if any("\0" in a for a in argv):
                    raise ValueError("embedded null byte")
                if sandbox.enabled and shutil.which(argv[0], path=env["PATH"]) is None and "/" not in argv[0]:
                    # Inside the sandbox bubblewrap would say so in the log; say it as an unsandboxed run does.
                    raise FileNotFoundError(argv[0])
                launch = sandbox.launch(
                    argv, job_id=job_id, host_dirs=host_dirs, uv_cache=uv_cache, binds=mounts.binds, links=mounts.links
                )
                transport, _ = await loop.subprocess_exec(
                    lambda p=proto: p,  # type: ignore[misc]
                    *launch.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    cwd=launch.cwd,
                    env=env,
                    start_new_session=True,
                    pass_fds=launch.pass_fds,
                )
            except (OSError, ValueError) as exc:
                message = _start_failure(argv, exc)
                writer.write_line(message)
                self._finish(job_id, ERROR, message)
                return
            finally:
                if launch is not None:
                    launch.close()
            pid = transport.get_pid()
            handle.pid = pid
            handle.seen.clear()

            def record_pid(r: JobRecord, pid: int = pid) -> None:
                r.pid = r.pgid = pid

            self._update(job_id, record_pid)
            outcome = await self._supervise(handle, proto, deadline)
            if outcome != "exited":
                await self._terminate(handle, pid, proto, transport, quick=outcome == "shutdown")
                if outcome == "timeout":
                    unit = "second" if timeout == 1 else "seconds"
                    self._finish(
                        job_id,
                        ERROR,
                        f"Job timed out after {timeout} {unit} (timeoutSeconds={timeout}): "
                        "its processes were sent SIGTERM, then SIGKILL",
                    )
                elif outcome == "cancel":
                    self._finish(job_id, CANCELED, None)
                return
            await self._clean_up(handle, pid, proto, transport)
            code = _exit_code(transport.get_returncode() or 0)
            if code == 0:
                self._finish(job_id, COMPLETED, None)
                return

            def failed(r: JobRecord) -> None:
                r.failure_count += 1

            self._update(job_id, failed)
            if attempt < spec.attempts and time.time() < deadline:
                writer.write_line(
                    f"===== Run {attempt} of {spec.attempts} failed with exit code {code}: retrying ====="
                )
                continue
            self._finish(job_id, ERROR, f"Job failed with exit code: {code}")
            return

    def _mount_volumes(self, rec: JobRecord) -> Mounts:
        allowed = {rec.created_by, *self._cfg.orgs_of(rec.created_by)}
        return mount_volumes(
            rec.spec.volumes,
            may_use=allowed.__contains__,
            buckets=self._buckets,
            hf_cache=self._cfg.hf_cache_dir or hf_cache_dir(),
            now=time.time(),
        )

    async def _supervise(self, handle: _Handle, proto: _JobProtocol, deadline: float) -> str:
        """Wait for the exit, a stop request or the deadline; meanwhile note every descendant."""
        assert handle.pid is not None
        while True:
            if proto.exited.done():
                return "exited"
            if handle.stop.done():
                return handle.stop.result()
            remaining = deadline - time.time()
            if remaining <= 0:
                return "timeout"
            for proc in procs.descendants(handle.pid):
                handle.seen.setdefault(proc.pid, proc)
            waiters: set[asyncio.Future[Any]] = {proto.exited, handle.stop}
            await asyncio.wait(waiters, timeout=min(1.0, remaining), return_when=asyncio.FIRST_COMPLETED)

    async def _terminate(
        self,
        handle: _Handle,
        pgid: int,
        proto: _JobProtocol,
        transport: asyncio.SubprocessTransport,
        *,
        quick: bool,
    ) -> None:
        """SIGTERM the group, give it the grace period (1 s on shutdown), then SIGKILL what is left."""
        for proc in procs.descendants(pgid):
            handle.seen.setdefault(proc.pid, proc)
        procs.terminate_job_processes(pgid, sandboxed=self.sandbox.enabled)
        grace = min(1.0, self._cfg.kill_grace_seconds) if quick else self._cfg.kill_grace_seconds
        end = time.time() + grace
        while time.time() < end and procs.group_members(pgid):  # noqa: ASYNC110 (polling the OS, no event to wait on)
            await asyncio.sleep(0.05)
        await self._clean_up(handle, pgid, proto, transport)

    async def _clean_up(
        self, handle: _Handle, pgid: int, proto: _JobProtocol, transport: asyncio.SubprocessTransport
    ) -> None:
        """SIGKILL whatever is left of the job, then read its output to the end."""
        procs.signal_group(pgid, signal.SIGKILL)
        procs.kill_all(list(handle.seen.values()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(proto.exited), _EOF_WAIT)
        with contextlib.suppress(TimeoutError):
            # An escaped process might still hold the pipe: do not wait for it forever.
            await asyncio.wait_for(asyncio.shield(proto.eof), _EOF_WAIT)
        transport.close()
