"""Scenarios of the official ``huggingface_hub`` client, run as a subprocess against the local backend.

Why a subprocess: ``huggingface_hub`` reads ``HF_ENDPOINT`` once, at import time, and ``list_jobs``
resolves the namespace through the module-level ``whoami`` bound to that constant, so
``HfApi(endpoint=...)`` is not enough (wire §1 trap). A fresh interpreter with the environment set before
the import is the only faithful way to run the client unchanged.

Usage: ``python hub_client.py SCENARIO '{"json": "kwargs"}'``. The last stdout line is
``RESULT {json}``; the pytest side asserts on it. Scenarios assert only what must hold for them to go
on; everything else is returned so the test states the expectation where it is read. Nothing secret is
printed (the token is never echoed).
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

if "HF_ENDPOINT" not in os.environ:  # the trap of wire §1: importing first would bind huggingface.co
    sys.exit("HF_ENDPOINT must be set before huggingface_hub is imported")

from huggingface_hub import HfApi, constants  # after the HF_ENDPOINT check, on purpose
from huggingface_hub.errors import HfHubHTTPError

assert os.environ["HF_ENDPOINT"].rstrip("/") == constants.ENDPOINT, "HF_ENDPOINT was not honoured"

IMAGE = "python:3.12"
UV_IMAGE = "ghcr.io/astral-sh/uv:python3.12-bookworm"
api = HfApi()


def py(code: str) -> list[str]:
    return ["python", "-c", code]


def text(value: Any) -> Any:
    """An enum member's value (JobStage is a str Enum, whose str() is 'JobStage.X'), else the value."""
    return getattr(value, "value", value)


def job_dict(job: Any) -> dict[str, Any]:
    return {
        "id": job.id,
        "stage": text(job.status.stage),
        "message": job.status.message,
        "expose_urls": job.status.expose_urls,
        "owner": {"id": job.owner.id, "name": job.owner.name, "type": job.owner.type},
        "docker_image": job.docker_image,
        "command": job.command,
        "environment": job.environment,
        "secrets": job.secrets,
        "flavor": text(job.flavor),
        "labels": job.labels,
        "initiator": None if job.initiator is None else {"type": job.initiator.type, "id": job.initiator.id},
        "expose": job.expose,
        "expose_public": job.expose_public,
        "created_at": job.created_at.isoformat() if job.created_at else None,
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "finished_at": job.finished_at.isoformat() if job.finished_at else None,
        "durations": None if job.durations is None else vars(job.durations),
        "url": job.url,
    }


def scheduled_dict(sj: Any) -> dict[str, Any]:
    last = sj.status.last_job
    return {
        "id": sj.id,
        "schedule": sj.schedule,
        "suspend": sj.suspend,
        "concurrency": sj.concurrency,
        "owner": sj.owner.name,
        "last_job": None if last is None else {"id": last.id, "at": last.at.isoformat()},
        "next_job_run_at": sj.status.next_job_run_at.isoformat() if sj.status.next_job_run_at else None,
        "spec": {
            "docker_image": sj.job_spec.docker_image,
            "command": sj.job_spec.command,
            "timeout": sj.job_spec.timeout,
            "secrets": sj.job_spec.secrets,
            "labels": sj.job_spec.labels,
        },
    }


def http_error(call: Callable[[], Any]) -> dict[str, Any]:
    """Call, expecting an HTTP error; its status and server message."""
    try:
        call()
    except HfHubHTTPError as err:
        return {"type": type(err).__name__, "status": err.response.status_code, "message": err.server_message}
    return {"type": None, "status": None, "message": None}


def job_processes(job_id: str) -> list[int]:
    """Host pids of the processes running a local job (their environment holds its JOB_ID)."""
    import psutil  # only here, as in wait_pid_gone: the other scenarios run without it

    found = []
    for proc in psutil.process_iter():
        try:
            if proc.environ().get("JOB_ID") == job_id:
                found.append(proc.pid)
        except psutil.Error:
            continue
    return found


def wait_pid_gone(pid: int, seconds: float = 10) -> bool:
    import psutil

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


# --- scenarios -------------------------------------------------------------------------------------------------


