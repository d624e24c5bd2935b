"""Every endpoint at the HTTP boundary: method, path, query and body, compared with wire §3, §4 and Appendix A.

The client adds a ``hfjobs-mcp-submission`` label to run and scheduled-create bodies (it makes retries safe);
each test checks it is there and unique, pops it, and compares the rest of the body exactly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hfjobs_mcp.api import SUBMISSION_LABEL, JobsClient, JobSpec, Volume
from hfjobs_mcp.errors import ApiError, InvalidRequestError
from tests.api.fakes import TOKEN, USER, http_date, job_json, make_client, scheduled_json

pytestmark = pytest.mark.anyio

WHOAMI = {"type": "user", "id": "u1", "name": USER, "orgs": [{"type": "org", "name": "myorg"}]}
HARDWARE = [
    {
        "name": "cpu-basic",
        "prettyName": "CPU Basic",
        "cpu": "2 vCPU",
        "ram": "16 GB",
        "ephemeralStorage": "20 GB",
        "accelerator": None,
        "unitCostMicroUSD": 167,
        "unitCostUSD": 0.000167,
        "unitLabel": "minute",
    },
    {
        "name": "a10g-small",
        "prettyName": "Nvidia A10G - small",
        "cpu": "4 vCPU",
        "ram": "15 GB",
        "ephemeralStorage": "110 GB",
        "accelerator": {"type": "gpu", "model": "A10G", "quantity": "1", "vram": "24 GB", "manufacturer": "Nvidia"},
        "unitCostMicroUSD": 16667,
        "unitCostUSD": 0.016667,
        "unitLabel": "minute",
    },
]
WEBHOOK = {
    "id": "wh1",
    "watched": [{"type": "user", "name": USER}],
    "domains": ["repo", "discussion"],
    "job": {"dockerImage": "python:3.12", "command": ["echo"], "flavor": "cpu-basic"},
    "disabled": False,
}


class Recorder:
    """A MockTransport handler that records each request and answers from a per-route table."""

    def __init__(self, routes: dict[tuple[str, str], Any] | None = None) -> None:
        self.requests: list[httpx2.Request] = []
        self.routes = routes or {}

    def __call__(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        key = (request.method, request.url.path)
        if key in self.routes:
            value = self.routes[key]
            if isinstance(value, httpx2.Response):
                return value
            if callable(value):
                result: httpx2.Response = value(request)
                return result
        elif request.url.path == "/api/whoami-v2":
            value = WHOAMI
        elif request.url.path.startswith("/api/scheduled-jobs/") and request.url.path.count("/") <= 3:
            value = [] if request.method == "GET" else scheduled_json()
        elif request.url.path.startswith("/api/scheduled-jobs/") and not request.url.path.endswith("/run"):
            value = scheduled_json()
        elif request.method == "GET" and request.url.path.startswith("/api/jobs/") and request.url.path.count("/") == 3:
            value = [job_json()]
        elif request.url.path.startswith("/api/settings/webhooks"):
            listing = request.method == "GET" and request.url.path == "/api/settings/webhooks"
            value = [WEBHOOK] if listing else {"webhook": WEBHOOK}
        else:
            value = job_json()
        return httpx2.Response(200, json=value, headers={"date": http_date()})

    def calls(self) -> list[str]:
        return [f"{r.method} {r.url.raw_path.decode()}" for r in self.requests]

    def body(self, i: int = -1) -> Any:
        return json.loads(self.requests[i].content)

    def posts(self) -> list[httpx2.Request]:
        return [r for r in self.requests if r.method == "POST"]


def pop_submission(body: dict[str, Any]) -> str:
    """Check the submission label is there and well formed, remove it, return it."""
    mark = body["labels"].pop(SUBMISSION_LABEL)
    assert re.fullmatch(r"[0-9a-f]{32}", mark)
    return mark


# --- run_job bodies -------------------------------------------------------------------------------------------


async def test_minimal_body_matches_wire_example() -> None:
    rec = Recorder()
    async with make_client(rec) as client:
        await client.run_job(JobSpec(image="ubuntu", command=["echo", "hello"], name="ubuntu-097c48ca"))
    assert rec.calls() == ["GET /api/whoami-v2", "POST /api/jobs/alice"]
    body = rec.body()
    pop_submission(body)
    assert body == {
        "command": ["echo", "hello"],
        "arguments": [],
        "environment": {},
        "flavor": "cpu-basic",
        "labels": {"name": "ubuntu-097c48ca"},
        "dockerImage": "ubuntu",
    }
    post = rec.requests[-1]
    assert post.headers["content-type"] == "application/json"
    assert post.headers["authorization"] == f"Bearer {TOKEN}"
    assert post.headers["user-agent"].startswith("hfjobs-mcp/")


async def test_auto_name_is_the_library_one() -> None:
    rec = Recorder()
    async with make_client(rec, namespace=USER) as client:
        job = await client.run_job(JobSpec(image="python:3.12", command=["python", "-c", "print(1)"]))
    assert job.id == "abc"
    body = rec.body()
    pop_submission(body)
    assert body == {
        "command": ["python", "-c", "print(1)"],
        "arguments": [],
        "environment": {},
        "flavor": "cpu-basic",
        "labels": {"name": "python-3-12-3212e188"},
        "dockerImage": "python:3.12",
    }


async def test_full_body_matches_wire_example() -> None:
    """wire §4 full body, with a two-letter env key (the Hub's schema refuses the example's single-letter `A`)."""
    rec = Recorder()
    spec = JobSpec(
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
    async with make_client(rec, namespace=USER) as client:
        await client.run_job(spec)
    body = rec.body()
    pop_submission(body)
    assert body == {
        "command": ["python", "-c", "print(1)"],
        "arguments": [],
        "environment": {"AB": "1"},
        "flavor": "a10g-small",
        "secrets": {"S": "x"},
        "timeoutSeconds": 5400,
        "attempts": 2,
        "labels": {"team": "ml", "name": "python-3-12-3212e188"},
        "volumes": [{"type": "dataset", "source": "org/ds", "mountPath": "/data", "readOnly": True}],
        "expose": {"ports": [8000, 9000], "portsPublic": [9000]},
        "dockerImage": "python:3.12",
    }
    assert "secrets" not in repr(spec)  # values live only in the body


async def test_cli_body_from_appendix_a() -> None:
    rec = Recorder()
    spec = JobSpec(
        image="python:3.12",
        command=["python", "-c", "print(1)"],
        env={"FOO": "bar"},
        secrets={"HF_TOKEN": "hf_testtoken", "MYSEC": "topsecret"},
        flavor="t4-small",
        timeout="30m",
        labels={"team": "ml"},
        name="python-3-12-f9160b26",
        expose=[8000],
    )
    async with make_client(rec) as client:
        await client.run_job(spec)
    body = rec.body()
    pop_submission(body)
    assert body == {
        "command": ["python", "-c", "print(1)"],
        "arguments": [],
        "environment": {"FOO": "bar"},
        "flavor": "t4-small",
        "secrets": {"HF_TOKEN": "hf_testtoken", "MYSEC": "topsecret"},
        "timeoutSeconds": 1800,
        "labels": {"team": "ml", "name": "python-3-12-f9160b26"},
        "expose": {"ports": [8000], "portsPublic": []},
        "dockerImage": "python:3.12",
    }


@pytest.mark.parametrize(
    ("image", "name"),
    [
        ("hf.co/spaces/lhoestq/duckdb", "lhoestq-duckdb-a24acb5f"),
        ("https://huggingface.co/spaces/lhoestq/duckdb", "lhoestq-duckdb-8ae1c7e9"),
        ("https://hf.co/spaces/lhoestq/duckdb", None),
        ("huggingface.co/spaces/lhoestq/duckdb", None),
    ],
)
async def test_space_image_becomes_space_id(image: str, name: str | None) -> None:
    rec = Recorder()
    async with make_client(rec) as client:
        await client.run_job(JobSpec(image=image, command=["duckdb"]), namespace="myorg")
    assert rec.calls() == ["POST /api/jobs/myorg"]  # namespace given: no whoami
    body = rec.body()
    pop_submission(body)
    assert body["spaceId"] == "lhoestq/duckdb"
    assert "dockerImage" not in body
    if name:
        assert body["labels"] == {"name": name}


async def test_submission_label_is_unique_per_submission() -> None:
    rec = Recorder()
    spec = JobSpec(image="ubuntu", command=["echo", "hello"])
    async with make_client(rec, namespace=USER) as client:
        await client.run_job(spec)
        await client.run_job(spec)
        await client.create_scheduled_job(spec, schedule="@hourly")
    marks = [pop_submission(rec.body(0)), pop_submission(rec.body(1)), pop_submission(rec.body(2)["jobSpec"])]
    assert len(set(marks)) == 3
    assert SUBMISSION_LABEL not in spec.labels  # the caller's spec is untouched


@pytest.mark.parametrize(
    ("expose", "public", "wire"),
    [
        (None, None, None),
        ([], [], None),
        ([8000], [], {"ports": [8000], "portsPublic": []}),
        ([8000, 9000], [9000, 7000], {"ports": [8000, 9000, 7000], "portsPublic": [9000, 7000]}),
        ([], [9000], {"ports": [9000], "portsPublic": [9000]}),
        ([8000, 8000], [9000, 9000], {"ports": [8000, 9000], "portsPublic": [9000]}),
    ],
)
def test_serialize_expose(expose: list[int] | None, public: list[int] | None, wire: dict[str, Any] | None) -> None:
    """huggingface_hub's `test_serialize_expose` cases (wire §15), plus dedup."""
    spec = JobSpec(image="ubuntu", command=["x"], expose=expose or [], expose_public=public or [])
    assert spec.to_wire().get("expose") == wire


