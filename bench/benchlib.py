"""Shared pieces of the benchmarks: a throwaway local backend, jobs that print N lines, RSS sampling, and the one
machine-readable line each benchmark prints for ``bench/run_all.py``.

Why a machine-readable line: every benchmark prints a human table, and ``run_all.py`` runs each one as a
subprocess (a fresh interpreter, so one benchmark's caches and threads cannot flatter the next) and collects its
``BENCH-RESULT {json}`` line into the results table.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import psutil

TOKEN = "hf_local_bench_token_0123456789"  # a fake token for a throwaway backend
USER = "bench"
TERMINAL = ("COMPLETED", "ERROR", "CANCELED", "DELETED")
RESULT_PREFIX = "BENCH-RESULT "

# The baseline of the cold-start benchmarks (cold_start.py, stdio_probe.py): the smallest MCPServer over stdio.
HELLO = '''
from mcp.server.mcpserver import MCPServer
server = MCPServer("hello")

@server.tool()
def hello(name: str) -> str:
    """Say hello."""
    return f"hello {name}"

server.run("stdio")
'''


def emit(rows: list[dict[str, Any]]) -> None:
    """Print the rows for ``run_all.py``: each has ``benchmark``, ``measured``, ``baseline``, ``ratio``,
    ``target`` (text) and ``met`` (True, False, or None when there is no target)."""
    print(RESULT_PREFIX + json.dumps(rows), flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


@contextlib.contextmanager
def local_backend(**config: Any) -> Iterator[Any]:
    """A local backend in a daemon thread of this process, state in a temporary folder."""
    from hfjobs_mcp.local import LocalConfig, serve_in_thread

    with tempfile.TemporaryDirectory(prefix="hfjobs-bench-") as state:
        cfg = LocalConfig(state_dir=Path(state), token=TOKEN, user=USER, host="127.0.0.1", port=0, **config)
        with serve_in_thread(cfg) as backend:
            yield backend


def api_client(url: str) -> httpx2.Client:
    return httpx2.Client(base_url=url, headers={"authorization": f"Bearer {TOKEN}"}, timeout=600)


def printer_command(lines: int) -> list[str]:
    """A job printing ``line 0`` .. ``line N-1`` in one write: the backend's ingestion is measured, not print()."""
    code = f"import sys; sys.stdout.write(''.join(f'line {{i}}\\n' for i in range({lines}))); sys.stdout.flush()"
    return ["python", "-c", code]


def job_body(command: list[str], **labels: str) -> dict[str, Any]:
    return {
        "command": command,
        "arguments": [],
        "environment": {},
        "flavor": "cpu-basic",
        "dockerImage": "python:3.12",
        "labels": dict(labels),
    }


def run_to_end(client: httpx2.Client, command: list[str], timeout: float = 600) -> str:
    """Start a job, wait until it is over (COMPLETED, else raise); its id."""
    response = client.post(f"/api/jobs/{USER}", json=job_body(command))
    response.raise_for_status()
    job_id: str = response.json()["id"]
    deadline = time.monotonic() + timeout
    while True:
        info = client.get(f"/api/jobs/{USER}/{job_id}").json()
        if info["status"]["stage"] in TERMINAL:
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"job {job_id} still {info['status']['stage']} after {timeout} s")
        time.sleep(0.05)
    if info["status"]["stage"] != "COMPLETED":
        raise RuntimeError(f"job {job_id} ended {info['status']['stage']}: {info['status']['message']}")
    return job_id


class PeakRSS:
    """Samples a process's RSS from a thread; ``growth`` is the peak above the level at the start."""

    def __init__(self, pid: int | None = None, interval: float = 0.002) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.baseline = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        return int(self.process.memory_info().rss)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                self.peak = max(self.peak, self._rss())
            time.sleep(self.interval)

    def __enter__(self) -> PeakRSS:
        gc.collect()
        self.baseline = self.peak = self._rss()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        with contextlib.suppress(psutil.Error):
            self.peak = max(self.peak, self._rss())

    @property
    def growth(self) -> int:
        return self.peak - self.baseline


def mib(n: float) -> float:
    return n / 2**20


@contextlib.contextmanager
def standalone_backend() -> Iterator[str]:
    """``hfjobs-mcp local`` as its own process (free port, temporary state): its URL. Used where this process's own
    load (many clients) must not share a CPU-bound interpreter with the backend it measures."""
    import re
    import subprocess
    import sys

    with tempfile.TemporaryDirectory(prefix="hfjobs-bench-standalone-") as tmp:
        log = Path(tmp) / "backend.log"
        command = [sys.executable, "-m", "hfjobs_mcp", "local", "--port", "0", "--state-dir", f"{tmp}/state"]
        command += ["--user", USER]
        env = {**os.environ, "HFJOBS_LOCAL_TOKEN": TOKEN}  # not in argv: a command line is visible to every user
        with log.open("wb") as err:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, env=env
            )
        try:
            deadline = time.monotonic() + 60
            while not (found := re.search(r"hfjobs-mcp local backend: (http://127\.0\.0\.1:\d+)", log.read_text())):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"hfjobs-mcp local did not start: {log.read_text()[-2000:]}")
                time.sleep(0.05)
            yield found.group(1)
        finally:
            process.terminate()
            process.wait(60)
