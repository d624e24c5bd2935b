"""The audit trail: one line on stderr per request that forwards secret values; names only, never a value."""

from __future__ import annotations

import logging
from collections.abc import Iterable

audit_log = logging.getLogger("hfjobs_mcp.audit")


def audit(*, tool: str, names: Iterable[str], namespace: str, job_id: str | None, confirmed_by: str) -> None:
    """One line on stderr per forwarding: what went where and who said yes; never a value."""
    audit_log.warning(
        "audit: %s forwarded secrets [%s] to namespace %s (job %s), confirmed by %s",
        tool,
        ", ".join(sorted(names)),
        namespace,
        job_id or "-",
        confirmed_by,
    )
