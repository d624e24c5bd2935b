"""A recording reverse proxy on 127.0.0.1, so every response the backend sends to a real client is checked.

Why a proxy and not an ASGI middleware: the backend must not know about tests, and a proxy works with
the backend however it is started (``serve_in_thread``, the ``hfjobs-mcp local`` command) without relying
on how it builds its app. Clients (``huggingface_hub`` and the ``hf`` CLI in subprocesses) get the
proxy's URL as ``HF_ENDPOINT``; the proxy forwards each request with httpx2 and

- buffers ordinary responses, records them (method, path, status, content type, body), and returns them;
- streams ``text/event-stream`` responses through chunk by chunk, untouched (the upstream ``Date`` header
  included, which the client's no-follow cut-off needs: wire §6.2), recording the ``data:`` events as they
  pass;
- rewrites absolute upstream URLs in ``Link`` and ``Location`` headers to itself, so pagination stays on
  the proxy and its pages are recorded too.

:meth:`RecordingProxy.failures` validates every recorded JSON body against the OpenAPI document
(``tests/openapi.py``) and every log event against wire §6.1, and lists each problem.
"""

from __future__ import annotations

import json
import re
import threading
import time
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests import openapi

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "host",
    "content-length",
}
# Paths the official clients call that the Jobs OpenAPI subset does not describe (wire §3): not validated.
NOT_IN_OAS = (re.compile(r"^/api/agent-harnesses/?$"), re.compile(r"^/api/buckets/"))
_CLIENT_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


@dataclass
class Exchange:
    """One request/response pair as the client saw it."""

    method: str
    path: str  # with the query string
    status: int
    content_type: str
    headers: dict[str, str]
    body: bytes | None = None  # None for streamed responses
    events: list[str] = field(default_factory=list)  # the raw `data:` lines of a stream, in order
    stream_lines: list[str] = field(default_factory=list)  # every other non-blank stream line (comments, event:)
    closed: bool = False  # the stream reached its end (False if still open or cut by the client)

    @property
    def is_stream(self) -> bool:
        return self.content_type.startswith("text/event-stream")

    def event_payloads(self) -> list[Any]:
        """The JSON payloads of the stream's well-formed `data: {` lines."""
        return [json.loads(line[6:]) for line in self.events if line.startswith("data: {")]

    def json(self) -> Any:
        assert self.body is not None
        return json.loads(self.body)

    def describe(self) -> str:
        return f"{self.method} {self.path} -> {self.status} [{self.content_type or 'no content-type'}]"


class _SSERecorder:
    """Splits streamed bytes into lines and records them on the exchange as they pass."""

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange
        self.buffer = b""

    def feed(self, chunk: bytes) -> None:
        self.buffer += chunk
        *lines, self.buffer = re.split(rb"\r\n|\r|\n", self.buffer)
        for raw in lines:
            line = raw.decode("utf-8", errors="replace")
            if line.startswith("data:"):
                self.exchange.events.append(line)
            elif line:
                self.exchange.stream_lines.append(line)


