"""Job spec building and validation: wire §4.1 timeouts, §4.3 server-side rules, and fuzzing.

Invalid input raises :class:`InvalidRequestError` and sends nothing: the transport must see zero requests.
``huggingface_hub`` 2.4.0 (a dev dependency) is the oracle for timeouts and default names where they agree.
"""

from __future__ import annotations

import math
from typing import Any

import httpx2
import pytest
from huggingface_hub._jobs_api import _create_job_spec, _default_job_name_from_image
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hfjobs_mcp.api import JobSpec, Volume, default_job_name, parse_timeout
from hfjobs_mcp.errors import InvalidRequestError
from tests.api.fakes import ENDPOINT, TOKEN, job_json

# --- §4.1 timeouts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("2h", 7200),
        ("30m", 1800),
        ("90s", 90),
        ("1.5h", 5400),
        ("1d", 86400),
        ("2d", 172800),
        ("0.5m", 30),
        ("1e2s", 100),
        (300, 300),
        ("300", 300),
        (2.9, 2),
        (0, None),
        ("", None),
        (None, None),
    ],
)
def test_timeout_table(value: Any, seconds: int | None) -> None:
    assert parse_timeout(value) == seconds
    wire = JobSpec(image="ubuntu", command=["x"], timeout=value).to_wire()
    assert wire.get("timeoutSeconds") == seconds
    if seconds is None:
        assert "timeoutSeconds" not in wire


@pytest.mark.parametrize(
    "value",
    [
        "300.7",
        "5M",
        "2w",
        "1h30m",
        "-5m",
        -1,
        -0.5,
        "0s",
        "0.001s",
        0.5,
        math.nan,
        math.inf,
        "nan",
        "infs",
        "abc",
        True,
    ],
)
def test_timeout_refused(value: Any) -> None:
    """ValueError cases of §4.1, plus what huggingface_hub would send and the server refuse (≤ 0, NaN)."""
    with pytest.raises(InvalidRequestError):
        parse_timeout(value)
    with pytest.raises(InvalidRequestError):
        JobSpec(image="ubuntu", command=["x"], timeout=value)


def test_timeout_false_is_omitted() -> None:
    assert parse_timeout(False) is None


@given(
    st.one_of(
        st.integers(min_value=1, max_value=10**9),
        st.floats(min_value=1, max_value=1e9),
        st.builds(
            lambda n, u: f"{n}{u}",
            st.floats(min_value=0.02, max_value=1e6, allow_nan=False).map(lambda f: round(f, 3)),
            st.sampled_from("smhd"),
        ),
        st.integers(min_value=1, max_value=10**9).map(str),
    )
)
def test_timeout_agrees_with_huggingface_hub(value: int | float | str) -> None:
    theirs = _create_job_spec(image="u", command=["x"], env=None, secrets=None, flavor=None, timeout=value)
    assume(theirs["timeoutSeconds"] > 0)  # below one second they send 0, which we refuse (tested above)
    assert parse_timeout(value) == theirs["timeoutSeconds"]


# --- default names ---------------------------------------------------------------------------------------------


@pytest.mark.slow
@given(
    st.text(alphabet="abcdefghijklmnop:/.@-_019", min_size=1, max_size=30),
    st.lists(st.text(min_size=1, max_size=10), min_size=1, max_size=4),
)
def test_default_name_agrees_with_huggingface_hub(image: str, command: list[str]) -> None:
    assert default_job_name(image, command) == _default_job_name_from_image(image, command)


@pytest.mark.parametrize(
    ("image", "prefix"),
    [
        ("ubuntu", "ubuntu-"),
        ("python:3.12", "python-3-12-"),
        ("ghcr.io/astral-sh/uv:python3.12-bookworm", "uv-python3-12-bookworm-"),
        ("hf.co/spaces/lhoestq/duckdb", "lhoestq-duckdb-"),
        ("pytorch/pytorch:2.6.0-cuda12.4-cudnn9-devel", "pytorch-2-6-0-cuda12-4-cudnn9-devel-"),
    ],
)
def test_default_name_examples(image: str, prefix: str) -> None:
    name = default_job_name(image, ["x"])
    assert name.startswith(prefix)
    assert len(name) == len(prefix) + 8


