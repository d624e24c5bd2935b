"""A read-only view of the API client: what a writing tool may use while it plans, before the user's yes.

Planning reads (the job a rerun copies, the hardware list, the namespace's jobs and schedules for the budget) but
must never write: the view forwards the client's reading methods and has no other. Calling anything else raises
:class:`WriteWhilePlanning`, a bug, so a plan that tried to send something fails loudly instead of spending.
"""

from __future__ import annotations

from typing import Any

from hfjobs_mcp.api.client import JobsClient
from hfjobs_mcp.api.models import HardwareFlavor, JobInfo, ScheduledJobInfo, WebhookInfo, WhoAmI

__all__ = ["JobsReader", "WriteWhilePlanning"]


class WriteWhilePlanning(RuntimeError):
    """A plan reached for a method that is not a read: a bug in that tool."""


class JobsReader:
    """The reading half of a :class:`JobsClient`; ``__wrapped__`` is the client (caches key on it)."""

    __slots__ = ("__wrapped__",)

    def __init__(self, client: JobsClient) -> None:
        self.__wrapped__ = client

    def __getattr__(self, name: str) -> Any:
        raise WriteWhilePlanning(f"{name!r} is not available while planning: plans only read")

    @property
    def endpoint(self) -> str:
        return self.__wrapped__.endpoint

    @property
    def has_token(self) -> bool:
        return self.__wrapped__.has_token

    def token_origin(self) -> str:
        return self.__wrapped__.token_origin()

    async def whoami(self) -> WhoAmI:
        return await self.__wrapped__.whoami()

    async def namespace(self) -> str:
        return await self.__wrapped__.namespace()

    async def list_hardware(self) -> list[HardwareFlavor]:
        return await self.__wrapped__.list_hardware()

    async def inspect_job(self, job_id: str, *, namespace: str | None = None) -> JobInfo:
        return await self.__wrapped__.inspect_job(job_id, namespace=namespace)

    async def list_jobs(
        self, *, namespace: str | None = None, stages: tuple[str, ...] = (), limit: int | None = None
    ) -> list[JobInfo]:
        return await self.__wrapped__.list_jobs(namespace=namespace, stages=stages, limit=limit)

    async def inspect_scheduled_job(self, scheduled_job_id: str, *, namespace: str | None = None) -> ScheduledJobInfo:
        return await self.__wrapped__.inspect_scheduled_job(scheduled_job_id, namespace=namespace)

    async def list_scheduled_jobs(self, *, namespace: str | None = None) -> list[ScheduledJobInfo]:
        return await self.__wrapped__.list_scheduled_jobs(namespace=namespace)

    async def get_webhook(self, webhook_id: str) -> WebhookInfo:
        return await self.__wrapped__.get_webhook(webhook_id)
