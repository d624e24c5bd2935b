"""The outside tools the manifest tests run, installed once into ``.cache/`` (gitignored) and reused.

- npm: ``@anthropic-ai/mcpb`` (``mcpb validate`` / ``mcpb pack``) and ``@modelcontextprotocol/inspector`` (its
  ``--cli`` mode), pinned, in ``.cache/npm-tools``.
- PyPI: ``fast-agent-mcp``, pinned, in its own virtual environment ``.cache/fast-agent-venv`` on a Python >= 3.12
  (fast-agent's floor; the project itself runs on 3.11).

Each install happens under a file lock (engineers share one work tree, tests may run concurrently) and is marked
done by a stamp file written last, holding the pins: a partial install or a changed pin is redone from scratch.
A failed download raises :class:`ToolingError` with the installer's own output, so the test fails loudly. The one
case that is not a failure is fast-agent's Python: when no Python >= 3.12 exists here and uv cannot download one,
:func:`fast_agent_python` returns None and a reason, and the test skips saying exactly that.

Run ``python -m tests.manifests.tooling`` to install everything ahead of a test run.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("HFJOBS_TEST_TOOLS_CACHE", ROOT / ".cache"))

NPM_PACKAGES = {"@anthropic-ai/mcpb": "2.1.2", "@modelcontextprotocol/inspector": "2.12.0"}
FAST_AGENT = "fast-agent-mcp==0.10.48"
# fast-agent-mcp 0.10.48 pins fastmcp-slim 4.1.3, which asks for certifi>=2026.10.19: newer than any certifi the
# package index here serves, so the pinned set does not resolve. certifi is only a CA bundle and any recent one
# works, so uv installs fast-agent's declared requirements with that one constraint overridden (`--override`):
# everything else resolves exactly as fast-agent declares it.
FAST_AGENT_OVERRIDES = ("certifi",)
MIN_FAST_AGENT_PYTHON = (3, 12)

INSTALL_TIMEOUT = 900


class ToolingError(RuntimeError):
    """An install from a package registry failed; the message carries the installer's output."""


@contextmanager
def _locked(name: str) -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f"{name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _run(cmd: list[str], *, what: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False, env=env, cwd=cwd
        )
    except FileNotFoundError as exc:
        raise ToolingError(f"{what}: {cmd[0]} is not installed ({exc})") from exc
    except subprocess.TimeoutExpired as exc:
        raise ToolingError(f"{what}: no answer after {INSTALL_TIMEOUT} s: {' '.join(cmd)}") from exc
    if proc.returncode != 0:
        raise ToolingError(
            f"{what} failed (exit {proc.returncode}): {' '.join(cmd)}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
        )
    return proc.stdout


def _stamp_ok(stamp: Path, expected: dict[str, object]) -> bool:
    try:
        return bool(json.loads(stamp.read_text(encoding="utf-8")) == expected)
    except (OSError, ValueError):
        return False


