"""Fixtures of the manifest tests: where the manifests are, the installed server, and the outside tools.

The outside tools come from :mod:`tests.manifests.tooling` (installed once into ``.cache/``). An install that
fails is a test failure with the installer's output, never a skip: these tests exist to prove the manifests
against the real tools.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

import pytest

from hfjobs_mcp.cli import COMMANDS, build_parser
from tests.manifests import tooling

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "manifests"
BIN = Path(sys.executable).parent / "hfjobs-mcp"
FAKE_TOKEN = "hf_manifest_test_fake_token_0123456789"


def npm_tool(name: str) -> Path:
    try:
        return tooling.npm_bin(name)
    except tooling.ToolingError as exc:
        pytest.fail(f"could not install the npm tools the manifest tests need: {exc}", pytrace=False)


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment for a child process: no HF_* of the developer's, a throwaway HOME and state folder."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "HFJOBS_MCP_"))}
    env.update({"HOME": str(tmp / "home"), "HFJOBS_MCP_HOME": str(tmp / "hfjobs-home"), "HF_HOME": str(tmp / "hf")})
    (tmp / "home").mkdir(exist_ok=True)
    env.update(extra)
    return env


class ParseError(Exception):
    """The real ``hfjobs-mcp`` command line refused these arguments."""


def parse_hfjobs_args(argv: Sequence[str]) -> argparse.Namespace:
    """Parse arguments exactly as ``hfjobs-mcp`` does (bare flags mean ``serve``), raising instead of exiting."""
    args = list(argv)
    if not args or args[0] not in COMMANDS:
        args.insert(0, "serve")
    parser = build_parser()

    def fail(message: str) -> NoReturn:
        raise ParseError(message)

    for each in (parser, *_subparsers(parser)):
        each.exit_on_error = False
        each.error = fail  # type: ignore[method-assign]
    try:
        return parser.parse_args(args)
    except argparse.ArgumentError as exc:
        raise ParseError(str(exc)) from exc


def _subparsers(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    subs: list[argparse.ArgumentParser] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            subs.extend(action.choices.values())
    return subs


def serve_flags() -> dict[str, argparse.Action]:
    """Every option string of ``hfjobs-mcp serve`` with its argparse action."""
    serve = next(p for p in _subparsers(build_parser()) if p.prog.endswith(" serve"))
    return {opt: action for action in serve._actions for opt in action.option_strings}


def uv_bin() -> str:
    try:
        return tooling.uv()
    except tooling.ToolingError as exc:
        pytest.fail(str(exc), pytrace=False)


def system_path() -> str:
    """PATH without this virtual environment's ``bin``: a command found on it is not this checkout's dev install."""
    here = str(BIN.parent)
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and p != here)


INSTALL_COMMAND = "uv tool install ."


@pytest.fixture(scope="session")
def installed_tool(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The README's install from a clone, ``uv tool install .`` run in this checkout, into a throwaway tool folder
    (``UV_TOOL_DIR``, ``UV_TOOL_BIN_DIR``) instead of ``~/.local``: the folder where it put ``hfjobs-mcp``.

    Its dependencies come from the package index (through uv's usual cache); the project itself is built from the
    checkout, as a user's clone would be.
    """
    base = tmp_path_factory.mktemp("uv-tool")
    env = {**os.environ, "UV_TOOL_DIR": str(base / "tools"), "UV_TOOL_BIN_DIR": str(base / "bin")}
    command = [uv_bin(), *INSTALL_COMMAND.split()[1:]]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"{INSTALL_COMMAND} failed:\n{done.stdout}\n{done.stderr}"
    assert (base / "bin" / "hfjobs-mcp").is_file(), done.stdout + done.stderr
    return base / "bin"


@pytest.fixture
def hfjobs_bin() -> Path:
    assert BIN.exists(), f"the console script is not installed at {BIN}: pip install -e . first"
    return BIN