def run_and_logs(label: str) -> dict[str, Any]:
    # Pauses between the writes: stdout and stderr are two pipes, read concurrently by the backend.
    code = (
        "import sys, time\nprint('hello', flush=True)\ntime.sleep(0.1)\n"
        "print('to stderr', file=sys.stderr, flush=True)\ntime.sleep(0.1)\nprint('bye')"
    )
    job = api.run_job(image=IMAGE, command=py(code), labels={"acc": label})
    created = job_dict(job)
    t0 = time.monotonic()
    followed = list(api.fetch_job_logs(job_id=job.id, follow=True))
    follow_secs = time.monotonic() - t0
    done = api.wait_for_job(job.id, timeout=60)
    return {
        "created": created,
        "followed": followed,
        "follow_secs": follow_secs,
        "done": job_dict(done),
        "full": list(api.fetch_job_logs(job_id=job.id)),
        "tail1": list(api.fetch_job_logs(job_id=job.id, tail=1)),
        "tail2_follow": list(api.fetch_job_logs(job_id=job.id, tail=2, follow=True)),
        "inspected": job_dict(api.inspect_job(job_id=job.id)),
        "inspected_ns": job_dict(api.inspect_job(job_id=job.id, namespace="alice")),
    }


def filters(label: str) -> dict[str, Any]:
    fast = api.run_job(image=IMAGE, command=py("print('fast')"), labels={"acc": label, "kind": "fast"})
    fail = api.run_job(image=IMAGE, command=py("import sys; sys.exit(3)"), labels={"acc": label, "kind": "fail"})
    slow = api.run_job(image=IMAGE, command=py("import time; time.sleep(120)"), labels={"acc": label, "kind": "slow"})
    other = api.run_job(image=IMAGE, command=py("print('other')"), labels={"acc": label, "kind": "other"})
    api.wait_for_job([fast.id, fail.id, other.id], timeout=60)
    api.wait_for_job(slow.id, stages=["RUNNING"], timeout=60)

    def ids(**kwargs: Any) -> list[str]:
        return sorted(j.id for j in api.list_jobs(**kwargs))

    out = {
        "fast": fast.id,
        "fail": fail.id,
        "slow": slow.id,
        "other": other.id,
        "all": ids(labels={"acc": label}),
        "running": ids(status="RUNNING", labels={"acc": label}),
        "running_or_scheduling": ids(status=["RUNNING", "SCHEDULING"], labels={"acc": label}),
        "completed_or_error": ids(status=["COMPLETED", "ERROR"], labels={"acc": label}),
        "error": ids(status="ERROR", labels={"acc": label}),
        "fast_and_label": ids(labels={"acc": label, "kind": "fast"}),
        "no_match": ids(labels={"acc": label, "kind": "nope"}),
        "org_namespace": ids(namespace="myorg", labels={"acc": label}),
        "fail_job": job_dict(api.inspect_job(job_id=fail.id)),
        "total_listed": len(list(api.list_jobs())),
    }
    api.cancel_job(job_id=slow.id)
    api.wait_for_job(slow.id, timeout=30)
    return out


def cancel(label: str) -> dict[str, Any]:
    code = "import os, time\nprint('pid', os.getpid(), flush=True)\ntime.sleep(120)"
    job = api.run_job(image=IMAGE, command=py(code), labels={"acc": label})
    running = api.wait_for_job(job.id, stages=["RUNNING"], timeout=60)
    pid = None
    deadline = time.monotonic() + 20
    while pid is None and time.monotonic() < deadline:  # the first line may take a moment to be logged
        for line in api.fetch_job_logs(job_id=job.id, tail=5):
            if line.startswith("pid "):
                pid = int(line.split()[1])
        time.sleep(0.2) if pid is None else None
    metrics_running = list(api.fetch_job_metrics(job_id=job.id))  # no-follow: the first sample only
    # The pid the job printed is one of its sandbox's PID namespace; the host sees its processes by JOB_ID.
    host_pids = job_processes(job.id)
    t0 = time.monotonic()
    api.cancel_job(job_id=job.id)
    final = api.wait_for_job(job.id, timeout=30)
    return {
        "metrics_running": metrics_running,
        "metrics_finished": list(api.fetch_job_metrics(job_id=job.id)),  # 406 once finished: tolerated, empty
        "running_stage": text(running.status.stage),
        "pid": pid,
        "cancel_to_terminal_secs": time.monotonic() - t0,
        "final": job_dict(final),
        "process_gone": bool(host_pids) and all(wait_pid_gone(p) for p in host_pids),
        "listed_canceled": [j.id for j in api.list_jobs(status="CANCELED", labels={"acc": label})],
    }


