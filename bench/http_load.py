"""Benchmark: 32 MCP clients at once against ``hfjobs-mcp --transport http --local`` on loopback.

Why: issue 8 makes the streamable-HTTP mode a team deployment; this measures what one machine serves. Each of
``--clients`` (32) concurrent clients opens its own MCP session (the SDK's ``mcp.Client`` over streamable HTTP,
a connection of its own) and calls ``inspect_job`` and ``list_hardware`` in turn, as fast as answers come, for
``--seconds`` (bounded also by ``--max-calls``). It prints calls/s, p50 and p99 latency (overall and per tool)
and the errors (target: 0). The server is the real command in a subprocess with a throwaway home and state;
``--workers N`` passes through, ``--mode legacy`` uses the 2025-11-25 handshake era. The clients share this
one Python process, so on a small machine they compete with the server for the CPU: the figures are what a
client sees on the same host, not the server's ceiling.

Run: ``.venv/bin/python bench/http_load.py`` (about 20 s). Exit status is non-zero only when a call failed.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client

BIN = Path(sys.executable).parent / "hfjobs-mcp"
AUTH = "bench-bearer-token-0123456789abcdef"  # --transport http --local needs --auth token


@asynccontextmanager
async def client(url: str, mode: str) -> AsyncIterator[mcp.Client]:
    """An MCP client over streamable HTTP sending the bench's bearer token."""
    headers = {"authorization": f"Bearer {AUTH}"}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(30.0, read=300.0)) as http:
        transport = streamable_http_client(url, http_client=http)
        async with mcp.Client(transport, mode=mode) as session:  # type: ignore[arg-type]
            yield session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(tmp: Path, port: int, workers: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "HFJOBS_MCP_"))}
    env.update({"HFJOBS_MCP_HOME": str(tmp / "home"), "HF_HOME": str(tmp / "hf"), "HFJOBS_MCP_AUTH_TOKEN": AUTH})
    command = [str(BIN), "--transport", "http", "--port", str(port), "--local", "--auth", "token"]
    command += ["--state-dir", str(tmp / "state")]
    command += ["--workers", str(workers), "--log-level", "WARNING"]
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {(tmp / 'server.log').read_text()}")
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not become healthy in 60 s")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run_load(url: str, *, clients: int, seconds: float, max_calls: int, mode: str) -> dict[str, Any]:
    async with client(url, mode) as setup:
        started = await setup.call_tool("run_job", {"image": "python:3.12", "command": ["true"]})
        if started.is_error or started.structured_content is None:
            raise SystemExit(f"could not start the job to inspect: {started.content}")
        job_id = started.structured_content["job"]["id"]

    latencies: dict[str, list[float]] = defaultdict(list)
    errors: list[str] = []
    budget = {"calls": max_calls}
    calls = [("inspect_job", {"job_id": job_id}), ("list_hardware", {})]
    ready = anyio.Event()
    start_box: dict[str, float] = {}

    async def one_client(index: int) -> None:
        async with client(url, mode) as session:
            await ready.wait()
            n = index
            while time.monotonic() - start_box["t"] < seconds and budget["calls"] > 0:
                budget["calls"] -= 1
                name, args = calls[n % 2]
                n += 1
                t0 = time.perf_counter()
                try:
                    result = await session.call_tool(name, args)
                except Exception as exc:  # counted, never raised: the bench reports errors
                    errors.append(f"{name}: {type(exc).__name__}: {exc}")
                    continue
                elapsed = time.perf_counter() - t0
                if result.is_error:
                    errors.append(f"{name}: isError")
                else:
                    latencies[name].append(elapsed)

    async with anyio.create_task_group() as tg:
        for i in range(clients):
            tg.start_soon(one_client, i)
        await anyio.sleep(1.0)  # let every session open first: the window measures calls, not handshakes
        start_box["t"] = time.monotonic()
        ready.set()
    wall = time.monotonic() - start_box["t"]
    return {"latencies": latencies, "errors": errors, "wall": wall}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--max-calls", type=int, default=200_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--mode", choices=("auto", "legacy"), default="auto")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="hfjobs-http-load-") as tmp_name:
        tmp = Path(tmp_name)
        port = free_port()
        proc = start_server(tmp, port, args.workers)
        try:
            out = anyio.run(
                lambda: run_load(
                    f"http://127.0.0.1:{port}/mcp",
                    clients=args.clients,
                    seconds=args.seconds,
                    max_calls=args.max_calls,
                    mode=args.mode,
                )
            )
        finally:
            proc.terminate()
            proc.wait(timeout=60)

    latencies: dict[str, list[float]] = out["latencies"]
    every = [v for values in latencies.values() for v in values]
    errors: list[str] = out["errors"]
    print(
        f"{args.clients} clients, {args.workers} worker(s), mode {args.mode}, {out['wall']:.1f} s, "
        f"{len(every) + len(errors)} calls"
    )
    print(f"{'tool':<14} {'calls':>7} {'calls/s':>9} {'p50 ms':>8} {'p99 ms':>8}")
    for name, values in [*sorted(latencies.items()), ("all", every)]:
        print(
            f"{name:<14} {len(values):>7} {len(values) / out['wall']:>9.1f} "
            f"{percentile(values, 0.5) * 1000:>8.1f} {percentile(values, 0.99) * 1000:>8.1f}"
        )
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    if every:
        print(f"mean {statistics.mean(every) * 1000:.1f} ms")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
