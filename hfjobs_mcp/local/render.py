"""Records to wire JSON: JobInfo, ScheduledJobInfo, webhooks and whoami-v2, shaped as the Hub's OpenAPI says.

The OpenAPI response schemas forbid extra keys, so only documented keys are emitted. Secrets are
rendered as a list of names; their values never leave the store.
"""

from __future__ import annotations

from typing import Any

from .clock import to_wire
from .ids import entity_id
from .records import SCHEDULING, JobRecord, JobSpec, ScheduledRecord, WebhookRecord

AVATAR_URL = "https://huggingface.co/avatars/hfjobs-mcp-local.svg"
"""A placeholder: the local backend has no avatars, but the schema requires the field."""

LOCAL_HOST = "127.0.0.1"


def owner(namespace: str, owner_type: str) -> dict[str, Any]:
    return {"id": entity_id(namespace), "name": namespace, "type": owner_type, "avatarUrl": AVATAR_URL}


def user_initiator(user: str) -> dict[str, Any]:
    return {"id": entity_id(user), "name": user, "type": "user", "avatarUrl": AVATAR_URL}


def _image(spec: JobSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if spec.docker_image is not None:
        out["dockerImage"] = spec.docker_image
    if spec.space_id is not None:
        out["spaceId"] = spec.space_id
    return out


def expose_urls(spec: JobSpec) -> list[str]:
    """A local job's exposed port is a port on this machine: ``http://127.0.0.1:<port>``."""
    return [f"http://{LOCAL_HOST}:{port}" for port in (spec.expose or {}).get("ports", [])]


def _durations(rec: JobRecord, now: float) -> dict[str, int]:
    end = rec.finished_at if rec.finished_at is not None else now
    if rec.started_at is None:
        if rec.stage == SCHEDULING:
            return {"totalSecs": round(max(0.0, end - rec.created_at))}
        span = round(max(0.0, end - rec.created_at))
        return {"schedulingSecs": span, "totalSecs": span}
    return {
        "schedulingSecs": round(max(0.0, rec.started_at - rec.created_at)),
        "runningSecs": round(max(0.0, end - rec.started_at)),
        "totalSecs": round(max(0.0, end - rec.created_at)),
    }


def _spec_common(spec: JobSpec, default_timeout: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        **_image(spec),
        "command": list(spec.command),
        "arguments": list(spec.arguments),
        "environment": dict(spec.environment),
        "secrets": list(spec.secrets),
        "flavor": spec.flavor,
        "labels": dict(spec.labels),
        "timeout": spec.timeout_seconds if spec.timeout_seconds is not None else default_timeout,
        "retry": spec.attempts - 1,
    }
    if spec.volumes:
        out["volumes"] = [dict(v) for v in spec.volumes]
    if spec.expose is not None:
        out["expose"] = {"ports": list(spec.expose["ports"]), "portsPublic": list(spec.expose["portsPublic"])}
    if spec.arch is not None:
        out["arch"] = spec.arch
    if spec.resource_group_id is not None:
        out["resourceGroupId"] = spec.resource_group_id
    return out


def job_info(rec: JobRecord, *, now: float, default_timeout: int) -> dict[str, Any]:
    """JobInfo (wire §5.1)."""
    status: dict[str, Any] = {"stage": rec.stage, "message": rec.message}
    urls = expose_urls(rec.spec)
    if urls:
        status["exposeUrls"] = urls
    if rec.failure_count:
        status["failureCount"] = rec.failure_count
    out: dict[str, Any] = {
        "id": rec.id,
        "type": "job",
        "createdAt": to_wire(rec.created_at),
        **_spec_common(rec.spec, default_timeout),
        "status": status,
        "durations": _durations(rec, now),
        "owner": owner(rec.namespace, rec.owner_type),
        "createdBy": {"id": entity_id(rec.created_by), "name": rec.created_by},
        "initiator": dict(rec.initiator),
    }
    if rec.started_at is not None:
        out["startedAt"] = to_wire(rec.started_at)
    if rec.finished_at is not None:
        out["finishedAt"] = to_wire(rec.finished_at)
    return out


def scheduled_info(rec: ScheduledRecord, *, default_timeout: int) -> dict[str, Any]:
    """ScheduledJobInfo (wire §5.3): ``jobSpec`` echoed with ``timeout`` and secret names."""
    last = None
    if rec.last_job_id is not None and rec.last_job_at is not None:
        last = {"id": rec.last_job_id, "at": to_wire(rec.last_job_at)}
    return {
        "id": rec.id,
        "type": "scheduled-job",
        "createdAt": to_wire(rec.created_at),
        "schedule": rec.schedule,
        "suspend": rec.suspend,
        "concurrency": rec.concurrency,
        "status": {"lastJob": last, "nextJobRunAt": to_wire(rec.next_run_at)},
        "owner": owner(rec.namespace, rec.owner_type),
        "initiator": user_initiator(rec.created_by),
        "jobSpec": _spec_common(rec.spec, default_timeout),
    }


def webhook_info(rec: WebhookRecord) -> dict[str, Any]:
    """A webhook (wire §13); its ``job`` uses ``timeoutSeconds`` and secret names."""
    out: dict[str, Any] = {
        "id": rec.id,
        "disabled": rec.disabled,
        "watched": [{"name": w["name"], "type": w["type"]} for w in rec.watched],
        "hasSecret": bool(rec.secret),
        "domains": list(rec.domains),
    }
    if rec.url is not None:
        out["url"] = rec.url
    if rec.job_source_id is not None:
        out["jobSourceId"] = rec.job_source_id
    if rec.job is not None:
        job: dict[str, Any] = {
            **_image(rec.job),
            "environment": dict(rec.job.environment),
            "arguments": list(rec.job.arguments),
            "flavor": rec.job.flavor,
            "timeoutSeconds": rec.job.timeout_seconds,
            "labels": dict(rec.job.labels),
            "secrets": list(rec.job.secrets),
        }
        if rec.job.command:
            job["command"] = list(rec.job.command)
        out["job"] = job
    return out


def whoami(user: str, orgs: tuple[str, ...], *, token_created_at: float) -> dict[str, Any]:
    """whoami-v2 for the configured user: the fields the OpenAPI schema requires, and its orgs."""
    return {
        "type": "user",
        "id": entity_id(user),
        "name": user,
        "fullname": user,
        "email": None,
        "emailVerified": True,
        "isPro": True,
        "canPay": True,
        "avatarUrl": AVATAR_URL,
        "periodEnd": None,
        "orgs": [
            {
                "type": "org",
                "id": entity_id(org),
                "name": org,
                "fullname": org,
                "avatarUrl": AVATAR_URL,
                "roleInOrg": "admin",
            }
            for org in orgs
        ],
        "auth": {
            "type": "access_token",
            "accessToken": {
                "displayName": "hfjobs-mcp local backend",
                "role": "write",
                "createdAt": to_wire(token_created_at),
            },
        },
    }