def duplicate_labels_expose(label: str) -> dict[str, Any]:
    base = api.run_job(image=IMAGE, command=py("print('dup me')"), labels={"acc": label, "team": "ml"})
    api.wait_for_job(base.id, timeout=60)
    dup = api.rerun_job(job_id=base.id)
    dup_done = api.wait_for_job(dup.id, timeout=60)

    sleeper = api.run_job(image=IMAGE, command=py("import time; time.sleep(120)"), labels={"acc": label})
    api.wait_for_job(sleeper.id, stages=["RUNNING"], timeout=60)
    relabeled = api.update_job_labels(job_id=sleeper.id, labels={"acc": label, "env": "prod", "name": "renamed"})
    exposed = api.update_job_expose(job_id=sleeper.id, expose=[8000], expose_public=[9000])
    exposed_inspected = api.inspect_job(job_id=sleeper.id)
    closed = api.update_job_expose(job_id=sleeper.id)
    api.cancel_job(job_id=sleeper.id)
    api.wait_for_job(sleeper.id, timeout=30)
    return {
        "base": job_dict(base),
        "dup": job_dict(dup),
        "dup_done": job_dict(dup_done),
        "dup_logs": list(api.fetch_job_logs(job_id=dup.id)),
        "relabeled": job_dict(relabeled),
        "relabeled_inspected": job_dict(api.inspect_job(job_id=sleeper.id)),
        "by_new_label": [j.id for j in api.list_jobs(labels={"acc": label, "env": "prod"})],
        "exposed": job_dict(exposed),
        "exposed_inspected": job_dict(exposed_inspected),
        "closed": job_dict(closed),
    }


def hardware() -> dict[str, Any]:
    return {
        "hardware": [
            {
                "name": h.name,
                "pretty_name": h.pretty_name,
                "unit_cost_usd": h.unit_cost_usd,
                "unit_cost_micro_usd": h.unit_cost_micro_usd,
                "unit_label": h.unit_label,
                "accelerator": None if h.accelerator is None else vars(h.accelerator),
            }
            for h in api.list_jobs_hardware()
        ]
    }


def uv(label: str) -> dict[str, Any]:
    # No network here: a script URL cannot be fetched and local scripts need the Hub's bucket transport
    # (wire §8.3), so `uv run` gets an inline program: once as a plain command, once through run_uv_job
    # with a command name as the "script" (wire §8.1: not an existing file, passed through as-is).
    plain = api.run_job(
        image=UV_IMAGE,
        command=["uv", "run", "--no-project", "python", "-c", "print('uv plain ok')"],
        labels={"acc": label},
    )
    via_uv = api.run_uv_job("python", script_args=["-c", "print('uv job ok')"], labels={"acc": label})
    done = api.wait_for_job([plain.id, via_uv.id], timeout=120)
    return {
        "plain": job_dict(done[0]),
        "plain_logs": list(api.fetch_job_logs(job_id=plain.id)),
        "via_uv": job_dict(done[1]),
        "via_uv_logs": list(api.fetch_job_logs(job_id=via_uv.id)),
    }