@pytest.mark.parametrize(
    ("volume", "wire"),
    [
        (
            Volume(type="dataset", source="org/ds", mount_path="/data", read_only=True),
            {"type": "dataset", "source": "org/ds", "mountPath": "/data", "readOnly": True},
        ),
        (
            Volume(type="model", source="org/m", mount_path="/m", revision="v1", path="sub/dir"),
            {"type": "model", "source": "org/m", "mountPath": "/m", "revision": "v1", "path": "sub/dir"},
        ),
        (
            Volume(type="bucket", source="alice/b", mount_path="/b", read_only=False),
            {"type": "bucket", "source": "alice/b", "mountPath": "/b", "readOnly": False},
        ),
    ],
)
def test_volumes_are_camel_case(volume: Volume, wire: dict[str, Any]) -> None:
    assert JobSpec(image="ubuntu", command=["x"], volumes=[volume]).to_wire()["volumes"] == [wire]
    assert "volumes" not in JobSpec(image="ubuntu", command=["x"]).to_wire()


# --- list, pagination, whoami caching --------------------------------------------------------------------------


async def test_list_jobs_query_is_form_encoded_and_repeatable() -> None:
    rec = Recorder({("GET", "/api/jobs/alice"): [job_json("a"), job_json("b")]})
    async with make_client(rec) as client:
        jobs = await client.list_jobs(stages=["RUNNING", "SCHEDULING"], labels={"a": "b", "name": "c"})
    assert [j.id for j in jobs] == ["a", "b"]
    assert rec.calls() == [
        "GET /api/whoami-v2",
        "GET /api/jobs/alice?stage=RUNNING&stage=SCHEDULING&label=a%3Db&label=name%3Dc",
    ]


