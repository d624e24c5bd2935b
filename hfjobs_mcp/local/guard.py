"""The HTTP layer's guards: a cap on request bodies, and a JSON 500 that closes the connection for a bug that escapes.

- :func:`read_body` reads a JSON route's body up to ``max_body_bytes``: a ``Content-Length`` above it is refused
  before a byte is read, a chunked body as soon as it passes it (:class:`BodyTooLargeError`, answered 413), so a
  route never holds more than the cap in memory.
- :class:`LastResort` is the outermost middleware of the app. An exception no route turned into a status is a
  bug: it is logged with its traceback and answered ``500 {"error": ...}`` with ``Connection: close``. Without
  that header uvicorn closed the connection right after its plain-text 500 while the client, told nothing,
  pooled it and sent its next request on it: that request met a reset (huggingface_hub's next ``run_job``
  raised ``ReadError [Errno 104]``). With it, both sides' HTTP machinery retire the connection after the 500.
  A bug after the response has started (a stream) can only end the connection, which is how a client learns
  that a body was cut.
"""

from __future__ import annotations

import json
import logging
import time

from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .clock import http_date

log = logging.getLogger("hfjobs_mcp.local")


class BodyTooLargeError(Exception):
    """413: ``str(err)`` is the ``error`` body."""


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or :class:`BodyTooLargeError` once it is known to be longer than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLargeError(f"Request body too large: {declared} bytes; at most {limit} bytes are accepted")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError(f"Request body too large: more than {limit} bytes; at most {limit} are accepted")
        chunks.append(chunk)
    return b"".join(chunks)


async def send_error(send: Send, status: int, message: str) -> None:
    """A complete ``{"error": message}`` response that tells the client not to reuse the connection."""
    body = json.dumps({"error": message}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        (b"date", http_date(time.time()).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


class LastResort:
    """Outermost middleware: a bug becomes a logged, JSON, connection-closing 500 (see the module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except ClientDisconnect:
            log.debug("%s %s: the client left before its request was read", scope.get("method"), scope.get("path"))
        except Exception as exc:
            log.exception("%s %s failed (a bug in the local backend)", scope.get("method"), scope.get("path"))
            if started:
                raise  # the server closes the connection: the client sees a cut response, never a wrong one
            await send_error(
                send,
                500,
                f"Internal error in the local backend ({type(exc).__name__}): a bug, logged with its details",
            )
