"""The README's clone forms, run for real: every client snippet's stdio entries start a server that answers
``tools/list``, from ``hfjobs-mcp`` as ``uv tool install .`` installed it, and ``uvx --from <clone> hfjobs-mcp``
(the no-install form the README shows) does the same.

Each entry is launched as its client would: the snippet's command resolved on PATH (the tool's folder, never this
checkout's ``.venv``), its arguments as written, its ``env`` block with the token reference filled in by what the
client would put there (a fake token here). Nothing leaves the machine: ``HF_ENDPOINT`` points at a closed port,
and ``tools/list`` needs no call to the Hub.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import mcp
import pytest
from mcp.client.stdio import StdioServerParameters, stdio_client

from hfjobs_mcp.tools.registry import select_tools
from tests.manifests.conftest import (
    FAKE_TOKEN,
    INSTALL_COMMAND,
    ROOT,
    clean_env,
    system_path,
    uv_bin,
)
from tests.manifests.snippets import CLIENTS, SNIPPETS, STDIO_SERVERS, TOKEN_REFS, servers
from tests.visibility import model_visible

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

README = ROOT / "README.md"
TOOL_NAMES = [t.name for t in select_tools()]  # the snippets pass no --toolsets: the default ones


def _env(tmp: Path, path: str, server_env: dict[str, str], snippet: str) -> dict[str, str]:
    tmp.mkdir(parents=True, exist_ok=True)
    env = clean_env(tmp, PATH=path, HOME=os.environ.get("HOME", str(tmp / "home")))
    # What the client puts where the snippet refers to the token (the user's answer to the prompt, their
    # environment, the value they wrote over the placeholder).
    env.update({k: v.replace(TOKEN_REFS[snippet], FAKE_TOKEN) for k, v in server_env.items()})
    env["HF_ENDPOINT"] = "http://127.0.0.1:9"  # a stray call fails here instead of reaching the Hub
    return env


async def _tools_and_hardware(params: StdioServerParameters, log: Path, *, local: bool) -> tuple[list[str], str]:
    with log.open("w") as errlog:
        async with mcp.Client(stdio_client(params, errlog=errlog)) as client:
            names = [t.name for t in model_visible((await client.list_tools()).tools)]
            hardware = ""
            if local:  # the embedded backend answers without any network: prove it started
                result = await client.call_tool("list_hardware", {})
                assert not result.is_error, result
                hardware = str(result.structured_content)
    return names, hardware


def test_the_readme_install_command_is_the_one_run() -> None:
    section = README.read_text(encoding="utf-8").split("## Install in your client", 1)[1].split("\n## ", 1)[0]
    assert f"\n{INSTALL_COMMAND}" in section


@pytest.mark.parametrize("snippet", SNIPPETS)
async def test_each_snippet_starts_the_installed_server(snippet: str, installed_tool: Path, tmp_path: Path) -> None:
    found = servers(CLIENTS / snippet)
    path = f"{installed_tool}{os.pathsep}{system_path()}"
    for name in STDIO_SERVERS:
        server = found[name]
        resolved = shutil.which(server.command, path=path)
        assert resolved is not None, f"{snippet}: {server.command} is not on PATH after {INSTALL_COMMAND}"
        assert Path(resolved).parent == installed_tool, resolved
        env = _env(tmp_path / name, path, server.env, snippet)
        if name == "hf-jobs":
            assert env["HF_TOKEN"] == FAKE_TOKEN
        # The bare command as written: the child is found on the PATH the client gives it.
        params = StdioServerParameters(command=server.command, args=list(server.args), env=env)
        log = tmp_path / f"{name}.log"
        names, hardware = await _tools_and_hardware(params, log, local=name == "hf-jobs-local")
        assert names == TOOL_NAMES, f"{snippet} {name}: {log.read_text(encoding='utf-8')[-2000:]}"
        if name == "hf-jobs-local":
            assert "cpu-basic" in hardware
        assert FAKE_TOKEN not in log.read_text(encoding="utf-8")


async def test_uvx_from_the_clone_runs_the_server(tmp_path: Path) -> None:
    """``uvx --from /path/to/hfjobs-mcp hfjobs-mcp --local`` as the README writes it, the path being this clone."""
    section = README.read_text(encoding="utf-8").split("## Install in your client", 1)[1].split("\n## ", 1)[0]
    found = re.search(r"`uvx --from (\S+) (hfjobs-mcp[^`]*)`", section)
    assert found is not None, "the README shows no `uvx --from <clone> hfjobs-mcp` command"
    placeholder, command = found.groups()
    assert placeholder.startswith("/path/to/"), placeholder
    uvx = Path(uv_bin()).with_name("uvx")
    assert uvx.exists(), uvx
    path = f"{uvx.parent}{os.pathsep}{system_path()}"
    args = ["--from", str(ROOT), *command.split()]
    env = _env(tmp_path, path, {}, "claude-code.sh")
    params = StdioServerParameters(command=str(uvx), args=args, env=env)
    names, hardware = await _tools_and_hardware(params, tmp_path / "uvx.log", local="--local" in args)
    assert names == TOOL_NAMES
    assert "cpu-basic" in hardware
