"""Soak: many MCP clients running jobs for minutes against ``hfjobs-mcp --transport http --local``; what grows.

Why: issue 22's 8-minute soak (16 clients, 86,772 calls, 4,340 jobs) found the server's memory growing by about
3 KB per job for ever (1.42 MiB/min), every job keeping about 26 KB on disk, and about 0.4 KB of log per tool call
at the default level. This re-measures the three figures, bounded in time and on loopback only:

- **RSS slope**: the MCP server process and the local backend ``--local`` runs as a process of its own, each
  sampled every second; the least-squares slope in MiB per minute after the first quarter (warm-up: imports,
  caches, pools).
- **Disk per job**: the state folder's real disk use (allocated blocks: database, logs, folders; not the
  database's write-ahead log, a fixed few MB) divided by the jobs it holds at the end (retention keeps them all
  here: they are younger than ``--keep-days`` and fewer than ``--keep-jobs``).
- **Log bytes per call**: what the server (stderr) and its backend (``<state>/backend.log``) logged at their
  default level during the measured window, divided by the tool calls in that window.

Each of ``--clients`` (16) clients opens its own MCP session over streamable HTTP and loops: ``run_job`` (a Python
one-liner printing 20 lines), ``wait_for_job``, ``fetch_logs``, ``inspect_job``, and every fifth round
``list_jobs``, for ``--seconds`` (180). The figures are printed next to the issue's (measured before the fixes
on the same machine class, not in this run) with their ratio; there is no pass/fail.

A short soak's slope still holds warm-up (SQLite's page cache fills to its 2 MB, allocator arenas), so another
part, run first, measures the local backend alone, in this process, over more jobs: ``--backend-jobs`` (4,000) jobs of
``true``, each followed by a logs and a metrics stream, in batches of 500; the RSS after each batch, and the growth
per 1,000 jobs over the second half (after warm-up). Before issue 22 that growth was about 1.1 MiB per 1,000 jobs
and never stopped (the per-job signals); now the second half is flat.

Run: ``.venv/bin/python bench/soak.py`` (about 5 minutes; ``--seconds 60 --backend-jobs 2000`` for a shorter run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp
import psutil
from benchlib import emit
from mcp.client.streamable_http import streamable_http_client

BIN = Path(sys.executable).parent / "hfjobs-mcp"
BEFORE = {"rss": 1.42, "disk": 26.0, "log": 0.4}  # issue 22's soak: MiB/min, KB per job, KB per call
AUTH = "bench-soak-bearer-token-0123456789"  # --transport http --local needs --auth token (a fake, loopback only)
PRINTER = "import sys\nfor i in range(20):\n    print('soak line', i)\n"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(tmp: Path, port: int) -> tuple[subprocess.Popen[bytes], Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "HFJOBS_MCP_"))}
    env.update({"HFJOBS_MCP_HOME": str(tmp / "home"), "HF_HOME": str(tmp / "hf"), "HFJOBS_MCP_AUTH_TOKEN": AUTH})
    command = [str(BIN), "--transport", "http", "--host", "127.0.0.1", "--port", str(port), "--local"]
    command += ["--auth", "token"]
    command += ["--state-dir", str(tmp / "state")]
    log = tmp / "server.log"
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=sink)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {log.read_text()}")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc, log
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not become healthy in 60 s")


def disk_use(path: Path) -> tuple[int, int]:
    """Bytes allocated on disk under ``path`` (files and folders, as ``du`` counts them): (the database's write-ahead
    log and its index, everything else). The write-ahead log is a fixed overhead (SQLite checkpoints it at about
    4 MB and reuses the file), so it is not counted per job."""
    wal = other = 0
    for root, dirs, files in os.walk(path):
        for name in [*dirs, *files]:
            try:
                size = os.lstat(os.path.join(root, name)).st_blocks * 512
            except FileNotFoundError:
                continue
            if name.endswith(("-wal", "-shm")):
                wal += size
            else:
                other += size
    return wal, other


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, MiB) samples, in MiB per minute."""
    n = len(samples)
    if n < 2:
        return float("nan")
    mean_t = sum(t for t, _ in samples) / n
    mean_v = sum(v for _, v in samples) / n
    cov = sum((t - mean_t) * (v - mean_v) for t, v in samples)
    var = sum((t - mean_t) ** 2 for t, _ in samples)
    return cov / var * 60 if var else float("nan")


