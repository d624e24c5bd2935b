"""``hfjobs-mcp demo`` as a new user runs it (the installed console script, a fresh home), read as a person would:
every step shows, every call is echoed whole or cut at a word with an ellipsis, nothing says ``None``, and the
note on what differs locally names the Python the job really ran on and the image's.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hfjobs_mcp.demo import DOCKER_COMMAND, ELLIPSIS, SCRIPT
from hfjobs_mcp.tools.registry import select_tools

BIN = Path(sys.executable).parent / "hfjobs-mcp"
CALL = re.compile(r"^> (?P<name>\w+)\((?P<args>.*)\)$")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> str:
    home = tmp_path_factory.mktemp("demo-home")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update({"HFJOBS_MCP_HOME": str(home / "home"), "HF_HOME": str(home / "hf")})
    done = subprocess.run([str(BIN), "demo"], env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.slow
def test_demo_shows_every_step(demo: str) -> None:
    for step in ("list_hardware", "dry_run", "run_uv_job", "wait_for_job", "fetch_logs", "run_job", "schedule_job"):
        assert step in demo, f"demo did not show {step}"
    assert demo.startswith(f"# hfjobs-mcp demo: {len(select_tools())} tools, local backend at http://127.0.0.1:")
    assert "hello from a UV job" in demo
    assert "DRY RUN: nothing was sent" in demo
    assert "Deleted scheduled job" in demo


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


@pytest.mark.slow
def test_calls_are_echoed_whole_or_cut_at_a_word(demo: str) -> None:
    calls = [CALL.match(line) for line in demo.splitlines() if line.startswith("> ")]
    assert len(calls) >= 10
    sent = [SCRIPT, *DOCKER_COMMAND]
    cut = 0
    for call in calls:
        assert call is not None
        args = json.loads(call.group("args"))  # the echo is the arguments as JSON, never a string cut mid-way
        for value in _strings(args):
            if not value.endswith(ELLIPSIS):
                continue
            cut += 1
            kept = value[: -len(ELLIPSIS)]
            (original,) = [s for s in sent if s.startswith(kept)]
            assert original[len(kept)].isspace(), f"{call.group('name')}: a word is cut: {value!r}"
    assert cut >= 1, "the long script should have been shortened"
    assert '"dry_run": true' in demo  # a cut argument never hides the ones after it


def test_the_local_difference_is_noted_with_the_real_versions(demo: str) -> None:
    ran = re.findall(r"on Python (\d+\.\d+\.\d+)", demo)
    assert ran, "the jobs printed no Python version"
    local = ran[0]
    notes = [line.strip() for line in demo.splitlines() if line.strip().startswith("note:")]
    if local.startswith("3.12."):  # this machine's Python is the images' own: nothing differs, nothing to note
        assert notes == []
        return
    assert notes == [
        f"note: locally this ran on this machine's Python {local}; on Hugging Face it runs in the image "
        "ghcr.io/astral-sh/uv:python3.12-bookworm (Python 3.12).",
        f"note: locally this ran on this machine's Python {local}; on Hugging Face it runs in the image "
        "python:3.12 (Python 3.12).",
    ]


def test_nothing_says_none(demo: str) -> None:
    assert not re.search(r"\bNone\b", demo), [line for line in demo.splitlines() if re.search(r"\bNone\b", line)]


def test_the_dry_run_shows_no_encoded_blob(demo: str) -> None:
    blobs = re.findall(r"[A-Za-z0-9+/]{80,}={0,2}", demo)
    assert not blobs, blobs