def scheduled(label: str) -> dict[str, Any]:
    sj = api.create_scheduled_job(
        image=IMAGE,
        command=py("print('tick')"),
        schedule="@yearly",  # a preset that cannot fire during the test (unlike @hourly at HH:59:59)
        timeout="5m",
        secrets={"MY_SECRET": "not-a-real-secret"},
        labels={"acc": label},
    )
    out: dict[str, Any] = {"created": scheduled_dict(sj)}
    out["listed"] = [s.id for s in api.list_scheduled_jobs(labels={"acc": label})]
    out["inspected"] = scheduled_dict(api.inspect_scheduled_job(scheduled_job_id=sj.id))
    api.suspend_scheduled_job(scheduled_job_id=sj.id)
    out["suspended"] = scheduled_dict(api.inspect_scheduled_job(scheduled_job_id=sj.id))
    api.resume_scheduled_job(scheduled_job_id=sj.id)
    out["resumed"] = scheduled_dict(api.inspect_scheduled_job(scheduled_job_id=sj.id))
    run = api.trigger_scheduled_job(scheduled_job_id=sj.id)
    out["run"] = job_dict(run)
    out["run_done"] = job_dict(api.wait_for_job(run.id, timeout=60))
    out["run_logs"] = list(api.fetch_job_logs(job_id=run.id))
    out["after_run"] = scheduled_dict(api.inspect_scheduled_job(scheduled_job_id=sj.id))
    out["rescheduled"] = scheduled_dict(api.update_scheduled_job_schedule(scheduled_job_id=sj.id, schedule="0 9 * * 1"))
    api.delete_scheduled_job(scheduled_job_id=sj.id)
    out["after_delete"] = http_error(lambda: api.inspect_scheduled_job(scheduled_job_id=sj.id))
    out["listed_after_delete"] = [s.id for s in api.list_scheduled_jobs(labels={"acc": label})]

    # concurrency=false: a second trigger while the first run is going is a 409 (wire §5.3).
    busy = api.create_scheduled_job(
        image=IMAGE,
        command=py("import time; time.sleep(120)"),
        schedule="@daily",
        concurrency=False,
        suspend=True,
        labels={"acc": label, "kind": "busy"},
    )
    first = api.trigger_scheduled_job(scheduled_job_id=busy.id)
    api.wait_for_job(first.id, stages=["RUNNING"], timeout=60)
    out["busy_created"] = scheduled_dict(busy)
    out["conflict"] = http_error(lambda: api.trigger_scheduled_job(scheduled_job_id=busy.id))
    api.cancel_job(job_id=first.id)
    out["busy_first"] = job_dict(api.wait_for_job(first.id, timeout=30))
    api.delete_scheduled_job(scheduled_job_id=busy.id)
    return out


def errors(label: str) -> dict[str, Any]:
    missing = "0123456789abcdef01234567"
    return {
        "inspect_missing": http_error(lambda: api.inspect_job(job_id=missing)),
        "foreign_namespace": http_error(lambda: api.inspect_job(job_id=missing, namespace="someone-else")),
        "bad_flavor": http_error(
            lambda: api.run_job(image=IMAGE, command=py("1"), flavor="no-such-flavor", labels={"acc": label})
        ),
        "bad_token": http_error(
            lambda: list(api.list_jobs(namespace="alice", token="hf_wrong_token_0000000000000000"))
        ),
    }


def webhooks(label: str) -> dict[str, Any]:
    # Stored and listed only: webhooks cannot fire locally (no Hub events reach a loopback backend).
    source = api.run_job(image=IMAGE, command=py("print('hook')"), labels={"acc": label})
    watched = [{"type": "user", "name": "alice"}]
    created = api.create_webhook(job_id=source.id, watched=watched, secrets={"HOOK_SECRET": "not-a-real-secret"})

    def hook(w: Any) -> dict[str, Any]:
        job = w.job
        return {
            "id": w.id,
            "url": w.url,
            "disabled": w.disabled,
            "domains": w.domains,
            "watched": [{"type": i.type, "name": i.name} for i in w.watched],
            "job": None if job is None else {"docker_image": job.docker_image, "command": job.command},
        }

    out = {"source": source.id, "created": hook(created)}
    out["listed"] = [w.id for w in api.list_webhooks()]
    out["got"] = hook(api.get_webhook(created.id))
    out["disabled"] = hook(api.disable_webhook(created.id))
    out["enabled"] = hook(api.enable_webhook(created.id))
    # The OAS requires `domains` on update too (the client sends it only when given); no target: kept.
    more = [*watched, {"type": "org", "name": "myorg"}]
    out["updated"] = hook(api.update_webhook(created.id, watched=more, domains=["repo"]))
    api.delete_webhook(created.id)
    out["after_delete"] = http_error(lambda: api.get_webhook(created.id))
    api.wait_for_job(source.id, timeout=60)
    return out


SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {
    f.__name__: f
    for f in (run_and_logs, filters, cancel, duplicate_labels_expose, hardware, uv, scheduled, errors, webhooks)
}

if __name__ == "__main__":
    name, kwargs = sys.argv[1], json.loads(sys.argv[2] if len(sys.argv) > 2 else "{}")
    result = SCENARIOS[name](**kwargs)
    print("RESULT " + json.dumps(result, default=str), flush=True)
