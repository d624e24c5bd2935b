"""Time on the wire: epoch seconds to the ``YYYY-MM-DDTHH:MM:SS.mmmZ`` form every client parses, and back."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import formatdate


def to_wire(ts: float) -> str:
    """``2025-07-22T16:06:25.079Z``: millisecond precision, always ``Z`` (clients reject ``+00:00``)."""
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def from_wire(text: str) -> float:
    """The inverse of :func:`to_wire` (also accepts other ISO-8601 forms)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def http_date(ts: float) -> str:
    """An RFC 7231 ``Date`` header value; the official client cuts a no-follow log replay at it."""
    return formatdate(ts, usegmt=True)
