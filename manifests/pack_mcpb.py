"""Pack the Claude Desktop bundle (``.mcpb``) from this checkout, with the project's own wheel inside.

Why a script and not just ``mcpb pack manifests/mcpb``: the bundle uses MCPB's ``uv`` runtime, where the host runs
``uv run`` in the unpacked bundle and uv installs what the bundle's ``pyproject.toml`` asks for. hfjobs-mcp must
come from the bundle itself (it is not on a package index yet, and a bundle should run the code it was built
from), so the bundle carries the wheel built here and its ``pyproject.toml`` points uv at that file
(``[tool.uv.sources]``); only the dependencies come from PyPI. This script builds the wheel with ``uv build``,
refuses to go on if the bundle's files name another version than the wheel's, stages the bundle in a temporary
folder (the source folder stays clean) and runs ``mcpb pack`` on it.

Usage, after the README's install command (uv is a dependency of the package, so ``.venv/bin/uv`` exists)::

    .venv/bin/python manifests/pack_mcpb.py                  # -> dist/hfjobs-mcp-<version>.mcpb
    .venv/bin/python manifests/pack_mcpb.py --out my.mcpb --mcpb /path/to/node_modules/.bin/mcpb
    .venv/bin/python manifests/pack_mcpb.py --sync-tools     # rewrite manifest.json's tool list from the registry

The manifest's ``tools`` list (what Claude Desktop shows before installing) is generated from the tool registry
by ``--sync-tools``; a test fails with that command when a tool was added or reworded without it.

Without ``--mcpb``, ``npx`` fetches the pinned ``@anthropic-ai/mcpb`` from npm (Node.js needed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "manifests" / "mcpb"
PACKAGE = "hfjobs-mcp"
MCPB_PACKAGE = "@anthropic-ai/mcpb"
MCPB_VERSION = "2.1.2"  # the version the manifest tests validate with (tests/manifests/tooling.py)
WHEELS = "wheels"
# Left out of the staged bundle: what a `uv run` in the source folder may have left there.
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".venv", "uv.lock", WHEELS)


class PackError(Exception):
    """Packing cannot go on; the message says what to fix."""


def find_uv() -> str:
    beside = Path(sys.executable).parent / "uv"
    if beside.exists():
        return str(beside)
    found = shutil.which("uv")
    if found is None:
        raise PackError("uv is not installed: run the README's install command, or `python3 -m pip install uv`")
    return found


def build_wheel(uv: str, out_dir: Path) -> Path:
    """This checkout's wheel, built by ``uv build`` (the build backend is the project's own, hatchling)."""
    done = subprocess.run(
        [uv, "build", "--wheel", "--quiet", "--out-dir", str(out_dir), str(ROOT)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise PackError(f"uv build failed:\n{done.stdout}\n{done.stderr}")
    wheels = sorted(out_dir.glob("*.whl"))
    if len(wheels) != 1:
        raise PackError(f"uv build made {len(wheels)} wheels in {out_dir}, expected one")
    return wheels[0]


def wheel_version(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as archive:
        (metadata,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        for line in archive.read(metadata).decode("utf-8").splitlines():
            if line.startswith("Version: "):
                return line.removeprefix("Version: ").strip()
    raise PackError(f"{wheel.name} has no Version in its metadata")


def bundle_problems(bundle: Path, wheel_name: str, version: str) -> list[str]:
    """What in the bundle's files disagrees with the wheel about to go in it (empty when all agree)."""
    problems = []
    manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("version") != version:
        problems.append(f"manifest.json: version is {manifest.get('version')!r}, the package's is {version!r}")
    pyproject = tomllib.loads((bundle / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject.get("project", {})
    if project.get("version") != version:
        problems.append(f"pyproject.toml: [project] version is {project.get('version')!r}, expected {version!r}")
    if project.get("dependencies") != [f"{PACKAGE}=={version}"]:
        problems.append(f"pyproject.toml: dependencies must be [{PACKAGE}=={version!r}]")
    source = pyproject.get("tool", {}).get("uv", {}).get("sources", {}).get(PACKAGE, {})
    if source != {"path": f"{WHEELS}/{wheel_name}"}:
        problems.append(f'pyproject.toml: [tool.uv.sources] {PACKAGE} must be {{ path = "{WHEELS}/{wheel_name}" }}')
    return problems


def stage(bundle: Path, wheel: Path, dest: Path) -> Path:
    """A copy of the bundle's folder with the wheel in ``wheels/``: what ``mcpb pack`` packs."""
    shutil.copytree(bundle, dest, ignore=SKIP)
    (dest / WHEELS).mkdir()
    shutil.copy2(wheel, dest / WHEELS / wheel.name)
    return dest


def registry_tools() -> list[dict[str, str]]:
    """The manifest's ``tools`` entries: the default toolsets' tools, in registry order, first line of description."""
    from hfjobs_mcp.tools.registry import select_tools  # only --sync-tools needs the package itself

    return [{"name": t.name, "description": t.description.split("\n", 1)[0].strip()} for t in select_tools()]


def sync_tools(bundle: Path = BUNDLE) -> bool:
    """Rewrite the manifest's tool list from the registry; True when it changed."""
    path = bundle / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    tools = registry_tools()
    if manifest.get("tools") == tools:
        return False
    manifest["tools"] = tools
    path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return True


def pack(*, out: Path | None, mcpb: list[str], bundle: Path = BUNDLE) -> Path:
    uv = find_uv()
    with tempfile.TemporaryDirectory(prefix="hfjobs-mcpb-") as tmp:
        wheel = build_wheel(uv, Path(tmp) / "dist")
        version = wheel_version(wheel)
        problems = bundle_problems(bundle, wheel.name, version)
        if problems:
            raise PackError(
                f"the bundle in {bundle} does not match the package ({version}, from hfjobs_mcp/__init__.py):\n  "
                + "\n  ".join(problems)
            )
        staged = stage(bundle, wheel, Path(tmp) / "bundle")
        target = (out or ROOT / "dist" / f"{PACKAGE}-{version}.mcpb").resolve()
        target.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([*mcpb, "pack", str(staged), str(target)], capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise PackError(f"mcpb pack failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, help="the .mcpb to write (default dist/hfjobs-mcp-<version>.mcpb)")
    parser.add_argument("--mcpb", help=f"the mcpb executable (default: npx --yes {MCPB_PACKAGE}@{MCPB_VERSION})")
    parser.add_argument("--bundle-dir", type=Path, default=BUNDLE, help="the bundle's source folder")
    parser.add_argument("--sync-tools", action="store_true", help="rewrite manifest.json's tools from the registry")
    args = parser.parse_args(argv)
    if args.sync_tools:
        changed = sync_tools(args.bundle_dir)
        print(f"{args.bundle_dir / 'manifest.json'}: tools {'rewritten' if changed else 'already current'}")
        return 0
    mcpb = [args.mcpb] if args.mcpb else ["npx", "--yes", f"{MCPB_PACKAGE}@{MCPB_VERSION}"]
    try:
        target = pack(out=args.out, mcpb=mcpb, bundle=args.bundle_dir)
    except PackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with zipfile.ZipFile(target) as archive:
        names = sorted(archive.namelist())
    print(f"packed {target} ({len(names)} files: {', '.join(names)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
