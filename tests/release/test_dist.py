"""The release path: ``uv build`` makes the sdist and the wheel (the wheel from the sdist, so the sdist is complete),
their metadata is the project's, ``twine check`` accepts their README rendering, the console script runs from the
installed wheel, and the version has one source.

What PyPI shows is the wheel's metadata and the README rendered by readme_renderer (what ``twine check`` runs), so
that is what is checked, from the built files themselves, not from ``pyproject.toml``.
"""

from __future__ import annotations

import configparser
import email.parser
import email.policy
import json
import os
import re
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from email.message import Message
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from hfjobs_mcp import __version__
from tests.manifests.tooling import uv

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
NAME = "hfjobs_mcp"
WHEEL = f"{NAME}-{__version__}-py3-none-any.whl"
SDIST = f"{NAME}-{__version__}.tar.gz"
DIST_INFO = f"{NAME}-{__version__}.dist-info"


def _pyproject() -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``uv build`` of this checkout, as the README's release steps run it."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [uv(), "build", "--out-dir", str(out), str(ROOT)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Building wheel from source distribution" in done.stderr + done.stdout
    return out


@pytest.fixture(scope="module")
def metadata(dist: Path) -> Message:
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        raw = wheel.read(f"{DIST_INFO}/METADATA").decode("utf-8")
    return email.parser.Parser(policy=email.policy.compat32).parsestr(raw)


def test_build_makes_one_sdist_and_one_wheel(dist: Path) -> None:
    assert sorted(p.name for p in dist.iterdir() if p.name != ".gitignore") == sorted([SDIST, WHEEL])


def _normal(requirement: str) -> tuple[str, str, str]:
    """A requirement as the index compares it: normalized name (``huggingface_hub`` = ``huggingface-hub``),
    specifier set, marker."""
    r = Requirement(requirement)
    return canonicalize_name(r.name), str(r.specifier), str(r.marker or "")


def test_wheel_metadata_is_the_projects(metadata: Message) -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert metadata["Name"] == "hfjobs-mcp" == project["name"]
    assert metadata["Version"] == __version__
    assert metadata["Summary"] == project["description"]
    assert metadata["Requires-Python"] == ">=3.11"
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert urls["Repository"] == "https://github.com/hfjobs-mcp/hfjobs-mcp"
    assert set(urls) == {"Homepage", "Repository", "Issues"}
    runtime = {_normal(r) for r in metadata.get_all("Requires-Dist") or [] if "extra ==" not in r}
    assert runtime == {_normal(r) for r in project["dependencies"]}
    assert metadata.get_all("Provides-Extra") == ["dev"]


def test_the_long_description_is_the_readme_as_markdown(metadata: Message) -> None:
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert metadata.get_payload() == (ROOT / "README.md").read_text(encoding="utf-8")
    # The MCP Registry proves the PyPI package is ours by this line of the description.
    assert "<!-- mcp-name: io.github.hfjobs-mcp/hfjobs-mcp -->" in metadata.get_payload()


def test_the_entry_point_is_the_cli(dist: Path) -> None:
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        entry_points = wheel.read(f"{DIST_INFO}/entry_points.txt").decode("utf-8")
    parser = configparser.ConfigParser()
    parser.read_string(entry_points)
    assert dict(parser["console_scripts"]) == {"hfjobs-mcp": "hfjobs_mcp.cli:main"}
    assert parser.sections() == ["console_scripts"]


