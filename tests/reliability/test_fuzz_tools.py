"""Hypothesis fuzzing of every tool's arguments through a real in-memory MCP client, against the local backend.

Design §8: every input an agent can send is validated, nothing crashes, and invalid input sends nothing. For each
of the tools, arguments are drawn from the tool's *published* input schema (what an agent reads), mixed with
wrong types, out-of-range numbers, odd strings, unknown keys and missing required keys. Each call must come back
as a result or an ``isError`` result (a protocol error or a crash fails the test), and every call whose input is
invalid must leave the backend's request counter unchanged (the counter is an ASGI middleware around the
backend's app: it sees every HTTP request that arrives).

"Invalid" means: the tool's own argument model refuses it, or the tool's own checks do (``InvalidRequestError``):
then not one request may be sent. A valid call refused by policy (confirmation needed, secrets missing, a cap)
may read (a webhook's plan shows the job it copies) but never write. The backend answering 400/422 would mean
invalid input got through, so that fails too. The server must also agree with the argument model exactly: a value the
published schema and the model accept must not be refused by the server (and the other way round).

Safety: valid submissions really run, as local processes. Commands are drawn from harmless ones (``true``,
``echo``) or names that do not exist; UV scripts are comments, ``print`` or unreachable URLs, and UV jobs get
``UV_OFFLINE=1`` so ``--with`` can never reach a package index. Referenced jobs are finished ones, so a valid
``wait_for_job``/``fetch_logs`` follow returns at once. Budget: 30 examples per tool (``HFJOBS_FUZZ_EXAMPLES``
to change it), no deadline.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp_types import CallToolResult
from pydantic import ValidationError

from hfjobs_mcp.tools.registry import ALL_TOOLS
from tests.e2e.conftest import Session, text
from tests.reliability.conftest import ORG, USER, Counted, counted_backend, mcp_session, printer_code

TOOLS = {t.name: t for t in ALL_TOOLS}
MAX_EXAMPLES = int(os.environ.get("HFJOBS_FUZZ_EXAMPLES", "30"))  # CI budget; raise it for a deeper local run
# Invalid input (the SDK's schema refusal, our own checks): nothing may reach the backend.
INVALID = {"invalid-args", "InvalidRequestError"}
# Valid input refused by policy (consent needed, secrets missing, caps): reads are allowed (the plan of a webhook
# shows the job it copies), writes are not.
REFUSED = {"PolicyError", "MissingSecretsError", "ConfirmationRequired", "ApprovalPending"}
SUBMITTING = {"run_job", "run_uv_job", "schedule_job", "schedule_uv_job", "rerun_job", "trigger_scheduled_job"}
FLAVORS = ["cpu-basic", "cpu-upgrade", "t4-small", "a10g-large", "h200x8", "no-such-flavor"]


@pytest.fixture(scope="module")
def fuzz_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Counted, dict[str, Any]]]:
    """One backend for the module, with a pool of finished jobs and a suspended yearly schedule to point at."""
    state = tmp_path_factory.mktemp("fuzz") / "state"
    with (
        counted_backend(state) as served,
        httpx2.Client(base_url=served.url, headers={"authorization": f"Bearer {served.token}"}, timeout=30) as api,
    ):
        pool: dict[str, Any] = {"jobs": [], "scheduled": []}
        for code in (printer_code(5, 0), "raise SystemExit(3)"):
            body = {"command": ["python", "-c", code], "arguments": [], "environment": {}, "flavor": "cpu-basic"}
            body["dockerImage"] = "python:3.12"
            pool["jobs"].append(api.post(f"/api/jobs/{USER}", json=body).json()["id"])
        for job_id in pool["jobs"]:
            while api.get(f"/api/jobs/{USER}/{job_id}").json()["status"]["stage"] not in ("COMPLETED", "ERROR"):
                time.sleep(0.05)
        sched = {"jobSpec": {"command": ["true"], "arguments": [], "environment": {}, "flavor": "cpu-basic"}}
        sched["jobSpec"]["dockerImage"] = "ubuntu"
        sched |= {"schedule": "@yearly", "suspend": True}
        pool["scheduled"].append(api.post(f"/api/scheduled-jobs/{USER}", json=sched).json()["id"])
        yield served, pool


@pytest.fixture(scope="module")
def portal() -> Iterator[BlockingPortal]:
    """An event loop in a thread: hypothesis drives a synchronous test, the MCP session lives on this loop."""
    with start_blocking_portal("asyncio") as p:
        yield p


@pytest.fixture(scope="module")
def fuzz_session(portal: BlockingPortal, fuzz_backend: tuple[Counted, dict[str, Any]]) -> Iterator[Session]:
    served, pool = fuzz_backend
    # Waits are capped short: a fuzzed label selector may match a job still running, and must not hold the suite.
    with portal.wrap_async_context_manager(mcp_session(served, max_wait_seconds=5, max_follow_seconds=5)) as s:
        # Warm the two per-client caches (whoami, hardware prices): later pre-flight checks then need no request,
        # so "invalid input sends nothing" is a property of the tool, not of cache timing.
        portal.call(s.api.namespace)
        portal.call(s.call, "list_hardware", {})
        logs = portal.call(s.call, "fetch_logs", {"job_id": pool["jobs"][0], "tail": 2})
        assert logs.structured_content is not None
        pool["cursor"] = logs.structured_content["cursor"]
        yield s


# --- strategies -----------------------------------------------------------------------------------------------

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)
ID_SHAPE = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,30}", fullmatch=True)
ODD_TEXT = st.sampled_from(
    ["", " ", "null", "[]", "{}", "[1]", '{"a": 1}', "..", "../x", "a/b/c", "é", "\x00", "\n", "-1", "1e309", "0"]
)


def _refs(ids: list[str]) -> st.SearchStrategy[str]:
    known = st.sampled_from([*ids, *(f"{USER}/{i}" for i in ids), *(f"{ORG}/{i}" for i in ids), f"bob/{ids[0]}"])
    return st.one_of(known, known, ID_SHAPE, st.text(max_size=30), ODD_TEXT)


def _domain(name: str, pool: dict[str, Any]) -> st.SearchStrategy[Any] | None:
    """Domain-aware values for fields whose free-form values would be useless (ids) or unsafe (commands)."""
    # Commands that really run: harmless ones, or names no executable has (the job fails to start).
    first = st.one_of(
        st.sampled_from(["true", "echo"]), st.text(min_size=1, max_size=8).map(lambda s: f"hfjobs-fuzz-no-such-{s}")
    )
    command = st.builds(lambda a, rest: [a, *rest], first, st.lists(st.text(min_size=1, max_size=10), max_size=3))
    strategies: dict[str, st.SearchStrategy[Any]] = {
        "job_id": _refs(pool["jobs"]),
        "job_ids": st.lists(_refs(pool["jobs"]), max_size=3),
        "webhook_id": st.one_of(ID_SHAPE, ODD_TEXT),
        "scheduled_job_id": _refs(pool["scheduled"]),
        "command": st.one_of(command, command, command, st.sampled_from([[], [""], ["true", ""]])),
        "script": st.one_of(
            st.sampled_from(["print('fuzz')", "import sys\nprint(sys.argv)\n", "http://127.0.0.1:9/x.py"]),
            st.sampled_from(["/nonexistent/fuzz.py", "", " ", "fuzz.py"]),
            st.text(max_size=30).map(lambda s: "# " + s.replace("\n", " ").replace("\r", " ")),
        ),
        # A path in a job (read_job_file, list_job_files) or a volume's sub-folder: absolute, relative, escaping.
        "path": st.one_of(
            st.sampled_from(["/data/outputs/metrics.json", "/data", "/", "/etc/passwd", "/data/../etc", "data/x"]),
            st.text(max_size=12),
        ),
        # Local paths that exist nowhere, or folders far over the upload limits (refused after a quick walk).
        "files": st.lists(
            st.one_of(st.sampled_from(["/nonexistent/fuzz.yml", "..", "/", ".", "a b.txt"]), st.text(max_size=10)),
            max_size=2,
        ),
        "file_texts": st.dictionaries(
            st.one_of(st.sampled_from(["config.yml", "../x", "/abs", "a//b", "in/put.txt"]), st.text(max_size=8)),
            st.text(max_size=20),
            max_size=2,
        ),
        "dependencies": st.lists(st.sampled_from(["hfjobs-fuzz-no-such-pkg", "numpy>=1", "", "a b"]), max_size=2),
        "timeout": st.one_of(
            st.sampled_from(["90s", "30m", "1.5h", "2d", "0", "-5", "1e9", "abc", "", " 5m ", "5 m", "1.5", "nan"]),
            st.integers(min_value=-10, max_value=10**8),
            st.none(),
        ),
        "schedule": st.one_of(
            st.sampled_from(
                ["@yearly", "@hourly", "0 9 * * 1", "*/15 * * * *", "* * * * * *", "@reboot", "", "61 * * * *"]
            ),
            st.text(max_size=20),
        ),
        "flavor": st.one_of(st.sampled_from(FLAVORS), st.text(max_size=15)),
        "namespace": st.one_of(st.sampled_from([USER, ORG, "bob", None]), ID_SHAPE, ODD_TEXT),
        "cursor": st.one_of(
            st.sampled_from([pool.get("cursor", "x"), "x", "eyJqIjoieCJ9", "!!!"]), st.text(max_size=20), st.none()
        ),
        "grep": st.one_of(
            st.none(), st.text(max_size=10), ODD_TEXT, st.sampled_from(["line", "(", "[a-", "line [0-9]"])
        ),
        "follow_seconds": st.one_of(st.floats(min_value=0, max_value=2), st.sampled_from([-1, 0, 10**9])),
        "timeout_seconds": st.one_of(st.floats(min_value=0.01, max_value=2), st.sampled_from([0, -1, 10**9])),
        "confirm": st.one_of(st.none(), st.text(max_size=10), st.sampled_from(["000000", "abc-123"])),
        "secrets": st.lists(
            st.one_of(st.sampled_from(["HF_TOKEN", "MY_SECRET", "", "lower"]), st.text(max_size=8)), max_size=2
        ),
        "env": st.dictionaries(
            st.one_of(st.sampled_from(["GREETING", "PATH", "", "1X", "HF_TOKEN"]), st.text(max_size=6)),
            st.one_of(st.text(max_size=12), st.sampled_from(["hf_abcdefghijklmnopqrstuvwxyz0123456789AB"])),
            max_size=3,
        ),
        "labels": st.dictionaries(
            st.one_of(st.sampled_from(["team", "a.b", "", "x y", "hfjobs-mcp-submission"]), st.text(max_size=6)),
            st.text(max_size=10),
            max_size=3,
        ),
        "image": st.one_of(
            st.sampled_from(
                ["python:3.12", "ubuntu", "hf.co/spaces/alice/x", "ghcr.io/astral-sh/uv:python3.12-bookworm"]
            ),
            st.text(max_size=20),
        ),
    }
    return strategies.get(name)


def _valid(schema: dict[str, Any], defs: dict[str, Any], name: str, pool: dict[str, Any]) -> st.SearchStrategy[Any]:
    domain = _domain(name, pool)
    if domain is not None:
        return domain
    if "$ref" in schema:
        return _valid(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, name, pool)
    if "anyOf" in schema:
        return st.one_of([_valid(s, defs, name, pool) for s in schema["anyOf"]])
    if "enum" in schema:
        return st.one_of(st.sampled_from(schema["enum"]), st.sampled_from(["", "OTHER", "repo ", "Cpu"]))
    kinds = schema.get("type", "string")
    if isinstance(kinds, list):
        return st.one_of([_valid({**schema, "type": k}, defs, name, pool) for k in kinds])
    if kinds == "null":
        return st.none()
    if kinds == "boolean":
        return st.booleans()
    if kinds in ("integer", "number"):
        lo, hi = schema.get("minimum"), schema.get("maximum")
        edges = [v for b in (lo, hi) if b is not None for v in (b - 1, b, b + 1)]
        core = (
            st.integers(min_value=lo, max_value=hi)
            if kinds == "integer"
            else st.floats(min_value=lo, max_value=hi, allow_nan=False, allow_infinity=False)
        )
        return st.one_of(core, st.sampled_from(edges or [0]))
    if kinds == "string":
        if "pattern" in schema:
            return st.one_of(
                st.from_regex(schema["pattern"], fullmatch=True).map(lambda s: s[:40]), st.text(max_size=10)
            )
        return st.one_of(st.text(min_size=schema.get("minLength", 0), max_size=30), ODD_TEXT)
    if kinds == "array":
        items = _valid(schema.get("items", {}), defs, "", pool)
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=min(schema.get("maxItems", 4), 4))
    if kinds == "object":
        if "properties" in schema:
            return _object(schema, defs, pool)
        values = _valid(schema.get("additionalProperties", {"type": "string"}), defs, "", pool)
        return st.dictionaries(st.text(max_size=8), values, max_size=3)
    raise AssertionError(f"schema type {kinds!r} not covered by the fuzzer")


def _object(schema: dict[str, Any], defs: dict[str, Any], pool: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A nested object (a volume, a watched repo): each value sometimes junk."""
    props = schema["properties"]
    required = set(schema.get("required", []))

    def value(v: dict[str, Any], k: str) -> st.SearchStrategy[Any]:
        return st.one_of(_valid(v, defs, k, pool), _valid(v, defs, k, pool), _valid(v, defs, k, pool), JUNK)

    return st.fixed_dictionaries(
        {k: value(v, k) for k, v in props.items() if k in required},
        optional={k: value(v, k) for k, v in props.items() if k not in required},
    )


