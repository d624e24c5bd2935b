"""``JobsClient``: the Jobs REST API as async methods, one per endpoint of wire-protocol.md §3.

Every parameter is keyword-only beyond the obvious first one, paths are built from validated parts, and the
transport is injectable (``httpx2.MockTransport`` or ``httpx2.ASGITransport`` in tests, the network otherwise).

No duplicate jobs: a submission (run, scheduled create, rerun, trigger) is never retried after it may have
reached the server. Runs and scheduled creates carry a unique label (``hfjobs-mcp-submission``); reruns and
triggers are recognised by their ``initiator`` and creation time. After an ambiguous failure (the request went
out, no usable answer came back) the client looks the result up and returns it if it exists; if it cannot be
found it raises :class:`~hfjobs_mcp.errors.TransportError` with ``maybe_sent=True`` rather than submit again.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Iterable, Mapping
from datetime import UTC
from types import TracebackType
from typing import Any, Self, TypeVar
from urllib.parse import quote

import anyio
import httpx2
from pydantic import BaseModel, SecretStr, ValidationError

from hfjobs_mcp.api.auth import TokenSource, find_endpoint, find_token
from hfjobs_mcp.api.http import Ambiguous, Http, RetryPolicy, error_for
from hfjobs_mcp.api.models import (
    TERMINAL_STAGES,
    HardwareFlavor,
    JobInfo,
    JobsUsage,
    LogLine,
    MetricsSample,
    ScheduledJobInfo,
    WebhookInfo,
    WhoAmI,
)
from hfjobs_mcp.api.spec import JobSpec
from hfjobs_mcp.api.sse import BANNER_PREFIX, LogDecoder, data_events
from hfjobs_mcp.errors import (
    ApiError,
    HfJobsError,
    InvalidRequestError,
    NotFoundError,
    TokenNotFoundError,
    TransportError,
)

__all__ = ["SUBMISSION_LABEL", "SUBMISSION_MARK_SHOWN", "JobsClient", "same_site"]

SUBMISSION_LABEL = "hfjobs-mcp-submission"
SUBMISSION_MARK_SHOWN = "<32 hex digits, new for each submission>"
"""What a dry run shows for the submission label's value: it is made when the request is really sent."""

# Hosts that are one site: a next-page link to any of them stays on the endpoint the token was given for.
HUB_HOSTS = frozenset({"huggingface.co", "www.huggingface.co", "hf.co"})


def same_site(here: httpx2.URL, target: httpx2.URL) -> bool:
    """True when ``target`` is on the endpoint's site: the same host or an alias of it (``www.`` and, for the Hub,
    ``huggingface.co``/``hf.co``), the same port, and no downgrade from https. The bearer token goes with every page,
    so a next-page link anywhere else is refused."""
    if target.scheme not in (here.scheme, "https") or target.port != here.port:
        return False
    a, b = here.host.lower(), target.host.lower()
    if a in HUB_HOSTS and b in HUB_HOSTS:
        return True
    return a.removeprefix("www.") == b.removeprefix("www.")


_T = TypeVar("_T")
_CLOCK_SKEW = 2.0  # seconds of slack when matching a rerun or trigger by its creation time
_NO_FOLLOW_IDLE = 5.0  # huggingface_hub's read timeout for a one-shot log read
_FOLLOW_IDLE = 120.0
_MAX_STREAM_RETRIES = 5


def _segment(value: str, what: str) -> str:
    if not value or "/" in value or value in (".", ".."):
        raise InvalidRequestError(f"{what} {value!r} is not valid", hint=f"pass a plain {what} (no '/')")
    return quote(value, safe="")


