"""``manifests/clients/``: the ready snippets for Claude Desktop, Claude Code, VS Code and Cursor, and the README's
"Install in your client" section built from them.

Each snippet is parsed the way its client reads it and must declare the same three servers: ``hf-jobs`` (``uvx
hfjobs-mcp``, real Jobs), ``hf-jobs-local`` (``uvx hfjobs-mcp --local``) and ``hf-jobs-remote`` (a deployment of
``hfjobs-mcp --transport http`` at ``https://<host>/mcp``). The command must be the package's console script, its
flags must parse with the real ``hfjobs_mcp.cli.build_parser()``, and the token must travel in an ``env`` block
(or, for a remote, the ``Authorization`` header) as a reference the client resolves (a prompt, an environment
variable) or a visible placeholder: never a value, never in the arguments.

``UPDATE_README=1 pytest tests/manifests/test_clients.py`` rewrites the README's snippet blocks from the files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.manifests.conftest import MANIFESTS, ROOT, ParseError, parse_hfjobs_args

CLIENTS = MANIFESTS / "clients"
README = ROOT / "README.md"
SERVERS = {"hf-jobs", "hf-jobs-local", "hf-jobs-remote"}
REMOTE_URL = "https://jobs-mcp.example.com/mcp"
PLACEHOLDER = "<your Hugging Face token>"
SNIPPET = re.compile(r"(<!-- snippet: (?P<path>[^ ]+) -->\n```(?P<lang>\w+)\n)(?P<body>.*?)(```)", re.S)


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((CLIENTS / name).read_text(encoding="utf-8"))
    return data


def _check_stdio(name: str, command: str, args: list[str], env: dict[str, str], token_ref: str) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert command == "uvx", name
    # `uvx hfjobs-mcp` runs the console script of that name from the PyPI package of that name.
    assert args[0] == project["name"], name
    assert args[0] in project["scripts"], name
    parsed = parse_hfjobs_args(args[1:])
    assert not any("token" in a.lower() or a.startswith("hf_") for a in args), f"{name}: a token in the arguments"
    if name == "hf-jobs-local":
        assert parsed.local is True
        assert env == {}, f"{name}: the local backend needs no token"
    else:
        assert parsed.local is False
        assert env == {"HF_TOKEN": token_ref}, name


def _check_remote_url(url: str) -> None:
    assert url == REMOTE_URL
    parsed = urlparse(url)
    assert parsed.scheme == "https"
    assert parsed.path == "/mcp"  # where `hfjobs-mcp --transport http` serves MCP


def test_claude_desktop_config() -> None:
    servers = _load("claude_desktop_config.json")["mcpServers"]
    assert set(servers) == SERVERS
    for name in ("hf-jobs", "hf-jobs-local"):
        entry = servers[name]
        _check_stdio(name, entry["command"], entry["args"], entry.get("env", {}), PLACEHOLDER)
    # Claude Desktop speaks stdio only from this file: the remote goes through the mcp-remote bridge, which
    # expands ${HF_AUTH_HEADER} from its env block, so the token stays out of the arguments there too.
    remote = servers["hf-jobs-remote"]
    assert remote["command"] == "npx"
    assert remote["args"][:2] == ["-y", "mcp-remote"]
    _check_remote_url(remote["args"][2])
    assert remote["args"][3:] == ["--header", "Authorization:${HF_AUTH_HEADER}"]
    assert remote["env"] == {"HF_AUTH_HEADER": f"Bearer {PLACEHOLDER}"}


def test_vscode_mcp_json_prompts_for_the_token_as_a_password() -> None:
    config = _load("vscode.mcp.json")
    (prompt,) = config["inputs"]
    assert prompt["type"] == "promptString"
    assert prompt["password"] is True
    ref = "${input:" + prompt["id"] + "}"
    servers = config["servers"]
    assert set(servers) == SERVERS
    for name in ("hf-jobs", "hf-jobs-local"):
        entry = servers[name]
        assert entry["type"] == "stdio"
        _check_stdio(name, entry["command"], entry["args"], entry.get("env", {}), ref)
    remote = servers["hf-jobs-remote"]
    assert remote["type"] == "http"
    _check_remote_url(remote["url"])
    assert remote["headers"] == {"Authorization": f"Bearer {ref}"}


def test_cursor_mcp_json_reads_the_token_from_the_environment() -> None:
    servers = _load("cursor.mcp.json")["mcpServers"]
    assert set(servers) == SERVERS
    ref = "${env:HF_TOKEN}"
    for name in ("hf-jobs", "hf-jobs-local"):
        entry = servers[name]
        _check_stdio(name, entry["command"], entry["args"], entry.get("env", {}), ref)
    remote = servers["hf-jobs-remote"]
    _check_remote_url(remote["url"])
    assert remote["headers"] == {"Authorization": f"Bearer {ref}"}


def _claude_mcp_add_parser() -> argparse.ArgumentParser:
    """The options of Claude Code's ``claude mcp add`` that the snippet uses (``claude mcp add --help``)."""
    p = argparse.ArgumentParser(prog="claude mcp add", exit_on_error=False)
    p.add_argument("-s", "--scope", choices=("local", "user", "project"), default="local")
    p.add_argument("-t", "--transport", choices=("stdio", "sse", "http"), default="stdio")
    p.add_argument("-e", "--env", action="append", default=[])
    p.add_argument("-H", "--header", action="append", default=[])
    p.add_argument("name")
    p.add_argument("command_or_url")
    p.add_argument("args", nargs="*")
    return p


