"""The MCP Inspector's command-line mode against the real ``hfjobs-mcp --local`` over stdio.

``@modelcontextprotocol/inspector`` (npm, installed once into ``.cache/npm-tools``; its ``mcp-inspector`` bin is
what ``npx @modelcontextprotocol/inspector`` runs) lists the tools with ``--strict``, which checks every tool
schema for portability and exits 6 on an error-severity finding, and calls ``list_hardware``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from hfjobs_mcp.tools.registry import select_tools
from tests.manifests.conftest import clean_env, npm_tool
from tests.visibility import model_visible


def _inspect(tmp: Path, server: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    cmd = [str(npm_tool("mcp-inspector")), "--cli", "--format", "json", *args]
    cmd += [str(server), "--local", "--state-dir", str(tmp / "state")]
    done = subprocess.run(cmd, cwd=tmp, env=clean_env(tmp), capture_output=True, text=True, timeout=120, check=False)
    try:
        answer: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        answer = {}
    return done, answer


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


def test_tools_call_list_hardware(tmp_path: Path, hfjobs_bin: Path) -> None:
    done, answer = _inspect(tmp_path, hfjobs_bin, "--method", "tools/call", "--tool-name", "list_hardware")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    result = answer["result"]
    assert result.get("isError") is not True
    flavors = {f["name"]: f for f in result["structuredContent"]["flavors"]}
    assert flavors["cpu-basic"]["price_per_hour_usd"] > 0
    assert "cpu-basic" in result["content"][0]["text"]