async def test_list_jobs_follows_link_verbatim() -> None:
    pages = {
        "": ([job_json("a"), job_json("b")], '<https://hub.test/api/jobs/alice?page=2&x=%2F>; rel="next"'),
        "page=2&x=%2F": ([job_json("c")], '<https://hub.test/api/jobs/alice?page=3>; rel="next"'),
        "page=3": ([job_json("d")], None),
    }

    def page(request: httpx2.Request) -> httpx2.Response:
        items, link = pages[request.url.query.decode()]
        headers = {"link": link} if link else {}
        return httpx2.Response(200, json=items, headers=headers)

    rec = Recorder({("GET", "/api/jobs/alice"): page})
    async with make_client(rec, namespace=USER) as client:
        jobs = await client.list_jobs()
        assert [j.id for j in jobs] == ["a", "b", "c", "d"]
        assert rec.calls() == [
            "GET /api/jobs/alice",
            "GET /api/jobs/alice?page=2&x=%2F",
            "GET /api/jobs/alice?page=3",
        ]
        rec.requests.clear()
        jobs = await client.list_jobs(limit=2)
        assert [j.id for j in jobs] == ["a", "b"]
        assert rec.calls() == ["GET /api/jobs/alice"]  # the limit stops paging
        rec.requests.clear()
        jobs = await client.list_jobs(limit=3)
        assert [j.id for j in jobs] == ["a", "b", "c"]
        assert len(rec.requests) == 2


