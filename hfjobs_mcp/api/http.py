"""One HTTP exchange with the Jobs API: headers, the retry rules of each kind of call, and errors mapped to the
exception tree.

Reads (GET, streams included) are retried on 429, 502/503/504 and network errors. Writes are retried only when
the request certainly did not take effect: the connection was never made, or the server said 429. Anything else
that leaves a write's outcome unknown surfaces as :class:`Ambiguous` so the caller can look the result up instead
of guessing (see :mod:`hfjobs_mcp.api.base`). The waiting and stopping are :mod:`hfjobs_mcp.api.retry`'s, the
client's one retry loop.
"""

from __future__ import annotations

import contextlib
import email.utils
import math
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx2
from pydantic import SecretStr

from hfjobs_mcp import __version__
from hfjobs_mcp.api import retry
from hfjobs_mcp.api.auth import TokenSource
from hfjobs_mcp.api.retry import Retry, RetryPolicy, retry_after
from hfjobs_mcp.errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitedError,
    ServerError,
    TransportError,
    UnauthorizedError,
)

__all__ = ["Ambiguous", "Http", "close_stream", "error_for"]

USER_AGENT = f"hfjobs-mcp/{__version__}"
_ID_IN_PATH = re.compile(r"/api/(?:jobs|scheduled-jobs)/[^/]+/[^/]+")
BILLING_URL = "https://huggingface.co/settings/billing"
_NEVER_SENT = (httpx2.ConnectError, httpx2.ConnectTimeout, httpx2.PoolTimeout)


class Ambiguous(Exception):
    """A write whose outcome is unknown: sent, but no usable answer came back."""

    def __init__(self, detail: str, *, response: httpx2.Response | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.response = response


def _server_message(response: httpx2.Response) -> str | None:
    """What the server said, in huggingface_hub's order: X-Error-Message, then the JSON body, then plain text."""
    header = response.headers.get("x-error-message")
    if header:
        return header
    try:
        body = response.json()
    except ValueError:
        text = response.text.strip()
        if text and not text.lstrip().lower().startswith(("<!doctype", "<html")):
            # Whole: it is cut only once every known value is masked (the server's error result), since a cut
            # made first could leave all but the last characters of an echoed secret outside any mask.
            return text
        return None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, list):
            return "; ".join(str(e) for e in error)
        if isinstance(error, str):
            desc = body.get("error_description")
            return f"{error}: {desc}" if isinstance(desc, str) else error
        errors = body.get("errors")
        if isinstance(errors, list):
            return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
    return None


def error_for(response: httpx2.Response, *, redact: Callable[[str], str] = lambda s: s) -> ApiError:
    """The exception for an error response, its message from the server and a hint saying what to do."""
    status = response.status_code
    said = _server_message(response)
    said = redact(said) if said else None
    request_id = response.headers.get("x-request-id") or response.headers.get("x-amzn-trace-id")
    method, path = response.request.method, response.request.url.path
    what = f"{method} {path}"
    detail = f": {said}" if said else ""
    kwargs: dict[str, Any] = {"status": status, "server_message": said, "request_id": request_id}
    if status in (400, 422):
        return BadRequestError(f"the API refused the request{detail}", hint="fix the arguments it names", **kwargs)
    if status == 401:
        return UnauthorizedError(
            f"invalid or missing Hugging Face token{detail}",
            hint="set a valid HF_TOKEN for the MCP server (or run `hf auth login`) and restart it",
            **kwargs,
        )
    if status == 402 or (status == 403 and said and re.search(r"credit|subscription|billing|payment", said, re.I)):
        return PaymentRequiredError(
            f"no credits or subscription for this namespace{detail}",
            hint=f"add credits or a payment method at {BILLING_URL}, or use a namespace that has them",
            **kwargs,
        )
    if status == 403:
        return ForbiddenError(
            f"not allowed: {what}{detail}",
            hint="the token cannot act on this namespace: check `namespace`, or use a token with write access to it",
            **kwargs,
        )
    if status == 404:
        noun = "job" if _ID_IN_PATH.search(path) else "resource"
        return NotFoundError(
            f"{noun} not found: {what}{detail}", hint="check the id and the namespace (list_jobs shows both)", **kwargs
        )
    if status == 409:
        return ConflictError(
            f"conflict{detail}",
            hint="wait for the running instance to finish, or allow concurrency",
            **kwargs,
        )
    if status == 429:
        after = retry_after(response)
        return RateLimitedError(
            f"rate limited by the API{detail}",
            hint=f"wait {math.ceil(after)} s and try again" if after is not None else "wait and try again later",
            retry_after=after,
            **kwargs,
        )
    if status >= 500:
        return ServerError(
            f"the API failed ({status}) on {what}{detail}",
            hint="try again in a minute; if it persists, check status.huggingface.co",
            **kwargs,
        )
    return ApiError(f"unexpected answer {status} to {what}{detail}", hint=None, **kwargs)


