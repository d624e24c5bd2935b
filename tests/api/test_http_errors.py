"""Error mapping (wire §12): status -> exception class, the server's own words, a hint, and never the token.

The token must not appear in ``str(exc)``, ``repr(exc)``, ``exc.message``, ``exc.hint``, ``server_message`` or
``repr(client)``, even when the server echoes it back in its error body or headers.
"""

from __future__ import annotations

from typing import Any

import httpx2
import pytest

from hfjobs_mcp.api import JobSpec, RetryPolicy
from hfjobs_mcp.errors import (
    ApiError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    HfJobsError,
    NotFoundError,
    PaymentRequiredError,
    RateLimitedError,
    ServerError,
    TokenNotFoundError,
    TransportError,
    UnauthorizedError,
)
from tests.api.fakes import TOKEN, make_client

pytestmark = pytest.mark.anyio

ONE_TRY = RetryPolicy(attempts=1)


def _answer(status: int, body: Any = None, headers: dict[str, str] | None = None, text: str | None = None) -> Any:
    def handler(request: httpx2.Request) -> httpx2.Response:
        if text is not None:
            return httpx2.Response(status, text=text, headers=headers)
        return httpx2.Response(status, json=body, headers=headers)

    return handler


def _leaks(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc), *(str(a) for a in exc.args)]
    if isinstance(exc, HfJobsError):
        texts += [exc.message, exc.hint or ""]
    if isinstance(exc, ApiError):
        texts += [exc.server_message or ""]
    return [t for t in texts if TOKEN in t]


@pytest.mark.parametrize(
    ("status", "cls", "hint_word"),
    [
        (400, BadRequestError, "fix"),
        (422, BadRequestError, "fix"),
        (401, UnauthorizedError, "HF_TOKEN"),
        (402, PaymentRequiredError, "billing"),
        (403, ForbiddenError, "namespace"),
        (404, NotFoundError, "namespace"),
        (409, ConflictError, "concurrency"),
        (429, RateLimitedError, "try again"),
        (500, ServerError, "try again"),
        (502, ServerError, "try again"),
        (503, ServerError, "try again"),
        (504, ServerError, "try again"),
    ],
)
async def test_status_maps_to_class_with_message_and_hint(status: int, cls: type[ApiError], hint_word: str) -> None:
    async with make_client(_answer(status, {"error": "the server says so"}), retry=ONE_TRY, namespace="alice") as c:
        with pytest.raises(cls) as info:
            await c.inspect_job("abc")
    exc = info.value
    assert exc.status == status
    assert exc.server_message == "the server says so"
    assert "the server says so" in exc.message
    assert exc.hint
    assert hint_word in exc.hint
    assert isinstance(exc, ApiError)
    assert isinstance(exc, HfJobsError)


async def test_404_on_a_job_path_names_the_job() -> None:
    async with make_client(_answer(404, {"error": "Job not found"}), namespace="alice") as client:
        with pytest.raises(NotFoundError) as info:
            await client.inspect_job("abc")
    assert info.value.message.startswith("job not found: GET /api/jobs/alice/abc")
    assert "check the id and the namespace" in (info.value.hint or "")


async def test_trigger_conflict_carries_the_exact_message() -> None:
    said = (
        "Another job is already running at the same time, set `concurrency` to allow multiple instances of "
        "scheduled jobs to run concurrently"
    )
    async with make_client(_answer(409, {"error": said}), namespace="alice") as client:
        with pytest.raises(ConflictError) as info:
            await client.trigger_scheduled_job("sj1")
    assert info.value.server_message == said


async def test_unknown_status_is_a_plain_api_error() -> None:
    async with make_client(_answer(418, {"error": "teapot"}), namespace="alice") as client:
        with pytest.raises(ApiError) as info:
            await client.inspect_job("abc")
    assert type(info.value) is ApiError
    assert info.value.status == 418


async def test_credits_message_on_403_is_payment_required_but_not_on_500() -> None:
    async with make_client(_answer(403, {"error": "No credits left"}), namespace="alice") as client:
        with pytest.raises(PaymentRequiredError):
            await client.inspect_job("abc")
    async with make_client(_answer(500, {"error": "billing service down"}), retry=ONE_TRY, namespace="a") as client:
        with pytest.raises(ServerError):
            await client.inspect_job("abc")


@pytest.mark.parametrize(
    ("body", "headers", "text", "said"),
    [
        ({"error": "plain"}, None, None, "plain"),
        ({"error": ["first", "second"]}, None, None, "first; second"),
        ({"error": "invalid_grant", "error_description": "expired"}, None, None, "invalid_grant: expired"),
        ({"errors": [{"message": "a"}, {"message": "b"}]}, None, None, "a; b"),
        ({"error": "body"}, {"x-error-message": "header wins"}, None, "header wins"),
        (None, None, "plain text body", "plain text body"),
        (None, None, "<!DOCTYPE html><html>oops</html>", None),
        ({"unrelated": 1}, None, None, None),
    ],
)
async def test_server_message_extraction(
    body: Any, headers: dict[str, str] | None, text: str | None, said: str | None
) -> None:
    async with make_client(_answer(400, body, headers, text), namespace="alice") as client:
        with pytest.raises(BadRequestError) as info:
            await client.inspect_job("abc")
    assert info.value.server_message == said


async def test_request_id_is_kept() -> None:
    handler = _answer(400, {"error": "x"}, {"x-request-id": "Root=1-abc"})
    async with make_client(handler, namespace="alice") as client:
        with pytest.raises(BadRequestError) as info:
            await client.inspect_job("abc")
    assert info.value.request_id == "Root=1-abc"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500])