@pytest.mark.parametrize(
    ("links", "pages"),
    [
        (["?page=2", "/api/jobs/alice?page=3"], 3),  # relative links resolve against the page
        (["https://hub.test/api/jobs/alice?page=2", "https://hub.test/api/jobs/alice"], 2),  # a cycle ends it
    ],
)
async def test_list_jobs_relative_and_cyclic_links(links: list[str], pages: int) -> None:
    served: list[str] = []

    def page(request: httpx2.Request) -> httpx2.Response:
        served.append(str(request.url))
        n = len(served)
        headers = {"link": f'<{links[n - 1]}>; rel="next"'} if n <= len(links) else {}
        return httpx2.Response(200, json=[job_json(str(n))], headers=headers)

    async with make_client(Recorder({("GET", "/api/jobs/alice"): page}), namespace=USER) as client:
        jobs = await client.list_jobs()
    assert len(served) == pages
    assert [j.id for j in jobs] == [str(i) for i in range(1, pages + 1)]


async def test_list_jobs_never_follows_a_link_to_another_host() -> None:
    rec = Recorder(
        {
            ("GET", "/api/jobs/alice"): httpx2.Response(
                200, json=[], headers={"link": '<https://evil.test/x>; rel="next"'}
            )
        }
    )
    async with make_client(rec, namespace=USER) as client:
        with pytest.raises(ApiError):
            await client.list_jobs()
    assert [r.url.host for r in rec.requests] == ["hub.test"]


async def test_whoami_once_per_client_never_for_hardware() -> None:
    rec = Recorder({("GET", "/api/jobs/hardware"): HARDWARE})
    async with make_client(rec) as client:
        flavors = await client.list_hardware()
        assert rec.calls() == ["GET /api/jobs/hardware"]
        await client.inspect_job("abc")
        await client.list_jobs()
        await client.cancel_job("abc")
        assert await client.namespace() == USER
    assert [c for c in rec.calls() if "whoami" in c] == ["GET /api/whoami-v2"]
    assert len(rec.requests) == 5  # one request per call once the namespace is known
    assert [f.name for f in flavors] == ["cpu-basic", "a10g-small"]
    assert flavors[0].price_per_hour == pytest.approx(0.01002)
    assert flavors[1].accelerator is not None
    assert flavors[1].accelerator.vram == "24 GB"


async def test_hardware_needs_no_token() -> None:
    rec = Recorder({("GET", "/api/jobs/hardware"): HARDWARE})
    async with make_client(rec, token=None) as client:
        assert len(await client.list_hardware()) == 2
    assert "authorization" not in rec.requests[0].headers


# --- the other job endpoints ---------------------------------------------------------------------------------


def _assert_bodyless(request: httpx2.Request) -> None:
    assert request.content == b""
    assert request.headers["content-length"] == "0"
    assert "content-type" not in request.headers