class Soak:
    def __init__(self, url: str, seconds: float) -> None:
        self.url = url
        self.seconds = seconds
        self.calls = 0
        self.jobs = 0
        self.errors: list[str] = []
        self.window_calls = 0  # calls made inside the measured window
        self.in_window = False

    async def call(self, client: mcp.Client, tool: str, args: dict[str, Any]) -> Any:
        result = await client.call_tool(tool, args)
        self.calls += 1
        if self.in_window:
            self.window_calls += 1
        if result.is_error:
            self.errors.append(f"{tool}: {result.content[0].text if result.content else ''}"[:300])  # type: ignore[union-attr]
        return result.structured_content or {}

    async def client_loop(self, end: float) -> None:
        timeout = httpx2.Timeout(30.0, read=300.0)
        async with (
            httpx2.AsyncClient(timeout=timeout, headers={"authorization": f"Bearer {AUTH}"}) as http,
            mcp.Client(streamable_http_client(self.url, http_client=http)) as client,  # type: ignore[arg-type]
        ):
            rounds = 0
            while time.monotonic() < end:
                started = await self.call(
                    client, "run_job", {"image": "python:3.12", "command": ["python", "-c", PRINTER]}
                )
                job = started.get("job", {}).get("id")
                if job is None:
                    continue
                self.jobs += 1
                await self.call(client, "wait_for_job", {"job_id": job, "timeout_seconds": 120})
                await self.call(client, "fetch_logs", {"job_id": job})
                await self.call(client, "inspect_job", {"job_id": job})
                rounds += 1
                if rounds % 5 == 0:
                    await self.call(client, "list_jobs", {})


