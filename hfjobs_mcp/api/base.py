"""What every part of :class:`~hfjobs_mcp.api.client.JobsClient` stands on: the token, the HTTP plumbing, the rules of
safe writes, and reading response bodies into models.

No duplicate jobs: a submission (run, scheduled create, rerun, trigger) is never retried after it may have
reached the server. Runs and scheduled creates carry a unique label (``hfjobs-mcp-submission``); reruns and
triggers are recognised by their ``initiator`` and creation time. After an ambiguous failure (the request went
out, no usable answer came back) :meth:`ClientBase._submit` looks the result up and returns it if it exists; if it
cannot be found it raises :class:`~hfjobs_mcp.errors.TransportError` with ``maybe_sent=True`` rather than submit
again. The role modules (``jobs``, ``scheduled``, ``webhooks``, ``logs``) add the endpoints on top of this class.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import anyio
import httpx2
from pydantic import BaseModel, SecretStr, ValidationError

from hfjobs_mcp.api import retry
from hfjobs_mcp.api.auth import TokenSource, find_endpoint, find_token
from hfjobs_mcp.api.http import Ambiguous, Http, error_for
from hfjobs_mcp.api.models import WhoAmI
from hfjobs_mcp.api.retry import Retry, RetryPolicy
from hfjobs_mcp.errors import (
    ApiError,
    HfJobsError,
    InvalidRequestError,
    NotFoundError,
    TokenNotFoundError,
    TransportError,
)

__all__ = ["ClientBase", "body_of", "load", "load_list", "loader", "segment", "unreadable"]

_T = TypeVar("_T")
_M = TypeVar("_M", bound=BaseModel)
_LOOKUP_HINT = "check with list_jobs / list_scheduled_jobs before trying again, to avoid a duplicate"


class _NotFoundYet(Retry):
    """A lookup after an ambiguous submission found nothing (yet): the listing may lag, so look again."""


class ClientBase:
    """The token, the HTTP client and the call helpers the endpoint modules use (see :class:`JobsClient`)."""

    def __init__(
        self,
        *,
        token: str | SecretStr | TokenSource | None,
        endpoint: str = "https://huggingface.co",
        transport: httpx2.AsyncBaseTransport | None = None,
        namespace: str | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        timeout: float = 60.0,
        lookup_attempts: int = 3,
    ) -> None:
        if isinstance(token, str):
            token = token.strip() or None
        if isinstance(token, TokenSource):
            source = token
        else:
            secret = SecretStr(token) if isinstance(token, str) else token
            source = TokenSource(secret if secret is not None and secret.get_secret_value() else None)
        self.endpoint = endpoint.rstrip("/")
        endpoint_url = self.endpoint

        def make_client() -> httpx2.AsyncClient:
            return httpx2.AsyncClient(
                base_url=endpoint_url,
                transport=transport,
                timeout=httpx2.Timeout(timeout, connect=10.0),
                follow_redirects=True,
            )

        self._http = Http(factory=make_client, source=source, policy=retry or RetryPolicy(), sleep=sleep)
        self._sleep = sleep
        self._namespace = namespace
        self._whoami_lock = anyio.Lock()
        # Looking a lost submission up: 1 s, then 2 s... between tries (a listing may lag behind a creation).
        self._lookup = RetryPolicy(attempts=lookup_attempts, base_delay=1.0, budget=float("inf"), jitter=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> Self:
        """A client with the token and endpoint found as ``huggingface_hub`` finds them."""
        kwargs.setdefault("token", find_token(environ))
        kwargs.setdefault("endpoint", find_endpoint(environ))
        return cls(**kwargs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(endpoint={self.endpoint!r}, token={'***' if self.has_token else None})"

    @property
    def has_token(self) -> bool:
        return self._http.token is not None

    def token_secret(self) -> SecretStr | None:
        """The token, still wrapped: for forwarding it as ``HF_TOKEN`` and for masking it in output."""
        return self._http.token

    def token_origin(self) -> str:
        """Where the token comes from, in words (never the token)."""
        return self._http.source.origin

    def on_new_token(self, listener: Callable[[SecretStr], None]) -> None:
        """Call ``listener`` with every token that replaces this one (a refreshed browser login)."""
        self._http.source.on_new_token(listener)

    def redact(self, text: str) -> str:
        """``text`` with the client's token masked."""
        return self._http.redact(text)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    @property
    def _http_client(self) -> httpx2.AsyncClient:
        return self._http.client

    async def aclose(self) -> None:
        await self._http.aclose()

    # --- account --------------------------------------------------------------------------------------------

    async def whoami(self) -> WhoAmI:
        return load(WhoAmI, await self._json("GET", "/api/whoami-v2"))

    async def namespace(self) -> str:
        """The token's user name (asked once, then cached)."""
        if self._namespace is None:
            async with self._whoami_lock:
                if self._namespace is None:
                    self._namespace = (await self.whoami()).name
        return self._namespace

    # --- plumbing -------------------------------------------------------------------------------------------

    def _need_token(self) -> None:
        if self._http.token is None:
            raise TokenNotFoundError()

    async def _json(self, method: str, path: str, *, params: Any = None, json: Any = None, write: bool = False) -> Any:
        self._need_token()
        response = await self._http.request(method, path, params=params, json=json, write=write)
        if not response.content:
            return None
        return body_of(response)

    async def _write(self, method: str, path: str, *, json: Any = None, gone_ok: bool = False) -> Any:
        """A write that is safe to repeat (cancel, suspend, labels...): an ambiguous outcome is retried once.

        ``gone_ok``: for a delete, a 404 on that retry means the first attempt did it.
        """
        try:
            return await self._json(method, path, json=json, write=True)
        except Ambiguous:
            pass
        try:
            return await self._json(method, path, json=json, write=True)
        except Ambiguous as again:
            raise self._unknown(method, path, again) from None
        except NotFoundError:
            if gone_ok:
                return None
            raise

    def _unknown(self, method: str, path: str, ambiguous: Ambiguous) -> HfJobsError:
        """The error for a write whose outcome stayed unknown."""
        if ambiguous.response is not None:
            return error_for(ambiguous.response, redact=self._http.redact)
        return TransportError(
            f"{method} {path} was sent but no answer came back ({ambiguous.detail})",
            hint="it may or may not have taken effect: check before trying again",
            maybe_sent=True,
        )

    async def _submit(
        self, method: str, path: str, *, json: Any, parse: Callable[[Any], _T], find: Callable[[], Awaitable[_T | None]]
    ) -> _T:
        """A write that creates something: never resent, looked up after an ambiguous failure."""
        try:
            return parse(await self._json(method, path, json=json, write=True))
        except Ambiguous as ambiguous:
            lost = ambiguous
        failure = f"{method} {path} was sent but no answer came back ({lost.detail})"

        async def look() -> _T:
            try:
                found = await find()
            except HfJobsError as exc:  # the lookup itself failed: the outcome is still unknown
                raise _NotFoundYet(error=exc) from None
            if found is None:
                raise _NotFoundYet()
            return found

        try:
            return await retry.run(look, policy=self._lookup, sleep=self._sleep)
        except _NotFoundYet as last:
            if isinstance(last.error, HfJobsError):
                raise TransportError(
                    f"{failure}, and looking it up failed too ({last.error.message})",
                    hint=_LOOKUP_HINT,
                    maybe_sent=True,
                ) from None
        if lost.response is not None:
            error = error_for(lost.response, redact=self._http.redact)
            error.hint = (error.hint or "") + "; it was not created (looked it up): you may try again"
            raise error from None
        raise TransportError(
            f"{failure}, and nothing it would have created could be found", hint=_LOOKUP_HINT, maybe_sent=True
        ) from None

    async def _ns(self, namespace: str | None) -> str:
        return segment(namespace or await self.namespace(), "namespace")

    async def _ref(self, ref: str, namespace: str | None) -> tuple[str, str]:
        """``(namespace, id)`` from ``id`` or ``namespace/id`` (a conflicting ``namespace`` is an error)."""
        if ref.count("/") == 1:
            ns, _, ident = ref.partition("/")
            if namespace and namespace != ns:
                raise InvalidRequestError(
                    f"conflicting namespace: got namespace={namespace!r} but the id says {ns!r}",
                    hint="drop one of them",
                )
            return segment(ns, "namespace"), segment(ident, "id")
        return await self._ns(namespace), segment(ref, "id")


