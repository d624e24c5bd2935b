"""The Jobs REST client: typed, async, retrying reads safely and never duplicating a submission.

No MCP in here (a test holds the layering): the same client serves the MCP tools, scripts and tests.
"""

from __future__ import annotations

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
