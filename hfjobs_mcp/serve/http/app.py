"""The ASGI app of one HTTP worker: ``/mcp`` behind the gateway, and ``/healthz`` (design §6).

One app serves ``/mcp`` (the SDK's streamable HTTP transport, stateless: the 2026-07-28 protocol, and
``stateless_http`` for handshake-era clients) and ``/healthz`` (for load balancers, no auth). In front of ``/mcp``
a small ASGI gateway checks, in this order:

1. Host and Origin, with the SDK's own DNS-rebinding protection, always on: loopback names plus
   ``--allowed-hosts`` / ``--allowed-origins`` (wrong Host: 421, wrong Origin: 403);
2. the caller (``--auth``, :mod:`hfjobs_mcp.serve.http.auth`), 401 with ``WWW-Authenticate`` when the bearer
   token is missing or wrong.

The request body is capped (``--max-body-bytes``, 413) by the SDK transport. Calls get the caller's
:class:`~hfjobs_mcp.tools.base.ToolContext` through a context variable set by the gateway and read by
:func:`hfjobs_mcp.serve.server.build_server`'s ``caller_context`` hook. Every worker shares the request-state key
and the approvals store (:mod:`hfjobs_mcp.serve.http.keys`), so a confirmation round trip may land on any worker.
The tools are adapted by :mod:`hfjobs_mcp.serve.server` as for stdio.
"""

from __future__ import annotations

import logging
import math
import secrets as _random
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from mcp.server.request_state import RequestStateSecurity
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.config import Settings, home_dir
from hfjobs_mcp.policy.approvals import Approvals
from hfjobs_mcp.policy.forwarded import ForwardedDigests
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.http.auth import (
    MAX_CALLERS,
    Anyone,
    Authenticator,
    Caller,
    HfCallers,
    Refusal,
    StaticToken,
    caller_context,
    check_deployment,
    current_caller,
    current_principal,
    is_loopback,
)
from hfjobs_mcp.serve.http.keys import derive_key, state_key
from hfjobs_mcp.serve.http.oauth import authorization_server, metadata_routes, metadata_url, resource_url
from hfjobs_mcp.serve.server import build_server

try:  # the SDK's Server-Sent Events (see _keep_streams_open_on_shutdown)
    from sse_starlette.sse import AppStatus as _SseStatus
except ImportError:  # the SDK stopped using it
    _SseStatus = None  # type: ignore[assignment,misc]

logger = logging.getLogger("hfjobs_mcp.web")  # the name log lines have always shown

MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
WORKER_HEADER = "x-hfjobs-mcp-worker"
WORKER_ID = _random.token_hex(4)  # per process: which worker answered (opaque; not the pid)
REALM = "hfjobs-mcp"
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")


class _Gateway:
    """In front of ``/mcp``: Host/Origin, then the caller; the caller's context is set for the request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        security: TransportSecuritySettings,
        auth: Authenticator,
        resource_metadata: str | None = None,
    ) -> None:
        self.app = app
        self.security = TransportSecurityMiddleware(security)
        self.auth = auth
        self.resource_metadata = resource_metadata

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_worker(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", []), (WORKER_HEADER.encode(), WORKER_ID.encode())]
                message = {**message, "headers": headers}
            await send(message)

        path: str = scope["path"]
        if path != MCP_PATH and not path.startswith(MCP_PATH + "/"):
            await self.app(scope, receive, send_with_worker)
            return
        request = Request(scope)
        refused = await self.security.validate_request(request, is_post=False)
        if refused is not None:
            await refused(scope, receive, send_with_worker)
            return
        peer = scope.get("client")
        caller = await self.auth.caller(request.headers.get("authorization"), str(peer[0]) if peer else "")
        if isinstance(caller, Refusal):
            await _refusal_response(caller, self.resource_metadata)(scope, receive, send_with_worker)
            return
        token = current_caller.set(caller)
        try:
            await self.app(scope, receive, send_with_worker)
        finally:
            current_caller.reset(token)
            await self.auth.release(caller)


def _refusal_response(refusal: Refusal, resource_metadata: str | None = None) -> Response:
    if refusal.status == 401:
        challenge = f'Bearer realm="{REALM}"'
        if refusal.error:
            challenge += f', error="{refusal.error}", error_description="{refusal.description}"'
        if resource_metadata:  # RFC 9728 section 5.1: where an OAuth client learns who issues tokens for this server
            challenge += f', resource_metadata="{resource_metadata}"'
        body = {"error": refusal.error or "unauthorized", "error_description": refusal.description}
        return JSONResponse(body, status_code=401, headers={"www-authenticate": challenge})
    if refusal.status == 429:
        after = str(math.ceil(refusal.retry_after or 1))
        body = {"error": "too_many_requests", "error_description": refusal.description}
        return JSONResponse(body, status_code=429, headers={"retry-after": after})
    body = {"error": "temporarily_unavailable", "error_description": refusal.description}
    return JSONResponse(body, status_code=refusal.status, headers={"retry-after": "5"})


async def _health(request: Request) -> Response:
    """For load balancers: this worker is up and serving (no auth, no Host check: probes use addresses)."""
    return JSONResponse({"status": "ok", "worker": WORKER_ID})


def _keep_streams_open_on_shutdown() -> None:
    """Let a response stream that is carrying a running call finish after SIGTERM.

    The SDK answers over Server-Sent Events with ``sse-starlette``, which by default ends every open stream as soon
    as uvicorn is asked to stop: a call in flight would lose its result. Here each stream ends with its call, and
    uvicorn's own grace period (``--shutdown-grace``) bounds the wait.
    """
    if _SseStatus is not None:  # else the SDK stopped using it: nothing to undo
        _SseStatus.disable_automatic_graceful_drain()  # type: ignore[no-untyped-call]


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """The SDK's DNS-rebinding protection, always on: loopback names plus the configured hostnames."""
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[*LOOPBACK_HOSTS, *settings.allowed_hosts],
        allowed_origins=[*LOOPBACK_ORIGINS, *settings.allowed_origins],
    )


