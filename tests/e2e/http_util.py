"""Helpers for tests of the HTTP deployment: the real ``hfjobs-mcp --transport http`` as a subprocess on 127.0.0.1,
and real MCP clients for it (with a bearer token, or a custom HTTP transport).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx2
import mcp
from mcp.client.streamable_http import streamable_http_client

BIN = Path(sys.executable).parent / "hfjobs-mcp"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(tmp: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without any Hugging Face or hfjobs-mcp settings, with a fresh home."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "HFJOBS_MCP_"))}
    env.update({"HFJOBS_MCP_HOME": str(tmp / "home"), "HF_HOME": str(tmp / "hf")})
    env.update(extra or {})
    return env


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def mcp_url(self) -> str:
        return f"{self.base_url}/mcp"

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def wait_healthy(server: Server, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"server exited ({server.proc.returncode}):\n{server.output()}")
        try:
            if httpx2.get(f"{server.base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx2.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server not healthy after {timeout}s:\n{server.output()}")


@contextmanager
def running_server(
    tmp: Path, *args: str, env: Mapping[str, str] | None = None, name: str = "server", home: Path | None = None
) -> Iterator[Server]:
    """``hfjobs-mcp --transport http --port P *args``; stopped (SIGTERM, then waited for) when the block ends."""
    port = free_port()
    log = tmp / f"{name}.log"
    extra = {"HFJOBS_MCP_HOME": str(home)} if home is not None else {}
    command = [str(BIN), "--transport", "http", "--port", str(port), *args]
    if "--local" in args and "--state-dir" not in args:
        command += ["--state-dir", str(tmp / f"{name}-state")]
    with log.open("wb") as sink:
        proc = subprocess.Popen(command, env={**clean_env(tmp, extra), **(env or {})}, stdout=sink, stderr=sink)
    server = Server(proc=proc, port=port, log=log)
    try:
        wait_healthy(server)
        yield server
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


LOCAL_AUTH = "local-bearer-for-tests-5e6f7a8b9c"  # --transport http --local needs --auth token (issue 14)


@contextmanager
def local_server(tmp: Path, *args: str, env: Mapping[str, str] | None = None, **kwargs: Any) -> Iterator[Server]:
    """``hfjobs-mcp --transport http --local --auth token`` with :data:`LOCAL_AUTH` as its bearer token."""
    auth_env = {"HFJOBS_MCP_AUTH_TOKEN": LOCAL_AUTH, **(env or {})}
    with running_server(tmp, "--local", "--auth", "token", *args, env=auth_env, **kwargs) as server:
        yield server


def http_client(token: str | None = None, **kwargs: Any) -> httpx2.AsyncClient:
    """An HTTP client for MCP (the SDK's timeouts) sending ``Authorization: Bearer <token>`` when given."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx2.AsyncClient(
        headers=headers, timeout=httpx2.Timeout(30.0, read=300.0), follow_redirects=False, **kwargs
    )


def mcp_client(url: str, *, client: httpx2.AsyncClient, **kwargs: Any) -> mcp.Client:
    """A real MCP client over streamable HTTP through ``client`` (``mode=``, ``elicitation_callback=``, ...)."""
    return mcp.Client(streamable_http_client(url, http_client=client), **kwargs)  # type: ignore[arg-type]
