"""The HTTP deployment: the streamable-HTTP ASGI app with authentication, callers, health, workers (design §6).

One app serves ``/mcp`` (the SDK's streamable HTTP transport, stateless: the 2026-07-28 protocol, and
``stateless_http`` for handshake-era clients) and ``/healthz`` (for load balancers, no auth). In front of ``/mcp``
a small ASGI gateway checks, in this order:

1. Host and Origin, with the SDK's own DNS-rebinding protection, always on: loopback names plus
   ``--allowed-hosts`` / ``--allowed-origins`` (wrong Host: 421, wrong Origin: 403);
2. the caller (``--auth``), 401 with ``WWW-Authenticate`` when the bearer token is missing or wrong:

   - ``token``: one static bearer token (``HFJOBS_MCP_AUTH_TOKEN``) for a single user; calls use the server's
     own Hugging Face token, as over stdio;
   - ``hf``: the caller's bearer token is a Hugging Face token, verified with ``whoami-v2`` (cached for
     :data:`VERIFIED_TTL` seconds, keyed by a SHA-256 of the token, never the token) and used for that caller's
     calls only, through a client of its own (a bounded pool). Each caller sees what its token can see. The
     server's environment and secrets file are never forwarded (design §5.8): the only secret a caller can
     forward is its own token, as ``HF_TOKEN``, once confirmed. Every caller's token and every forwarded value
     is masked for every caller (one redactor per worker, keyed hashes shared across workers); the whoami-v2
     calls unknown tokens cause are bounded per client address and in total (429 with ``Retry-After``);
   - ``none``: no check, refused unless bound to loopback, with a warning; never with ``--local`` (the embedded
     backend runs jobs as the server's user: ``--local`` needs ``token``).

The request body is capped (``--max-body-bytes``, 413) by the SDK transport. Calls get the caller's
:class:`~hfjobs_mcp.tools.base.ToolContext` through a context variable set by the gateway and read by
:func:`hfjobs_mcp.server.build_server`'s ``caller_context`` hook.

Workers: ``--workers N`` runs uvicorn's process supervisor on an import string (:func:`app_from_env`, a factory
that reads its settings from the environment). Every worker shares the request-state key
(``HFJOBS_MCP_STATE_KEY``, generated once by the supervisor when unset) and the approvals store of
:mod:`hfjobs_mcp.shared_state`, so a confirmation round trip may land on any worker. With ``--local`` the
supervisor runs the one local backend and the workers call it. SIGTERM stops accepting connections and lets
running calls finish (up to ``--shutdown-grace`` seconds).

This module imports the MCP SDK for its HTTP pieces only (transport security, request-state keys); the tools
are adapted by :mod:`hfjobs_mcp.server` as for stdio.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import json
import logging
import math
import os
import secrets as _random
import signal
import sys
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Generator, Mapping
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import anyio
import httpx2
import uvicorn
from mcp.server.request_state import RequestStateSecurity
from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hfjobs_mcp import logsetup
from hfjobs_mcp.api import JobsClient, find_endpoint
from hfjobs_mcp.api.auth import TokenSource
from hfjobs_mcp.config import Settings
from hfjobs_mcp.errors import ForbiddenError, HfJobsError, PolicyError, TokenNotFoundError, UnauthorizedError
from hfjobs_mcp.policy.approvals import Approvals
from hfjobs_mcp.policy.forwarded import ForwardedDigests
from hfjobs_mcp.policy.redaction import Redactor
from hfjobs_mcp.policy.sources import SecretSources
from hfjobs_mcp.private_paths import UnsafePathError
from hfjobs_mcp.shared_state import STATE_KEY_ENV, check_state_key, derive_key
from hfjobs_mcp.tools.base import ToolContext

logger = logging.getLogger("hfjobs_mcp.web")

AUTH_TOKEN_ENV = "HFJOBS_MCP_AUTH_TOKEN"  # noqa: S105 (a variable name)
SETTINGS_ENV = "HFJOBS_MCP_SERVE_SETTINGS"  # the supervisor hands each worker its settings through this
BACKEND_TOKEN_ENV = "HFJOBS_MCP_WORKER_BACKEND_TOKEN"  # noqa: S105 (the backend token, read then removed)
MIN_AUTH_TOKEN_LENGTH = 16
VERIFIED_TTL = 60.0  # seconds a whoami-v2 answer is trusted: a revoked token stops working within a minute
REFUSED_TTL = 10.0  # seconds a refused token is refused without asking the Hub again
WHOAMI_PER_CLIENT = (10, 60.0)  # whoami-v2 calls one client address may cause: 10, then one per 6 s
WHOAMI_TOTAL = (60, 60.0)  # ... and all clients together: 60, then one a second
MAX_CALLERS = 256  # per-caller clients kept (least recently used evicted)
MCP_PATH = "/mcp"
HEALTH_PATH = "/healthz"
WORKER_HEADER = "x-hfjobs-mcp-worker"
WORKER_ID = _random.token_hex(4)  # per process: which worker answered (opaque; not the pid)
REALM = "hfjobs-mcp"
LOOPBACK_HOSTS = ("127.0.0.1:*", "localhost:*", "[::1]:*")
LOOPBACK_ORIGINS = ("http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*")


class DeploymentError(ValueError):
    """A configuration the server refuses to start with; the message says what to change."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_digest(token: str) -> str:
    """What identifies a caller's token in memory and in logs: a SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def http_state_dir() -> Path:
    """Where the workers of this machine share their approvals store: ``$HFJOBS_MCP_HOME/http``."""
    home = os.environ.get("HFJOBS_MCP_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".cache" / "hfjobs-mcp") / "http"


def check_deployment(settings: Settings, environ: Mapping[str, str] | None = None) -> SecretStr | None:
    """Refuse unsafe or contradictory HTTP settings; returns the static bearer token of ``--auth token``."""
    env = os.environ if environ is None else environ
    if settings.local and settings.auth == "none":
        raise DeploymentError(
            "--transport http --local runs jobs as this machine's user, and with --auth none any local user (or a "
            "web page, through a browser) could run commands as you with two requests: use --auth token with "
            f"{AUTH_TOKEN_ENV} set to a secret of at least {MIN_AUTH_TOKEN_LENGTH} characters"
        )
    if settings.auth == "none":
        if not is_loopback(settings.host):
            raise DeploymentError(
                f"--auth none is only allowed on loopback, not on {settings.host}: use --auth token "
                f"(one user, {AUTH_TOKEN_ENV}) or --auth hf (each caller's Hugging Face token)"
            )
        return None
    if settings.auth == "token":
        value = (env.get(AUTH_TOKEN_ENV) or "").strip()
        if len(value) < MIN_AUTH_TOKEN_LENGTH:
            raise DeploymentError(
                f"--auth token needs {AUTH_TOKEN_ENV} set to a secret of at least {MIN_AUTH_TOKEN_LENGTH} "
                "characters (e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)"
            )
        return SecretStr(value)
    if settings.local:
        raise DeploymentError(
            "--auth hf checks each caller's Hugging Face token with the Hub, and the local backend knows "
            "no caller's token: use --auth token or none with --local, or point --endpoint at a Hub"
        )
    if settings.secrets_file is not None:
        raise DeploymentError(
            "--secrets-file cannot be used with --auth hf: served to several users, the server never forwards "
            "its own secrets (only each caller's own token, as HF_TOKEN)"
        )
    return None


def state_key(environ: Mapping[str, str] | None = None) -> bytes:
    """``HFJOBS_MCP_STATE_KEY``, or a key of this process only (fine for one worker on one host)."""
    env = os.environ if environ is None else environ
    value = env.get(STATE_KEY_ENV)
    if not value:
        return _random.token_bytes(32)
    try:
        return check_state_key(value)
    except ValueError as exc:
        raise DeploymentError(str(exc)) from None


# --- callers ----------------------------------------------------------------------------------------------------


@dataclass
class Caller:
    """Who is calling: the context its calls get, and what the request state is bound to."""

    principal: str | None
    context: ToolContext
    client: JobsClient | None = None  # owned by this caller (hf mode): closed when evicted
    verified_until: float = 0.0
    busy: int = 0
    retired: bool = False


@dataclass(frozen=True)
class Refusal:
    """Why a request gets no caller: 401 (missing or bad token) or 503 (the Hub could not say)."""

    status: int
    description: str
    error: str | None = "invalid_token"
    retry_after: float | None = None


_current: ContextVar[Caller | None] = ContextVar("hfjobs_mcp_caller", default=None)


def current_principal(_ctx: Any = None) -> str | None:
    """The principal the SDK binds a sealed ``requestState`` to: one caller's round trip is nobody else's."""
    caller = _current.get()
    return None if caller is None else caller.principal


def _bearer(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


class _Authenticator:
    async def caller(self, authorization: str | None, client: str = "") -> Caller | Refusal:
        """The caller of a request with this ``Authorization`` header, from the ``client`` address."""
        raise NotImplementedError

    async def release(self, caller: Caller) -> None:
        """Called when a request that used ``caller`` ended."""

    async def aclose(self) -> None:
        """Close what the callers own."""


class _Anyone(_Authenticator):
    def __init__(self, server: Caller) -> None:
        self.server = server

    async def caller(self, authorization: str | None, client: str = "") -> Caller | Refusal:
        return self.server


class _StaticToken(_Authenticator):
    def __init__(self, server: Caller, token: SecretStr) -> None:
        self.server = server
        self._token = token.get_secret_value().encode()

    async def caller(self, authorization: str | None, client: str = "") -> Caller | Refusal:
        given = _bearer(authorization)
        if given is None:
            return Refusal(401, f"a bearer token is required (the value of {AUTH_TOKEN_ENV})", error=None)
        if not _random.compare_digest(given.encode(), self._token):
            return Refusal(401, "the bearer token is not this server's")
        return self.server


class _Buckets:
    """Token buckets by key: ``burst`` calls at once, then one every ``period / burst`` seconds.

    Bounds the whoami-v2 calls that unknown tokens cause, per client address and in total (design §6): an
    attacker cycling random tokens costs the Hub at most this much.
    """

    def __init__(self, burst: int, period: float, clock: Callable[[], float], max_keys: int = 4096) -> None:
        self.burst, self.rate, self.clock, self.max_keys = float(burst), burst / period, clock, max_keys
        self._level: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def take(self, key: str) -> float:
        """0 if a call is allowed now (and counted), else the seconds until one will be."""
        now = self.clock()
        tokens, at = self._level.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - at) * self.rate)
        wait = 0.0 if tokens >= 1 else (1 - tokens) / self.rate
        self._level[key] = (tokens - 1 if wait == 0 else tokens, now)
        while len(self._level) > self.max_keys:
            self._level.popitem(last=False)
        return wait

    def give_back(self, key: str) -> None:
        tokens, at = self._level.get(key, (self.burst, self.clock()))
        self._level[key] = (min(self.burst, tokens + 1), at)


class _HfCallers(_Authenticator):
    """``--auth hf``: each caller's Hugging Face token, verified with whoami-v2 and given a client of its own.

    Every caller's context shares one redactor (``redactor``, the deployment's): a value any caller forwarded, and
    every verified caller's token, is masked for every caller, and across workers through the redactor's shared
    store of keyed hashes (:mod:`hfjobs_mcp.policy.forwarded`). A refused token is refused again without asking
    the Hub for :data:`REFUSED_TTL` seconds, and the whoami-v2 calls are bounded per client address and in total
    (429 with ``Retry-After`` beyond).
    """

    def __init__(
        self,
        *,
        settings: Settings,
        endpoint: str,
        approvals: Approvals,
        redactor: Redactor | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_callers: int = MAX_CALLERS,
        transport: httpx2.AsyncBaseTransport | None = None,
        per_client: tuple[int, float] = WHOAMI_PER_CLIENT,
        total: tuple[int, float] = WHOAMI_TOTAL,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.endpoint = endpoint
        self.approvals = approvals
        self.clock = clock
        self.max_callers = max_callers
        self.redactor = redactor if redactor is not None else Redactor(transient_cap=4 * max_callers)
        self._callers: OrderedDict[str, Caller] = OrderedDict()
        self._refused: dict[str, float] = {}
        self._locks: dict[str, anyio.Lock] = {}
        self._per_client = _Buckets(*per_client, clock)
        self._total = _Buckets(*total, clock)
        self.whoami_calls = 0

    def __len__(self) -> int:
        return len(self._callers)

    def _refused_now(self, digest: str, now: float) -> Refusal | None:
        if self._refused.get(digest, 0.0) > now:
            return Refusal(401, "the Hugging Face token was refused (invalid, expired or revoked)")
        return None

    async def caller(self, authorization: str | None, client: str = "") -> Caller | Refusal:
        token = _bearer(authorization)
        if token is None:
            return Refusal(401, "send your Hugging Face token as `Authorization: Bearer hf_...`", error=None)
        digest = token_digest(token)
        now = self.clock()
        known = self._callers.get(digest)
        if known is not None and known.verified_until > now:
            self._callers.move_to_end(digest)
            return self._hold(known)
        refused = self._refused_now(digest, now)
        if refused is not None:
            return refused
        lock = self._locks.setdefault(digest, anyio.Lock())
        try:
            async with lock:
                return await self._verify(token, digest, client)
        finally:
            if not lock.locked() and lock.statistics().tasks_waiting == 0:
                self._locks.pop(digest, None)

    def _hold(self, caller: Caller) -> Caller:
        caller.busy += 1
        return caller

    def _limited(self, client: str) -> Refusal | None:
        """A 429 when this client, or all clients together, caused too many whoami-v2 calls lately."""
        wait = self._per_client.take(client)
        if wait == 0:
            wait = self._total.take("*")
            if wait:
                self._per_client.give_back(client)
        if wait == 0:
            return None
        logger.warning("whoami-v2 calls limited (client %s): answering 429", client or "?")
        return Refusal(
            429,
            "too many unverified tokens tried lately; try again later",
            error=None,
            retry_after=max(1.0, wait),
        )

    async def _verify(self, token: str, digest: str, client: str) -> Caller | Refusal:
        now = self.clock()
        known = self._callers.get(digest)
        if known is not None and known.verified_until > now:  # verified while this request waited for the lock
            return self._hold(known)
        refused = self._refused_now(digest, now)  # refused while this request waited for the lock
        if refused is not None:
            return refused
        limited = self._limited(client)
        if limited is not None:
            return limited
        client_ = known.client if known is not None and known.client is not None else self._client(token)
        self.whoami_calls += 1
        try:
            who = await client_.whoami()
        except (UnauthorizedError, ForbiddenError, TokenNotFoundError):
            now = self.clock()
            self._refused = {d: t for d, t in self._refused.items() if t > now}
            self._refused[digest] = now + REFUSED_TTL
            if known is not None:
                await self._drop(digest)
            else:
                await client_.aclose()
            logger.info("caller %s refused by whoami-v2", digest[:8])
            return Refusal(401, "the Hugging Face token was refused (invalid, expired or revoked)")
        except HfJobsError as exc:  # the Hub is down, rate limiting, ...: it could not say
            if known is None:
                await client_.aclose()
            logger.warning("could not verify caller %s with whoami-v2: %s", digest[:8], type(exc).__name__)
            return Refusal(503, "the Hugging Face token could not be verified right now; try again", error=None)
        now = self.clock()
        if known is not None:
            known.verified_until = now + VERIFIED_TTL
            self._callers.move_to_end(digest)
            return self._hold(known)
        caller = self._new_caller(token, digest, client_)
        caller.verified_until = now + VERIFIED_TTL
        self._callers[digest] = caller
        # Masked for every caller from now on (a job in an org two callers share may print it).
        self.redactor.add([token], transient=True)
        logger.info("caller %s verified (user %s); %d callers", digest[:8], who.name, len(self._callers))
        self._hold(caller)  # before evicting, so that the newcomer is not the one evicted
        await self._evict()
        return caller

    def _client(self, token: str) -> JobsClient:
        return JobsClient(
            token=token, endpoint=self.endpoint, namespace=self.settings.namespace, transport=self.transport
        )

    def _new_caller(self, token: str, digest: str, client: JobsClient) -> Caller:
        secret = SecretStr(token)
        # Design §5.8: nothing of the server's is forwardable; only the caller's own token, as HF_TOKEN.
        sources = SecretSources(environ={}, hf_token=secret, use_environment=False)
        principal = f"hf:{digest[:32]}"
        context = ToolContext(
            client=client,
            settings=self.settings,
            local_files=False,
            sources=sources,
            redactor=self.redactor,
            approvals=self.approvals,
            principal=principal,
        )
        return Caller(principal=principal, context=context, client=client)

    async def _evict(self) -> None:
        while len(self._callers) > self.max_callers:
            idle = next((d for d, c in self._callers.items() if c.busy == 0), None)
            await self._drop(idle if idle is not None else next(iter(self._callers)))

    async def _drop(self, digest: str) -> None:
        caller = self._callers.pop(digest, None)
        if caller is None:
            return
        caller.retired = True
        if caller.busy == 0 and caller.client is not None:
            await caller.client.aclose()

    async def release(self, caller: Caller) -> None:
        caller.busy -= 1
        if caller.retired and caller.busy == 0 and caller.client is not None:
            await caller.client.aclose()

    async def aclose(self) -> None:
        callers, self._callers = list(self._callers.values()), OrderedDict()
        for caller in callers:
            if caller.client is not None:
                await caller.client.aclose()


# --- the ASGI app -------------------------------------------------------------------------------------------------


class _Gateway:
    """In front of ``/mcp``: Host/Origin, then the caller; the caller's context is set for the request."""

    def __init__(self, app: ASGIApp, *, security: TransportSecuritySettings, auth: _Authenticator) -> None:
        self.app = app
        self.security = TransportSecurityMiddleware(security)
        self.auth = auth

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
            await _refusal_response(caller)(scope, receive, send_with_worker)
            return
        token = _current.set(caller)
        try:
            await self.app(scope, receive, send_with_worker)
        finally:
            _current.reset(token)
            await self.auth.release(caller)


