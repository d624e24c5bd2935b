"""The official client, unchanged, against the local backend: ``huggingface_hub`` 2.4.0 and its ``hf`` CLI.

Why: design §7 promises that ``HfApi`` and ``hf jobs`` work against the local backend with nothing but
``HF_ENDPOINT`` changed, so users can rehearse with the real tools and our own client cannot share a
misreading with the backend. Each scenario runs the real client in a subprocess (tests/acceptance/
hub_client.py, or .venv/bin/hf) and real job processes (``python`` resolves to this venv's interpreter;
images are recorded, not pulled). Every response the clients receive passes through a recording proxy
and is validated against the Hub's OpenAPI document after each test (conftest ``hub`` fixture).

UV jobs: a script URL cannot be fetched offline and local scripts need the Hub's bucket transport (wire
§8.3), so ``uv run`` gets an inline program (``uv run --no-project python -c ...``, and ``run_uv_job`` with
the command name ``python`` as its script, which the client passes through unchanged, wire §8.1).
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.acceptance.conftest import Hub

TERMINAL = {"COMPLETED", "CANCELED", "ERROR", "DELETED"}
JOB_ID = re.compile(r"\b[0-9a-f]{24}\b")


def _when(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _logs_exchanges(hub: Hub, job_id: str) -> list[Any]:
    return [ex for ex in hub.proxy.snapshot() if ex.path.split("?")[0].endswith(f"/{job_id}/logs")]


@pytest.mark.slow
def test_run_job_then_logs_follow_tail_and_inspect(hub: Hub) -> None:
    r = hub.scenario("run_and_logs", label=hub.label)
    created, done, job_id = r["created"], r["done"], r["created"]["id"]

    assert created["stage"] in ("SCHEDULING", "RUNNING")
    assert created["owner"]["name"] == "alice"
    assert created["owner"]["type"] == "user"
    assert created["docker_image"] == "python:3.12"
    assert created["command"][:2] == ["python", "-c"]
    assert created["flavor"] == "cpu-basic"
    assert created["labels"]["acc"] == hub.label
    assert created["labels"]["name"].startswith("python-3-12-")  # the client's auto-name (wire §10)
    assert created["initiator"] == {"type": "user", "id": created["owner"]["id"]}
    assert created["url"] == f"{hub.proxy.url}/jobs/alice/{job_id}"

    # follow=True right after creation: the stream is held open until the job ends, then closed (wire §6.2).
    assert r["followed"] == ["hello", "to stderr", "bye"]
    assert r["follow_secs"] < 15, "the follow loop had to reconnect: the stream closed before the job ended"
    assert r["full"] == ["hello", "to stderr", "bye"]
    assert r["tail1"] == ["bye"]
    assert r["tail2_follow"] == ["to stderr", "bye"]

    assert done["stage"] == "COMPLETED"
    for inspected in (r["inspected"], r["inspected_ns"]):
        assert inspected["id"] == job_id
        assert inspected["stage"] == "COMPLETED"
        assert inspected["started_at"]
        assert inspected["finished_at"]
        assert _when(inspected["created_at"]) <= _when(inspected["started_at"]) <= _when(inspected["finished_at"])
        assert inspected["durations"]["running_secs"] is not None
        assert inspected["durations"]["total_secs"] is not None

    streams = _logs_exchanges(hub, job_id)
    assert len(streams) == 4, [ex.path for ex in streams]  # follow, full, tail=1, tail=2 follow
    first = streams[0].event_payloads()
    assert first[0]["data"].startswith("===== Job started"), first[:2]
    assert all(ex.closed for ex in streams), "a log stream of a finished job was not closed by the server"
    assert any("tail=1" in ex.path for ex in streams)


@pytest.mark.slow
def test_list_jobs_stage_and_label_filters(hub: Hub) -> None:
    r = hub.scenario("filters", label=hub.label)
    fast, fail, slow, other = r["fast"], r["fail"], r["slow"], r["other"]

    assert r["all"] == sorted([fast, fail, slow, other])  # 4 jobs: two pages of 3
    assert r["running"] == [slow]
    assert r["running_or_scheduling"] == [slow]  # repeated stage = OR
    assert r["completed_or_error"] == sorted([fast, fail, other])
    assert r["error"] == [fail]
    assert r["fast_and_label"] == [fast]  # repeated label = AND
    assert r["no_match"] == []
    assert r["org_namespace"] == []  # alice's jobs are not myorg's
    assert r["total_listed"] >= 4
    pages = [ex for ex in hub.proxy.snapshot() if ex.method == "GET" and "cursor=" in ex.path]
    assert pages, "no list_jobs page after the first was requested (page_size=3 should force Link rel=next)"
    assert all(ex.status == 200 for ex in pages)
    assert r["fail_job"]["stage"] == "ERROR"
    assert "3" in (r["fail_job"]["message"] or ""), r["fail_job"]["message"]


@pytest.mark.slow
def test_cancel_job_stops_a_sleeping_job(hub: Hub) -> None:
    r = hub.scenario("cancel", label=hub.label)
    assert r["running_stage"] == "RUNNING"
    assert r["final"]["stage"] == "CANCELED"
    assert r["pid"] is not None, "the job's first line (its pid) never reached the logs"
    assert r["process_gone"], f"job process {r['pid']} survived cancel_job"
    assert r["cancel_to_terminal_secs"] < 15
    assert r["listed_canceled"] == [r["final"]["id"]]
    [sample] = r["metrics_running"]
    assert {"cpu_usage_pct", "cpu_millicores", "memory_used_bytes", "memory_total_bytes", "rx_bps", "tx_bps"} <= set(
        sample
    ), sample
    assert r["metrics_finished"] == []
    metrics = [ex for ex in hub.proxy.snapshot() if ex.path.endswith("/metrics")]
    assert [ex.status for ex in metrics] == [200, 406]
    assert metrics[0].stream_lines[:1] == ["event: metric"], metrics[0].stream_lines


@pytest.mark.slow
def test_duplicate_labels_and_expose(hub: Hub) -> None:
    r = hub.scenario("duplicate_labels_expose", label=hub.label)
    base, dup = r["base"], r["dup"]

    assert dup["id"] != base["id"]
    assert dup["initiator"] == {"type": "duplicated-job", "id": base["id"]}
    assert dup["command"] == base["command"]
    assert dup["docker_image"] == base["docker_image"]
    assert dup["labels"]["acc"] == hub.label
    assert dup["labels"]["team"] == "ml"
    assert r["dup_done"]["stage"] == "COMPLETED"
    assert r["dup_logs"] == ["dup me"]

    labels = {"acc": hub.label, "env": "prod", "name": "renamed"}
    assert r["relabeled"]["labels"] == labels  # PUT /labels replaces all user labels
    assert r["relabeled_inspected"]["labels"] == labels
    assert r["by_new_label"] == [r["relabeled"]["id"]]

    for exposed in (r["exposed"], r["exposed_inspected"]):
        assert exposed["expose"] == [8000, 9000]  # the client merges public ports into ports
        assert exposed["expose_public"] == [9000]
        urls = exposed["expose_urls"]
        assert isinstance(urls, list)
        assert len(urls) == 2
        assert ":8000" in urls[0]
        assert ":9000" in urls[1]
    assert not r["closed"]["expose"]
    assert not r["closed"]["expose_urls"]


@pytest.mark.slow
def test_list_jobs_hardware(hub: Hub) -> None:
    hardware = {h["name"]: h for h in hub.scenario("hardware")["hardware"]}
    from huggingface_hub import JobHardware  # only the enum: this process never talks to the backend

    assert {h.value for h in JobHardware} <= set(hardware)
    assert hardware["cpu-basic"]["pretty_name"] == "CPU Basic"
    assert hardware["cpu-basic"]["accelerator"] is None
    assert hardware["cpu-basic"]["unit_cost_micro_usd"] == 167  # the one price the client documents
    # The client's example says unitCostUSD 0.000167; wire §5.5 derives $/h ÷ 60 = 0.000166667. Either passes.
    assert abs(hardware["cpu-basic"]["unit_cost_usd"] * 1e6 - 167) < 1
    assert hardware["cpu-basic"]["unit_label"] == "minute"
    assert hardware["a10g-small"]["accelerator"]["model"] == "A10G"
    assert not any(ex.path.startswith("/api/whoami") for ex in hub.proxy.snapshot())  # wire §3: no whoami


@pytest.mark.slow
def test_uv_jobs_run_inline_programs(hub: Hub) -> None:
    r = hub.scenario("uv", label=hub.label, timeout=200)
    assert r["plain"]["stage"] == "COMPLETED", (r["plain"]["message"], r["plain_logs"])
    assert "uv plain ok" in r["plain_logs"]
    assert r["via_uv"]["stage"] == "COMPLETED", (r["via_uv"]["message"], r["via_uv_logs"])
    assert r["via_uv"]["command"] == ["uv", "run", "python", "-c", "print('uv job ok')"]
    assert r["via_uv"]["docker_image"] == "ghcr.io/astral-sh/uv:python3.12-bookworm"
    assert "uv job ok" in r["via_uv_logs"]


@pytest.mark.slow
def test_scheduled_job_cycle(hub: Hub) -> None:
    before = datetime.now(UTC)
    r = hub.scenario("scheduled", label=hub.label)
    created, sid = r["created"], r["created"]["id"]

    assert created["schedule"] == "@yearly"
    assert created["suspend"] is False
    assert created["concurrency"] is False  # the OAS default
    assert created["owner"] == "alice"
    assert created["last_job"] is None
    next_run = _when(created["next_job_run_at"])
    if datetime.now(UTC).year == before.year:  # (a run across New Year's midnight could see either year)
        assert next_run == datetime(before.year + 1, 1, 1, tzinfo=UTC), next_run  # cron presets run in UTC
    assert created["spec"]["timeout"] == 300  # echoed as `timeout` seconds (wire §5.3)
    assert created["spec"]["secrets"] == ["MY_SECRET"]  # names only
    assert created["spec"]["docker_image"] == "python:3.12"

    assert r["listed"] == [sid]
    assert r["inspected"]["id"] == sid
    assert r["suspended"]["suspend"] is True
    assert r["resumed"]["suspend"] is False

    assert r["run"]["initiator"] == {"type": "scheduled-job", "id": sid}
    assert r["run"]["labels"]["acc"] == hub.label
    assert r["run_done"]["stage"] == "COMPLETED"
    assert r["run_logs"] == ["tick"]
    assert r["after_run"]["last_job"]["id"] == r["run"]["id"]

    rescheduled = r["rescheduled"]
    assert rescheduled["schedule"] == "0 9 * * 1"
    monday_nine = _when(rescheduled["next_job_run_at"])
    assert (monday_nine.weekday(), monday_nine.hour, monday_nine.minute) == (0, 9, 0)

    assert r["after_delete"]["status"] == 404, r["after_delete"]
    assert r["listed_after_delete"] == []

    assert r["busy_created"]["concurrency"] is False
    assert r["busy_created"]["suspend"] is True
    assert r["conflict"]["status"] == 409, r["conflict"]
    assert "Another job is already running at the same time" in r["conflict"]["message"]
    assert r["busy_first"]["stage"] == "CANCELED"

    leaked = [ex.describe() for ex in hub.proxy.snapshot() if ex.body and b"not-a-real-secret" in ex.body]
    assert not leaked, f"a secret value was echoed back: {leaked}"


@pytest.mark.slow
def test_error_statuses_the_client_maps(hub: Hub) -> None:
    r = hub.scenario("errors", label=hub.label)
    assert r["inspect_missing"]["status"] == 404
    assert r["inspect_missing"]["type"] == "JobNotFoundError"
    assert r["foreign_namespace"]["status"] == 403
    assert r["bad_flavor"]["status"] == 400
    assert "flavor" in (r["bad_flavor"]["message"] or ""), r["bad_flavor"]
    assert r["bad_token"]["status"] == 401


@pytest.mark.slow
def test_webhooks_are_stored_and_listed(hub: Hub) -> None:
    r = hub.scenario("webhooks", label=hub.label)
    created, wid = r["created"], r["created"]["id"]
    assert created["watched"] == [{"type": "user", "name": "alice"}]
    assert created["disabled"] is False
    assert created["url"] is None
    assert created["job"]["docker_image"] == "python:3.12"  # the source job's spec
    assert wid in r["listed"]
    assert r["got"] == created
    assert r["disabled"]["disabled"] is True
    assert r["enabled"]["disabled"] is False
    assert r["updated"]["watched"] == [{"type": "user", "name": "alice"}, {"type": "org", "name": "myorg"}]
    assert r["updated"]["domains"] == ["repo"]
    assert r["updated"]["job"] == created["job"]  # an update naming no target keeps it
    assert sorted(created["domains"]) == ["discussion", "repo"]  # the client's default: both
    assert r["after_delete"]["status"] == 404, r["after_delete"]
    leaked = [ex.describe() for ex in hub.proxy.snapshot() if ex.body and b"not-a-real-secret" in ex.body]
    assert not leaked, f"a secret value was echoed back: {leaked}"


# --- the `hf jobs` CLI -------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_cli_run_attached_prints_the_output(hub: Hub) -> None:
    done = hub.hf(
        "jobs", "run", "--label", f"acc={hub.label}", "python:3.12", "python", "-c", "print('hello from cli')"
    )
    assert done.returncode == 0, done.report()
    assert "hello from cli" in done.stdout, done.report()
    assert "completed" in done.stdout, done.report()


@pytest.mark.slow
def test_cli_run_failing_job_exits_1(hub: Hub) -> None:
    done = hub.hf("jobs", "run", "python:3.12", "python", "-c", "import sys; print('about to fail'); sys.exit(7)")
    assert done.returncode == 1, done.report()
    assert "about to fail" in done.stdout, done.report()
    assert "ERROR" in done.stdout + done.stderr, done.report()


def _job_id(done: Any) -> str:
    ids = JOB_ID.findall(done.stdout)
    assert done.returncode == 0, done.report()
    assert ids, done.report()
    return str(ids[0])


@pytest.mark.slow
def test_cli_detached_ps_logs_inspect_cancel(hub: Hub) -> None:
    label = f"acc={hub.label}"
    quick = _job_id(
        hub.hf(
            "jobs", "run", "-d", "--format", "quiet", "-l", label, "python:3.12", "python", "-c", "print('detached hi')"
        )
    )
    sleeper = _job_id(
        hub.hf(
            "jobs",
            "run",
            "-d",
            "--format",
            "quiet",
            "-l",
            label,
            "python:3.12",
            "python",
            "-c",
            "import time; time.sleep(120)",
        )
    )

    waited = hub.hf("jobs", "wait", quick, "--timeout", "1m")
    assert waited.returncode == 0, waited.report()

    logs = hub.hf("jobs", "logs", quick)
    assert logs.returncode == 0, logs.report()
    assert logs.stdout.splitlines() == ["detached hi"], logs.report()
    tail = hub.hf("jobs", "logs", "-n", "1", quick)
    assert tail.stdout.splitlines() == ["detached hi"], tail.report()

    ps = hub.hf("jobs", "ps")  # default: RUNNING and SCHEDULING only
    assert ps.returncode == 0, ps.report()
    assert sleeper in ps.stdout, ps.report()
    assert quick not in ps.stdout, ps.report()
    ps_all = hub.hf("jobs", "ps", "-a", "--label", label, "--format", "quiet")
    assert sorted(ps_all.stdout.split()) == sorted([quick, sleeper]), ps_all.report()

    inspected = hub.hf("jobs", "inspect", quick, "--format", "json")
    assert inspected.returncode == 0, inspected.report()
    assert quick in inspected.stdout, inspected.report()
    assert "COMPLETED" in inspected.stdout, inspected.report()

    canceled = hub.hf("jobs", "cancel", sleeper)
    assert canceled.returncode == 0, canceled.report()
    after = hub.hf("jobs", "wait", f"alice/{sleeper}", "--timeout", "30s")
    assert after.returncode == 1, after.report()  # wait exits 1 for a job that did not complete
    final = hub.hf("jobs", "inspect", sleeper, "--format", "json")
    assert "CANCELED" in final.stdout, final.report()
    parsed = json.loads(final.stdout)
    entry = parsed[0] if isinstance(parsed, list) else parsed
    assert entry["id"] == sleeper, final.report()