async def test_job_endpoints() -> None:
    rec = Recorder({("GET", "/api/jobs/alice/count"): {"count": 3}})
    async with make_client(rec, namespace=USER) as client:
        job = await client.inspect_job("abc")
        assert job.status.stage == "RUNNING"
        assert job.owner.name == USER
        await client.inspect_job("myorg/abc")
        await client.cancel_job("abc")
        _assert_bodyless(rec.requests[-1])
        dup = await client.duplicate_job("abc")
        _assert_bodyless(rec.requests[-1])
        assert dup.id == "abc"
        await client.update_job_labels("abc", {"env": "prod"})
        assert rec.body() == {"labels": {"env": "prod"}}
        await client.update_job_expose("abc", [8000, 9000], public=[9000])
        assert rec.body() == {"ports": [8000, 9000], "portsPublic": [9000]}
        await client.update_job_expose("abc", [])
        assert rec.body() == {"ports": [], "portsPublic": []}
        assert await client.count_jobs(stages=["RUNNING"]) == 3
    assert rec.calls() == [
        "GET /api/jobs/alice/abc",
        "GET /api/jobs/myorg/abc",
        "POST /api/jobs/alice/abc/cancel",
        "POST /api/jobs/alice/abc/duplicate",
        "PUT /api/jobs/alice/abc/labels",
        "PUT /api/jobs/alice/abc/expose",
        "PUT /api/jobs/alice/abc/expose",
        "GET /api/jobs/alice/count?stage=RUNNING",
    ]


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.inspect_job("myorg/abc", namespace="other"),
        lambda c: c.inspect_job("a/b/c"),
        lambda c: c.inspect_job(""),
        lambda c: c.inspect_job(".."),
        lambda c: c.cancel_job("x/"),
        lambda c: c.update_job_labels("abc", {"bad key": "v"}),
        lambda c: c.update_job_expose("abc", [0]),
        lambda c: c.create_scheduled_job(JobSpec(image="u", command=["x"]), schedule=" "),
        lambda c: c.reschedule_scheduled_job("sj1", ""),
        lambda c: c.create_webhook(watched=[{"type": "user", "name": "a"}]),
        lambda c: c.create_webhook(watched=[], job_id="abc", url="https://x"),
        lambda c: c.create_webhook(watched=[], url="https://x", secrets={"A": "b"}),
        lambda c: c.get_webhook("a/b"),
    ],
)
async def test_bad_references_send_nothing(call: Callable[[Any], Any]) -> None:
    rec = Recorder()
    async with make_client(rec, namespace=USER) as client:
        with pytest.raises(InvalidRequestError):
            await call(client)
    assert rec.requests == []


async def test_metrics_stream_path_and_samples() -> None:
    sample = {
        "cpu_usage_pct": 0,
        "cpu_millicores": 3500,
        "memory_used_bytes": 1306624,
        "memory_total_bytes": 15032385536,
        "rx_bps": 0,
        "tx_bps": 0,
        "gpus": {"882fa930": {"utilization": 0, "memory_used_bytes": 0, "memory_total_bytes": 22836000000}},
        "replica": "57vr7",
    }
    text = ": keep-alive\n\n" + ("event: metric\ndata: " + json.dumps(sample) + "\n\n") * 2
    rec = Recorder({("GET", "/api/jobs/alice/abc/metrics"): httpx2.Response(200, text=text)})
    async with make_client(rec, namespace=USER) as client:
        samples = [s async for s in client.stream_metrics("abc")]
    assert len(samples) == 2
    assert samples[0].cpu_millicores == 3500
    assert samples[0].gpus["882fa930"].memory_total_bytes == 22836000000
    assert rec.calls() == ["GET /api/jobs/alice/abc/metrics"]


# --- scheduled jobs --------------------------------------------------------------------------------------------


