"""``manifests/clients/``: the ready snippets for Claude Desktop, Claude Code, VS Code and Cursor, and the README's
"Install in your client" section built from them.

Each snippet exists in two forms (see :mod:`tests.manifests.snippets`): the files in ``manifests/clients/`` run
``hfjobs-mcp``, the command ``uv tool install .`` puts on PATH from a clone (works today; ``test_clone_form.py``
runs every one of them), and ``manifests/clients/published/`` has the same snippets with ``uvx hfjobs-mcp``, for
once the package is on PyPI. Both must declare the same three servers: ``hf-jobs`` (real Jobs), ``hf-jobs-local``
(``--local``) and ``hf-jobs-remote`` (a deployment of ``hfjobs-mcp --transport http`` at ``https://<host>/mcp``).
The command must be the package's console script, its flags must parse with the real
``hfjobs_mcp.cli.build_parser()``, and the token must travel in an ``env`` block (or, for a remote, the
``Authorization`` header) as a reference the client resolves (a prompt, an environment variable) or a visible
placeholder: never a value, never in the arguments.

``UPDATE_README=1 pytest tests/manifests/test_clients.py`` rewrites the README's snippet blocks from the files.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest

from tests.manifests.conftest import ROOT, ParseError, parse_hfjobs_args
from tests.manifests.snippets import (
    CLIENTS,
    FORMS,
    PUBLISHED,
    SNIPPETS,
    STDIO_SERVERS,
    TOKEN_REFS,
    Server,
    claude_code_commands,
    load_json,
    servers,
)

README = ROOT / "README.md"
SERVERS = {"hf-jobs", "hf-jobs-local", "hf-jobs-remote"}
REMOTE_URL = "https://jobs-mcp.example.com/mcp"
PLACEHOLDER = TOKEN_REFS["claude_desktop_config.json"]
SNIPPET = re.compile(r"(<!-- snippet: (?P<path>[^ ]+) -->\n```(?P<lang>\w+)\n)(?P<body>.*?)(```)", re.S)


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return project


def _hfjobs_args(form: str, server: Server, name: str) -> list[str]:
    """The ``hfjobs-mcp`` arguments of a stdio entry, after checking that its command runs the console script."""
    project = _project()
    if form == "clone":
        # `uv tool install .` installs the console scripts of the clone's package onto PATH.
        assert server.command in project["scripts"], name
        return list(server.args)
    # `uvx hfjobs-mcp` runs the console script of that name from the PyPI package of that name.
    assert server.command == "uvx", name
    assert server.args[0] == project["name"], name
    assert server.args[0] in project["scripts"], name
    return list(server.args[1:])


def _check_stdio(form: str, name: str, server: Server, token_ref: str) -> None:
    assert server.transport == "stdio", name
    args = _hfjobs_args(form, server, name)
    parsed = parse_hfjobs_args(args)
    assert not any("token" in a.lower() or a.startswith("hf_") for a in server.args), f"{name}: a token in the args"
    if name == "hf-jobs-local":
        assert parsed.local is True
        assert server.env == {}, f"{name}: the local backend needs no token"
    else:
        assert parsed.local is False
        assert server.env == {"HF_TOKEN": token_ref}, name


def _check_remote_url(url: str) -> None:
    assert url == REMOTE_URL
    parsed = urlparse(url)
    assert parsed.scheme == "https"
    assert parsed.path == "/mcp"  # where `hfjobs-mcp --transport http` serves MCP


def test_both_forms_have_every_snippet() -> None:
    assert sorted(p.name for p in CLIENTS.iterdir() if p.is_file()) == sorted(SNIPPETS)
    assert sorted(p.name for p in PUBLISHED.iterdir()) == sorted(SNIPPETS)


@pytest.mark.parametrize("snippet", SNIPPETS)
@pytest.mark.parametrize("form", FORMS)
def test_stdio_entries_run_the_console_script_with_the_token_only_in_env(form: str, snippet: str) -> None:
    found = servers(FORMS[form] / snippet)
    assert set(found) == SERVERS
    for name in STDIO_SERVERS:
        _check_stdio(form, name, found[name], TOKEN_REFS[snippet])


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_the_published_form_is_the_clone_form_run_by_uvx(snippet: str) -> None:
    """Word for word the same snippet, but for the command: ``hfjobs-mcp ARGS`` becomes ``uvx hfjobs-mcp ARGS``."""
    clone, published = CLIENTS / snippet, PUBLISHED / snippet
    if snippet.endswith(".sh"):
        expected = []
        for words in claude_code_commands(clone):
            if "--" in words:
                cut = words.index("--") + 1
                assert words[cut] == "hfjobs-mcp", words
                words = [*words[:cut], "uvx", *words[cut:]]
            expected.append(words)
        assert claude_code_commands(published) == expected
        return
    data = load_json(clone)
    for entry in (data.get("mcpServers") or data["servers"]).values():
        if entry.get("command") == "hfjobs-mcp":
            entry["command"] = "uvx"
            entry["args"] = ["hfjobs-mcp", *entry["args"]]
    assert load_json(published) == data


@pytest.mark.parametrize("form", FORMS)
def test_claude_desktop_config(form: str) -> None:
    # Claude Desktop speaks stdio only from this file: the remote goes through the mcp-remote bridge, which
    # expands ${HF_AUTH_HEADER} from its env block, so the token stays out of the arguments there too.
    remote = servers(FORMS[form] / "claude_desktop_config.json")["hf-jobs-remote"]
    assert remote.command == "npx"
    assert remote.args[:2] == ("-y", "mcp-remote")
    _check_remote_url(remote.args[2])
    assert remote.args[3:] == ("--header", "Authorization:${HF_AUTH_HEADER}")
    assert remote.env == {"HF_AUTH_HEADER": f"Bearer {PLACEHOLDER}"}


@pytest.mark.parametrize("form", FORMS)
def test_vscode_mcp_json_prompts_for_the_token_as_a_password(form: str) -> None:
    config = load_json(FORMS[form] / "vscode.mcp.json")
    (prompt,) = config["inputs"]
    assert prompt["type"] == "promptString"
    assert prompt["password"] is True
    ref = "${input:" + prompt["id"] + "}"
    assert ref == TOKEN_REFS["vscode.mcp.json"]
    for name in STDIO_SERVERS:
        assert config["servers"][name]["type"] == "stdio"
    remote = servers(FORMS[form] / "vscode.mcp.json")["hf-jobs-remote"]
    assert remote.transport == "http"
    _check_remote_url(remote.url)
    assert remote.headers == {"Authorization": f"Bearer {ref}"}


@pytest.mark.parametrize("form", FORMS)
def test_cursor_mcp_json_reads_the_token_from_the_environment(form: str) -> None:
    remote = servers(FORMS[form] / "cursor.mcp.json")["hf-jobs-remote"]
    _check_remote_url(remote.url)
    assert remote.headers == {"Authorization": "Bearer ${env:HF_TOKEN}"}


@pytest.mark.parametrize("form", FORMS)
def test_claude_code_commands(form: str) -> None:
    script = FORMS[form] / "claude-code.sh"
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    assert all(c[:3] == ["claude", "mcp", "add"] for c in claude_code_commands(script))
    remote = servers(script)["hf-jobs-remote"]
    assert remote.transport == "http"
    _check_remote_url(remote.url)
    assert remote.headers == {"Authorization": "Bearer $HF_TOKEN"}


def test_no_snippet_holds_anything_like_a_real_token() -> None:
    for path in sorted(p for p in CLIENTS.rglob("*") if p.is_file()):
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
    expected = {str(p.relative_to(ROOT)) for p in CLIENTS.rglob("*") if p.is_file()}
    assert paths == expected | {"manifests/fast-agent/fast-agent.yaml"}
    if os.environ.get("UPDATE_README") == "1":
        fresh = SNIPPET.sub(lambda m: m.group(1) + (ROOT / m.group("path")).read_text(encoding="utf-8") + "```", text)
        README.write_text(fresh, encoding="utf-8")
        return
    for match in blocks:
        assert match.group("body") == (ROOT / match.group("path")).read_text(encoding="utf-8"), (
            f"README's copy of {match.group('path')} is stale: run UPDATE_README=1 pytest {Path(__file__).name}"
        )
    assert all(m.start() > text.index("## Install in your client") for m in blocks)


def test_readme_shows_the_clone_form_first_and_marks_the_published_form() -> None:
    """In each client's part of the README, the snippet that works today comes first; the ``uvx`` one sits in a
    collapsed block whose title says it is for once the package is published."""
    section = _readme_section()
    for snippet in SNIPPETS:
        clone = section.index(f"<!-- snippet: manifests/clients/{snippet} -->")
        published = section.index(f"<!-- snippet: manifests/clients/published/{snippet} -->")
        assert clone < published, snippet
        summary = section.rindex("<summary>", clone, published)
        title = section[summary : section.index("</summary>", summary)]
        assert "once" in title.lower(), f"{snippet}: the published form is not marked as such: {title!r}"
        assert "published" in title.lower(), title


def test_readme_commands_use_real_flags() -> None:
    """Every ``hfjobs-mcp ...`` command shown inline in the section parses with the real command line."""
    commands = re.findall(r"`((?:uvx (?:--from \S+ )?)?hfjobs-mcp(?: [^`]*)?)`", _readme_section())
    assert len(commands) >= 3
    assert any(c.startswith("uvx --from ") for c in commands)
    for command in commands:
        words = shlex.split(command)
        if words[0] == "uvx":
            words = words[3:] if words[1] == "--from" else words[1:]
        assert words[0] == "hfjobs-mcp"
        try:
            parse_hfjobs_args(words[1:])
        except ParseError as exc:
            pytest.fail(f"`{command}` in the README does not parse: {exc}")