def segment(value: str, what: str) -> str:
    """``value`` as one path segment; an empty value, a ``/`` or a dot path is refused before anything is sent."""
    if not value or "/" in value or value in (".", ".."):
        raise InvalidRequestError(f"{what} {value!r} is not valid", hint=f"pass a plain {what} (no '/')")
    return quote(value, safe="")


def unreadable(what: str, detail: object) -> ApiError:
    """The error for a 2xx body this client cannot read (a wrong endpoint, a captive portal, a changed API)."""
    text = str(detail)
    return ApiError(
        f"the API answered something this client cannot read as {what}: {text[:200]}",
        status=200,
        hint="check that HF_ENDPOINT points at the Hugging Face API (or the local backend)",
    )


def body_of(response: httpx2.Response) -> Any:
    """The JSON of a 2xx response; an HTML page (a wrong endpoint, a captive portal) is an :class:`ApiError`."""
    try:
        return response.json()
    except ValueError:
        raise unreadable("JSON", f"{response.headers.get('content-type', 'no content type')} body") from None


def load(model: type[_M], data: Any, *, key: str | None = None) -> _M:
    """``data`` (or ``data[key]``) as ``model``; a body of the wrong shape is an :class:`ApiError`, not a crash."""
    try:
        if key is not None:
            if not isinstance(data, dict) or key not in data:
                raise unreadable(model.__name__, f"no {key!r} in the body")
            data = data[key]
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
        said = errors[0]["msg"] if errors else "invalid"
        raise unreadable(model.__name__, f"{where or 'body'}: {said}") from None


def load_list(model: type[_M], data: Any) -> list[_M]:
    if not isinstance(data, list):
        raise unreadable(f"a list of {model.__name__}", type(data).__name__)
    return [load(model, item) for item in data]


def loader(model: type[_M]) -> Callable[[Any], _M]:
    return lambda data: load(model, data)