async def test_token_echoed_by_the_server_is_masked(status: int) -> None:
    handler = _answer(
        status,
        {"error": f"token {TOKEN} is bad", "error_description": TOKEN},
        {"x-request-id": "r1"},
    )
    async with make_client(handler, retry=ONE_TRY, namespace="alice") as client:
        with pytest.raises(ApiError) as info:
            await client.inspect_job("abc")
        assert TOKEN not in repr(client)
    assert _leaks(info.value) == []
    assert "***" in (info.value.server_message or "")

    header_echo = _answer(status, {"error": "x"}, {"x-error-message": f"Bearer {TOKEN}"})
    async with make_client(header_echo, retry=ONE_TRY, namespace="alice") as client:
        with pytest.raises(ApiError) as info:
            await client.run_job(JobSpec(image="ubuntu", command=["x"]))
    assert _leaks(info.value) == []


async def test_token_in_a_transport_error_is_masked() -> None:
    def handler(request: httpx2.Request) -> httpx2.Response:
        raise httpx2.ConnectError(f"proxy refused Authorization: Bearer {TOKEN}", request=request)

    async with make_client(handler, retry=RetryPolicy(attempts=2), namespace="alice") as client:
        with pytest.raises(TransportError) as info:
            await client.inspect_job("abc")
        with pytest.raises(TransportError) as stream_info:
            _ = [line async for line in client.stream_logs("abc")]
    assert _leaks(info.value) == []
    assert _leaks(stream_info.value) == []

    def lost(request: httpx2.Request) -> httpx2.Response:
        if request.method == "POST":
            raise httpx2.ReadError(f"reset while sending {TOKEN}", request=request)
        return httpx2.Response(200, json=[])

    async with make_client(lost, namespace="alice") as client:
        with pytest.raises(TransportError) as post_info:
            await client.run_job(JobSpec(image="ubuntu", command=["x"]))
    assert post_info.value.maybe_sent
    assert _leaks(post_info.value) == []
    assert post_info.value.__cause__ is None or TOKEN not in str(post_info.value.__cause__)


def test_repr_of_client_and_spec_hide_secrets() -> None:
    client = make_client(_answer(200, {}))
    assert TOKEN not in repr(client)
    assert "***" in repr(client)
    assert TOKEN not in str(vars(client).get("_http"))
    spec = JobSpec(image="ubuntu", command=["x"], secrets={"HF_TOKEN": TOKEN})
    assert TOKEN not in repr(spec)
    assert client.redact(f"a {TOKEN} b") == "a *** b"


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.whoami(),
        lambda c: c.namespace(),
        lambda c: c.run_job(JobSpec(image="ubuntu", command=["x"]), namespace="alice"),
        lambda c: c.list_jobs(namespace="alice"),
        lambda c: c.inspect_job("alice/abc"),
        lambda c: c.cancel_job("abc", namespace="alice"),
        lambda c: c.create_scheduled_job(JobSpec(image="u", command=["x"]), schedule="@daily", namespace="alice"),
        lambda c: c.list_webhooks(),
    ],
)
async def test_no_token_raises_before_any_request(call: Any) -> None:
    requests: list[httpx2.Request] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        requests.append(request)
        return httpx2.Response(200, json={})

    async with make_client(handler, token=None) as client:
        with pytest.raises(TokenNotFoundError) as info:
            await call(client)
        with pytest.raises(TokenNotFoundError):
            _ = [line async for line in client.stream_logs("abc", namespace="alice")]
        with pytest.raises(TokenNotFoundError):
            _ = [s async for s in client.stream_metrics("abc", namespace="alice")]
    assert requests == []
    assert "HF_TOKEN" in (info.value.hint or "")


async def test_empty_token_is_no_token() -> None:
    async with make_client(_answer(200, {}), token="  ") as client:
        assert not client.has_token
        with pytest.raises(TokenNotFoundError):
            await client.whoami()


@pytest.mark.parametrize(
    ("call", "answer"),
    [
        (lambda c: c.inspect_job("abc"), httpx2.Response(200, text="<html>login page</html>")),
        (lambda c: c.inspect_job("abc"), httpx2.Response(200, json={"id": "abc"})),  # no status, no owner
        (lambda c: c.list_jobs(), httpx2.Response(200, json={"jobs": []})),
        (lambda c: c.list_hardware(), httpx2.Response(200, json=[{"name": "x"}])),
        (lambda c: c.count_jobs(), httpx2.Response(200, json={"total": 1})),
        (lambda c: c.get_webhook("wh1"), httpx2.Response(200, json={"id": "wh1"})),
        (lambda c: c.list_scheduled_jobs(), httpx2.Response(200, json="nope")),
        (lambda c: c.whoami(), httpx2.Response(200, json=[])),
    ],
)
async def test_unreadable_answers_are_api_errors(call: Any, answer: httpx2.Response) -> None:
    """A 2xx the client cannot read (a wrong HF_ENDPOINT, a changed shape) is an error with a hint, not a crash."""
    async with make_client(lambda request: answer, namespace="alice") as client:
        with pytest.raises(ApiError) as info:
            await call(client)
    assert "cannot read" in info.value.message
    assert "HF_ENDPOINT" in (info.value.hint or "")


async def test_rate_limit_hint_says_how_long() -> None:
    handler = _answer(429, {"error": "slow down"}, {"ratelimit": '"api";r=0;t=41'})
    async with make_client(handler, retry=ONE_TRY, namespace="alice") as client:
        with pytest.raises(RateLimitedError) as info:
            await client.inspect_job("abc")
    assert info.value.retry_after == 42.0
    assert info.value.hint == "wait 42 s and try again"
