"""Input the backend refuses is a 4xx ``{"error": ...}`` naming what is wrong, never a 500 (issue 22, items 1, 3, 4).

Each case here was a 500 before: a cron that never fires (croniter only says so when asked for the next run),
``isdigit`` digits that ``int`` refuses (``²``), integers longer than SQLite or Python's parser take, and a
body nested deep enough to exhaust the JSON parser's recursion. After each refusal the same connection must
serve the next request (the ``api`` client is one keep-alive connection), and nothing may have been stored.
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest

from hfjobs_mcp.local import LocalBackend
from hfjobs_mcp.local.validation import MAX_SAFE_INT

from .util import TOKEN, py, spec, wait_stage

MAX_DEPTH = 32  # the documented nesting limit (validation.MAX_DEPTH), spelled out: the contract, not a copy
NEVER = ["0 0 31 2 *", "0 0 30 2 *", "30 12 31 4,6,9,11 *", "0 0 31 2,4 *"]


def _error(r: httpx2.Response, status: int = 400) -> str:
    assert r.status_code == status, r.text[:300]
    assert r.headers["content-type"].startswith("application/json")
    message: str = r.json()["error"]
    return message


def _scheduled(api: httpx2.Client, schedule: str) -> httpx2.Response:
    return api.post("/api/scheduled-jobs/alice", json={"jobSpec": spec("true"), "schedule": schedule})


# Item 1: a valid cron that never fires


@pytest.mark.slow
@pytest.mark.parametrize("schedule", NEVER)
def test_a_schedule_that_never_runs_is_refused_on_create(sapi: httpx2.Client, schedule: str) -> None:
    before = sapi.get("/api/scheduled-jobs/alice").json()
    message = _error(_scheduled(sapi, schedule))
    assert message.startswith("schedule: ")
    assert "never runs" in message
    assert repr(schedule) in message
    assert sapi.get("/api/scheduled-jobs/alice").json() == before  # nothing stored
    assert sapi.get("/api/whoami-v2").status_code == 200  # same connection, still usable


@pytest.mark.parametrize("schedule", NEVER)
def test_a_schedule_that_never_runs_is_refused_on_update(sapi: httpx2.Client, schedule: str) -> None:
    created = _scheduled(sapi, "0 3 * * *").json()
    url = f"/api/scheduled-jobs/alice/{created['id']}"
    message = _error(sapi.post(f"{url}/schedule", json={"schedule": schedule}))
    assert message.startswith("schedule: ")
    assert "never runs" in message
    after = sapi.get(url).json()
    assert after["schedule"] == "0 3 * * *"
    assert after["status"]["nextJobRunAt"] == created["status"]["nextJobRunAt"]


@pytest.mark.parametrize("schedule", ["0 0 29 2 *", "0 0 31 2 1", "0 0 31 12 *", "@yearly"])
def test_rare_but_real_schedules_are_accepted(sapi: httpx2.Client, schedule: str) -> None:
    r = _scheduled(sapi, schedule)
    assert r.status_code == 200, r.text
    assert r.json()["status"]["nextJobRunAt"]


# Item 3: integers in queries and bodies


@pytest.mark.parametrize(
    "raw",
    [
        "\u00b2",  # superscript two: isdigit() says yes, int() says no
        "\u0663",  # Arabic-Indic three: int() takes it, but it is not an ASCII integer
        "1\u00b9",
        "9" * 5000,  # more digits than int() parses
        str(MAX_SAFE_INT + 1),
        "99999999999999999999999",
        "-1",
        "+5",
        " 5",
        "1e3",
        "",
    ],
)
def test_tail_must_be_an_ascii_integer_in_range(sapi: httpx2.Client, raw: str) -> None:
    job = sapi.post("/api/jobs/alice", json=py("print('x')")).json()
    message = _error(sapi.get(f"/api/jobs/alice/{job['id']}/logs", params={"tail": raw}))
    assert message.startswith("tail: must be a whole number from 0 to 9007199254740991")
    assert len(message) < 200  # a 5,000-digit value is not echoed whole


@pytest.mark.parametrize("raw", ["0", "007", str(MAX_SAFE_INT)])
def test_tail_in_range_is_served(sapi: httpx2.Client, raw: str) -> None:
    job = sapi.post("/api/jobs/alice", json=py("print('x')")).json()
    wait_stage(sapi, job["id"])
    r = sapi.get(f"/api/jobs/alice/{job['id']}/logs", params={"tail": raw})
    assert r.status_code == 200
    assert r.text.count("data: ") == (0 if int(raw) == 0 else 2)  # banner and 'x'


@pytest.mark.parametrize(
    "raw", ["\u00b2", "\u0663", "99999999999999999999999", str(2**63), "9" * 5000, "-1", "abc", ""]
)
def test_cursor_must_be_one_the_backend_gave_out(sapi: httpx2.Client, raw: str) -> None:
    message = _error(sapi.get("/api/jobs/alice", params={"cursor": raw}))
    assert message == "cursor: not a cursor this backend gave out"


def test_the_largest_cursor_the_store_holds_is_a_valid_one(sapi: httpx2.Client) -> None:
    sapi.post("/api/jobs/alice", json=spec("true"))
    r = sapi.get("/api/jobs/alice", params={"cursor": str(2**63 - 1)})
    assert r.status_code == 200
    assert r.json()


def _literal_body(**fields: str) -> bytes:
    """A job spec with some fields given as raw JSON literals (numbers json.dumps would not write)."""
    base = json.dumps(spec("true"))[:-1]
    return (base + "".join(f', "{k}": {v}' for k, v in fields.items()) + "}").encode()


@pytest.mark.parametrize(
    ("field", "literal"),
    [
        ("timeoutSeconds", "9" * 5000),
        ("timeoutSeconds", "-" + "9" * 5000),
        ("timeoutSeconds", "99999999999999999999999"),
        ("timeoutSeconds", str(2**63)),
        ("timeoutSeconds", "1e400"),
        ("attempts", "9" * 5000),
        ("attempts", str(MAX_SAFE_INT + 1)),
    ],
)
def test_body_integers_out_of_range_name_the_field(sapi: httpx2.Client, field: str, literal: str) -> None:
    before = sapi.get("/api/jobs/alice/count").json()["count"]
    r = sapi.post(
        "/api/jobs/alice", content=_literal_body(**{field: literal}), headers={"content-type": "application/json"}
    )
    assert _error(r).startswith(f"{field}: ")
    assert sapi.get("/api/jobs/alice/count").json()["count"] == before


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json(sapi: httpx2.Client, literal: str) -> None:
    r = sapi.post("/api/jobs/alice", content=_literal_body(timeoutSeconds=literal))
    assert _error(r) == f"Invalid JSON body: {literal} is not a JSON value"


def test_expose_ports_out_of_range(sapi: httpx2.Client) -> None:
    job = sapi.post("/api/jobs/alice", json=spec("true")).json()
    r = sapi.put(f"/api/jobs/alice/{job['id']}/expose", content=b'{"ports": [' + b"9" * 5000 + b"]}")
    assert _error(r).startswith("ports.0: ")


def test_lone_surrogates_are_refused_not_stored(sapi: httpx2.Client) -> None:
    # json.loads accepts "\ud800"; stored, the job could not be rendered as UTF-8 again.
    before = sapi.get("/api/jobs/alice/count").json()["count"]
    body = json.dumps(spec("true", environment={"AB": "\ud800"}))
    message = _error(sapi.post("/api/jobs/alice", content=body.encode()))
    assert message.startswith("environment.AB: ")
    assert "surrogate" in message
    assert sapi.get("/api/jobs/alice/count").json()["count"] == before


# Item 4: deep nesting, on every route with a body


def _nest(depth: int, inner: str = "1") -> str:
    return "[" * depth + inner + "]" * depth


def _routes(api: httpx2.Client) -> list[tuple[str, str]]:
    job = api.post("/api/jobs/alice", json=spec("true")).json()["id"]
    sched = _scheduled(api, "0 3 * * *").json()["id"]
    hook = api.post(
        "/api/settings/webhooks",
        json={"watched": [{"type": "user", "name": "alice"}], "domains": ["repo"], "url": "https://example.org/h"},
    ).json()["webhook"]["id"]
    return [
        ("POST", "/api/jobs/alice"),
        ("PUT", f"/api/jobs/alice/{job}/labels"),
        ("PUT", f"/api/jobs/alice/{job}/expose"),
        ("POST", "/api/scheduled-jobs/alice"),
        ("POST", f"/api/scheduled-jobs/alice/{sched}/schedule"),
        ("PUT", f"/api/scheduled-jobs/alice/{sched}/labels"),
        ("POST", "/api/settings/webhooks"),
        ("POST", f"/api/settings/webhooks/{hook}"),
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    "body",
    [
        _nest(100_000),  # the whole body: RecursionError in the parser before
        '{"labels": ' + _nest(50_000) + "}",  # inside a known field
        '{"schedule": "@daily", "extra": ' + _nest(50_000, "{}") + "}",  # inside a field the schema ignores
        '{"a": ' * 20_000 + "1" + "}" * 20_000,  # objects rather than arrays
        _nest(MAX_DEPTH + 1),  # just over the limit
    ],
    ids=["array-100000", "known-field", "ignored-field", "objects", "limit+1"],
)
def test_deep_nesting_is_a_400_on_every_route_with_a_body(sapi: httpx2.Client, body: str) -> None:
    for method, url in _routes(sapi):
        r = sapi.request(method, url, content=body.encode(), headers={"content-type": "application/json"})
        assert _error(r) == f"Invalid JSON body: nested more than {MAX_DEPTH} levels deep", (method, url)


def test_nesting_up_to_the_limit_in_an_ignored_field_is_accepted(sapi: httpx2.Client) -> None:
    body: dict[str, Any] = spec("true", extra=json.loads(_nest(MAX_DEPTH - 1)))
    assert sapi.post("/api/jobs/alice", json=body).status_code == 200


# Size


def test_a_body_over_the_cap_is_413_and_the_next_request_works(sapi: httpx2.Client) -> None:
    before = sapi.get("/api/jobs/alice/count").json()["count"]
    big = spec("true", environment={"BIG": "x" * (1024 * 1024)})
    message = _error(sapi.post("/api/jobs/alice", json=big), 413)
    assert message.startswith("Request body too large")
    assert sapi.get("/api/jobs/alice/count").json()["count"] == before


def test_a_chunked_body_over_the_cap_is_413(sapi: httpx2.Client) -> None:
    def chunks() -> Any:
        yield b'{"command": ["true"], "flavor": "cpu-basic", "environment": {"BIG": "'
        for _ in range(40):
            yield b"x" * 32 * 1024
        yield b'"}}'

    r = sapi.post("/api/jobs/alice", content=chunks(), headers={"content-type": "application/json"})
    assert "content-length" not in r.request.headers
    assert _error(r, 413).startswith("Request body too large")
    assert sapi.get("/api/whoami-v2").status_code == 200


@pytest.mark.slow
def test_deep_nesting_is_a_400_on_the_bucket_routes_too(shared_backend: LocalBackend) -> None:
    # Not in the Hub's Jobs document, so a client without the OpenAPI hook.
    with httpx2.Client(base_url=shared_backend.url, headers={"authorization": f"Bearer {TOKEN}"}) as api:
        assert api.post("/api/buckets/alice/deep-nest", json={}).status_code == 200
        deep = _nest(100_000).encode()
        for method, url in [
            ("POST", "/api/buckets/alice/deep-nest-2"),
            ("PUT", "/api/buckets/alice/deep-nest/settings"),
            ("POST", "/api/buckets/alice/deep-nest/paths-info"),
            ("POST", "/api/buckets/alice/deep-nest/batch"),
        ]:
            r = api.request(method, url, content=deep, headers={"content-type": "application/json"})
            assert r.status_code == 400, (method, url, r.text[:200])
            assert f"nested more than {MAX_DEPTH} levels deep" in r.json()["error"]
