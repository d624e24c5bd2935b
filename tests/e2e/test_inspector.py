"""The MCP Inspector's command line (``@modelcontextprotocol/inspector --cli``) against the real ``hfjobs-mcp --local``
over stdio (issue 21): it lists and renders the prompts, lists the resource templates, reads the hardware table,
and a run's ``resource_link`` reads back as the job's masked log.

The Inspector is installed once into ``.cache/inspector`` with the Node >= 22 the conformance harness installs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.test_conformance import _install as install_node
from tests.local.util import wait_gone

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "inspector"
VERSION = "2.12.0"
BIN = Path(sys.executable).parent / "hfjobs-mcp"

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _inspector() -> tuple[Path, Path]:
    node, _ = install_node()
    cli = CACHE / "node_modules" / ".bin" / "mcp-inspector"
    marker = CACHE / f".installed-{VERSION}"
    if not marker.exists():
        npm = shutil.which("npm", path=f"{node.parent}{os.pathsep}{os.environ.get('PATH', '')}")
        if npm is None:
            pytest.skip("npm is needed to install @modelcontextprotocol/inspector")
        CACHE.mkdir(parents=True, exist_ok=True)
        (CACHE / "package.json").write_text('{"private": true}\n', encoding="utf-8")
        env = {**os.environ, "PATH": f"{node.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        command = [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"]
        subprocess.run([*command, f"@modelcontextprotocol/inspector@{VERSION}"], cwd=CACHE, env=env, check=True)
        marker.touch()
    return node, cli


def _run(tmp: Path, *args: str) -> Any:
    node, cli = _inspector()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "HFJOBS_MCP_"))}
    env["PATH"] = f"{node.parent}{os.pathsep}{env.get('PATH', '')}"
    # The Inspector passes the server only the variables given with -e (the backend's idle period: tests/conftest.py).
    given = [f"HFJOBS_MCP_HOME={tmp / 'home'}", f"HFJOBS_LOCAL_IDLE_SECONDS={os.environ['HFJOBS_LOCAL_IDLE_SECONDS']}"]
    server = [*(a for v in given for a in ("-e", v)), str(BIN), "--local", "--state-dir", str(tmp / "state")]
    done = subprocess.run(
        [str(cli), "--cli", *server, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_the_inspector_cli_sees_prompts_resources_and_links(tmp_path: Path) -> None:
    prompts = _run(tmp_path, "--method", "prompts/list")["prompts"]
    assert {p["name"] for p in prompts} >= {"debug_failed_job", "fine_tune_with_trl"}
    rendered = _run(
        tmp_path, "--method", "prompts/get", "--prompt-name", "debug_failed_job", "--prompt-args", "job_id=abc"
    )
    assert "`inspect_job`" in rendered["messages"][0]["content"]["text"]
    templates = _run(tmp_path, "--method", "resources/templates/list")["resourceTemplates"]
    assert "hfjobs://jobs/{namespace}/{job_id}/logs" in {t["uriTemplate"] for t in templates}
    hardware = json.loads(
        _run(tmp_path, "--method", "resources/read", "--uri", "hfjobs://hardware")["contents"][0]["text"]
    )
    assert hardware["flavors"]
    started = _run(
        tmp_path,
        "--method",
        "tools/call",
        "--tool-name",
        "run_job",
        "--tool-arg",
        "image=python:3.12",
        "--tool-arg",
        'command=["echo","seen by the inspector"]',
    )
    links = [c["uri"] for c in started["content"] if c["type"] == "resource_link"]
    assert links[1].endswith("/logs")
    deadline = time.monotonic() + 60
    while True:
        text = _run(tmp_path, "--method", "resources/read", "--uri", links[1])["contents"][0]["text"]
        if "COMPLETED" in text or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert text.rstrip().endswith("seen by the inspector")
    # The detached backend the runs shared stops by itself once no client is left and nothing runs.
    assert wait_gone(json.loads((tmp_path / "state" / "backend.json").read_text())["pid"], timeout=30)
