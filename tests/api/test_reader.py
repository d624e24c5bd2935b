"""The read-only view a plan gets: reads go through, anything else is a bug that fails loudly."""

from __future__ import annotations

import pytest

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.api.reader import JobsReader, WriteWhilePlanning

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    "method",
    [
        "run_job",
        "duplicate_job",
        "cancel_job",
        "create_scheduled_job",
        "resume_scheduled_job",
        "trigger_scheduled_job",
        "delete_scheduled_job",
        "suspend_scheduled_job",
        "create_webhook",
        "update_job_labels",
        "aclose",
        "_http",
    ],
)
async def test_a_plan_cannot_reach_a_writing_method(method: str) -> None:
    async with JobsClient(token="hf_fake_reader_token_0000", endpoint="http://127.0.0.1:9") as client:
        reader = JobsReader(client)
        assert hasattr(client, method)
        with pytest.raises(WriteWhilePlanning, match="plans only read"):
            getattr(reader, method)


async def test_reads_reach_the_client() -> None:
    async with JobsClient(token="hf_fake_reader_token_0000", endpoint="http://127.0.0.1:9", namespace="alice") as c:
        reader = JobsReader(c)
        assert reader.__wrapped__ is c
        assert await reader.namespace() == "alice"
        assert reader.endpoint == "http://127.0.0.1:9"
        assert reader.has_token