# --- §4.3 validation: refused before sending -------------------------------------------------------------------

BASE: dict[str, Any] = {"image": "python:3.12", "command": ["python", "-c", "print(1)"]}

INVALID: list[tuple[str, dict[str, Any]]] = [
    ("env key of 1 char", {"env": {"A": "1"}}),
    ("env key starting with a digit", {"env": {"1AB": "1"}}),
    ("env key with a dash", {"env": {"AB-C": "1"}}),
    ("env key with a trailing newline", {"env": {"AB\n": "1"}}),
    ("env value not a string", {"env": {"AB": 1}}),
    ("secret key with a dot", {"secrets": {"A.B": "x"}}),
    ("secret key empty", {"secrets": {"": "x"}}),
    ("label key with a space", {"labels": {"a b": "v"}}),
    ("label key empty", {"labels": {"": "v"}}),
    ("label key with a slash", {"labels": {"team/x": "v"}}),
    ("label value with a colon", {"labels": {"k": "a:b"}}),
    ("label value with a newline", {"labels": {"k": "ab\n"}}),
    ("label key of 101 chars", {"labels": {"k" * 101: "v"}}),
    ("label value of 101 chars", {"labels": {"k": "v" * 101}}),
    ("name with a space", {"name": "my job"}),
    ("name of 101 chars", {"name": "n" * 101}),
    ("name and name label", {"name": "a", "labels": {"name": "b"}}),
    ("port 0", {"expose": [0]}),
    ("port 65536", {"expose": [65536]}),
    ("public port 0", {"expose_public": [0]}),
    ("port as bool", {"expose": [True]}),
    ("21 ports", {"expose": list(range(8000, 8021))}),
    ("21 ports across both lists", {"expose": list(range(8000, 8011)), "expose_public": list(range(9000, 9011))}),
    ("mount path relative", {"volumes": [Volume(type="dataset", source="org/ds", mount_path="data")]}),
    ("mount path empty", {"volumes": [Volume(type="dataset", source="org/ds", mount_path="")]}),
    ("volume type", {"volumes": [Volume(type="repo", source="org/ds", mount_path="/d")]}),  # type: ignore[arg-type]
    ("volume source empty", {"volumes": [Volume(type="model", source="", mount_path="/d")]}),
    (
        "two volumes, one mount path",
        {"volumes": [Volume(type="model", source="a/b", mount_path="/d"), Volume("model", "c/d", "/d")]},
    ),
    ("attempts 0", {"attempts": 0}),
    ("attempts -1", {"attempts": -1}),
    ("attempts 1.5", {"attempts": 1.5}),
    ("attempts True", {"attempts": True}),
    ("command empty", {"command": []}),
    ("command empty item", {"command": ["python", ""]}),
    ("command as a string", {"command": "echo hi"}),
    ("command item not a string", {"command": ["echo", 1]}),
    ("image empty", {"image": ""}),
    ("image with a space", {"image": "python 3"}),
    ("space prefix alone", {"image": "hf.co/spaces/"}),
    ("flavor empty", {"flavor": ""}),
    ("flavor with upper case", {"flavor": "A10G"}),
    ("timeout unparsable", {"timeout": "1h30m"}),
]


class NoRequests:
    """A transport handler that fails the test if the client sends anything."""

    def __init__(self) -> None:
        self.requests: list[httpx2.Request] = []

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        return httpx2.Response(200, json=job_json())


@pytest.mark.parametrize(("why", "fields"), INVALID, ids=[why for why, _ in INVALID])
def test_invalid_spec_is_refused(why: str, fields: dict[str, Any]) -> None:
    with pytest.raises(InvalidRequestError) as info:
        JobSpec(**{**BASE, **fields})
    assert info.value.hint
    assert "nothing was sent" in info.value.hint