async def test_scheduled_create_body_matches_appendix_a() -> None:
    rec = Recorder()
    spec = JobSpec(image="python:3.12", command=["echo", "hi"], timeout=300, name="python-3-12-86a55336")
    async with make_client(rec) as client:
        sj = await client.create_scheduled_job(spec, schedule="@hourly", concurrency=False, suspend=True)
        await client.create_scheduled_job(spec, schedule="@daily")
    assert sj.id == "sj1"
    assert sj.job_spec.timeout == 300
    assert rec.calls() == ["GET /api/whoami-v2", "POST /api/scheduled-jobs/alice", "POST /api/scheduled-jobs/alice"]
    first, second = rec.body(1), rec.body(2)
    pop_submission(first["jobSpec"])
    assert first == {
        "jobSpec": {
            "command": ["echo", "hi"],
            "arguments": [],
            "environment": {},
            "flavor": "cpu-basic",
            "timeoutSeconds": 300,
            "labels": {"name": "python-3-12-86a55336"},
            "dockerImage": "python:3.12",
        },
        "schedule": "@hourly",
        "concurrency": False,
        "suspend": True,
    }
    assert set(second) == {"jobSpec", "schedule"}  # concurrency/suspend only when given


async def test_scheduled_endpoints() -> None:
    listed = [
        scheduled_json("s1", jobSpec={"labels": {"a": "b", "c": "d"}}),
        scheduled_json("s2", jobSpec={"labels": {"a": "b"}}),
    ]
    rec = Recorder({("GET", "/api/scheduled-jobs/alice"): listed})
    async with make_client(rec, namespace=USER) as client:
        found = await client.list_scheduled_jobs(labels={"a": "b", "c": "d"})
        assert [s.id for s in found] == ["s1"]  # the second label is checked client-side
        await client.inspect_scheduled_job("sj1")
        await client.suspend_scheduled_job("sj1")
        _assert_bodyless(rec.requests[-1])
        await client.resume_scheduled_job("sj1")
        _assert_bodyless(rec.requests[-1])
        run = await client.trigger_scheduled_job("sj1")
        _assert_bodyless(rec.requests[-1])
        assert run.id == "abc"
        await client.reschedule_scheduled_job("sj1", "0 9 * * 1")
        assert rec.body() == {"schedule": "0 9 * * 1"}
        await client.update_scheduled_job_labels("sj1", {"x": "y"})
        assert rec.body() == {"labels": {"x": "y"}}
        await client.delete_scheduled_job("sj1")
    assert rec.calls() == [
        "GET /api/scheduled-jobs/alice?label=a%3Db",
        "GET /api/scheduled-jobs/alice/sj1",
        "POST /api/scheduled-jobs/alice/sj1/suspend",
        "POST /api/scheduled-jobs/alice/sj1/resume",
        "POST /api/scheduled-jobs/alice/sj1/run",
        "POST /api/scheduled-jobs/alice/sj1/schedule",
        "PUT /api/scheduled-jobs/alice/sj1/labels",
        "DELETE /api/scheduled-jobs/alice/sj1",
    ]


# --- webhooks -------------------------------------------------------------------------------------------------


async def test_webhook_create_body_matches_appendix_a() -> None:
    rec = Recorder()
    async with make_client(rec) as client:
        hook = await client.create_webhook(
            watched=[{"type": "user", "name": USER}], job_id="abc", secrets={"HF_TOKEN": "x"}
        )
    assert hook.id == "wh1"
    assert hook.job is not None
    assert rec.calls() == ["POST /api/settings/webhooks"]  # no namespace involved: no whoami
    assert rec.body() == {
        "watched": [{"type": "user", "name": USER}],
        "domains": ["repo", "discussion"],
        "jobSourceId": "abc",
        "secrets": {"HF_TOKEN": "x"},
    }