def create_app(
    settings: Settings,
    *,
    client: JobsClient,
    own_client: bool = False,
    environ: Mapping[str, str] | None = None,
    approvals_file: Path | None = None,
) -> Starlette:
    """The ASGI app of one worker: ``/mcp`` behind the gateway, ``/healthz``; ``client`` is the server's own.

    ``own_client``: close ``client`` when the app shuts down (worker processes). ``approvals_file``: the SQLite
    file of open approvals (card answers and confirmation codes; default ``$HFJOBS_MCP_HOME/http/approvals.sqlite``),
    shared by the workers.
    """
    static_token = check_deployment(settings, environ)
    key = state_key(environ)
    _keep_streams_open_on_shutdown()
    approvals_path = approvals_file or home_dir() / "http" / "approvals.sqlite"
    state_folder = approvals_path.parent
    approvals = Approvals(approvals_path)
    server_principal = {"token": "token", "none": None, "hf": None}[settings.auth]
    # Over HTTP the caller's paths are not the server's: never read a file of the server's disk for a caller.
    server_context = replace(
        base_context(settings, client), approvals=approvals, principal=server_principal or "anyone", local_files=False
    )
    server_caller = Caller(principal=server_principal, context=server_context)
    auth: Authenticator
    forwarded: ForwardedDigests | None = None
    if settings.auth == "hf":
        # One redactor for the deployment (its log records included, through base_context): what any caller
        # forwarded is masked for every caller, and the other workers learn it as keyed hashes.
        forwarded = ForwardedDigests(derive_key(key, "forwarded-values"), state_folder / "forwarded.sqlite")
        redactor = server_context.redactor
        redactor.shared = forwarded
        redactor.transient_cap = 4 * MAX_CALLERS
        resource = resource_url(settings, MCP_PATH)
        auth = HfCallers(
            settings=settings, endpoint=client.endpoint, approvals=approvals, redactor=redactor, resource=resource
        )
    elif settings.auth == "token":
        assert static_token is not None
        auth = StaticToken(server_caller, static_token)
    else:
        logger.warning(
            "--auth none: anyone who can reach %s:%d may use this server and its Hugging Face token",
            settings.host,
            settings.port,
        )
        auth = Anyone(server_caller)

    server = build_server(
        server_context,
        toolsets=settings.toolsets,
        read_only=settings.read_only,
        caller_context=caller_context,
        request_state_security=RequestStateSecurity(keys=[key], bind_principal=current_principal),
        task_key=derive_key(key, "task-ids"),  # every worker answers for a task made by another
    )

    server.custom_route(HEALTH_PATH, methods=["GET", "HEAD"])(_health)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        max_request_body_size=settings.max_body_bytes,
        transport_security=transport_security(settings),
        host=settings.host,
    )
    resource_metadata = None
    if settings.auth == "hf":  # OAuth: the RFC 9728 metadata naming the Hub as issuer, and the 401 pointing to it
        resource = resource_url(settings, MCP_PATH)
        app.router.routes.extend(metadata_routes(resource, authorization_server(settings, client.endpoint)))
        resource_metadata = metadata_url(resource)
    app.add_middleware(_Gateway, security=transport_security(settings), auth=auth, resource_metadata=resource_metadata)
    sdk_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: Starlette) -> AsyncIterator[Any]:
        try:
            async with sdk_lifespan(app_) as state:
                yield state
        finally:
            await auth.aclose()
            approvals.close()
            if own_client:
                await client.aclose()
            if forwarded is not None:
                forwarded.close()

    app.router.lifespan_context = lifespan
    if static_token is None and settings.auth == "hf":
        logger.info("--auth hf: each caller's Hugging Face token is verified with %s/api/whoami-v2", client.endpoint)
    if not is_loopback(settings.host) and not settings.allowed_hosts:
        logger.warning(
            "bound to %s but only loopback Host headers are accepted: pass --allowed-hosts with the name clients "
            "use (e.g. mcp.example.com)",
            settings.host,
        )
    return app


__all__ = ["HEALTH_PATH", "MCP_PATH", "WORKER_HEADER", "create_app", "transport_security"]