def _backend_pid(state: Path, timeout: float = 60) -> int:
    """The detached backend ``--local`` started (its pid from ``<state>/backend.json``, written once it serves)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return int(json.loads((state / "backend.json").read_text())["pid"])
        except (OSError, ValueError, KeyError):
            time.sleep(0.1)
    raise SystemExit("the local backend did not start")


async def run(clients: int, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="hfjobs-soak-") as tmp_name:
        tmp = Path(tmp_name)
        state = tmp / "state"
        port = _free_port()
        proc, log = _start(tmp, port)
        server = psutil.Process(proc.pid)
        backend = psutil.Process(_backend_pid(state))  # --local runs the backend as a process of its own
        backend_log = state / "backend.log"
        soak = Soak(f"http://127.0.0.1:{port}/mcp", seconds)
        samples: list[tuple[float, float, float]] = []
        t0 = time.monotonic()
        end = t0 + seconds
        warm = t0 + seconds / 4
        log_start = 0

        def log_size() -> int:
            return log.stat().st_size + backend_log.stat().st_size

        async def sample() -> None:
            nonlocal log_start
            while time.monotonic() < end:
                now = time.monotonic()
                if now >= warm and not soak.in_window:
                    soak.in_window = True
                    log_start = log_size()
                if now >= warm:
                    mib = server.memory_info().rss / 2**20, backend.memory_info().rss / 2**20
                    samples.append((now - t0, *mib))
                await anyio.sleep(1.0)

        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(sample)
                for _ in range(clients):
                    tg.start_soon(soak.client_loop, end)
            soak.in_window = False
            log_bytes = log_size() - log_start
            wal, disk = disk_use(state)
            lines = [
                *log.read_text(errors="replace").splitlines(),
                *backend_log.read_text(errors="replace").splitlines(),
            ]
            problems = [ln for ln in lines if " ERROR " in ln or " WARNING " in ln]
            rss_end = server.memory_info().rss / 2**20
            backend_end = backend.memory_info().rss / 2**20
        finally:
            proc.terminate()
            proc.wait(60)
            subprocess.run([str(BIN), "local", "--stop", "--state-dir", str(state)], capture_output=True, check=False)
        return {
            "clients": clients,
            "seconds": seconds,
            "calls": soak.calls,
            "jobs": soak.jobs,
            "errors": soak.errors,
            "rss_slope": slope_per_minute([(t, v) for t, v, _ in samples]),
            "backend_slope": slope_per_minute([(t, v) for t, _, v in samples]),
            "rss_end": rss_end,
            "backend_end": backend_end,
            "disk_per_job_kb": disk / max(soak.jobs, 1) / 1000,
            "wal_mb": wal / 1e6,
            "log_per_call_kb": log_bytes / max(soak.window_calls, 1) / 1000,
            "log_bytes": log_bytes,
            "window_calls": soak.window_calls,
            "problems": problems,
        }


async def backend_alone(jobs: int) -> list[tuple[int, float]]:
    """(jobs so far, RSS MiB) after each batch of 500 streamed jobs against an in-process local backend."""
    import gc

    from benchlib import TOKEN, USER

    from hfjobs_mcp.local import LocalBackend, LocalConfig

    me = psutil.Process()
    points: list[tuple[int, float]] = []
    with tempfile.TemporaryDirectory(prefix="hfjobs-soak-backend-") as tmp:
        cfg = LocalConfig(state_dir=Path(tmp), token=TOKEN, user=USER, metrics_interval=0.05)
        async with LocalBackend(cfg) as backend:
            headers = {"authorization": f"Bearer {TOKEN}"}
            limiter = anyio.CapacityLimiter(24)

            async def one(http: httpx2.AsyncClient) -> None:
                async with limiter:
                    body = {"command": ["true"], "flavor": "cpu-basic", "dockerImage": "python:3.12"}
                    job = (await http.post(f"/api/jobs/{USER}", json=body)).json()["id"]
                    for stream in ("logs", "metrics"):
                        async with http.stream("GET", f"/api/jobs/{USER}/{job}/{stream}") as r:
                            async for _ in r.aiter_lines():
                                pass
                    await http.get(f"/api/jobs/{USER}/{job}")

            done = 0
            while done < jobs:
                limits = httpx2.Limits(max_connections=60)
                async with (
                    httpx2.AsyncClient(base_url=backend.url, headers=headers, timeout=120, limits=limits) as h,
                    anyio.create_task_group() as tg,
                ):
                    for _ in range(min(500, jobs - done)):
                        tg.start_soon(one, h)
                done = min(done + 500, jobs)
                gc.collect()
                points.append((done, me.memory_info().rss / 2**20))
                print(f"  backend alone: {done:>6} jobs, RSS {points[-1][1]:.1f} MiB", flush=True)
    return points


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=180.0)
    parser.add_argument("--backend-jobs", type=int, default=4000, help="jobs for the backend-alone part (0: skip)")
    args = parser.parse_args()
    # The backend alone first, in a process that has not yet run the soak's clients: their high-water mark would
    # hide any growth below it.
    points = anyio.run(backend_alone, args.backend_jobs) if args.backend_jobs else []
    r = anyio.run(run, args.clients, args.seconds)
    print(
        f"soak: {r['clients']} clients, {r['seconds']:.0f} s, {r['calls']} calls, {r['jobs']} jobs, "
        f"{len(r['errors'])} errors"
    )
    for e in r["errors"][:5]:
        print("  error:", e)
    for line in r["problems"][:10]:
        print("  server log:", line[:300])
    print(f"{'figure':<24} {'now':>10} {'issue 22':>10} {'ratio':>8}")
    rows = [
        ("server RSS slope (MiB/min)", r["rss_slope"], BEFORE["rss"]),
        ("disk per job (KB)", r["disk_per_job_kb"], BEFORE["disk"]),
        ("log per call (KB)", r["log_per_call_kb"], BEFORE["log"]),
    ]
    for name, now, before in rows:
        print(f"{name:<24} {now:>10.3f} {before:>10.2f} {now / before:>7.2f}x")
    print(
        f"MCP server RSS at the end: {r['rss_end']:.0f} MiB; its local backend (a process of its own): "
        f"{r['backend_end']:.0f} MiB, slope {r['backend_slope']:+.3f} MiB/min"
    )
    print(f"log (server and backend): {r['log_bytes']} bytes over {r['window_calls']} calls")
    print(f"database write-ahead log (fixed, not counted per job): {r['wal_mb']:.1f} MB")
    rows_out: list[dict[str, Any]] = []
    if points:
        half = [p for p in points if p[0] >= args.backend_jobs / 2] or points
        first, last = half[0], points[-1]
        per_k = (last[1] - first[1]) / max(last[0] - first[0], 1) * 1000
        print(
            f"backend alone: {per_k:+.3f} MiB per 1,000 jobs from {first[0]} to {last[0]} jobs (issue 22: about +1.1)"
        )
        rows_out.append(
            {
                "benchmark": f"local backend alone, {last[0]} streamed jobs",
                "measured": f"RSS {per_k:+.2f} MiB per 1,000 jobs after {first[0]} jobs ({last[1]:.0f} MiB)",
                "baseline": "before issue 22: about +1.1 MiB per 1,000 jobs, for ever",
                "ratio": "",
                "target": "flat after warm-up",
                "met": per_k < 0.25,
            }
        )
    emit(
        [
            {
                "benchmark": f"soak, {r['clients']} MCP clients over HTTP for {r['seconds']:.0f} s ({r['jobs']} jobs)",
                "measured": f"server RSS {r['rss_slope']:+.2f} MiB/min (backend {r['backend_slope']:+.2f}), "
                f"{r['disk_per_job_kb']:.1f} KB/job on disk, "
                f"{r['log_per_call_kb'] * 1000:.0f} B of log/call",
                "baseline": f"issue 22 (before): {BEFORE['rss']} MiB/min, {BEFORE['disk']:.0f} KB/job, "
                f"{BEFORE['log'] * 1000:.0f} B/call",
                "ratio": f"{r['rss_slope'] / BEFORE['rss']:.2f}x, {r['disk_per_job_kb'] / BEFORE['disk']:.2f}x, "
                f"{r['log_per_call_kb'] / BEFORE['log']:.3f}x",
                "target": "0 errors; memory, disk and log bounded",
                "met": not r["errors"],
            },
            *rows_out,
        ]
    )
    return 1 if r["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
