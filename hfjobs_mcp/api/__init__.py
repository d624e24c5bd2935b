"""The Jobs REST client: typed, async, retrying reads safely and never duplicating a submission.

No MCP in here (a test holds the layering): the same client serves the MCP tools, scripts and tests.

Importing the package is cheap: its names are loaded on first use (:pep:`562`), so a server answers
``tools/list`` without the client, its models and tenacity (start-up time, issue 15). Type checkers see the
imports below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hfjobs_mcp.api.auth import find_endpoint, find_token
    from hfjobs_mcp.api.client import SUBMISSION_LABEL, SUBMISSION_MARK_SHOWN, JobsClient
    from hfjobs_mcp.api.models import (
        TERMINAL_STAGES,
        Accelerator,
        HardwareFlavor,
        JobInfo,
        JobStage,
        JobsUsage,
        JobUsage,
        LogBatch,
        LogLine,
        MetricsSample,
        ScheduledJobInfo,
        WebhookInfo,
        WhoAmI,
    )
    from hfjobs_mcp.api.retry import RetryPolicy
    from hfjobs_mcp.api.spec import DEFAULT_FLAVOR, HUB_FLAVORS, JobSpec, Volume, default_job_name, parse_timeout

_WHERE = {
    "Accelerator": "hfjobs_mcp.api.models",
    "DEFAULT_FLAVOR": "hfjobs_mcp.api.spec",
    "HUB_FLAVORS": "hfjobs_mcp.api.spec",
    "HardwareFlavor": "hfjobs_mcp.api.models",
    "JobInfo": "hfjobs_mcp.api.models",
    "JobSpec": "hfjobs_mcp.api.spec",
    "JobStage": "hfjobs_mcp.api.models",
    "JobUsage": "hfjobs_mcp.api.models",
    "JobsClient": "hfjobs_mcp.api.client",
    "JobsUsage": "hfjobs_mcp.api.models",
    "LogBatch": "hfjobs_mcp.api.models",
    "LogLine": "hfjobs_mcp.api.models",
    "MetricsSample": "hfjobs_mcp.api.models",
    "RetryPolicy": "hfjobs_mcp.api.retry",
    "SUBMISSION_LABEL": "hfjobs_mcp.api.client",
    "SUBMISSION_MARK_SHOWN": "hfjobs_mcp.api.client",
    "ScheduledJobInfo": "hfjobs_mcp.api.models",
    "TERMINAL_STAGES": "hfjobs_mcp.api.models",
    "Volume": "hfjobs_mcp.api.spec",
    "WebhookInfo": "hfjobs_mcp.api.models",
    "WhoAmI": "hfjobs_mcp.api.models",
    "default_job_name": "hfjobs_mcp.api.spec",
    "find_endpoint": "hfjobs_mcp.api.auth",
    "find_token": "hfjobs_mcp.api.auth",
    "parse_timeout": "hfjobs_mcp.api.spec",
}


def __getattr__(name: str) -> Any:
    """Each exported name, from its module, on first use (start-up time)."""
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_FLAVOR",
    "HUB_FLAVORS",
    "SUBMISSION_LABEL",
    "SUBMISSION_MARK_SHOWN",
    "TERMINAL_STAGES",
    "Accelerator",
    "HardwareFlavor",
    "JobInfo",
    "JobSpec",
    "JobStage",
    "JobUsage",
    "JobsClient",
    "JobsUsage",
    "LogBatch",
    "LogLine",
    "MetricsSample",
    "RetryPolicy",
    "ScheduledJobInfo",
    "Volume",
    "WebhookInfo",
    "WhoAmI",
    "default_job_name",
    "find_endpoint",
    "find_token",
    "parse_timeout",
]
