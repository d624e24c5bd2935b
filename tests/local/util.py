"""Helpers for the local backend's tests: waiting for a stage, reading an SSE stream, checking processes."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2
import psutil

TOKEN = "hf_local_test_token_0123456789"
TERMINAL = {"COMPLETED", "CANCELED", "ERROR", "DELETED"}
PY = sys.executable


class FakeClock:
    """The scheduler's clock: real time plus an offset tests move forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset


def spec(*command: str, **extra: Any) -> dict[str, Any]:
    """A minimal job spec as huggingface_hub sends it."""
    return {
        "command": list(command),
        "arguments": [],
        "environment": {},
        "flavor": "cpu-basic",
        "dockerImage": "python:3.12",
        **extra,
    }


def py(code: str, **extra: Any) -> dict[str, Any]:
    return spec("python", "-c", code, **extra)


def run(api: httpx2.Client, body: dict[str, Any], ns: str = "alice") -> dict[str, Any]:
    r = api.post(f"/api/jobs/{ns}", json=body)
    assert r.status_code == 200, r.text
    job: dict[str, Any] = r.json()
    return job


def wait_stage(
    api: httpx2.Client, job_id: str, stages: set[str] = TERMINAL, ns: str = "alice", timeout: float = 30
) -> dict[str, Any]:
    end = time.time() + timeout
    while True:
        job: dict[str, Any] = api.get(f"/api/jobs/{ns}/{job_id}").json()
        if job["status"]["stage"] in stages:
            return job
        assert time.time() < end, f"job {job_id} still {job['status']['stage']}"
        time.sleep(0.05)


def log_events(api: httpx2.Client, job_id: str, ns: str = "alice", **params: Any) -> list[dict[str, Any]]:
    """Every ``data:`` event of one logs stream, read until the server closes it."""
    with api.stream("GET", f"/api/jobs/{ns}/{job_id}/logs", params=params) as r:
        assert r.status_code == 200
        return [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: {")]


def first_events(api: httpx2.Client, job_id: str, count: int, ns: str = "alice", **params: Any) -> list[dict[str, Any]]:
    """The first ``count`` events of a logs stream (which may stay open), then hang up."""
    events: list[dict[str, Any]] = []
    with api.stream("GET", f"/api/jobs/{ns}/{job_id}/logs", params=params) as r:
        assert r.status_code == 200
        for line in r.iter_lines():
            if line.startswith("data: {"):
                events.append(json.loads(line[6:]))
                if len(events) == count:
                    break
    return events


def log_text(api: httpx2.Client, job_id: str, ns: str = "alice") -> list[str]:
    """The job's log lines without the banner(s)."""
    return [e["data"] for e in log_events(api, job_id, ns) if not e["data"].startswith("===== Job started")]


def alive(pid: int) -> bool:
    """True if the process runs (zombies, waiting for a parent to reap them, count as gone)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def host_pid(*cmdline: str, timeout: float = 10) -> int:
    """The host pid of the process running exactly ``cmdline`` (a sandboxed job only knows its namespace pids)."""
    end = time.time() + timeout
    while time.time() < end:
        for proc in psutil.process_iter(["cmdline"]):
            if proc.info["cmdline"] == list(cmdline) and alive(proc.pid):
                return int(proc.pid)
        time.sleep(0.05)
    raise AssertionError(f"no process runs {cmdline}")


def job_pid(job_id: str) -> int:
    """A host pid of one of the job's processes (found by the ``JOB_ID`` in its environment)."""
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("JOB_ID") == job_id:
                return int(proc.pid)
        except psutil.Error:
            continue
    raise AssertionError(f"no process for job {job_id}")


def wait_gone(pid: int, timeout: float = 10) -> bool:
    end = time.time() + timeout
    while time.time() < end:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


@contextmanager
def local_command(
    state: Path, *extra: str, env: dict[str, str] | None = None
) -> Iterator[tuple[subprocess.Popen[str], str, list[str]]]:
    """``python -m hfjobs_mcp local`` on a free port; yields (process, base URL, stderr lines read so far)."""
    cmd = [
        sys.executable,
        "-m",
        "hfjobs_mcp",
        "local",
        "--port",
        "0",
        "--state-dir",
        str(state),
        "--user",
        "alice",
        *extra,
    ]
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env={**os.environ, **(env or {})}
    )
    lines: list[str] = []
    try:
        assert proc.stderr is not None
        url = None
        end = time.time() + 30
        while url is None and time.time() < end:
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line)
            if m := re.search(r"hfjobs-mcp local backend: (http://127\.0\.0\.1:\d+)", line):
                url = m.group(1)
        assert url, "".join(lines)
        yield proc, url, lines
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
