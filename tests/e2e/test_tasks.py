"""Tasks (``io.modelcontextprotocol/tasks``) through real ``mcp.Client`` sessions against the local backend.

A client declaring the extension gets ``wait_for_job`` as a task and polls it to the job's end, or cancels the job
through ``tasks/cancel``; a client that does not declare it (or speaks 2025-11-25) gets plain results and no task
method; a tampered id, or one sealed by another server, is an unknown task; a task-declaring client's run still
meets the consent gate; a task's result is masked like the tool's. The attack of one caller on another's task over
HTTP is in tests/e2e/test_http_deployment.py.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import mcp
import pytest
from mcp.client.extension import advertise
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, MISSING_REQUIRED_CLIENT_CAPABILITY, CallToolResult

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.config import Settings
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server
from hfjobs_mcp.serve.tasks import IDENTIFIER
from tests.e2e.conftest import TOOLSETS, Asked, Backend, forbid, text
from tests.e2e.tasks_client import CreatedTask, Tasks, cancel_task, get_task, task_client

pytestmark = pytest.mark.anyio

SHORT = ["python", "-c", "import time; time.sleep(2); print('done')"]
LONG = ["python", "-c", "import time; time.sleep(600)"]
TASK_SECRET = "tAsK-s3cret-value-9f8e7d6c5b4a"


@asynccontextmanager
async def served(
    backend: Backend, *, environ: dict[str, str] | None = None, **settings: Any
) -> AsyncIterator[tuple[Any, JobsClient]]:
    conf = Settings(endpoint=backend.url, **{"toolsets": TOOLSETS, **settings})
    async with JobsClient(token=backend.token, endpoint=backend.url) as api:
        ctx = base_context(conf, api, environ=environ or {})
        yield build_server(ctx, toolsets=conf.toolsets, read_only=conf.read_only), api


def _ok(result: CallToolResult) -> dict[str, Any]:
    assert not result.is_error, text(result)
    assert result.structured_content is not None
    return result.structured_content


async def _start(client: mcp.Client, command: list[str], **extra: Any) -> str:
    started = _ok(await client.call_tool("run_job", {"image": "python:3.12", "command": command, **extra}))
    assert "resultType" not in (started or {}), "a run is never a task"
    return f"{started['job']['namespace']}/{started['job']['id']}"


async def _task(client: mcp.Client, job: str, **args: Any) -> CreatedTask:
    created = await client.session.call_tool("wait_for_job", {"job_id": job, **args}, allow_claimed=True)
    assert isinstance(created, CreatedTask), created
    return created


@pytest.mark.slow
async def test_a_declaring_client_polls_a_job_to_its_end(backend: Backend) -> None:
    tasks = Tasks()
    async with served(backend) as (server, api), task_client(server, tasks) as client:
        discovered = client.server_capabilities
        assert discovered is not None
        assert IDENTIFIER in (discovered.extensions or {})
        job = await _start(client, SHORT)
        # The SDK client's call_tool: the task comes back at once, is polled, and ends as wait_for_job's result.
        result = await client.call_tool("wait_for_job", {"job_id": job, "timeout_seconds": 1})
        waited = _ok(result)
        assert waited["job"]["stage"] == "COMPLETED"
        assert waited["reached"]
        assert waited["finished"]
        assert waited["waited_seconds"] >= 1, "timeout_seconds caps a plain wait, not a task"
        (created,) = tasks.created
        assert created.status == "working"
        assert created.poll_interval_ms
        assert created.ttl_ms is None
        assert tasks.polls >= 2, "the job was still running when the task came back"
        links = [c.uri for c in result.content if c.type == "resource_link"]
        assert f"hfjobs://jobs/{job}" in links
        assert str((await api.inspect_job(job)).status.stage) == "COMPLETED"
        # The task id stays valid after the end: polling again reports the same final result.
        again = await get_task(client.session, created.task_id)
        assert again.status == "completed"
        assert again.result is not None
        assert again.result["structuredContent"]["job"]["stage"] == "COMPLETED"


async def test_until_stage_ends_the_task_there(backend: Backend) -> None:
    async with served(backend) as (server, api), task_client(server, Tasks()) as client:
        job = await _start(client, LONG)
        try:
            waited = _ok(await client.call_tool("wait_for_job", {"job_id": job, "until_stage": "RUNNING"}))
            assert waited["job"]["stage"] == "RUNNING"
            assert waited["reached"]
            assert not waited["finished"]
        finally:
            await api.cancel_job(job)


async def test_tasks_cancel_cancels_the_job(backend: Backend) -> None:
    async with served(backend) as (server, api), task_client(server, Tasks()) as client:
        job = await _start(client, LONG)
        created = await _task(client, job)
        assert (await get_task(client.session, created.task_id)).status == "working"
        await cancel_task(client.session, created.task_id)
        assert str((await api.inspect_job(job)).status.stage) == "CANCELED"
        ended = await get_task(client.session, created.task_id)
        assert ended.status == "cancelled"
        assert ended.result is None
        await cancel_task(client.session, created.task_id)  # again: acknowledged, the job has ended


@pytest.mark.slow
async def test_a_client_that_does_not_declare_tasks_gets_plain_results(backend: Backend) -> None:
    async with served(backend) as (server, _api), mcp.Client(server) as client:
        job = await _start(client, SHORT)
        waited = _ok(await client.call_tool("wait_for_job", {"job_id": job, "timeout_seconds": 60}))
        assert waited["job"]["stage"] == "COMPLETED"
        # Even with the claimed shape allowed, the server returns no task to a client that did not declare it.
        plain = await client.session.call_tool("wait_for_job", {"job_id": job}, allow_claimed=True)
        assert isinstance(plain, CallToolResult)
        assert not plain.is_error
        # The task methods refuse it with -32021, naming the extension to declare.
        for ask in (get_task, cancel_task):
            with pytest.raises(MCPError) as refused:
                await ask(client.session, "v1.anything")
            assert refused.value.code == MISSING_REQUIRED_CLIENT_CAPABILITY
            assert IDENTIFIER in str(refused.value.error.data)


@pytest.mark.slow
async def test_the_2025_era_never_sees_a_task(backend: Backend) -> None:
    """2025-11-25 cannot carry ``resultType: "task"``: not advertised there, plain results even if declared."""
    async with served(backend) as (server, _api):
        declared = [advertise(IDENTIFIER)]
        async with mcp.Client(server, mode="legacy", extensions=declared) as client:
            assert client.protocol_version == "2025-11-25"
            caps = client.server_capabilities
            assert caps is not None
            assert IDENTIFIER not in (caps.extensions or {})
            job = await _start(client, SHORT)
            waited = _ok(await client.call_tool("wait_for_job", {"job_id": job, "timeout_seconds": 60}))
            assert waited["job"]["stage"] == "COMPLETED"
            with pytest.raises(MCPError):
                await get_task(client.session, "v1.anything")


@pytest.mark.slow
async def test_a_tampered_or_foreign_task_id_is_an_unknown_task(backend: Backend) -> None:
    async with served(backend) as (server, api), task_client(server, Tasks()) as client:
        job = await _start(client, LONG)
        try:
            created = await _task(client, job)
            genuine = created.task_id
            body = genuine[3:]
            flipped = "A" if body[20] != "A" else "B"
            forged = [
                genuine[:-2] + ("AA" if genuine[-2:] != "AA" else "BB"),
                "v1." + body[:20] + flipped + body[21:],
                genuine + "A",
                job,  # the bare job reference is no task id
                "",
            ]
            async with served(backend) as (other_server, _), task_client(other_server, Tasks()) as other:
                foreign = (await _task(other, job)).task_id  # sealed under another server's key
                for task_id in [*forged, foreign]:
                    for ask in (get_task, cancel_task):
                        with pytest.raises(MCPError) as refused:
                            await ask(client.session, task_id)
                        assert refused.value.code == INVALID_PARAMS, task_id
                # ... and each server still answers for its own.
                assert (await get_task(other.session, foreign)).status == "working"
            assert str((await api.inspect_job(job)).status.stage) in {"RUNNING", "SCHEDULING"}
        finally:
            await api.cancel_job(job)


@pytest.mark.slow
async def test_a_task_declaring_client_still_meets_the_consent_gate(backend: Backend) -> None:
    """The attack: a run over the auto-approve limit, from a client declaring tasks, with no yes: nothing starts."""
    async with served(backend) as (server, api), task_client(server, Tasks()) as client:
        before = len(await api.list_jobs())
        for tool, args in [
            ("run_job", {"image": "python:3.12", "command": ["true"], "flavor": "a100-large"}),
            ("run_uv_job", {"script": "print(1)", "flavor": "h200x8"}),
        ]:
            refused = await client.session.call_tool(tool, args, allow_claimed=True)
            assert isinstance(refused, CallToolResult), refused
            assert refused.is_error
            assert refused.structured_content is not None
            assert refused.structured_content["error"]["type"] == "PolicyError"
        assert len(await api.list_jobs()) == before
    # With a human's no through elicitation, still nothing.
    tasks, no = Tasks(), Asked(approve=False)
    async with served(backend) as (server, api), task_client(server, tasks, elicitation_callback=no) as client:
        before = len(await api.list_jobs())
        args = {"image": "python:3.12", "command": ["true"], "flavor": "a100-large"}
        refused = await client.call_tool("run_job", args)
        assert refused.is_error
        assert no.prompts, "the human was asked, and said no"
        assert not tasks.created
        assert len(await api.list_jobs()) == before


@pytest.mark.slow
async def test_a_tasks_result_is_masked_like_the_tools(backend: Backend) -> None:
    forbid(TASK_SECRET)
    environ = {"TASK_KEY": TASK_SECRET}
    async with (
        served(backend, environ=environ) as (server, _api),
        task_client(server, Tasks(), elicitation_callback=Asked()) as client,
    ):
        # The job fails printing the forwarded value, so the result carries its failure with the last log lines.
        command = ["python", "-c", "import os, sys; print('key=' + os.environ['TASK_KEY']); sys.exit(3)"]
        job = await _start(client, command, secrets=["TASK_KEY"])
        result = await client.call_tool("wait_for_job", {"job_id": job})
        waited = _ok(result)
        assert waited["job"]["stage"] == "ERROR"
        blob = text(result) + repr(result.structured_content)
        assert "key=***" in blob, blob
        assert TASK_SECRET not in blob