def _refusal_response(refusal: Refusal) -> Response:
    if refusal.status == 401:
        challenge = f'Bearer realm="{REALM}"'
        if refusal.error:
            challenge += f', error="{refusal.error}", error_description="{refusal.description}"'
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
    try:
        from sse_starlette.sse import AppStatus
    except ImportError:  # the SDK stopped using it: nothing to undo
        return
    AppStatus.disable_automatic_graceful_drain()  # type: ignore[no-untyped-call]


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
    from hfjobs_mcp.runtime import base_context
    from hfjobs_mcp.server import build_server

    static_token = check_deployment(settings, environ)
    key = state_key(environ)
    _keep_streams_open_on_shutdown()
    approvals_path = approvals_file or http_state_dir() / "approvals.sqlite"
    state_folder = approvals_path.parent
    approvals = Approvals(approvals_path)
    server_principal = {"token": "token", "none": None, "hf": None}[settings.auth]
    # Over HTTP the caller's paths are not the server's: never read a file of the server's disk for a caller.
    server_context = replace(
        base_context(settings, client), approvals=approvals, principal=server_principal or "anyone", local_files=False
    )
    server_caller = Caller(principal=server_principal, context=server_context)
    auth: _Authenticator
    forwarded: ForwardedDigests | None = None
    if settings.auth == "hf":
        # One redactor for the deployment (its log records included, through base_context): what any caller
        # forwarded is masked for every caller, and the other workers learn it as keyed hashes.
        forwarded = ForwardedDigests(derive_key(key, "forwarded-values"), state_folder / "forwarded.sqlite")
        redactor = server_context.redactor
        redactor.shared = forwarded
        redactor.transient_cap = 4 * MAX_CALLERS
        auth = _HfCallers(settings=settings, endpoint=client.endpoint, approvals=approvals, redactor=redactor)
    elif settings.auth == "token":
        assert static_token is not None
        auth = _StaticToken(server_caller, static_token)
    else:
        logger.warning(
            "--auth none: anyone who can reach %s:%d may use this server and its Hugging Face token",
            settings.host,
            settings.port,
        )
        auth = _Anyone(server_caller)

    def caller_context() -> ToolContext:
        caller = _current.get()
        if caller is None:  # only requests that passed the gateway reach a tool
            raise RuntimeError("a tool call without an authenticated caller")
        return caller.context

    server = build_server(
        server_context,
        toolsets=settings.toolsets,
        read_only=settings.read_only,
        caller_context=caller_context,
        request_state_security=RequestStateSecurity(keys=[key], bind_principal=current_principal),
    )

    server.custom_route(HEALTH_PATH, methods=["GET", "HEAD"])(_health)
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH,
        stateless_http=True,
        max_request_body_size=settings.max_body_bytes,
        transport_security=transport_security(settings),
        host=settings.host,
    )
    app.add_middleware(_Gateway, security=transport_security(settings), auth=auth)
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


