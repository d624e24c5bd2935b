"""The client snippets of ``manifests/clients/``, read the way each client reads them.

Two forms of each snippet exist: the files in ``manifests/clients/`` run the ``hfjobs-mcp`` command that
``uv tool install .`` puts on PATH from a clone (the form that works today), and ``manifests/clients/published/``
holds the same snippets with ``uvx hfjobs-mcp`` (the form for once the package is on PyPI). Both the static checks
(``test_clients.py``) and the runs (``test_clone_form.py``) read them through :func:`servers`, so a snippet is
parsed once, one way.
"""

from __future__ import annotations

import argparse
import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.manifests.conftest import MANIFESTS

CLIENTS = MANIFESTS / "clients"
PUBLISHED = CLIENTS / "published"
FORMS = {"clone": CLIENTS, "published": PUBLISHED}
SNIPPETS = ("claude_desktop_config.json", "claude-code.sh", "vscode.mcp.json", "cursor.mcp.json")
STDIO_SERVERS = ("hf-jobs", "hf-jobs-local")

# How each client refers to the token in its snippet, and what the client puts there when it starts the server:
# a visible placeholder the user overwrites (Claude Desktop), a password prompt (VS Code), the environment
# (Cursor, and Claude Code's shell at `claude mcp add` time).
TOKEN_REFS = {
    "claude_desktop_config.json": "<your Hugging Face token>",
    "claude-code.sh": "$HF_TOKEN",
    "vscode.mcp.json": "${input:hf-token}",
    "cursor.mcp.json": "${env:HF_TOKEN}",
}


@dataclass(frozen=True)
class Server:
    """One server entry of a snippet, as the client would launch it (stdio) or call it (http)."""

    transport: str
    command: str = ""
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    url: str = ""
    headers: dict[str, str] = field(default_factory=dict)


def claude_mcp_add_parser() -> argparse.ArgumentParser:
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


def claude_code_commands(path: Path) -> list[list[str]]:
    """The shell words of each command line of a Claude Code snippet (comments and blank lines dropped)."""
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [words for words in (shlex.split(line) for line in lines) if words and not words[0].startswith("#")]


def load_json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def servers(path: Path) -> dict[str, Server]:
    """Every server a snippet declares, by name."""
    if path.suffix == ".sh":
        found = {}
        for words in claude_code_commands(path):
            assert words[:3] == ["claude", "mcp", "add"], words
            a = claude_mcp_add_parser().parse_intermixed_args(words[3:])
            if a.transport == "stdio":
                env = dict(e.split("=", 1) for e in a.env)
                found[a.name] = Server("stdio", command=a.command_or_url, args=tuple(a.args), env=env)
            else:
                headers = dict(h.split(": ", 1) for h in a.header)
                found[a.name] = Server(a.transport, url=a.command_or_url, headers=headers)
        return found
    data = load_json(path)
    entries: dict[str, dict[str, Any]] = data.get("mcpServers") or data["servers"]
    out = {}
    for name, entry in entries.items():
        if "command" in entry:
            assert entry.get("type", "stdio") == "stdio", (path.name, name)
            out[name] = Server("stdio", entry["command"], tuple(entry.get("args", ())), dict(entry.get("env", {})))
        else:
            out[name] = Server(entry.get("type", "http"), url=entry["url"], headers=dict(entry.get("headers", {})))
    return out