class RecordingProxy:
    """Reverse proxy to ``upstream`` served by uvicorn in a daemon thread; use as a context manager."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.exchanges: list[Exchange] = []
        self._lock = threading.Lock()
        self._client: httpx2.AsyncClient | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # --- the app -------------------------------------------------------------------------------------------

    @asynccontextmanager
    async def _lifespan(self, _app: Starlette) -> AsyncIterator[None]:
        async with httpx2.AsyncClient(timeout=None, follow_redirects=False) as client:
            self._client = client
            yield
        self._client = None

    def _rewrite(self, value: str) -> str:
        return value.replace(self.upstream, self.url) if self.url else value

    async def _forward(self, request: Request) -> Response:
        assert self._client is not None
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        headers = [(k, v) for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP]
        upstream_request = self._client.build_request(
            request.method, self.upstream + path, headers=headers, content=await request.body()
        )
        upstream = await self._client.send(upstream_request, stream=True)
        out_headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
        for name in ("link", "location"):
            if name in out_headers:
                out_headers[name] = self._rewrite(out_headers[name])
        exchange = Exchange(
            method=request.method,
            path=path,
            status=upstream.status_code,
            content_type=upstream.headers.get("content-type", ""),
            headers=dict(upstream.headers.items()),
        )
        with self._lock:
            self.exchanges.append(exchange)

        if not exchange.is_stream:
            try:
                raw = b"".join([chunk async for chunk in upstream.aiter_raw()])
            finally:
                await upstream.aclose()
            exchange.body = raw
            if upstream.headers.get("content-encoding", "").lower() in ("gzip", "deflate"):
                exchange.body = zlib.decompress(raw, 47)
            return Response(raw, status_code=upstream.status_code, headers=out_headers)

        recorder = _SSERecorder(exchange)

        async def relay() -> AsyncIterator[bytes]:
            try:
                async for chunk in upstream.aiter_raw():
                    recorder.feed(chunk)
                    yield chunk
                exchange.closed = True
            finally:
                with anyio.CancelScope(shield=True):
                    await upstream.aclose()

        return StreamingResponse(relay(), status_code=upstream.status_code, headers=out_headers)

    def _app(self) -> Starlette:
        methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
        return Starlette(routes=[Route("/{path:path}", self._forward, methods=methods)], lifespan=self._lifespan)

    # --- lifecycle -----------------------------------------------------------------------------------------

    def start(self) -> RecordingProxy:
        self._server, self._thread, self.url = serve_app_in_thread(self._app(), name="recording-proxy")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> RecordingProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what was seen -------------------------------------------------------------------------------------

    def snapshot(self) -> list[Exchange]:
        with self._lock:
            return list(self.exchanges)

    def clear(self) -> None:
        with self._lock:
            self.exchanges.clear()

    @contextmanager
    def checking(self) -> Iterator[RecordingProxy]:
        """Clear the record, run the block, then fail listing every response that breaks the OAS."""
        self.clear()
        yield self
        problems = self.failures()
        assert not problems, f"{len(problems)} response(s) break the contract:\n" + "\n".join(problems)

    def failures(self) -> list[str]:
        """Every recorded response that breaks the OpenAPI document or the SSE wire format."""
        problems: list[str] = []
        for ex in self.snapshot():
            bare = ex.path.split("?", 1)[0]
            if any(p.match(bare) for p in NOT_IN_OAS) or ex.method in ("HEAD", "OPTIONS"):
                continue
            try:
                if ex.is_stream:
                    problems.extend(_stream_problems(ex))
                    continue
                problems.extend(_json_problems(ex))
            except openapi.UnknownOperation as err:
                problems.append(f"{ex.describe()}: {err}")
        return problems


def serve_app_in_thread(app: Any, name: str) -> tuple[uvicorn.Server, threading.Thread, str]:
    """Serve an ASGI app on 127.0.0.1 (a free port) in a daemon thread; returns (server, thread, base URL)."""
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        date_header=False,  # pass the backend's own Date and Server headers through, not the proxy's
        server_header=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, thread, f"http://127.0.0.1:{port}"


def _json_problems(ex: Exchange) -> list[str]:
    is_json = ex.content_type.split(";")[0].strip().endswith("json")
    if not is_json:
        if openapi.declares_json(ex.method, ex.path, ex.status):
            return [f"{ex.describe()}: the OAS declares a JSON body, got {ex.content_type!r}"]
        if ex.status >= 400 and ex.body:
            return [f"{ex.describe()}: error body is not JSON {{'error': ...}}: {ex.body[:200]!r}"]
        return []
    try:
        body = ex.json()
    except ValueError as err:
        return [f"{ex.describe()}: invalid JSON ({err}): {(ex.body or b'')[:200]!r}"]
    return openapi.response_errors(ex.method, ex.path, ex.status, body)


def _stream_problems(ex: Exchange) -> list[str]:
    """wire §6.1: every log event is `data: {"data": str, "timestamp": "…Z"}`; the Date header is sent."""
    problems: list[str] = []
    openapi.find_operation(ex.method, ex.path)  # the path itself must be an OAS operation
    if "date" not in {k.lower() for k in ex.headers}:
        problems.append(f"{ex.describe()}: no Date header (the client's no-follow cut-off needs it, wire §6.2)")
    if not ex.path.split("?", 1)[0].endswith("/logs"):
        return problems
    for index, line in enumerate(ex.events):
        where = f"{ex.describe()}: event {index}"
        if not line.startswith("data: {"):  # the client parses only lines starting exactly so (wire §6.1)
            problems.append(f"{where}: not `data: {{json}}`: {line[:120]!r}")
            continue
        payload = line[len("data: ") :]
        try:
            event = json.loads(payload)
        except ValueError as err:
            problems.append(f"{where}: invalid JSON ({err})")
            continue
        if not isinstance(event.get("data"), str):
            problems.append(f"{where}: `data` is not a string: {payload[:120]!r}")
        if not _CLIENT_TIMESTAMP.match(str(event.get("timestamp", ""))):
            problems.append(f"{where}: `timestamp` is not YYYY-MM-DDTHH:MM:SS[.f]Z: {payload[:120]!r}")
    return problems
