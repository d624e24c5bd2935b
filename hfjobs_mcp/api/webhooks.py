"""The webhook endpoints (wire-protocol.md §13): webhooks that call a URL or start a copy of a job on repo events."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hfjobs_mcp.api.base import ClientBase, load, load_list, segment
from hfjobs_mcp.api.http import Ambiguous
from hfjobs_mcp.api.models import WebhookInfo
from hfjobs_mcp.errors import InvalidRequestError

__all__ = ["WebhookCalls"]


class WebhookCalls(ClientBase):
    """The webhook endpoints of :class:`~hfjobs_mcp.api.client.JobsClient`."""

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
            body["jobSourceId"] = segment(job_id, "job id")
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
        return load(WebhookInfo, response, key="webhook")

    async def list_webhooks(self) -> list[WebhookInfo]:
        return load_list(WebhookInfo, await self._json("GET", "/api/settings/webhooks") or [])

    async def get_webhook(self, webhook_id: str) -> WebhookInfo:
        body = await self._json("GET", f"/api/settings/webhooks/{segment(webhook_id, 'webhook id')}")
        return load(WebhookInfo, body, key="webhook")

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
            body["jobSourceId"] = segment(job_id, "job id")
        if url is not None:
            body["url"] = url
        if domains is not None:
            body["domains"] = list(domains)
        if secret is not None:
            body["secret"] = secret
        if secrets:
            body["secrets"] = dict(secrets)
        response = await self._write("POST", f"/api/settings/webhooks/{segment(webhook_id, 'webhook id')}", json=body)
        return load(WebhookInfo, response, key="webhook")

    async def enable_webhook(self, webhook_id: str) -> WebhookInfo:
        body = await self._write("POST", f"/api/settings/webhooks/{segment(webhook_id, 'webhook id')}/enable")
        return load(WebhookInfo, body, key="webhook")

    async def disable_webhook(self, webhook_id: str) -> WebhookInfo:
        body = await self._write("POST", f"/api/settings/webhooks/{segment(webhook_id, 'webhook id')}/disable")
        return load(WebhookInfo, body, key="webhook")

    async def delete_webhook(self, webhook_id: str) -> None:
        await self._write("DELETE", f"/api/settings/webhooks/{segment(webhook_id, 'webhook id')}", gone_ok=True)
