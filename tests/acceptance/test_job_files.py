"""A UV job started by ``run_uv_job`` looks, to ``hf jobs inspect``, like one started by ``hf jobs uv run``
(huggingface_hub 2.4): the same command and the same volume, the ``jobs-artifacts`` bucket read-write at ``/data``
in a folder of its own (wire-protocol.md §8.3, issue 18).

Both jobs go to the same local backend: the CLI, unchanged in a subprocess, through the recording proxy; our server
in this process, behind a real MCP client session.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance.conftest import TOKEN, Hub
from tests.e2e.conftest import Asked, Backend, open_session

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(240), pytest.mark.slow]  # a CLI subprocess and two jobs

SCRIPT = """\
# /// script
# dependencies = []
# ///
import sys
print("config:", open(sys.argv[1]).read().strip())
"""
FOLDER = re.compile(r"^\d{8}T\d{6}-[0-9a-f]{6}$")


async def test_run_uv_job_starts_the_job_hf_jobs_uv_run_starts(hub: Hub, acceptance_backend: Any) -> None:
    (hub.home / "train.py").write_text(SCRIPT, encoding="utf-8")
    (hub.home / "config.yml").write_text("lr: 0.01\n", encoding="utf-8")
    started = hub.hf("jobs", "uv", "run", "-d", "train.py", "config.yml")
    assert started.returncode == 0, started.report()
    found = re.search(r"\b([0-9a-f]{24})\b", started.stdout + started.stderr)
    assert found, started.report()
    cli_id = found.group(1)

    # Our server talks to the backend itself: behind the proxy the backend names its buckets with its own address,
    # which huggingface_hub in this process (no HF_ENDPOINT) would not take for its endpoint's.
    backend = Backend(url=acceptance_backend.url, token=TOKEN, state_dir=Path(), faults=None)
    async with open_session(backend, elicitation=Asked()) as s:  # local files leave the disk: the user agrees
        result = await s.ok(
            "run_uv_job",
            {"script": str(hub.home / "train.py"), "script_args": [str(hub.home / "config.yml")]},
        )
        tool_id = result["job"]["id"]
        for job_id in (cli_id, tool_id):
            waited = await s.ok("wait_for_job", {"job_id": job_id, "timeout_seconds": 120})
            assert waited["job"]["stage"] == "COMPLETED", waited
        logs = await s.ok("fetch_logs", {"job_id": tool_id})
        assert [line["text"] for line in logs["lines"]] == ["config: lr: 0.01"]

    inspected = hub.hf("jobs", "inspect", "--json", cli_id, tool_id)
    assert inspected.returncode == 0, inspected.report()
    cli_job, tool_job = json.loads(inspected.stdout)
    assert cli_job["command"] == tool_job["command"] == ["uv", "run", "/data/train.py", "/data/config.yml"]
    assert cli_job["docker_image"] == tool_job["docker_image"] == "ghcr.io/astral-sh/uv:python3.12-bookworm"
    (cli_volume,) = cli_job["volumes"]
    (tool_volume,) = tool_job["volumes"]
    assert set(cli_volume) == set(tool_volume)
    shape = {k: v for k, v in cli_volume.items() if k != "path"}
    assert shape == {k: v for k, v in tool_volume.items() if k != "path"}
    assert (shape["type"], shape["source"], shape["mount_path"], shape["read_only"]) == (
        "bucket",
        "alice/jobs-artifacts",
        "/data",
        False,
    )
    assert FOLDER.match(cli_volume["path"]), cli_volume
    assert FOLDER.match(tool_volume["path"]), tool_volume
    assert cli_volume["path"] != tool_volume["path"]  # each request has a folder of its own
    assert cli_job["environment"] == tool_job["environment"] == {}  # no script in the environment