def arguments(tool_name: str, pool: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    """A tool's arguments from its schema's object: the required keys and up to four optional ones, then as drawn
    left alone (half the time), one value swapped for junk, an unknown key added, or a required key dropped.

    Few optional keys per call keep a fair share of calls valid, so the fuzzer gets past validation too."""
    schema = TOOLS[tool_name].input_schema()
    defs = schema.get("$defs", {})
    props = schema["properties"]
    required = sorted(schema.get("required", []))
    optional = sorted(set(props) - set(required))

    @st.composite
    def build(draw: st.DrawFn) -> dict[str, Any]:
        keys = required + draw(st.lists(st.sampled_from(optional), max_size=4, unique=True)) if optional else required
        args = {k: draw(_valid(props[k], defs, k, pool), label=k) for k in keys}
        twist = draw(st.sampled_from(["none"] * 4 + ["junk", "junk", "extra", "drop"]))
        if twist == "junk" and props:
            args[draw(st.sampled_from(sorted(props)))] = draw(JUNK)
        elif twist == "extra":
            args[draw(st.sampled_from(["extra", "jobId", "Image", "dryRun"]))] = draw(JUNK)
        elif twist == "drop" and required:
            args.pop(draw(st.sampled_from(required)), None)
        if tool_name == "wait_for_jobs" and twist == "none":
            # Exactly one of job_ids and labels is valid: pick job_ids, so the fuzzer gets past validation too.
            args.pop("labels", None)
            args["job_ids"] = [draw(st.sampled_from(pool["jobs"]))]  # a finished job: valid, and returns at once
        if tool_name in ("run_uv_job", "schedule_uv_job") and isinstance(args.get("env", {}), dict):
            args["env"] = {**args.get("env", {}), "UV_OFFLINE": "1"}  # never reach a package index
        return args

    return build()


# --- the property ---------------------------------------------------------------------------------------------


def _model_accepts(tool_name: str, args: dict[str, Any]) -> bool:
    try:
        TOOLS[tool_name].args.model_validate(args)
    except ValidationError:
        return False
    return True


def _classify(result: CallToolResult, tool_name: str) -> str:
    """``ok``, ``invalid-args`` (the tool's argument model refused: InvalidArgumentsError), another error type of
    ours, or ``crash``."""
    if not result.is_error:
        return "ok"
    if result.structured_content is not None and "error" in result.structured_content:
        kind = str(result.structured_content["error"]["type"])
        return "invalid-args" if kind == "InvalidArgumentsError" else kind
    return "crash"


OUTCOMES: dict[str, dict[str, int]] = {}


@pytest.mark.parametrize("tool_name", list(TOOLS))
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
    database=None,
)
@given(data=st.data())
def test_fuzz_tool_arguments(
    tool_name: str,
    portal: BlockingPortal,
    fuzz_backend: tuple[Counted, dict[str, Any]],
    fuzz_session: Session,
    data: st.DataObject,
) -> None:
    served, pool = fuzz_backend
    args = data.draw(arguments(tool_name, pool), label="arguments")
    mark = served.counter.count
    result = portal.call(fuzz_session.client.call_tool, tool_name, args)  # a protocol error raises here
    sent = served.counter.since(mark)
    outcome = _classify(result, tool_name)
    counts = OUTCOMES.setdefault(tool_name, {})
    counts[outcome] = counts.get(outcome, 0) + 1
    assert outcome != "crash", f"{tool_name} crashed on {args!r}: {text(result)}"
    accepted = _model_accepts(tool_name, args)
    assert (outcome != "invalid-args") == accepted, (
        f"{tool_name}: the server {'refused' if accepted else 'accepted'} arguments its own model "
        f"{'accepts' if accepted else 'refuses'}: {args!r} -> {text(result)[:300]}"
    )
    if outcome in INVALID:
        assert sent == [], f"{tool_name}: invalid input {args!r} ({outcome}) reached the backend: {sent}"
    if outcome in REFUSED:
        writes = [r for r in sent if r[0] != "GET"]
        assert writes == [], f"{tool_name}: refused call {args!r} ({outcome}) still wrote: {writes}"
    assert outcome != "BadRequestError", (
        f"{tool_name}: the backend refused {args!r} (so invalid input was sent): {text(result)[:300]}"
    )


