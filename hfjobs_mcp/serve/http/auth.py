"""Who may call an HTTP deployment (``--auth``), and the checks the deployment's settings must pass first.

The caller of each request (:class:`Caller`) is decided by an :class:`Authenticator`, from its bearer token:

- ``token`` (:class:`StaticToken`): one static bearer token (``HFJOBS_MCP_AUTH_TOKEN``) for a single user; calls
  use the server's own Hugging Face token, as over stdio;
- ``hf`` (:class:`HfCallers`): the caller's bearer token is a Hugging Face token, verified with ``whoami-v2``
  (cached for :data:`VERIFIED_TTL` seconds, keyed by a SHA-256 of the token, never the token) and used for that
  caller's calls only, through a client of its own (a bounded pool). Each caller sees what its token can see. The
  server's environment and secrets file are never forwarded (design §5.8): the only secret a caller can forward
  is its own token, as ``HF_TOKEN``, once confirmed. Every caller's token and every forwarded value is masked for
  every caller (one redactor per worker, keyed hashes shared across workers); the whoami-v2 calls unknown tokens
  cause are bounded per client address and in total (429 with ``Retry-After``);
- ``none`` (:class:`Anyone`): no check, refused unless bound to loopback, with a warning; never with ``--local``
  (the embedded backend runs jobs as the server's user: ``--local`` needs ``token``).

The gateway of :mod:`hfjobs_mcp.serve.http.app` sets :data:`current_caller` for the request; tools get that
caller's context through :func:`caller_context`.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import os
import secrets as _random
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import anyio
import httpx2
from pydantic import SecretStr

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.config import Settings
from hfjobs_mcp.errors import ForbiddenError, HfJobsError, TokenNotFoundError, UnauthorizedError
from hfjobs_mcp.policy.approvals import Approvals
from hfjobs_mcp.policy.redaction import Redactor
from hfjobs_mcp.policy.sources import SecretSources
from hfjobs_mcp.serve.http.oauth import issued_elsewhere
from hfjobs_mcp.tools.base import ToolContext

logger = logging.getLogger("hfjobs_mcp.web")  # the name log lines have always shown

AUTH_TOKEN_ENV = "HFJOBS_MCP_AUTH_TOKEN"  # noqa: S105 (a variable name)
MIN_AUTH_TOKEN_LENGTH = 16
VERIFIED_TTL = 60.0  # seconds a whoami-v2 answer is trusted: a revoked token stops working within a minute
REFUSED_TTL = 10.0  # seconds a refused token is refused without asking the Hub again
WHOAMI_PER_CLIENT = (10, 60.0)  # whoami-v2 calls one client address may cause: 10, then one per 6 s
WHOAMI_TOTAL = (60, 60.0)  # ... and all clients together: 60, then one a second
MAX_CALLERS = 256  # per-caller clients kept (least recently used evicted)


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


current_caller: ContextVar[Caller | None] = ContextVar("hfjobs_mcp_caller", default=None)


def current_principal(_ctx: Any = None) -> str | None:
    """The principal the SDK binds a sealed ``requestState`` to: one caller's round trip is nobody else's."""
    caller = current_caller.get()
    return None if caller is None else caller.principal


def _bearer(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    return value if scheme.lower() == "bearer" and value else None


class Authenticator:
    async def caller(self, authorization: str | None, client: str = "") -> Caller | Refusal:
        """The caller of a request with this ``Authorization`` header, from the ``client`` address."""
        raise NotImplementedError

    async def release(self, caller: Caller) -> None:
        """Called when a request that used ``caller`` ended."""

    async def aclose(self) -> None:
        """Close what the callers own."""


class Anyone(Authenticator):
    def __init__(self, server: Caller) -> None:
        self.server = server

    async def caller(self, authorization: str | None, client: str = "") -> Caller | Refusal:
        return self.server


class StaticToken(Authenticator):
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


class HfCallers(Authenticator):
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
        resource: str | None = None,
    ) -> None:
        self.settings = settings
        self.resource = resource  # this server's OAuth resource: a token issued for another one is refused
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
        if self.resource is not None and issued_elsewhere(token, self.resource):
            return Refusal(401, "the token was issued for another resource, not this server")
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


def caller_context() -> ToolContext:
    """The context of the current request's caller (``build_server``'s ``caller_context`` hook over HTTP)."""
    caller = current_caller.get()
    if caller is None:  # only requests that passed the gateway reach a tool
        raise RuntimeError("a tool call without an authenticated caller")
    return caller.context


__all__ = [
    "AUTH_TOKEN_ENV",
    "MAX_CALLERS",
    "VERIFIED_TTL",
    "Anyone",
    "Authenticator",
    "Caller",
    "DeploymentError",
    "HfCallers",
    "Refusal",
    "StaticToken",
    "caller_context",
    "check_deployment",
    "current_caller",
    "current_principal",
    "is_loopback",
    "token_digest",
]