# --- serving -------------------------------------------------------------------------------------------------------


class _Server(uvicorn.Server):
    """uvicorn, with SIGTERM/SIGINT starting the graceful shutdown and the process then exiting normally.

    uvicorn re-raises the signal after its shutdown, which would kill the process before its clean-up ran (the
    local backend's lease released); here the signal only asks for the shutdown.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if not _in_main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def _in_main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _uvicorn_config(settings: Settings, app: Any, **extra: Any) -> uvicorn.Config:
    level = logging.getLevelName(logging.getLogger().getEffectiveLevel()).lower()
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=level if level in ("debug", "info", "warning", "error", "critical") else "info",
        timeout_graceful_shutdown=int(settings.shutdown_grace_seconds),
        lifespan="on",
        **extra,
    )


async def serve_http(settings: Settings) -> None:
    """One process: the app in this event loop until SIGTERM/SIGINT (then running calls finish)."""
    from hfjobs_mcp.runtime import open_client

    check_deployment(settings)
    async with open_client(settings) as client:
        app = create_app(settings, client=client)
        logger.info(
            "serving MCP over streamable HTTP at http://%s:%d%s (auth: %s)",
            settings.host,
            settings.port,
            MCP_PATH,
            settings.auth,
        )
        await _Server(_uvicorn_config(settings, app)).serve()


def app_from_env() -> Starlette:
    """The worker factory (``hfjobs_mcp.web:app_from_env``): settings, backend token and keys from the environment."""
    if not logging.getLogger().handlers:
        logsetup.configure(os.environ.get("HFJOBS_MCP_LOG_LEVEL", "INFO"))
    logsetup.demote_access_lines()
    settings = Settings.model_validate_json(os.environ[SETTINGS_ENV])
    backend_token = os.environ.pop(BACKEND_TOKEN_ENV, None)
    token = (
        TokenSource(SecretStr(backend_token) if backend_token else settings.token)
        if backend_token or settings.token
        else TokenSource.found()
    )
    endpoint = settings.endpoint or find_endpoint()
    client = JobsClient(token=token, endpoint=endpoint, namespace=settings.namespace)
    return create_app(settings, client=client, own_client=True)


def run_workers(settings: Settings) -> int:
    """``--workers N``: uvicorn's supervisor over N worker processes sharing one socket and one state key."""
    from uvicorn.supervisors import Multiprocess

    check_deployment(settings)
    os.environ.setdefault(STATE_KEY_ENV, _random.token_urlsafe(48))
    state_key(os.environ)  # refuse a bad configured key here, not in every worker
    os.environ["HFJOBS_MCP_LOG_LEVEL"] = logging.getLevelName(logging.getLogger().getEffectiveLevel())
    with contextlib.ExitStack() as stack:
        worker_settings = settings
        if settings.local:
            from hfjobs_mcp.local.detached import attach
            from hfjobs_mcp.local.private import UnsafeStateDirError
            from hfjobs_mcp.runtime import LOCAL_USER, default_state_dir

            state_dir = settings.state_dir or default_state_dir()
            try:
                attached = attach(state_dir, user=LOCAL_USER)  # its jobs outlive this server, as with --local alone
            except UnsafeStateDirError as exc:  # another user's folder, or one others may write to
                raise UnsafePathError(str(exc)) from None
            stack.callback(attached.release)
            url, token = attached.url, attached.token
            logger.info("the workers use the local Jobs backend at %s (pid %d)", url, attached.pid)
            worker_settings = settings.model_copy(update={"local": False, "endpoint": url})
            os.environ[BACKEND_TOKEN_ENV] = token
        os.environ[SETTINGS_ENV] = json.dumps(worker_settings.model_dump(mode="json", exclude={"token"}))
        config = _uvicorn_config(settings, "hfjobs_mcp.web:app_from_env", factory=True, workers=settings.workers)
        sock = config.bind_socket()
        logger.info(
            "serving MCP over streamable HTTP at http://%s:%d%s with %d workers (auth: %s)",
            settings.host,
            settings.port,
            MCP_PATH,
            settings.workers,
            settings.auth,
        )
        Multiprocess(config, sockets=[sock]).run()
    return 0


def run_http(settings: Settings) -> int:
    """The command line's entry for ``--transport http``: one process, or a supervisor of workers."""
    try:
        if settings.workers > 1:
            return run_workers(settings)
        anyio.run(serve_http, settings)
    except (DeploymentError, UnsafePathError) as exc:
        print(f"hfjobs-mcp: {exc}", file=sys.stderr)
        return 2
    except PolicyError as exc:  # e.g. the secrets file
        print(f"hfjobs-mcp: {exc.message}", file=sys.stderr)
        return 2
    return 0


__all__ = [
    "AUTH_TOKEN_ENV",
    "HEALTH_PATH",
    "MCP_PATH",
    "WORKER_HEADER",
    "Caller",
    "DeploymentError",
    "app_from_env",
    "check_deployment",
    "create_app",
    "current_principal",
    "run_http",
    "serve_http",
    "transport_security",
]
