"""``JobsClient``: the Jobs REST API as async methods, one per endpoint of wire-protocol.md §3.

Every parameter is keyword-only beyond the obvious first one, paths are built from validated parts, and the
transport is injectable (``httpx2.MockTransport`` or ``httpx2.ASGITransport`` in tests, the network otherwise).

The class is put together from one module per role, each a small class over :class:`~hfjobs_mcp.api.base.ClientBase`
(the token, the HTTP plumbing and the no-duplicate rules of writes): ``jobs`` (jobs, hardware, usage, metrics),
``logs`` (reading and following logs), ``scheduled`` and ``webhooks``. Retries are the one loop of
:mod:`hfjobs_mcp.api.retry`.
"""

from __future__ import annotations

from hfjobs_mcp.api.jobs import SUBMISSION_LABEL, SUBMISSION_MARK_SHOWN, same_site
from hfjobs_mcp.api.logs import LogCalls
from hfjobs_mcp.api.scheduled import ScheduledCalls
from hfjobs_mcp.api.webhooks import WebhookCalls

__all__ = ["SUBMISSION_LABEL", "SUBMISSION_MARK_SHOWN", "JobsClient", "same_site"]


class JobsClient(LogCalls, ScheduledCalls, WebhookCalls):
    """Async client of the Hugging Face Jobs API (or of the local backend, which speaks the same API).

    Use as ``async with JobsClient.from_env() as client: ...``. The namespace (the token's user) is asked of
    ``whoami-v2`` once and cached. The token is held as a :class:`~pydantic.SecretStr` and never shown.
    """