async def test_webhook_endpoints() -> None:
    rec = Recorder()
    async with make_client(rec) as client:
        await client.create_webhook(
            watched=[{"type": "model", "name": "org/m"}], url="https://example.com/h", domains=["repo"], secret="s"
        )
        assert rec.body() == {
            "watched": [{"type": "model", "name": "org/m"}],
            "domains": ["repo"],
            "url": "https://example.com/h",
            "secret": "s",
        }
        assert [w.id for w in await client.list_webhooks()] == ["wh1"]
        await client.get_webhook("wh1")
        await client.update_webhook("wh1", watched=[{"type": "user", "name": USER}], job_id="abc")
        assert rec.body() == {"watched": [{"type": "user", "name": USER}], "jobSourceId": "abc"}
        await client.enable_webhook("wh1")
        await client.disable_webhook("wh1")
        await client.delete_webhook("wh1")
    assert rec.calls() == [
        "POST /api/settings/webhooks",
        "GET /api/settings/webhooks",
        "GET /api/settings/webhooks/wh1",
        "POST /api/settings/webhooks/wh1",
        "POST /api/settings/webhooks/wh1/enable",
        "POST /api/settings/webhooks/wh1/disable",
        "DELETE /api/settings/webhooks/wh1",
    ]


async def test_whoami_parses_orgs() -> None:
    rec = Recorder()
    async with make_client(rec) as client:
        me = await client.whoami()
    assert me.name == USER
    assert [o.name for o in me.orgs] == ["myorg"]
    assert rec.calls() == ["GET /api/whoami-v2"]


async def test_concurrent_calls_ask_whoami_once() -> None:
    import anyio

    rec = Recorder()
    async with make_client(rec) as client, anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(client.inspect_job, "abc")
    assert rec.calls().count("GET /api/whoami-v2") == 1
    assert len(rec.requests) == 6


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(ref=st.text(max_size=12), namespace=st.none() | st.text(max_size=8))
def test_fuzz_references_stay_inside_their_path(ref: str, namespace: str | None) -> None:
    """Any id/namespace either is refused before sending, or lands as exactly two quoted path segments."""
    import anyio

    rec = Recorder()

    async def go() -> None:
        async with make_client(rec, namespace="alice") as client:
            await client.inspect_job(ref, namespace=namespace)

    try:
        anyio.run(go)
    except InvalidRequestError:
        assert rec.requests == []
        return
    assert len(rec.requests) == 1
    raw = rec.requests[0].url.raw_path.decode()
    parts = raw.split("/")
    assert parts[:3] == ["", "api", "jobs"]
    assert len(parts) == 5
    assert "?" not in raw
    assert all(p not in ("", ".", "..") for p in parts[3:])


@pytest.mark.parametrize(
    ("endpoint", "link", "followed"),
    [
        ("https://huggingface.co", "https://hf.co/api/jobs/alice?page=2", True),  # an alias of the Hub
        ("https://huggingface.co", "https://www.huggingface.co/api/jobs/alice?page=2", True),
        ("https://hub.test", "https://www.hub.test/api/jobs/alice?page=2", True),
        ("http://hub.test", "https://hub.test/api/jobs/alice?page=2", True),  # an upgrade to https
        ("https://hub.test", "http://hub.test/api/jobs/alice?page=2", False),  # a downgrade: the token in clear
        ("https://hub.test", "https://hub.test:8443/api/jobs/alice?page=2", False),  # another port
        ("https://huggingface.co", "https://huggingface.co.evil.test/api/jobs/alice", False),
        ("https://hub.test", "https://evil.test/api/jobs/alice?page=2", False),
    ],
)
async def test_next_links_stay_on_the_endpoints_site(endpoint: str, link: str, followed: bool) -> None:
    served: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        served.append(str(request.url))
        headers = {"link": f'<{link}>; rel="next"'} if len(served) == 1 else {}
        return httpx2.Response(200, json=[job_json(str(len(served)))], headers=headers)

    async with JobsClient(
        token="hf_fake_token_paging_00000", endpoint=endpoint, namespace=USER, transport=httpx2.MockTransport(handler)
    ) as client:
        if followed:
            assert [j.id for j in await client.list_jobs()] == ["1", "2"]
            assert served[1] == link
        else:
            with pytest.raises(ApiError, match="next-page link"):
                await client.list_jobs()
            assert len(served) == 1