@dataclass
class Http:
    """Sends requests on one :class:`httpx2.AsyncClient` with the token, user agent and retry policy.

    The HTTP client is made on first use: building its TLS context costs tens of milliseconds, which a server
    that is only asked ``tools/list`` should not pay at start-up.
    """

    factory: Callable[[], httpx2.AsyncClient]
    source: TokenSource
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep
    server_offset: float = 0.0  # server clock minus local clock, from Date headers
    _client: httpx2.AsyncClient | None = None

    @property
    def token(self) -> SecretStr | None:
        return self.source.token

    async def fresh(self) -> None:
        """Refresh a browser-login token close to expiry before a request (a cheap check when not due)."""
        await self.source.fresh()

    @property
    def client(self) -> httpx2.AsyncClient:
        if self._client is None:
            self._client = self.factory()
        return self._client

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    def headers(self) -> dict[str, str]:
        out = {"user-agent": USER_AGENT}
        if self.token is not None:
            out["authorization"] = f"Bearer {self.token.get_secret_value()}"
        return out

    def redact(self, text: str) -> str:
        if self.token is not None:
            value = self.token.get_secret_value()
            if value:
                text = text.replace(value, "***")
        return text

    def server_now(self) -> float:
        """The server's idea of now (epoch seconds), so job timestamps can be compared with it."""
        return time.time() + self.server_offset

    def _note_date(self, response: httpx2.Response) -> None:
        date = response.headers.get("date")
        if date:
            with contextlib.suppress(TypeError, ValueError):
                self.server_offset = email.utils.parsedate_to_datetime(date).timestamp() - time.time()

    async def run(self, attempt: Callable[[], Awaitable[httpx2.Response]]) -> httpx2.Response:
        """``attempt`` under the client's retry policy; when it gives up, the error its last failure means."""
        try:
            return await retry.run(attempt, policy=self.policy, sleep=self.sleep)
        except Retry as failed:
            if failed.response is not None:
                raise error_for(failed.response, redact=self.redact) from None
            err = failed.error
            raise TransportError(
                f"could not reach the Jobs API at {self.client.base_url}: {type(err).__name__} {self.redact(str(err))}",
                hint="check the network and the endpoint (HF_ENDPOINT); nothing was changed",
                maybe_sent=False,
            ) from None

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        write: bool = False,
    ) -> httpx2.Response:
        """One call, retried as the module docstring says; returns a 2xx response or raises.

        For writes, an unknown outcome raises :class:`Ambiguous` (caller decides); reads raise the mapped error.
        """

        async def once() -> httpx2.Response:
            try:
                response = await self.client.request(method, path, params=params, json=json, headers=self.headers())
            except _NEVER_SENT as exc:
                raise Retry(error=exc) from exc  # never reached the server: safe to retry, even a write
            except (httpx2.TransportError, httpx2.DecodingError, httpx2.TooManyRedirects) as exc:
                if write:
                    raise Ambiguous(f"{type(exc).__name__}: {self.redact(str(exc)) or 'no response'}") from exc
                raise Retry(error=exc) from exc
            self._note_date(response)
            status = response.status_code
            if status in self.policy.statuses and (not write or status == 429):
                raise Retry(response=response)
            if write and status in (502, 504):
                raise Ambiguous(f"gateway error {status}", response=response)
            return response

        await self.fresh()
        response = await self.run(once)
        if response.status_code == 401 and await self.source.reload():
            # The token file holds another token (refreshed elsewhere, or a new `hf auth login`): a 401 means
            # nothing was done, so the request is sent once more with it.
            response = await self.run(once)
        if response.status_code >= 400:
            raise error_for(response, redact=self.redact)
        return response

    async def open_stream(
        self, path: str, *, params: Mapping[str, Any], read: float, tolerate: Collection[int] = ()
    ) -> httpx2.Response:
        """A streamed GET whose headers have arrived, opened under the read rules (the caller closes it).

        Nothing of the body has been read when a retry happens, so retrying is safe. A status in ``tolerate`` is
        handed to the caller; any other error status raises the mapped error. Errors while reading the body are
        the caller's: ``read`` is the longest silence it accepts (``httpx2.ReadTimeout`` after it).
        """

        async def once() -> httpx2.Response:
            request = self.client.build_request(
                "GET", path, params=params, headers=self.headers(), timeout=httpx2.Timeout(60.0, read=read)
            )
            try:
                response = await self.client.send(request, stream=True)
            except httpx2.TransportError as exc:
                raise Retry(error=exc) from exc
            status = response.status_code
            if status < 400 or status in tolerate:
                return response
            await response.aread()
            await response.aclose()
            if status in self.policy.statuses:
                raise Retry(response=response)
            raise error_for(response, redact=self.redact)

        await self.fresh()
        return await self.run(once)


async def close_stream(response: httpx2.Response, chunks: AsyncIterator[bytes] | None = None) -> None:
    """Close a streamed response, and the iterator over its body if one was left before its end, even while the
    caller is being cancelled: a follow that its caller timed out must still give its connection back."""
    with anyio.CancelScope(shield=True):
        aclose = getattr(chunks, "aclose", None)
        if aclose is not None:
            await aclose()
        await response.aclose()
