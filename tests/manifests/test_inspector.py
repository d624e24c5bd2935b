"""The MCP Inspector's command-line mode against the real ``hfjobs-mcp --local`` over stdio.

``@modelcontextprotocol/inspector`` (npm, installed once into ``.cache/npm-tools``; its ``mcp-inspector`` bin is
what ``npx @modelcontextprotocol/inspector`` runs) lists the tools with ``--strict``, which checks every tool
schema for portability and exits 6 on an error-severity finding, and calls ``list_hardware``; it lists and renders
the prompts, lists the resource templates, reads the hardware table and a run's linked log (issue 21).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from hfjobs_mcp.tools.registry import select_tools
from tests.manifests.conftest import clean_env, npm_tool
from tests.visibility import model_visible


def _inspect(tmp: Path, server: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    # The server first: a variadic option (--prompt-args, --tool-arg) would take it for one more value.
    cmd = [str(npm_tool("mcp-inspector")), "--cli", "--format", "json"]
    cmd += [str(server), "--local", "--state-dir", str(tmp / "state"), *args]
    done = subprocess.run(cmd, cwd=tmp, env=clean_env(tmp), capture_output=True, text=True, timeout=120, check=False)
    try:
        answer: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        answer = {}
    return done, answer


@pytest.mark.slow
def test_tools_list_is_strict_clean(tmp_path: Path, hfjobs_bin: Path) -> None:
    done, answer = _inspect(tmp_path, hfjobs_bin, "--method", "tools/list", "--strict")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert [t["name"] for t in model_visible(answer["result"]["tools"])] == [t.name for t in select_tools()]
    errors = [
        (tool["toolName"], finding["path"], finding["issue"])
        for tool in answer.get("schemaFindings", [])
        for finding in tool["findings"]
        if finding["severity"] == "error"
    ]
    assert errors == []


@pytest.mark.slow
def test_tools_call_list_hardware(tmp_path: Path, hfjobs_bin: Path) -> None:
    done, answer = _inspect(tmp_path, hfjobs_bin, "--method", "tools/call", "--tool-name", "list_hardware")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = answer["result"]
    assert result.get("isError") is not True
    flavors = {f["name"]: f for f in result["structuredContent"]["flavors"]}
    assert flavors["cpu-basic"]["price_per_hour_usd"] > 0
    assert "cpu-basic" in result["content"][0]["text"]


def _ok(tmp: Path, server: Path, *args: str) -> dict[str, Any]:
    done, answer = _inspect(tmp, server, *args)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result: dict[str, Any] = answer["result"]
    return result


@pytest.mark.slow
def test_prompts_resources_and_links(tmp_path: Path, hfjobs_bin: Path) -> None:
    """Issue 21: prompts list and render, templates list, the hardware table reads, a run links to its log."""
    prompts = _ok(tmp_path, hfjobs_bin, "--method", "prompts/list")["prompts"]
    assert {p["name"] for p in prompts} >= {"debug_failed_job", "fine_tune_with_trl", "review_spend"}
    args = ("--prompt-name", "debug_failed_job", "--prompt-args", "job_id=abc")
    rendered = _ok(tmp_path, hfjobs_bin, "--method", "prompts/get", *args)
    assert "`inspect_job`" in rendered["messages"][0]["content"]["text"]
    templates = _ok(tmp_path, hfjobs_bin, "--method", "resources/templates/list")["resourceTemplates"]
    assert "hfjobs://jobs/{namespace}/{job_id}/logs" in {t["uriTemplate"] for t in templates}
    hardware = _ok(tmp_path, hfjobs_bin, "--method", "resources/read", "--uri", "hfjobs://hardware")
    assert json.loads(hardware["contents"][0]["text"])["flavors"]
    command = ("--tool-arg", "image=python:3.12", "--tool-arg", 'command=["echo","seen by the inspector"]')
    started = _ok(tmp_path, hfjobs_bin, "--method", "tools/call", "--tool-name", "run_job", *command)
    links = [c["uri"] for c in started["content"] if c["type"] == "resource_link"]
    assert links[1].endswith("/logs")
    deadline = time.monotonic() + 60
    while True:
        read = _ok(tmp_path, hfjobs_bin, "--method", "resources/read", "--uri", links[1])
        text = read["contents"][0]["text"]
        if "COMPLETED" in text or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert text.rstrip().endswith("seen by the inspector")
