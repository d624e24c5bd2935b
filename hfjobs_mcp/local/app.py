"""The HTTP routes of the local backend (wire §3): authenticate, validate, call the core, render JSON.

Every route but ``GET /api/jobs/hardware`` and ``GET /api/agent-harnesses`` needs the bearer token
(401 otherwise); namespaced routes answer 403 for a namespace that is neither the user nor one of
its orgs, 404 ``{"error": ...}`` for unknown ids, 400 ``{"error": ...}`` naming the invalid field.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import billing, hardware, render
from .auth import AuthError, check_token, owner_type
from .buckets import cas_routes
from .buckets import routes as bucket_routes
from .clock import http_date
from .config import LocalConfig
from .core import ConflictError, LocalCore, NotFoundError
from .faults import FaultMiddleware
from .guard import BodyTooLargeError, LastResort, read_body
from .ids import entity_id
from .records import STAGES
from .sse import LogStream, MetricsStream
from .validation import (
    MAX_SAFE_INT,
    MAX_SQLITE_INT,
    ExposeIn,
    JobSpecIn,
    LabelsIn,
    RequestError,
    ScheduledJobIn,
    ScheduleIn,
    WebhookIn,
    check_label_filter,
    parse,
    whole_number,
)


def _core(request: Request) -> LocalCore:
    return cast(LocalCore, request.app.state.core)


def _namespace(request: Request) -> tuple[LocalCore, str, str, str]:
    """(core, user, namespace, owner type) after the 401 and 403 checks."""
    core = _core(request)
    user = check_token(request, core.cfg)
    namespace = str(request.path_params["namespace"])
    return core, user, namespace, owner_type(namespace, core.cfg, user)


async def _body(request: Request) -> bytes:
    return await read_body(request, _core(request).cfg.max_body_bytes)


def _stages(request: Request) -> list[str]:
    stages = [s.upper() for s in request.query_params.getlist("stage")]
    bad = [s for s in stages if s not in STAGES]
    if bad:
        raise RequestError(f"stage: {bad[0]!r} is not one of {', '.join(STAGES)}")
    return stages


# Account and catalogue


async def whoami(request: Request) -> Response:
    core = _core(request)
    user = check_token(request, core.cfg)
    return JSONResponse(render.whoami(user, core.cfg.orgs_of(user), token_created_at=core.started_at))


async def hardware_list(request: Request) -> Response:
    return JSONResponse(hardware.hardware_list())


async def agent_harnesses(request: Request) -> Response:
    # The hf CLI fetches this best-effort at start-up; an empty registry is a valid answer.
    return JSONResponse({"standardEnvVars": [], "harnesses": {}})


# Jobs


async def create_job(request: Request) -> Response:
    core, user, ns, kind = _namespace(request)
    body = parse(JobSpecIn, await _body(request))
    rec = core.create_job(ns, kind, user, body.to_spec())
    return JSONResponse(core.job_info(rec))


async def list_jobs(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    stages = _stages(request)
    labels = [check_label_filter(v) for v in request.query_params.getlist("label")]
    cursor = request.query_params.get("cursor")
    before: int | None = None
    if cursor is not None:
        hint = "cursor: not a cursor this backend gave out"
        before = whole_number("cursor", cursor, maximum=MAX_SQLITE_INT, hint=hint)
    size = core.cfg.page_size
    rows = core.store.list_jobs(ns, stages=stages, labels=labels, before_seq=before, limit=size + 1)
    headers = {}
    if len(rows) > size:
        rows = rows[:size]
        next_url = request.url.include_query_params(cursor=str(rows[-1][0]))
        headers["link"] = f'<{next_url}>; rel="next"'
    return JSONResponse([core.job_info(rec) for _, rec in rows], headers=headers)


async def count_jobs(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    return JSONResponse({"count": core.store.count_jobs(ns, stages=_stages(request))})


async def get_job(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    return JSONResponse(core.job_info(core.get_job(ns, request.path_params["job_id"])))


async def cancel_job(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    return JSONResponse(core.job_info(core.cancel_job(ns, request.path_params["job_id"])))


async def duplicate_job(request: Request) -> Response:
    core, user, ns, _ = _namespace(request)
    return JSONResponse(core.job_info(core.duplicate_job(ns, request.path_params["job_id"], user)))


async def job_labels(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    job_id = request.path_params["job_id"]
    core.get_job(ns, job_id)  # 404 before 400
    body = parse(LabelsIn, await _body(request))
    return JSONResponse(core.job_info(core.set_job_labels(ns, job_id, body.labels)))


async def job_expose(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    job_id = request.path_params["job_id"]
    core.get_job(ns, job_id)
    body = parse(ExposeIn, await _body(request))
    return JSONResponse(core.job_info(core.set_job_expose(ns, job_id, body.ports, body.portsPublic)))


async def job_logs(request: Request) -> Response | LogStream:
    core, _, ns, _ = _namespace(request)
    rec = core.get_job(ns, request.path_params["job_id"])
    tail: int | None = None
    if (raw := request.query_params.get("tail")) is not None:
        tail = whole_number("tail", raw, maximum=MAX_SAFE_INT)
    rule = core.faults.take(frozenset({"cut-logs"}), request.method, request.url.path)
    return LogStream(core, rec.id, tail=tail, cut_after=rule.after if rule else None)


async def job_metrics(request: Request) -> Response | MetricsStream:
    core, _, ns, _ = _namespace(request)
    rec = core.get_job(ns, request.path_params["job_id"])
    # 406 as soon as the stage is terminal (what clients see), even while the process group is wound down.
    if rec.terminal:
        return JSONResponse({"error": f"Job is not running (stage {rec.stage}): no metrics"}, status_code=406)
    return MetricsStream(core, rec.id)


async def auth_check(request: Request) -> Response:
    core, user, ns, _ = _namespace(request)
    if "job_id" in request.path_params:
        core.get_job(ns, request.path_params["job_id"])
    if request.path_params["perms"] not in ("read", "write"):
        raise NotFoundError("Not Found")
    return JSONResponse({"namespace": {"id": entity_id(ns), "name": ns}, "user": {"id": entity_id(user), "name": user}})


# Scheduled jobs


async def create_scheduled(request: Request) -> Response:
    core, user, ns, kind = _namespace(request)
    body = parse(ScheduledJobIn, await _body(request))
    rec = core.create_scheduled(
        ns, kind, user, body.jobSpec.to_spec(), body.schedule, suspend=body.suspend, concurrency=body.concurrency
    )
    return JSONResponse(core.scheduled_info(rec))


async def list_scheduled(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    labels = [check_label_filter(v) for v in request.query_params.getlist("label")]
    return JSONResponse([core.scheduled_info(r) for r in core.store.list_scheduled(ns, labels=labels)])


async def get_scheduled(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    return JSONResponse(core.scheduled_info(core.get_scheduled(ns, request.path_params["scheduled_id"])))


async def delete_scheduled(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    core.delete_scheduled(ns, request.path_params["scheduled_id"])
    return JSONResponse({})


async def suspend_scheduled(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    return JSONResponse(core.scheduled_info(core.set_suspended(ns, request.path_params["scheduled_id"], True)))


async def resume_scheduled(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    return JSONResponse(core.scheduled_info(core.set_suspended(ns, request.path_params["scheduled_id"], False)))


async def trigger_scheduled(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    return JSONResponse(core.job_info(core.trigger(ns, request.path_params["scheduled_id"])))


async def reschedule(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    sid = request.path_params["scheduled_id"]
    core.get_scheduled(ns, sid)
    body = parse(ScheduleIn, await _body(request))
    return JSONResponse(core.scheduled_info(core.reschedule(ns, sid, body.schedule)))


async def scheduled_labels(request: Request) -> Response:
    core, _, ns, _ = _namespace(request)
    sid = request.path_params["scheduled_id"]
    core.get_scheduled(ns, sid)
    body = parse(LabelsIn, await _body(request))
    return JSONResponse(core.scheduled_info(core.set_scheduled_labels(ns, sid, body.labels)))


# Webhooks (stored and listed; the local backend has no repository events to fire them)


def _user(request: Request) -> tuple[LocalCore, str]:
    core = _core(request)
    return core, check_token(request, core.cfg)


async def list_webhooks(request: Request) -> Response:
    core, user = _user(request)
    return JSONResponse([render.webhook_info(w) for w in core.store.list_webhooks(user)])


async def create_webhook(request: Request) -> Response:
    core, user = _user(request)
    rec = core.create_webhook(user, parse(WebhookIn, await _body(request)))
    return JSONResponse({"webhook": render.webhook_info(rec)})


async def get_webhook(request: Request) -> Response:
    core, user = _user(request)
    return JSONResponse({"webhook": render.webhook_info(core.get_webhook(user, request.path_params["webhook_id"]))})


async def update_webhook(request: Request) -> Response:
    core, user = _user(request)
    wid = request.path_params["webhook_id"]
    core.get_webhook(user, wid)
    rec = core.update_webhook(user, wid, parse(WebhookIn, await _body(request)))
    return JSONResponse({"webhook": render.webhook_info(rec)})


async def delete_webhook(request: Request) -> Response:
    core, user = _user(request)
    core.delete_webhook(user, request.path_params["webhook_id"])
    return JSONResponse({})


async def webhook_action(request: Request) -> Response:
    core, user = _user(request)
    action = request.path_params["action"]
    if action not in ("enable", "disable"):
        raise NotFoundError(f"Unknown webhook action: {action!r}")
    rec = core.set_webhook_disabled(user, request.path_params["webhook_id"], action == "disable")
    return JSONResponse({"webhook": render.webhook_info(rec)})


_JOB = "/api/jobs/{namespace}/{job_id}"
_SCHED = "/api/scheduled-jobs/{namespace}/{scheduled_id}"
_HOOK = "/api/settings/webhooks/{webhook_id}"

ROUTES = [
    Route("/api/whoami-v2", whoami, methods=["GET"]),
    Route("/api/agent-harnesses", agent_harnesses, methods=["GET"]),
    # Fixed paths before the {namespace} patterns they would otherwise match.
    Route("/api/jobs/hardware", hardware_list, methods=["GET"]),
    Route("/api/jobs/{namespace}", list_jobs, methods=["GET"]),
    Route("/api/jobs/{namespace}", create_job, methods=["POST"]),
    Route("/api/jobs/{namespace}/count", count_jobs, methods=["GET"]),
    Route("/api/jobs/{namespace}/auth-check/{perms}", auth_check, methods=["POST"]),
    Route(_JOB, get_job, methods=["GET"]),
    Route(f"{_JOB}/cancel", cancel_job, methods=["POST"]),
    Route(f"{_JOB}/duplicate", duplicate_job, methods=["POST"]),
    Route(f"{_JOB}/labels", job_labels, methods=["PUT"]),
    Route(f"{_JOB}/expose", job_expose, methods=["PUT"]),
    Route(f"{_JOB}/logs", job_logs, methods=["GET"]),
    Route(f"{_JOB}/metrics", job_metrics, methods=["GET"]),
    Route(f"{_JOB}/auth-check/{{perms}}", auth_check, methods=["POST"]),
    Route("/api/scheduled-jobs/{namespace}", list_scheduled, methods=["GET"]),
    Route("/api/scheduled-jobs/{namespace}", create_scheduled, methods=["POST"]),
    Route(_SCHED, get_scheduled, methods=["GET"]),
    Route(_SCHED, delete_scheduled, methods=["DELETE"]),
    Route(f"{_SCHED}/suspend", suspend_scheduled, methods=["POST"]),
    Route(f"{_SCHED}/resume", resume_scheduled, methods=["POST"]),
    Route(f"{_SCHED}/run", trigger_scheduled, methods=["POST"]),
    Route(f"{_SCHED}/schedule", reschedule, methods=["POST"]),
    Route(f"{_SCHED}/labels", scheduled_labels, methods=["PUT"]),
    Route("/api/settings/billing/usage/jobs", billing.jobs_usage, methods=["GET"]),
    Route("/api/settings/webhooks", list_webhooks, methods=["GET"]),
    Route("/api/settings/webhooks", create_webhook, methods=["POST"]),
    Route(_HOOK, get_webhook, methods=["GET"]),
    Route(_HOOK, update_webhook, methods=["POST"]),
    Route(_HOOK, delete_webhook, methods=["DELETE"]),
    Route(f"{_HOOK}/{{action}}", webhook_action, methods=["POST"]),
]


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _on_auth(request: Request, exc: Exception) -> Response:
    status = cast(AuthError, exc).status
    headers = {"www-authenticate": "Bearer"} if status == 401 else None
    return _error(status, str(exc), headers)


async def _on_bad_request(request: Request, exc: Exception) -> Response:
    return _error(400, str(exc))


async def _on_not_found(request: Request, exc: Exception) -> Response:
    return _error(404, str(exc))


async def _on_conflict(request: Request, exc: Exception) -> Response:
    return _error(409, str(exc))


async def _on_too_large(request: Request, exc: Exception) -> Response:
    # The rest of the body is not read: the connection cannot carry another request.
    return _error(413, str(exc), {"connection": "close"})


async def _on_http(request: Request, exc: Exception) -> Response:
    err = cast(HTTPException, exc)
    return _error(err.status_code, str(err.detail), dict(err.headers or {}))


class _Housekeeping:
    """Outermost middleware: starts the core on first use (ASGI transports skip the lifespan), adds ``Date``."""

    def __init__(self, app: ASGIApp, core: LocalCore) -> None:
        self.app = app
        self.core = core

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.core.ensure_started()

        async def send_with_date(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(k.lower() == b"date" for k, _ in headers):
                    headers.append((b"date", http_date(time.time()).encode()))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_date)


def build_app(core: LocalCore) -> Starlette:
    """The ASGI app over an existing core (``create_app`` makes the core too)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await core.ensure_started()
        yield
        await core.stop_jobs()

    handlers: dict[Any, Any] = {
        AuthError: _on_auth,
        RequestError: _on_bad_request,
        NotFoundError: _on_not_found,
        ConflictError: _on_conflict,
        BodyTooLargeError: _on_too_large,
        HTTPException: _on_http,
    }
    app = Starlette(
        routes=[*ROUTES, *bucket_routes.ROUTES, *cas_routes.ROUTES],
        middleware=[
            Middleware(LastResort),
            Middleware(_Housekeeping, core=core),
            Middleware(FaultMiddleware, faults=core.faults),
        ],
        exception_handlers=handlers,
        lifespan=lifespan,
    )
    app.state.core = core
    return app


def create_app(cfg: LocalConfig) -> Starlette:
    """A local backend as a Starlette ASGI app; its core is ``app.state.core``.

    Serving it with uvicorn runs its lifespan (pass ``date_header=False``: the app sets ``Date``
    itself, and two ``Date`` headers would break the official client's log cut-off); with an
    in-process ASGI transport (no lifespan), the core starts on the first request and must be
    closed with ``await app.state.core.aclose()``. ``LocalBackend`` does all this.
    """
    return build_app(LocalCore(cfg))