def test_claude_code_commands() -> None:
    script = CLIENTS / "claude-code.sh"
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    commands = [shlex.split(line) for line in script.read_text(encoding="utf-8").splitlines() if line.strip()]
    commands = [c for c in commands if c and not c[0].startswith("#")]
    assert all(c[:3] == ["claude", "mcp", "add"] for c in commands), commands
    parsed = {}
    for command in commands:
        args = _claude_mcp_add_parser().parse_intermixed_args(command[3:])
        parsed[args.name] = args
    assert set(parsed) == SERVERS
    for name in ("hf-jobs", "hf-jobs-local"):
        args = parsed[name]
        assert args.transport == "stdio"
        env = dict(e.split("=", 1) for e in args.env)
        _check_stdio(name, args.command_or_url, args.args, env, "$HF_TOKEN")
    remote = parsed["hf-jobs-remote"]
    assert remote.transport == "http"
    _check_remote_url(remote.command_or_url)
    assert remote.header == ["Authorization: Bearer $HF_TOKEN"]


def test_no_snippet_holds_anything_like_a_real_token() -> None:
    for path in sorted(CLIENTS.iterdir()):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\bhf_[A-Za-z0-9]{8,}", text), path.name


def _readme_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Install in your client")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def test_readme_snippets_are_the_files() -> None:
    text = README.read_text(encoding="utf-8")
    blocks = list(SNIPPET.finditer(text))
    paths = {m.group("path") for m in blocks}
    expected = {f"manifests/clients/{p.name}" for p in CLIENTS.iterdir()} | {"manifests/fast-agent/fast-agent.yaml"}
    assert paths == expected
    if os.environ.get("UPDATE_README") == "1":
        fresh = SNIPPET.sub(lambda m: m.group(1) + (ROOT / m.group("path")).read_text(encoding="utf-8") + "```", text)
        README.write_text(fresh, encoding="utf-8")
        return
    for match in blocks:
        assert match.group("body") == (ROOT / match.group("path")).read_text(encoding="utf-8"), (
            f"README's copy of {match.group('path')} is stale: run UPDATE_README=1 pytest {Path(__file__).name}"
        )
    assert all(m.start() > text.index("## Install in your client") for m in blocks)


def test_readme_commands_use_real_flags() -> None:
    """Every ``hfjobs-mcp ...`` command shown inline in the section parses with the real command line."""
    commands = re.findall(r"`((?:uvx )?hfjobs-mcp(?: [^`]*)?)`", _readme_section())
    assert len(commands) >= 3
    for command in commands:
        words = shlex.split(command)
        words = words[1:] if words[0] == "uvx" else words
        assert words[0] == "hfjobs-mcp"
        try:
            parse_hfjobs_args(words[1:])
        except ParseError as exc:
            pytest.fail(f"`{command}` in the README does not parse: {exc}")