@pytest.mark.anyio
async def test_invalid_input_sends_nothing() -> None:
    """The client-level paths that validate (labels, expose) refuse before sending, too."""
    from hfjobs_mcp.api import JobsClient

    seen = NoRequests()
    async with JobsClient(token=TOKEN, endpoint=ENDPOINT, transport=httpx2.MockTransport(seen), namespace="alice") as c:
        with pytest.raises(InvalidRequestError):
            await c.update_job_labels("abc", {"k": "v" * 101})
        with pytest.raises(InvalidRequestError):
            await c.update_scheduled_job_labels("sj1", {"": "v"})
        with pytest.raises(InvalidRequestError):
            await c.update_job_expose("abc", list(range(1, 22)))
        with pytest.raises(InvalidRequestError):
            c.stream_logs("abc", tail=-1)
    assert seen.requests == []


def test_all_problems_reported_at_once() -> None:
    with pytest.raises(InvalidRequestError) as info:
        JobSpec(image="ubuntu", command=["x"], env={"A": "1"}, expose=[0], attempts=0)
    message = info.value.message
    assert "env key 'A'" in message
    assert "port 0" in message
    assert "attempts" in message


@pytest.mark.parametrize(
    "fields",
    [
        {"env": {"AB": "1", "A_1": ""}},
        {"secrets": {"A": "x"}},  # secrets may be one letter
        {"labels": {"a.b_c-d": "", "K" * 100: "v" * 100}},
        {"name": "n" * 100},
        {"expose": list(range(8000, 8020))},
        {"expose": [1, 65535]},
        {"expose": [8000] * 30},  # duplicates are merged before counting
        {"attempts": 1},
        {"volumes": [Volume(type="bucket", source="alice/b", mount_path="/")]},
        {"flavor": "h200x8"},
    ],
)
def test_valid_edges_are_accepted(fields: dict[str, Any]) -> None:
    JobSpec(**{**BASE, **fields}).to_wire()


def test_labels_name_only_via_labels() -> None:
    assert JobSpec(**BASE, labels={"name": "mine"}).to_wire()["labels"] == {"name": "mine"}
    assert JobSpec(**BASE, name="mine").to_wire()["labels"] == {"name": "mine"}


# --- fuzzing: only InvalidRequestError, and never a request for invalid input ----------------------------------

_text = st.text(max_size=12)
_ident = st.from_regex(r"[a-zA-Z][_a-zA-Z0-9]{0,6}", fullmatch=True)
_any_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), _text)

_spec_kwargs = st.fixed_dictionaries(
    {},
    optional={
        "image": st.one_of(_text, st.sampled_from(["ubuntu", "python:3.12", "hf.co/spaces/a/b", "hf.co/spaces/"])),
        "command": st.one_of(st.lists(_text, max_size=3), _text, st.lists(_any_scalar, max_size=2)),
        "env": st.dictionaries(st.one_of(_ident, _text), st.one_of(_text, _any_scalar), max_size=3),
        "secrets": st.dictionaries(st.one_of(_ident, _text), _text, max_size=2),
        "flavor": st.one_of(_text, st.sampled_from(["cpu-basic", "a10g-small"])),
        "timeout": st.one_of(_any_scalar, st.from_regex(r"-?[0-9.e]{1,5}[smhdw]?", fullmatch=True)),
        "labels": st.dictionaries(_text, _text, max_size=3),
        "volumes": st.lists(
            st.builds(
                Volume,
                type=st.sampled_from(["bucket", "model", "dataset", "space", "repo"]),
                source=_text,
                mount_path=_text,
                revision=st.none() | _text,
                read_only=st.none() | st.booleans(),
                path=st.none() | _text,
            ),
            max_size=2,
        ),
        "expose": st.lists(st.one_of(st.integers(-5, 70000), st.booleans()), max_size=22),
        "expose_public": st.lists(st.integers(-5, 70000), max_size=3),
        "name": st.none() | _text,
        "attempts": st.none() | st.integers(-2, 5) | st.floats(-1, 3),
    },
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_spec_kwargs)
def test_fuzz_spec_never_crashes(kwargs: dict[str, Any]) -> None:
    kwargs = {"image": "ubuntu", "command": ["echo"], **kwargs}
    try:
        spec = JobSpec(**kwargs)
    except InvalidRequestError:
        return
    wire = spec.to_wire()
    # Whatever got through must satisfy the server's schema (wire §4.3).
    assert isinstance(wire["command"], list)
    assert wire["command"]
    assert all(isinstance(c, str) and c for c in wire["command"])
    assert all(len(k) >= 2 for k in wire["environment"])
    assert all(0 < len(k) <= 100 and len(v) <= 100 for k, v in wire["labels"].items())
    if "timeoutSeconds" in wire:
        assert isinstance(wire["timeoutSeconds"], int)
        assert wire["timeoutSeconds"] > 0
    if "expose" in wire:
        assert len(wire["expose"]["ports"]) <= 20
        assert set(wire["expose"]["portsPublic"]) <= set(wire["expose"]["ports"])
    assert all(v["mountPath"].startswith("/") for v in wire.get("volumes", []))
    assert ("dockerImage" in wire) != ("spaceId" in wire)


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(_spec_kwargs)
def test_fuzz_run_job_sends_nothing_for_invalid_input(kwargs: dict[str, Any]) -> None:
    """Through the client: an invalid spec can't even be built, so run_job can never send it."""
    import anyio

    from hfjobs_mcp.api import JobsClient

    seen = NoRequests()
    kwargs = {"image": "ubuntu", "command": ["echo"], **kwargs}

    async def go() -> None:
        async with JobsClient(
            token=TOKEN, endpoint=ENDPOINT, transport=httpx2.MockTransport(seen), namespace="alice"
        ) as client:
            await client.run_job(JobSpec(**kwargs))

    try:
        anyio.run(go)
    except InvalidRequestError:
        assert seen.requests == []
    else:
        assert len(seen.requests) == 1