def npm_bin(name: str) -> Path:
    """The path of an npm tool's executable (``mcpb``, ``mcp-inspector``), installing the pinned set if needed."""
    dest = CACHE / "npm-tools"
    stamp = dest / "installed.json"
    expected: dict[str, object] = {"packages": NPM_PACKAGES}
    with _locked("npm-tools"):
        if not _stamp_ok(stamp, expected):
            if shutil.which("npm") is None:
                raise ToolingError("npm is not on PATH: Node.js and npm are needed to install the manifest tools")
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            manifest = {"name": "hfjobs-mcp-test-tools", "private": True, "dependencies": NPM_PACKAGES}
            (dest / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
            # No install scripts: neither tool needs one (the inspector's postinstall is a no-op outside its
            # own source tree), and scripts are the part of an npm install that runs foreign code.
            _run(
                ["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"],
                what="npm install " + " ".join(f"{k}@{v}" for k, v in NPM_PACKAGES.items()),
                cwd=dest,
            )
            stamp.write_text(json.dumps(expected), encoding="utf-8")
    path = dest / "node_modules" / ".bin" / name
    if not path.exists():
        raise ToolingError(f"{name} is missing from {dest} after installing {NPM_PACKAGES}")
    return path


def uv() -> str:
    """uv, the one of this virtual environment (a dependency of hfjobs-mcp) or else the one on PATH."""
    here = Path(sys.executable).parent / "uv"
    found = str(here) if here.exists() else shutil.which("uv")
    if found is None:
        raise ToolingError("uv is not installed (it is a dependency of hfjobs-mcp: install the package first)")
    return found


def _python_version(python: str) -> tuple[int, int] | None:
    try:
        proc = subprocess.run(
            [python, "-c", "import sys; print(*sys.version_info[:2])"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    parts = proc.stdout.split()
    if proc.returncode != 0 or len(parts) != 2:
        return None
    return int(parts[0]), int(parts[1])


def _candidate_pythons() -> list[str]:
    found: list[str] = []
    if os.environ.get("HFJOBS_FAST_AGENT_PYTHON"):
        found.append(os.environ["HFJOBS_FAST_AGENT_PYTHON"])
    proc = subprocess.run(
        [uv(), "python", "find", "--no-python-downloads", ">=3.12"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if proc.returncode == 0 and proc.stdout.strip():
        found.append(proc.stdout.strip())
    # pyenv installs (uv's search trips on pyenv shims whose version is not selected, so look at them directly).
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    pyenv_pythons = (pyenv_root / "versions").glob("3.*/bin/python3")
    for python in sorted(pyenv_pythons, key=lambda p: [int(x) for x in re.findall(r"\d+", p.parts[-3])], reverse=True):
        found.append(str(python))
    for name in ("python3.14", "python3.13", "python3.12", "python3"):
        path = shutil.which(name)
        if path:
            found.append(path)
    return found


def fast_agent_python() -> tuple[str | None, str]:
    """A Python >= 3.12 for fast-agent, and how it was found (or, when None, exactly why there is none)."""
    for python in _candidate_pythons():
        version = _python_version(python)
        if version is not None and version >= MIN_FAST_AGENT_PYTHON:
            return python, f"Python {version[0]}.{version[1]} at {python}"
    # Last resort: uv downloads a managed Python (python-build-standalone); not a package registry, so it may
    # well be unreachable from here.
    proc = subprocess.run([uv(), "python", "install", "3.12"], capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode == 0:
        found = subprocess.run(
            [uv(), "python", "find", "--no-python-downloads", "3.12"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout.strip()
        if found:
            return found, f"Python 3.12 downloaded by uv at {found}"
    lines = [line.strip() for line in (proc.stderr or proc.stdout).strip().splitlines() if line.strip()]
    return None, (
        "fast-agent-mcp needs Python >= 3.12; none is installed on this machine (searched uv's discovery, "
        f"pyenv versions and PATH) and `uv python install 3.12` failed: {' / '.join(lines[:1] + lines[-2:])}"
    )


def fast_agent_venv(python: str) -> Path:
    """The fast-agent virtual environment's Python, creating ``.cache/fast-agent-venv`` with ``python`` if needed."""
    dest = CACHE / "fast-agent-venv"
    stamp = dest / "installed.json"
    version = _python_version(python)
    expected: dict[str, object] = {
        "requirement": FAST_AGENT,
        "overrides": list(FAST_AGENT_OVERRIDES),
        "python": list(version or ()),
    }
    with _locked("fast-agent-venv"):
        if not _stamp_ok(stamp, expected):
            shutil.rmtree(dest, ignore_errors=True)
            exe = uv()
            _run([exe, "venv", "--quiet", "--python", python, str(dest)], what=f"uv venv with {python}")
            overrides = CACHE / "fast-agent-overrides.txt"
            overrides.write_text("\n".join(FAST_AGENT_OVERRIDES) + "\n", encoding="utf-8")
            python_in_venv = str(dest / "bin" / "python")
            _run(
                [exe, "pip", "install", "-q", "--python", python_in_venv, FAST_AGENT, "--override", str(overrides)],
                what=f"uv pip install {FAST_AGENT} from the package index",
            )
            stamp.write_text(json.dumps(expected), encoding="utf-8")
    return dest / "bin" / "python"


def main() -> int:
    for tool in ("mcpb", "mcp-inspector"):
        print(f"{tool}: {npm_bin(tool)}")
    python, how = fast_agent_python()
    if python is None:
        print(f"fast-agent: not installed: {how}")
        return 0
    print(f"fast-agent: {fast_agent_venv(python)} ({how})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
