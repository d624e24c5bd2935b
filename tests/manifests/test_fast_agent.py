"""``manifests/fast-agent/``: the configuration and the agent card, checked as files and then driven for real.

The static tests read them as fast-agent does (YAML, Markdown front matter) and check them against the code: the
command is the console script, its arguments parse, the token travels in ``env`` only, the card's tools exist.

The live test runs fast-agent itself (``fast-agent-mcp`` from PyPI, in its own virtual environment on a Python
>= 3.12, made once by :mod:`tests.manifests.tooling`) with the shipped configuration, unchanged, and the shipped
card pointed at the configuration's rehearsal server (``hf-jobs-local``: ``hfjobs-mcp --local``). Its
``passthrough`` model turns each ``***CALL_TOOL <tool> <json>`` message into that tool call, with no LLM:
list_hardware, run_uv_job, wait_for_job and fetch_logs on a job that really runs. It is skipped only when no
Python >= 3.12 can be had here (the reason says what was searched and what uv's download answered); a failed
install from the package index fails the test.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

from hfjobs_mcp.tools.registry import ALL_TOOLS
from hfjobs_mcp.workflows import WORKFLOWS, tools_named
from tests.conftest import LOCAL_TEST_TOKEN
from tests.manifests import tooling
from tests.manifests.conftest import FAKE_TOKEN, MANIFESTS, clean_env, parse_hfjobs_args, system_path

if TYPE_CHECKING:
    from hfjobs_mcp.local import LocalBackend

FAST_AGENT_DIR = MANIFESTS / "fast-agent"
CONFIG = FAST_AGENT_DIR / "fast-agent.yaml"
CARD = FAST_AGENT_DIR / "hf-jobs.md"
DRIVER = Path(__file__).with_name("fast_agent_driver.py")


def _first_json(answer: str) -> dict[str, Any]:
    """The JSON document an answer starts with (what follows it, e.g. resource links, is left out)."""
    document: dict[str, Any] = json.JSONDecoder().raw_decode(answer)[0]
    return document


def _config() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    return data


def _card() -> tuple[dict[str, Any], str]:
    text = CARD.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    meta: dict[str, Any] = yaml.safe_load(front)
    return meta, body


def test_config_declares_the_server_over_stdio_with_env_passed_explicitly() -> None:
    servers = _config()["mcp"]["servers"]
    assert set(servers) == {"hf-jobs", "hf-jobs-local"}
    for name, server in servers.items():
        assert server["transport"] == "stdio", name
        assert server["command"] == "hfjobs-mcp", name  # the console script
        parse_hfjobs_args(server["args"])
        for key, value in server["env"].items():
            assert value == f"${{{key}}}" or value.startswith(f"${{{key}:"), f"{name}: {key} must come from the env"
        assert not any("TOKEN" in arg.upper() or arg.startswith("hf_") for arg in server["args"]), name
    assert "HF_TOKEN" in servers["hf-jobs"]["env"]
    assert parse_hfjobs_args(servers["hf-jobs-local"]["args"]).local is True
    assert parse_hfjobs_args(servers["hf-jobs"]["args"]).local is False


def test_card_front_matter_names_real_servers_and_tools() -> None:
    meta, body = _card()
    assert meta["type"] == "agent"
    assert meta["name"] == "hf-jobs"
    assert meta["servers"] == ["hf-jobs"]
    assert set(meta["servers"]) <= set(_config()["mcp"]["servers"])
    names = {t.name for t in ALL_TOOLS}
    listed = meta["tools"]["hf-jobs"]
    assert set(listed) <= names, set(listed) - names
    for needed in ("list_hardware", "run_uv_job", "run_job", "wait_for_job", "fetch_logs", "schedule_uv_job"):
        assert needed in listed
    assert "## One-off jobs" in body
    assert "## Scheduled jobs" in body


def _rehearsal_card(dest: Path) -> None:
    """The shipped card with its server switched to the configuration's rehearsal server, nothing else changed."""
    text = CARD.read_text(encoding="utf-8")
    rehearsal = text.replace("servers:\n  - hf-jobs\n", "servers:\n  - hf-jobs-local\n", 1).replace(
        "tools:\n  hf-jobs:\n", "tools:\n  hf-jobs-local:\n", 1
    )
    assert rehearsal.count("hf-jobs-local") == 2
    dest.mkdir()
    (dest / CARD.name).write_text(rehearsal, encoding="utf-8")