def test_fuzz_outcomes_were_varied() -> None:
    """Runs after the fuzz tests (file order): each tool saw both refusals and accepted calls, so the fuzzer
    reached past validation rather than only bouncing off it."""
    if not OUTCOMES:
        pytest.skip("run with the fuzz tests")
    for tool_name, counts in OUTCOMES.items():
        print(f"{tool_name}: {counts}")
        assert "invalid-args" in counts, tool_name
        assert len(counts) >= 2, (tool_name, counts)


@pytest.mark.slow
def test_what_the_fuzzer_found_stays_fixed(
    portal: BlockingPortal, fuzz_backend: tuple[Counted, dict[str, Any]], fuzz_session: Session
) -> None:
    """The fuzzer's findings, pinned. (1) A string that happens to be JSON (``"[]"``, ``"null"``) stays a string
    in a string field: the SDK decoded it, refusing ``name="[]"`` and turning ``grep="null"`` into no filter.
    (2) A label filter no label could match is refused before sending (the API answered 400)."""
    served, pool = fuzz_backend
    dry = portal.call(
        fuzz_session.client.call_tool,
        "run_job",
        {"image": "ubuntu", "command": ["true"], "name": "[]", "dry_run": True},
    )
    assert _classify(dry, "run_job") == "InvalidRequestError", text(dry)  # the string reached our own checks
    assert "label 'name'" in text(dry)
    for needle in ("null", "[1]", "{}"):
        logs = portal.call(fuzz_session.client.call_tool, "fetch_logs", {"job_id": pool["jobs"][0], "grep": needle})
        assert not logs.is_error, text(logs)
        assert logs.structured_content is not None
        assert logs.structured_content["lines"] == []  # no line of "line 0".."line 4" contains it
    for tool_name in ("list_jobs", "list_scheduled_jobs"):
        mark = served.counter.count
        refused = portal.call(fuzz_session.client.call_tool, tool_name, {"labels": {"team": ":"}})
        assert _classify(refused, tool_name) == "invalid-args", text(refused)
        assert served.counter.since(mark) == []