def _package_files() -> set[str]:
    """The package's files under version control: what the wheel must hold (code, py.typed, the UI's HTML)."""
    tracked = subprocess.run(["git", "ls-files", NAME], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(tracked.stdout.split())


def test_the_wheel_holds_the_package_and_the_license_only(dist: Path) -> None:
    with zipfile.ZipFile(dist / WHEEL) as wheel:
        names = set(wheel.namelist())
        license_text = wheel.read(f"{DIST_INFO}/licenses/LICENSE")
    assert {n for n in names if not n.startswith(DIST_INFO)} == _package_files()
    assert f"{NAME}/py.typed" in names  # type information ships (PEP 561)
    assert license_text == (ROOT / "LICENSE").read_bytes()
    assert b"Apache License" in license_text


def test_the_sdist_has_the_sources_and_nothing_private(dist: Path) -> None:
    with tarfile.open(dist / SDIST) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    assert {"pyproject.toml", "README.md", "LICENSE", "PKG-INFO"} <= names
    assert _package_files() <= names
    for private in (".venv", ".cache", ".env", ".git", "dist"):
        assert not any(n == private or n.startswith(f"{private}/") for n in names), private


def test_twine_check_passes(dist: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(dist / SDIST), str(dist / WHEEL)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("PASSED") == 2, done.stdout


@pytest.mark.parametrize(
    ("description", "renders"),
    [("Title\n=====\n\nPlain text.\n", True), ("Title\n=====\n\n.. unknown-directive:: boom\n", False)],
)
def test_twine_check_has_teeth(dist: Path, tmp_path: Path, description: str, renders: bool) -> None:
    """The same wheel with a reStructuredText description: PyPI renders the good one and not the broken one, and
    ``twine check`` says so (the control proves the failure is the rendering, not the rewritten wheel)."""
    rewritten = tmp_path / WHEEL
    with zipfile.ZipFile(dist / WHEEL) as src, zipfile.ZipFile(rewritten, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == f"{DIST_INFO}/METADATA":
                head = data.decode("utf-8").split("\n\n", 1)[0]
                head = head.replace("Description-Content-Type: text/markdown", "Description-Content-Type: text/x-rst")
                data = f"{head}\n\n{description}".encode()
            dst.writestr(item, data)
    done = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", str(rewritten)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (done.returncode == 0) is renders, done.stdout
    said = " ".join(done.stdout.split())  # twine wraps its report to the terminal's width
    assert ("PASSED" if renders else "would not be rendered on PyPI") in said


@pytest.mark.timeout(300)
def test_the_installed_wheel_runs_its_console_script(dist: Path, tmp_path: Path) -> None:
    """The wheel installed on its own in a fresh environment (dependencies from the package index)."""
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    made = subprocess.run([uv(), "venv", "--quiet", "--python", sys.executable, str(venv)], env=env, check=False)
    assert made.returncode == 0
    installed = subprocess.run(
        [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"), str(dist / WHEEL)],
        capture_output=True,
        text=True,
        timeout=240,
        env=env,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    version = subprocess.run(
        [str(venv / "bin" / "hfjobs-mcp"), "--version"], capture_output=True, text=True, timeout=60, check=False
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.strip() == f"hfjobs-mcp {__version__}"
    # The installed package is the wheel's, not this checkout seen through a path.
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import hfjobs_mcp; print(hfjobs_mcp.__file__)"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout + where.stderr


# Every file that repeats the version, and why it cannot read it from the package: each is read by a tool that
# does not run Python (mcpb, uv in the bundle, the MCP Registry). Tests compare each one with __version__.
VERSION_COPIES = {
    "manifests/mcpb/manifest.json",  # mcpb validate / Claude Desktop
    "manifests/mcpb/pyproject.toml",  # uv run in the unpacked bundle (pin and wheel file name)
    "manifests/server.json",  # the MCP Registry entry
}


def test_the_version_has_one_source() -> None:
    pyproject = _pyproject()
    project = pyproject["project"]
    assert isinstance(project, dict)
    assert "version" not in project
    assert project["dynamic"] == ["version"]
    tool = pyproject["tool"]
    assert isinstance(tool, dict)
    assert tool["hatch"]["version"] == {"path": "hfjobs_mcp/__init__.py"}
    init = (ROOT / NAME / "__init__.py").read_text(encoding="utf-8")
    assert re.findall(r'^__version__ = "([^"]+)"$', init, re.M) == [__version__]
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    repeats = set()
    for name in tracked:
        path = ROOT / name
        if name == f"{NAME}/__init__.py" or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        if re.search(rf"(?<![\d.]){re.escape(__version__)}(?![\d])", text):
            repeats.add(name)
    assert repeats == VERSION_COPIES, "a new copy of the version: read it from hfjobs_mcp.__version__ instead"
    manifest = json.loads((ROOT / "manifests/mcpb/manifest.json").read_text(encoding="utf-8"))
    server = json.loads((ROOT / "manifests/server.json").read_text(encoding="utf-8"))
    assert manifest["version"] == server["version"] == server["packages"][0]["version"] == __version__


def test_the_readme_release_steps_are_the_ones_tested() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("## Cutting a release")
    steps = readme[start : readme.index("\n## ", start + 1)]
    assert "`__version__` in `hfjobs_mcp/__init__.py`" in steps
    for copy in VERSION_COPIES:
        assert f"`{copy}`" in steps, copy
    assert ".venv/bin/uv build && .venv/bin/twine check --strict dist/*.tar.gz dist/*.whl" in steps
    assert "manifests/pack_mcpb.py" in steps