@pytest.fixture(scope="module")
def fast_agent_python() -> Path:
    """The Python of fast-agent's virtual environment (made once), or a skip saying why no Python >= 3.12 exists."""
    python, how = tooling.fast_agent_python()
    if python is None:
        pytest.skip(how)
    try:
        return tooling.fast_agent_venv(python)
    except tooling.ToolingError as exc:
        pytest.fail(f"could not install fast-agent ({how}): {exc}", pytrace=False)


def _drive(
    python: Path, driver: Path, cwd: Path, env: dict[str, str], out: Path
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    """Run a driver script under fast-agent's Python; what it printed, and the results it wrote to ``out``."""
    done = subprocess.run(
        [str(python), str(driver), "--model", "passthrough"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"fast-agent failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    results: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return done, results


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_fast_agent_drives_the_server_from_the_shipped_configuration(
    tmp_path: Path, fast_agent_python: Path, installed_tool: Path
) -> None:
    _rehearsal_card(tmp_path / "cards")
    out = tmp_path / "results.json"
    env = clean_env(
        tmp_path,
        # `hfjobs-mcp` resolves to the command `uv tool install .` put on PATH from this checkout.
        PATH=f"{installed_tool}{os.pathsep}{system_path()}",
        HF_TOKEN=FAKE_TOKEN,
        HFJOBS_FA_CONFIG=str(CONFIG),
        HFJOBS_FA_CARDS=str(tmp_path / "cards"),
        HFJOBS_FA_AGENT="hf-jobs",
        HFJOBS_FA_OUT=str(out),
    )
    done, results = _drive(fast_agent_python, DRIVER, tmp_path, env, out)

    hardware = json.loads(results["list_hardware"])
    by_name = {f["name"]: f for f in hardware["flavors"]}
    assert by_name["cpu-basic"]["price_per_hour_usd"] > 0

    # fast-agent shows a result's structured JSON, then its resource links (issue 21): the job's and its log's.
    started = _first_json(results["run_uv_job"])
    assert f"hfjobs://jobs/local-user/{results['job_id']}/logs" in results["run_uv_job"]
    assert started["dry_run"] is False
    assert started["job"]["id"] == results["job_id"]
    assert started["job"]["flavor"] == "cpu-basic"

    waited = _first_json(results["wait_for_job"])
    assert waited["job"]["stage"] == "COMPLETED", waited

    logs = json.loads(results["fetch_logs"])
    assert [line["text"] for line in logs["lines"]] == ["hello from fast-agent", "rehearsed on the local backend"]

    # HFJOBS_MCP_HOME reached the server only because the configuration passes it explicitly in `env`.
    assert (tmp_path / "hfjobs-home" / "local" / "state.db").is_file()
    # The fake token never shows in anything fast-agent printed.
    assert FAKE_TOKEN not in done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_the_documented_command_runs_the_real_jobs_entry_with_the_token_from_env(
    tmp_path: Path, fast_agent_python: Path, local_backend: LocalBackend, installed_tool: Path
) -> None:
    """``fast-agent go`` as the README shows it, shipped card unchanged: the ``hf-jobs`` entry (real Jobs mode) gets
    HF_TOKEN and HF_ENDPOINT only through its ``env`` block; pointed at a local backend that checks the token,
    ``list_jobs`` (which asks whoami for the token's user) succeeds only if the token arrived."""
    command = [str(fast_agent_python.parent / "fast-agent"), "--no-update-check", "go"]
    command += ["--config-path", str(CONFIG), "--agent-cards", str(CARD)]
    command += ["--model", "passthrough", "--quiet", "--message", "***CALL_TOOL list_jobs {}"]
    env = clean_env(
        tmp_path,
        PATH=f"{installed_tool}{os.pathsep}{system_path()}",
        HF_TOKEN=LOCAL_TEST_TOKEN,
        HF_ENDPOINT=local_backend.url,
    )
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"fast-agent failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer == {"jobs": [], "truncated": False}
    assert LOCAL_TEST_TOKEN not in done.stdout + done.stderr


PROMPTS_DRIVER = Path(__file__).with_name("fast_agent_prompts_driver.py")


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_fast_agent_lists_renders_prompts_and_reads_masked_logs(
    tmp_path: Path, fast_agent_python: Path, installed_tool: Path
) -> None:
    """Through fast-agent's own API (``list_prompts``, ``get_prompt``, ``apply_prompt``, template completion,
    ``get_resource``) on the shipped configuration's rehearsal server: the five workflows are listed; a job that
    printed the server's token (forwarded as the secret HF_TOKEN after a yes given through fast-agent's
    elicitation) and failed is completed as a job id, ``debug_failed_job`` renders for it naming only tools
    fast-agent lists and their arguments, and the job's log resource reads with the token masked."""
    out = tmp_path / "results.json"
    env = clean_env(
        tmp_path,
        PATH=f"{installed_tool}{os.pathsep}{system_path()}",
        HFJOBS_FA_CONFIG=str(CONFIG),
        HFJOBS_FA_SERVER="hf-jobs-local",
        HFJOBS_FA_STATE=str(tmp_path / "hfjobs-home" / "local"),
        HFJOBS_FA_OUT=str(out),
    )
    _, results = _drive(fast_agent_python, PROMPTS_DRIVER, tmp_path, env, out)

    # Listed: the five workflows, in order, with their typed arguments.
    assert list(results["prompts"]) == [w.name for w in WORKFLOWS]
    for workflow in WORKFLOWS:
        listed = {name: required for name, required in results["prompts"][workflow.name]}
        assert listed == {name: required for name, _, required in workflow.arguments()}, workflow.name

    # The run needed a yes (a forwarded secret) and fast-agent's elicitation asked it; the job failed.
    assert not results["run"]["is_error"], results["run"]
    assert any("HF_TOKEN" in question for question in results["asked"]), results["asked"]
    job_id = results["job"]["id"]
    assert results["job"]["namespace"] == "local-user"
    assert results["waited"] == "ERROR"

    # Completed through fast-agent: the token's namespace, then the failed job first among recent ones.
    assert results["completed_namespaces"][0] == "local-user"
    assert results["completed_job_ids"][0] == job_id

    # Rendered with the completed id, fetched and applied (the passthrough model answers with the prompt's text).
    rendered = results["rendered"]
    assert f'"{job_id}"' in rendered
    assert results["applied"].strip() == rendered.strip()
    tools: dict[str, list[str]] = results["tools"]
    named = set(re.findall(r"`([A-Za-z_]+)`", rendered))
    used = named & set(tools)
    debug = next(w for w in WORKFLOWS if w.name == "debug_failed_job")
    assert used == tools_named(debug) == {"inspect_job", "fetch_logs", "list_hardware"}
    arguments = {arg for tool in used for arg in tools[tool]}
    assert named - used <= arguments, named - used - arguments  # every other name is an argument of those tools
    assert {"job_id", "tail", "grep", "regex"} <= named

    # The log resource of that job: the token it printed is masked, the rest is there. The driver's own check
    # comes first, so that a failure never shows the value (the assertion below would print the lines).
    assert results["token_length"] >= 16
    assert results["token_in_answers"] is False, "the server's token shows in what fast-agent returned"
    assert results["logs_uri"] == f"hfjobs://jobs/local-user/{job_id}/logs"
    (logs,) = results["logs"]
    lines = [line.split(" ", 1)[1] for line in logs.splitlines()[1:]]
    assert lines == ["token ***", "giving up"], logs
