"""Process-group plumbing: signal a job's group, find its live members, and the processes it spawned.

Every job runs in a new session, so its process group id is its leader's pid. Zombies (exited but
not yet reaped by whoever adopted them) count as gone: they hold no resources a job could use.
"""

from __future__ import annotations

import contextlib
import os
import signal

import psutil


def signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def terminate_job_processes(pgid: int, *, sandboxed: bool) -> None:
    """SIGTERM a job: its whole group, but not bubblewrap's own processes when sandboxed.

    bubblewrap's monitor (the group leader) dies of SIGTERM and takes the sandbox's init and with it
    every job process down at once (``--die-with-parent``): the job would get no grace period. So the
    job's processes get SIGTERM and bubblewrap only the SIGKILL that follows the grace period.
    """
    if not sandboxed:
        signal_group(pgid, signal.SIGTERM)
        return
    try:
        leader = psutil.Process(pgid)
        spared = {pgid, *(c.pid for c in leader.children() if c.name() == "bwrap")}
    except psutil.Error:
        spared = {pgid}
    for proc in group_members(pgid):
        if proc.pid not in spared:
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGTERM)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def group_members(pgid: int) -> list[psutil.Process]:
    """Live (non-zombie) processes whose process group is ``pgid``."""
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return []
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid and _alive(proc):
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def descendants(pid: int) -> list[psutil.Process]:
    """The process ``pid`` and everything it spawned that still runs (empty if it is gone)."""
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def kill_all(procs: list[psutil.Process]) -> None:
    """SIGKILL each process that still runs (``psutil`` checks it is the same process, not a reused pid)."""
    for proc in procs:
        if _alive(proc):
            with contextlib.suppress(psutil.Error):
                proc.send_signal(signal.SIGKILL)


def processes_of_jobs(job_ids: set[str]) -> list[psutil.Process]:
    """Live processes left behind by earlier runs of the backend: those whose ``JOB_ID`` is one of ``job_ids``.

    Used at startup after a crash. Matching on the environment (not on a recorded group id) means a
    recycled pid or group id that now belongs to an unrelated program is left alone, and a process
    that left its job's group is still found.
    """
    found: list[psutil.Process] = []
    if not job_ids:
        return found
    me = os.getpid()
    for proc in psutil.process_iter():
        try:
            if proc.pid in (1, me):
                continue
            if proc.environ().get("JOB_ID") in job_ids and _alive(proc):
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found
