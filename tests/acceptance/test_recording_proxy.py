"""The recording proxy is transparent and its checks can fail.

Why: the acceptance tests judge the backend through this proxy. If it buffered SSE (a follow would hang
until the job ended), swallowed the upstream ``Date`` header, let pagination escape to the upstream, or
passed every body, those tests would prove nothing. A tiny upstream app stands in for a server here:
it is not the backend, only something whose answers are known.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx2
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.acceptance.recording_proxy import RecordingProxy, serve_app_in_thread
from tests.test_openapi_validator import HARDWARE

UPSTREAM_DATE = "Tue, 22 Jul 2025 16:06:25 GMT"


class Upstream:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.url = ""

    async def hardware(self, _request: Request) -> Response:
        return JSONResponse(HARDWARE)

    async def jobs(self, request: Request) -> Response:
        if request.query_params.get("cursor"):
            return JSONResponse([])
        return JSONResponse([], headers={"Link": f'<{self.url}/api/jobs/alice?cursor=2>; rel="next"'})

    async def job(self, _request: Request) -> Response:
        return JSONResponse({"id": "j1"})  # far from a JobInfo

    async def cancel(self, _request: Request) -> Response:
        return PlainTextResponse("ok")

    async def logs(self, _request: Request) -> Response:
        release = self.release

        async def events() -> AsyncIterator[bytes]:
            yield b'data: {"data": "===== Job started", "timestamp": "2025-07-22T16:06:25.000Z"}\n\n'
            while not release.is_set():
                await anyio.sleep(0.01)
            yield b": keep-alive\n\n"
            yield b'data: {"data": "hello", "timestamp": "2025-07-22T16:06:26+00:00"}\n\n'
            yield b'data:{"data": "no space", "timestamp": "2025-07-22T16:06:26.000Z"}\n\n'

        return StreamingResponse(events(), media_type="text/event-stream", headers={"Date": UPSTREAM_DATE})

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/api/jobs/hardware", self.hardware),
                Route("/api/jobs/alice", self.jobs),
                Route("/api/jobs/alice/j1", self.job),
                Route("/api/jobs/alice/j1/cancel", self.cancel, methods=["POST"]),
                Route("/api/jobs/alice/j1/logs", self.logs),
            ]
        )


@pytest.fixture
def proxy() -> Iterator[tuple[RecordingProxy, Upstream]]:
    upstream = Upstream()
    server, thread, upstream.url = serve_app_in_thread(upstream.app(), name="stub-upstream")
    try:
        with RecordingProxy(upstream.url) as proxy:
            yield proxy, upstream
    finally:
        upstream.release.set()
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.slow
def test_json_is_forwarded_recorded_and_validated(proxy: tuple[RecordingProxy, Upstream]) -> None:
    rec, _ = proxy
    with httpx2.Client(base_url=rec.url) as client:
        assert client.get("/api/jobs/hardware").json() == HARDWARE
    [ex] = rec.snapshot()
    assert (ex.method, ex.path, ex.status) == ("GET", "/api/jobs/hardware", 200)
    assert rec.failures() == []


@pytest.mark.slow
def test_link_header_is_rewritten_to_the_proxy(proxy: tuple[RecordingProxy, Upstream]) -> None:
    rec, _ = proxy
    with httpx2.Client() as client:
        first = client.get(rec.url + "/api/jobs/alice")
        assert first.headers["link"] == f'<{rec.url}/api/jobs/alice?cursor=2>; rel="next"'
        client.get(first.links["next"]["url"])
    assert [ex.path for ex in rec.snapshot()] == ["/api/jobs/alice", "/api/jobs/alice?cursor=2"]


@pytest.mark.slow
def test_bad_bodies_and_content_types_are_listed(proxy: tuple[RecordingProxy, Upstream]) -> None:
    rec, _ = proxy
    with httpx2.Client(base_url=rec.url) as client:
        client.get("/api/jobs/alice/j1")
        client.post("/api/jobs/alice/j1/cancel")
    problems = "\n".join(rec.failures())
    assert "'owner' is a required property" in problems
    assert "the OAS declares a JSON body, got 'text/plain" in problems
    with pytest.raises(AssertionError, match="break the contract"), rec.checking():
        httpx2.get(rec.url + "/api/jobs/alice/j1")


@pytest.mark.slow
def test_sse_streams_through_untouched_and_is_checked(proxy: tuple[RecordingProxy, Upstream]) -> None:
    rec, upstream = proxy
    with httpx2.stream("GET", rec.url + "/api/jobs/alice/j1/logs", timeout=10) as response:
        assert response.headers["date"] == UPSTREAM_DATE
        lines = response.iter_lines()
        # The first event arrives while the upstream is still holding the stream open: no buffering.
        assert next(line for line in lines if line).startswith('data: {"data": "===== Job started"')
        upstream.release.set()
        rest = [line for line in lines if line]
    assert rest == [
        ": keep-alive",
        'data: {"data": "hello", "timestamp": "2025-07-22T16:06:26+00:00"}',
        'data:{"data": "no space", "timestamp": "2025-07-22T16:06:26.000Z"}',
    ]
    [ex] = rec.snapshot()
    assert ex.is_stream
    assert ex.closed
    assert len(ex.events) == 3
    assert ex.stream_lines == [": keep-alive"]
    problems = "\n".join(rec.failures())
    assert "event 1: `timestamp` is not" in problems
    assert "event 2: not `data: {json}`" in problems