class JobsClient:
    """Async client of the Hugging Face Jobs API (or of the local backend, which speaks the same API).

    Use as ``async with JobsClient.from_env() as client: ...``. The namespace (the token's user) is asked of
    ``whoami-v2`` once and cached. The token is held as a :class:`~pydantic.SecretStr` and never shown.
    """

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
        self._lookup_attempts = lookup_attempts

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **kwargs: Any) -> JobsClient:
        """A client with the token and endpoint found as ``huggingface_hub`` finds them."""
        kwargs.setdefault("token", find_token(environ))
        kwargs.setdefault("endpoint", find_endpoint(environ))
        return cls(**kwargs)

    def __repr__(self) -> str:
        return f"JobsClient(endpoint={self.endpoint!r}, token={'***' if self.has_token else None})"

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

    # --- plumbing -------------------------------------------------------------------------------------------

    async def _json(self, method: str, path: str, *, params: Any = None, json: Any = None, write: bool = False) -> Any:
        if self._http.token is None:
            raise TokenNotFoundError()
        response = await self._http.request(method, path, params=params, json=json, write=write)
        if not response.content:
            return None
        return _body(response)

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
            lookup_failed: HfJobsError | None = None
            for attempt in range(self._lookup_attempts):
                try:
                    found = await find()
                except HfJobsError as exc:  # the lookup itself failed: the outcome is still unknown
                    lookup_failed, found = exc, None
                else:
                    lookup_failed = None
                if found is not None:
                    return found
                if attempt + 1 < self._lookup_attempts:
                    await self._sleep(1.0 * 2**attempt)
            if lookup_failed is not None:
                raise TransportError(
                    f"{method} {path} was sent but no answer came back ({ambiguous.detail}), and looking it up "
                    f"failed too ({lookup_failed.message})",
                    hint="check with list_jobs / list_scheduled_jobs before trying again, to avoid a duplicate",
                    maybe_sent=True,
                ) from None
            if ambiguous.response is not None:
                error = error_for(ambiguous.response, redact=self._http.redact)
                error.hint = (error.hint or "") + "; it was not created (looked it up): you may try again"
                raise error from None
            raise TransportError(
                f"{method} {path} was sent but no answer came back ({ambiguous.detail}), and nothing it would have "
                "created could be found",
                hint="check with list_jobs / list_scheduled_jobs before trying again, to avoid a duplicate",
                maybe_sent=True,
            ) from None

    async def _ns(self, namespace: str | None) -> str:
        return _segment(namespace or await self.namespace(), "namespace")

    async def _ref(self, ref: str, namespace: str | None) -> tuple[str, str]:
        """``(namespace, id)`` from ``id`` or ``namespace/id`` (a conflicting ``namespace`` is an error)."""
        if ref.count("/") == 1:
            ns, _, ident = ref.partition("/")
            if namespace and namespace != ns:
                raise InvalidRequestError(
                    f"conflicting namespace: got namespace={namespace!r} but the id says {ns!r}",
                    hint="drop one of them",
                )
            return _segment(ns, "namespace"), _segment(ident, "id")
        return await self._ns(namespace), _segment(ref, "id")

    # --- account --------------------------------------------------------------------------------------------

    async def whoami(self) -> WhoAmI:
        return _load(WhoAmI, await self._json("GET", "/api/whoami-v2"))

    async def jobs_usage(self) -> JobsUsage:
        """The token user's Jobs usage in the current billing period (``/api/settings/billing/usage/jobs``)."""
        body = await self._json("GET", "/api/settings/billing/usage/jobs")
        return _load(JobsUsage, body.get("usage") if isinstance(body, dict) else body)

    async def namespace(self) -> str:
        """The token's user name (asked once, then cached)."""
        if self._namespace is None:
            async with self._whoami_lock:
                if self._namespace is None:
                    self._namespace = (await self.whoami()).name
        return self._namespace

    # --- jobs -----------------------------------------------------------------------------------------------

    async def run_job(self, spec: JobSpec, *, namespace: str | None = None) -> JobInfo:
        """Start a job (``POST /api/jobs/{ns}``)."""
        ns = await self._ns(namespace)
        mark = uuid.uuid4().hex
        body = spec.with_labels({SUBMISSION_LABEL: mark}).to_wire()

        async def find() -> JobInfo | None:
            jobs = await self.list_jobs(namespace=ns, labels={SUBMISSION_LABEL: mark}, limit=10)
            originals = [
                j
                for j in jobs
                if j.labels.get(SUBMISSION_LABEL) == mark
                and not (j.initiator and j.initiator.type in ("duplicated-job", "scheduled-job", "webhook"))
            ]
            return originals[0] if originals else None

        return await self._submit("POST", f"/api/jobs/{ns}", json=body, parse=_loader(JobInfo), find=find)

    async def list_jobs(
        self,
        *,
        namespace: str | None = None,
        stages: Iterable[str] = (),
        labels: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> list[JobInfo]:
        """Jobs, newest first: any of ``stages`` (OR), all of ``labels`` (AND); follows ``Link: rel="next"``."""
        ns = await self._ns(namespace)
        params: list[tuple[str, str]] = [("stage", s) for s in stages]
        params += [("label", f"{k}={v}") for k, v in (labels or {}).items()]
        out: list[JobInfo] = []
        url: str | None = f"/api/jobs/{ns}"
        query: Any = params
        visited: set[str] = set()
        while url is not None and (limit is None or len(out) < limit):
            if self._http.token is None:
                raise TokenNotFoundError()
            response = await self._http.request("GET", url, params=query)
            out.extend(_load_list(JobInfo, _body(response)))
            visited.add(str(response.request.url))
            nxt = response.links.get("next", {}).get("url")
            if not nxt:
                break
            here = response.request.url
            target = here.join(nxt)  # absolute links are kept verbatim; relative ones resolve against this page
            if not same_site(here, target):
                # The bearer token goes with every page: never to another host.
                raise _unreadable("a next-page link on the same host", nxt)
            if str(target) in visited:
                break  # a link back to a page already read: the listing is complete
            url, query = str(target), None
        return out if limit is None else out[:limit]

    async def count_jobs(self, *, namespace: str | None = None, stages: Iterable[str] = ()) -> int:
        ns = await self._ns(namespace)
        body = await self._json("GET", f"/api/jobs/{ns}/count", params=[("stage", s) for s in stages])
        count = body.get("count") if isinstance(body, dict) else None
        if not isinstance(count, int):
            raise _unreadable("count", body)
        return count

    async def inspect_job(self, job_id: str, *, namespace: str | None = None) -> JobInfo:
        ns, ident = await self._ref(job_id, namespace)
        return _load(JobInfo, await self._json("GET", f"/api/jobs/{ns}/{ident}"))

    async def cancel_job(self, job_id: str, *, namespace: str | None = None) -> None:
        ns, ident = await self._ref(job_id, namespace)
        await self._write("POST", f"/api/jobs/{ns}/{ident}/cancel")

    async def duplicate_job(self, job_id: str, *, namespace: str | None = None) -> JobInfo:
        """Start a copy of a job (``POST .../duplicate``); the copy's initiator names the original."""
        ns, ident = await self._ref(job_id, namespace)
        sent = time.monotonic()

        async def find() -> JobInfo | None:
            return await self._newest_started_by(ns, "duplicated-job", ident, sent)

        return await self._submit(
            "POST", f"/api/jobs/{ns}/{ident}/duplicate", json=None, parse=_loader(JobInfo), find=find
        )

    async def _newest_started_by(self, ns: str, kind: str, source: str, sent: float) -> JobInfo | None:
        """The newest job started by ``kind``/``source`` since ``sent`` (a local monotonic time).

        Creation times are the server's: the send time is put on the server's clock through the ``Date`` of the
        listing itself (read just now) minus the time elapsed since sending, so a skewed local clock cannot make
        an older run pass for the new one.
        """
        jobs = await self.list_jobs(namespace=ns, limit=50)
        sent_at = self._http.server_now() - (time.monotonic() - sent)
        for job in jobs:
            ini = job.initiator
            created = job.created_at.timestamp() if job.created_at else 0.0
            if ini and ini.type == kind and ini.id == source and created >= sent_at - _CLOCK_SKEW:
                return job
        return None

    async def update_job_labels(
        self, job_id: str, labels: Mapping[str, str], *, namespace: str | None = None
    ) -> JobInfo:
        """Replace the job's labels (all of them)."""
        JobSpec(image="x", command=["x"], labels=dict(labels))  # same label rules as a run
        ns, ident = await self._ref(job_id, namespace)
        body = await self._write("PUT", f"/api/jobs/{ns}/{ident}/labels", json={"labels": dict(labels)})
        return _load(JobInfo, body)

    async def update_job_expose(
        self, job_id: str, ports: Iterable[int], *, public: Iterable[int] = (), namespace: str | None = None
    ) -> JobInfo:
        """Replace the exposed ports (``[]`` closes them all); public ports are exposed too."""
        spec = JobSpec(image="x", command=["x"], expose=list(ports), expose_public=list(public))
        ns, ident = await self._ref(job_id, namespace)
        wire = spec.to_wire().get("expose", {"ports": [], "portsPublic": []})
        return _load(JobInfo, await self._write("PUT", f"/api/jobs/{ns}/{ident}/expose", json=wire))

    async def list_hardware(self) -> list[HardwareFlavor]:
        """The flavors with their prices (no token needed)."""
        response = await self._http.request("GET", "/api/jobs/hardware")
        return _load_list(HardwareFlavor, _body(response))

    # --- logs and metrics -----------------------------------------------------------------------------------

    def stream_logs(
        self,
        job_id: str,
        *,
        namespace: str | None = None,
        tail: int | None = None,
        follow: bool = False,
        idle_timeout: float | None = None,
    ) -> AsyncIterator[LogLine]:
        """The job's log lines, oldest first (the banner left out).

        Without ``follow``: the lines there are now (the stream is read until it ends, stays idle for
        ``idle_timeout`` seconds, or reaches lines stamped after the request). With ``follow``: until the job
        is over, reconnecting when the stream is cut, with no line lost or repeated.
        """
        if tail is not None and tail < 0:
            raise InvalidRequestError("tail must be 0 or more", hint="e.g. tail=100")
        return self._logs(job_id, namespace, tail, follow, idle_timeout)

    @contextlib.asynccontextmanager
    async def _open_stream(
        self, path: str, *, params: Mapping[str, Any], read: float, tolerate: Collection[int] = ()
    ) -> AsyncIterator[httpx2.Response]:
        """A streamed GET, opened under the read retry policy (429, 502/503/504, connection errors).

        Nothing has been read when a retry happens, so retrying is safe. A status in ``tolerate`` is handed to the
        caller; any other error status raises the mapped error. Errors while reading the body are the caller's.
        """
        policy = self._http.policy
        waited = 0.0
        attempt = 0
        await self._http.fresh()
        while True:
            attempt += 1
            request = self._http_client.build_request(
                "GET", path, params=params, headers=self._http.headers(), timeout=httpx2.Timeout(60.0, read=read)
            )
            failure: HfJobsError
            try:
                response = await self._http_client.send(request, stream=True)
            except httpx2.TransportError as exc:
                failure = TransportError(
                    f"could not open the stream {path}: {type(exc).__name__} {self._http.redact(str(exc))}",
                    hint="check the network and the endpoint (HF_ENDPOINT), then try again",
                )
                delay = self._http.backoff(attempt)
            else:
                status = response.status_code
                if status < 400 or status in tolerate:
                    try:
                        yield response
                    finally:
                        await response.aclose()
                    return
                await response.aread()
                await response.aclose()
                failure = error_for(response, redact=self._http.redact)
                if status not in policy.statuses:
                    raise failure
                delay = self._http.backoff(attempt, response)
            if attempt >= policy.attempts or waited + delay > policy.budget:
                raise failure
            waited += delay
            await self._sleep(delay)

    async def _logs(
        self, job_id: str, namespace: str | None, tail: int | None, follow: bool, idle_timeout: float | None
    ) -> AsyncIterator[LogLine]:
        ns, ident = await self._ref(job_id, namespace)
        path = f"/api/jobs/{ns}/{ident}/logs"
        idle = idle_timeout if idle_timeout is not None else (_FOLLOW_IDLE if follow else _NO_FOLLOW_IDLE)
        if self._http.token is None:
            raise TokenNotFoundError()

        if not follow:
            try:
                async with self._open_stream(path, params={"tail": tail} if tail is not None else {}, read=idle) as r:
                    cutoff = _date_of(r)
                    decoder = LogDecoder()
                    first = True
                    async for batch in _payload_batches(r, decoder):
                        for line in decoder.lines(batch):
                            if line is None:
                                continue
                            if first:
                                first = False
                                if line.text.startswith(BANNER_PREFIX):
                                    continue
                            if cutoff is not None and line.timestamp.timestamp() > cutoff + 1.0:
                                return  # live lines after the replay: a one-shot read stops here
                            yield line
            except httpx2.ReadTimeout:
                return  # idle: the replay is over
            except (httpx2.TransportError, httpx2.DecodingError) as exc:
                raise TransportError(
                    f"the log stream broke: {type(exc).__name__}", hint="try again (follow=True reconnects by itself)"
                ) from None
            return

        # Follow: the server replays the whole log on every connection, so count events and skip those seen. The
        # count is of raw `data: {` events (malformed ones too: every replay has them at the same places), so a
        # reconnection skips what it has seen without decoding it.
        seen = 0  # events of the full replay already handled (banner included)
        banner_at: int | None = None  # the index of the full replay's first line (the banner, if it is one)
        anchor: LogLine | None = None  # after a tail read: the last line received...
        anchor_count = 0  # ...and how many received lines were equal to it
        since: float | None = None  # after a tail read that returned nothing: lines up to this time are old
        tail_pending = tail is not None
        finished = False  # the job is over: the pass under way is the last one
        failures = 0
        delay = 2.0
        while True:
            tail_read = tail_pending
            got_new = broken = False
            opened_at: float | None = None
            try:
                async with self._open_stream(
                    path, params={"tail": tail} if tail_read else {}, read=_NO_FOLLOW_IDLE if finished else idle
                ) as response:
                    tail_pending = False  # only once a tail read got an answer do its anchors mean anything
                    opened_at = _date_of(response)
                    index = 0
                    skipped = 0
                    tail_first = True
                    if tail_read:
                        since = opened_at
                    decoder = LogDecoder()
                    async for batch in _payload_batches(response, decoder):
                        base = index
                        index += len(batch)
                        if not tail_read and anchor is None and since is None:
                            if index <= seen:
                                continue  # all seen on an earlier connection: not even decoded
                            if base < seen:
                                batch, base = batch[seen - base :], seen
                            if banner_at is not None:
                                # The common case, a batch at a time: new lines of a full replay, past its first.
                                fresh = [line for line in decoder.lines(batch) if line is not None]
                                seen = index
                                if fresh:
                                    got_new, failures = True, 0
                                for line in fresh:
                                    yield line
                                continue
                        for offset, line in enumerate(decoder.lines(batch), start=1):
                            i = base + offset
                            if line is None:
                                if not tail_read:
                                    seen = max(seen, i)
                                continue
                            if not tail_read and anchor is not None:
                                # First full replay after a tail read: skip up to the anchor's last copy.
                                if line.timestamp < anchor.timestamp or (
                                    line.timestamp == anchor.timestamp and skipped < anchor_count
                                ):
                                    skipped += line == anchor
                                    seen = i
                                    banner_at = i if banner_at is None else banner_at
                                    continue
                                anchor = None
                            elif not tail_read and since is not None:
                                if line.timestamp.timestamp() <= since:
                                    seen = i
                                    banner_at = i if banner_at is None else banner_at
                                    continue
                                since = None
                            elif not tail_read and i <= seen:
                                continue
                            if not tail_read:
                                seen = i
                            got_new = True
                            failures = 0
                            if tail_read:
                                first, tail_first = tail_first, False
                            else:
                                banner_at = i if banner_at is None else banner_at
                                first = i == banner_at
                            if first and line.text.startswith(BANNER_PREFIX):
                                continue
                            if tail_read:
                                anchor_count = anchor_count + 1 if line == anchor else 1
                                anchor, since = line, None
                            yield line
            except httpx2.ReadTimeout:
                pass
            except (httpx2.TransportError, httpx2.DecodingError) as exc:
                failures += 1
                if failures > _MAX_STREAM_RETRIES:
                    raise TransportError(
                        f"the log stream kept failing: {type(exc).__name__}", hint="try fetch_logs again later"
                    ) from None
                broken = True
            backoff = min(10.0, 2.0 ** (failures - 1))
            if finished:
                if not broken:
                    return
                await self._sleep(backoff)  # the last pass broke: do it again
                continue
            if got_new:
                delay = 2.0
            # Cut or ended, the stream says nothing of the job: ask (a job that ended needs one last pass).
            job = await self.inspect_job(ident, namespace=ns)
            if job.status.stage in TERMINAL_STAGES:
                ended = job.finished_at.timestamp() if job.finished_at else None
                if not broken and opened_at is not None and ended is not None and ended < opened_at - _CLOCK_SKEW:
                    return  # the job was over before that stream opened: its replay, read to the end, had it all
                # One last pass picks up lines written between the stream's end and the job's end.
                finished = True
                continue
            if broken:
                await self._sleep(backoff)
            else:
                await self._sleep(delay)
                delay = min(delay * 2, 10.0)

    async def stream_metrics(self, job_id: str, *, namespace: str | None = None) -> AsyncIterator[MetricsSample]:
        """Metrics samples (about one a second) while the job runs; nothing once it is over (the API says 406)."""
        ns, ident = await self._ref(job_id, namespace)
        if self._http.token is None:
            raise TokenNotFoundError()
        path = f"/api/jobs/{ns}/{ident}/metrics"
        try:
            async with self._open_stream(path, params={}, read=10.0, tolerate=(406, 500)) as response:
                if response.status_code in (406, 500):
                    return
                async for event in data_events(response.aiter_lines()):
                    yield _load(MetricsSample, event)
        except httpx2.ReadTimeout:
            return
        except (httpx2.TransportError, httpx2.DecodingError) as exc:
            raise TransportError(f"the metrics stream broke: {type(exc).__name__}", hint="try again") from None

    # --- scheduled jobs -------------------------------------------------------------------------------------

    async def create_scheduled_job(
        self,
        spec: JobSpec,
        *,
        schedule: str,
        suspend: bool | None = None,
        concurrency: bool | None = None,
        namespace: str | None = None,
    ) -> ScheduledJobInfo:
        """Create a scheduled job (cron or ``@hourly``-style preset)."""
        if not schedule.strip():
            raise InvalidRequestError("schedule must not be empty", hint="e.g. '@hourly' or '0 9 * * 1'")
        ns = await self._ns(namespace)
        mark = uuid.uuid4().hex
        body: dict[str, Any] = {"jobSpec": spec.with_labels({SUBMISSION_LABEL: mark}).to_wire(), "schedule": schedule}
        if concurrency is not None:
            body["concurrency"] = concurrency
        if suspend is not None:
            body["suspend"] = suspend

        async def find() -> ScheduledJobInfo | None:
            found = await self.list_scheduled_jobs(namespace=ns, labels={SUBMISSION_LABEL: mark})
            return found[0] if found else None

        return await self._submit(
            "POST", f"/api/scheduled-jobs/{ns}", json=body, parse=_loader(ScheduledJobInfo), find=find
        )

    async def list_scheduled_jobs(
        self, *, namespace: str | None = None, labels: Mapping[str, str] | None = None
    ) -> list[ScheduledJobInfo]:
        """Scheduled jobs having all ``labels`` (the API filters on the first; the rest are checked here)."""
        ns = await self._ns(namespace)
        wanted = dict(labels or {})
        params = [("label", f"{k}={v}") for k, v in list(wanted.items())[:1]]
        body = await self._json("GET", f"/api/scheduled-jobs/{ns}", params=params)
        items = _load_list(ScheduledJobInfo, body or [])
        return [sj for sj in items if all(sj.job_spec.labels.get(k) == v for k, v in wanted.items())]

    async def inspect_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> ScheduledJobInfo:
        ns, ident = await self._ref(scheduled_job_id, namespace)
        return _load(ScheduledJobInfo, await self._json("GET", f"/api/scheduled-jobs/{ns}/{ident}"))

    async def delete_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> None:
        ns, ident = await self._ref(scheduled_job_id, namespace)
        await self._write("DELETE", f"/api/scheduled-jobs/{ns}/{ident}", gone_ok=True)

    async def suspend_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> None:
        ns, ident = await self._ref(scheduled_job_id, namespace)
        await self._write("POST", f"/api/scheduled-jobs/{ns}/{ident}/suspend")

    async def resume_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> None:
        ns, ident = await self._ref(scheduled_job_id, namespace)
        await self._write("POST", f"/api/scheduled-jobs/{ns}/{ident}/resume")

    async def trigger_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> JobInfo:
        """Run a scheduled job now; 409 (:class:`ConflictError`) if a run is going and concurrency is off."""
        ns, ident = await self._ref(scheduled_job_id, namespace)
        sent = time.monotonic()

        async def find() -> JobInfo | None:
            return await self._newest_started_by(ns, "scheduled-job", ident, sent)

        return await self._submit(
            "POST", f"/api/scheduled-jobs/{ns}/{ident}/run", json=None, parse=_loader(JobInfo), find=find
        )

    async def reschedule_scheduled_job(
        self, scheduled_job_id: str, schedule: str, *, namespace: str | None = None
    ) -> ScheduledJobInfo:
        if not schedule.strip():
            raise InvalidRequestError("schedule must not be empty", hint="e.g. '@hourly' or '0 9 * * 1'")
        ns, ident = await self._ref(scheduled_job_id, namespace)
        body = await self._write("POST", f"/api/scheduled-jobs/{ns}/{ident}/schedule", json={"schedule": schedule})
        return _load(ScheduledJobInfo, body)

    async def update_scheduled_job_labels(
        self, scheduled_job_id: str, labels: Mapping[str, str], *, namespace: str | None = None
    ) -> ScheduledJobInfo:
        JobSpec(image="x", command=["x"], labels=dict(labels))
        ns, ident = await self._ref(scheduled_job_id, namespace)
        body = await self._write("PUT", f"/api/scheduled-jobs/{ns}/{ident}/labels", json={"labels": dict(labels)})
        return _load(ScheduledJobInfo, body)

    # --- webhooks -------------------------------------------------------------------------------------------

    async def create_webhook(
        self,
        *,
        watched: Iterable[Mapping[str, str]],
        domains: Iterable[str] | None = None,
        job_id: str | None = None,
        url: str | None = None,
        secret: str | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> WebhookInfo:
        """A webhook that calls ``url`` or starts a copy of job ``job_id`` on events of ``watched``."""
        if (job_id is None) == (url is None):
            raise InvalidRequestError("give exactly one of job_id and url", hint="job_id to start a job on each event")
        if secrets and job_id is None:
            raise InvalidRequestError("secrets need job_id", hint="secrets are passed to the job a webhook starts")
        body: dict[str, Any] = {
            "watched": [dict(w) for w in watched],
            "domains": list(domains) if domains is not None else ["repo", "discussion"],
        }
        if job_id is not None:
            body["jobSourceId"] = _segment(job_id, "job id")
        if url is not None:
            body["url"] = url
        if secret is not None:
            body["secret"] = secret
        if secrets:
            body["secrets"] = dict(secrets)
        try:
            response = await self._json("POST", "/api/settings/webhooks", json=body, write=True)
        except Ambiguous as ambiguous:  # not resent: a second webhook would fire twice
            raise self._unknown("POST", "/api/settings/webhooks", ambiguous) from None
        return _load(WebhookInfo, response, key="webhook")

    async def list_webhooks(self) -> list[WebhookInfo]:
        return _load_list(WebhookInfo, await self._json("GET", "/api/settings/webhooks") or [])

    async def get_webhook(self, webhook_id: str) -> WebhookInfo:
        body = await self._json("GET", f"/api/settings/webhooks/{_segment(webhook_id, 'webhook id')}")
        return _load(WebhookInfo, body, key="webhook")

    async def update_webhook(
        self,
        webhook_id: str,
        *,
        watched: Iterable[Mapping[str, str]],
        job_id: str | None = None,
        url: str | None = None,
        domains: Iterable[str] | None = None,
        secret: str | None = None,
        secrets: Mapping[str, str] | None = None,
    ) -> WebhookInfo:
        if job_id is not None and url is not None:
            raise InvalidRequestError(
                "give job_id or url, not both", hint="a webhook either calls a URL or starts a job"
            )
        body: dict[str, Any] = {"watched": [dict(w) for w in watched]}
        if job_id is not None:
            body["jobSourceId"] = _segment(job_id, "job id")
        if url is not None:
            body["url"] = url
        if domains is not None:
            body["domains"] = list(domains)
        if secret is not None:
            body["secret"] = secret
        if secrets:
            body["secrets"] = dict(secrets)
        response = await self._write("POST", f"/api/settings/webhooks/{_segment(webhook_id, 'webhook id')}", json=body)
        return _load(WebhookInfo, response, key="webhook")

    async def enable_webhook(self, webhook_id: str) -> WebhookInfo:
        body = await self._write("POST", f"/api/settings/webhooks/{_segment(webhook_id, 'webhook id')}/enable")
        return _load(WebhookInfo, body, key="webhook")

    async def disable_webhook(self, webhook_id: str) -> WebhookInfo:
        body = await self._write("POST", f"/api/settings/webhooks/{_segment(webhook_id, 'webhook id')}/disable")
        return _load(WebhookInfo, body, key="webhook")

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._write("DELETE", f"/api/settings/webhooks/{_segment(webhook_id, 'webhook id')}", gone_ok=True)


async def _payload_batches(response: httpx2.Response, decoder: LogDecoder) -> AsyncIterator[list[bytes]]:
    """The ``data: {`` payloads of a streamed response, one batch per chunk received (see :class:`LogDecoder`)."""
    async for chunk in response.aiter_bytes():
        batch = decoder.payloads(chunk)
        if batch:
            yield batch
    last = decoder.flush()
    if last:
        yield last


def _date_of(response: httpx2.Response) -> float | None:
    """The response's ``Date`` as epoch seconds (the replay cut-off of a one-shot log read)."""
    import email.utils

    value = response.headers.get("date")
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).astimezone(UTC).timestamp()
    except (TypeError, ValueError):
        return None


_M = TypeVar("_M", bound=BaseModel)


def _unreadable(what: str, detail: object) -> ApiError:
    text = str(detail)
    return ApiError(
        f"the API answered something this client cannot read as {what}: {text[:200]}",
        status=200,
        hint="check that HF_ENDPOINT points at the Hugging Face API (or the local backend)",
    )


def _body(response: httpx2.Response) -> Any:
    """The JSON of a 2xx response; an HTML page (a wrong endpoint, a captive portal) is an :class:`ApiError`."""
    try:
        return response.json()
    except ValueError:
        raise _unreadable("JSON", f"{response.headers.get('content-type', 'no content type')} body") from None


def _load(model: type[_M], data: Any, *, key: str | None = None) -> _M:
    """``data`` (or ``data[key]``) as ``model``; a body of the wrong shape is an :class:`ApiError`, not a crash."""
    try:
        if key is not None:
            if not isinstance(data, dict) or key not in data:
                raise _unreadable(model.__name__, f"no {key!r} in the body")
            data = data[key]
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else ""
        said = errors[0]["msg"] if errors else "invalid"
        raise _unreadable(model.__name__, f"{where or 'body'}: {said}") from None


def _load_list(model: type[_M], data: Any) -> list[_M]:
    if not isinstance(data, list):
        raise _unreadable(f"a list of {model.__name__}", type(data).__name__)
    return [_load(model, item) for item in data]


def _loader(model: type[_M]) -> Callable[[Any], _M]:
    return lambda data: _load(model, data)