# --- what passes our validation, the Hub's request schema accepts ---------------------------------------------

_OAS_FLAVORS = [
    "cpu-basic",
    "cpu-upgrade",
    "t4-small",
    "a10g-small",
    "a100-large",
    "h200x8",
    "l40sx1",
    "rtx-pro-6000x2",
    "inf2x6",
]


def _request_errors(method: str, path: str, body: Any) -> list[str]:
    from tests.openapi import _validator_for_pointer, find_operation

    op = find_operation(method, path)
    validator = _validator_for_pointer(f"{op.pointer}/requestBody/content/application~1json/schema")
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]


@pytest.mark.slow
@settings(max_examples=300, deadline=None)
@given(_spec_kwargs, st.sampled_from(_OAS_FLAVORS))
def test_fuzz_accepted_specs_validate_against_the_hub_schema(kwargs: dict[str, Any], flavor: str) -> None:
    """Anything JobSpec accepts (with a flavor the Hub knows) is a body the Hub's OpenAPI schema accepts."""
    kwargs = {"image": "ubuntu", "command": ["echo"], **kwargs, "flavor": flavor}
    try:
        spec = JobSpec(**kwargs)
    except InvalidRequestError:
        return
    body = spec.to_wire()
    assert _request_errors("POST", "/api/jobs/alice", body) == []
    scheduled = {"jobSpec": body, "schedule": "@hourly", "suspend": False, "concurrency": True}
    assert _request_errors("POST", "/api/scheduled-jobs/alice", scheduled) == []


def test_timeout_and_attempts_caps() -> None:
    assert parse_timeout(2**53 - 1) == 2**53 - 1
    with pytest.raises(InvalidRequestError):
        parse_timeout("1e300s")
    with pytest.raises(InvalidRequestError):
        JobSpec(image="ubuntu", command=["x"], attempts=2**53)
    full = JobSpec(
        image="python:3.12",
        command=["python", "-c", "print(1)"],
        env={"AB": "1"},
        secrets={"S": "x"},
        flavor="a10g-small",
        timeout="1.5h",
        attempts=2,
        labels={"team": "ml"},
        volumes=[Volume(type="dataset", source="org/ds", mount_path="/data", read_only=True)],
        expose=[8000, 9000],
        expose_public=[9000],
    )
    assert _request_errors("POST", "/api/jobs/alice", full.to_wire()) == []
