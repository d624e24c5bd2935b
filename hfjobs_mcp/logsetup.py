"""Logging to stderr, the same for every entry point (the command line, each HTTP worker): what each level shows.

INFO keeps lifecycle events (started, stopped, job state changes) and errors. Per-request access lines are
DEBUG: httpx2 logs every API request at INFO and uvicorn an access line per HTTP request, which under a busy
agent came to about 0.4 KB per tool call (4 MiB a minute in a 16-client soak), written into the MCP client's
log file in stdio mode. They are relabelled DEBUG and shown only when their logger is enabled for DEBUG
(``--log-level DEBUG``, or a test's ``caplog.set_level(DEBUG)``), not dropped by a fixed level.
"""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ACCESS_LOGGERS = ("httpx2", "uvicorn.access")


class AccessLinesAtDebug(logging.Filter):
    """On a logger whose INFO records are per-request lines: make them DEBUG records, kept only at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno != logging.INFO:
            return True
        record.levelno, record.levelname = logging.DEBUG, logging.getLevelName(logging.DEBUG)
        return logging.getLogger(record.name).isEnabledFor(logging.DEBUG)


def demote_access_lines() -> None:
    """Install :class:`AccessLinesAtDebug` on the access loggers (idempotent)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, AccessLinesAtDebug) for f in logger.filters):
            logger.addFilter(AccessLinesAtDebug())


def configure(level: str) -> None:
    """Log to stderr at ``level`` (a name such as ``INFO``), access lines at DEBUG."""
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format=FORMAT)
    demote_access_lines()
