"""``manifests/mcpb/``, the Claude Desktop bundle (MCP Bundle manifest 0.4, ``uv`` runtime), proved with the real
``mcpb`` CLI from npm (``@anthropic-ai/mcpb``, installed once into ``.cache/npm-tools``).

``mcpb validate`` accepts the manifest; ``manifests/pack_mcpb.py`` (the README's pack step) builds this checkout's
wheel, puts it in the bundle and runs ``mcpb pack``; the packed bundle then runs as a host runs it: the launch
configuration comes from mcpb's own ``getMcpConfigForManifest`` (variable substitution of ``${__dirname}`` and
``${user_config.*}``, the token into ``env``), and that exact command, ``uv run --directory <bundle>
server/main.py ...``, with that exact environment and nothing pointing uv at any other source, installs
``hfjobs-mcp`` from the wheel inside the bundle (its lock file says so) and answers ``tools/list`` with the tools
the manifest lists, which are the registry's.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import mcp
import pytest
from mcp.client.stdio import StdioServerParameters, stdio_client

from hfjobs_mcp import __version__
from hfjobs_mcp.tools.registry import select_tools
from tests.manifests import tooling
from tests.manifests.conftest import FAKE_TOKEN, MANIFESTS, ROOT, npm_tool, parse_hfjobs_args
from tests.visibility import model_visible

BUNDLE = MANIFESTS / "mcpb"
PACK = MANIFESTS / "pack_mcpb.py"
WHEEL = f"hfjobs_mcp-{__version__}-py3-none-any.whl"

RESOLVE_JS = """
import { readFileSync } from "node:fs";
const [lib, manifestPath, extensionPath, userConfig] = process.argv.slice(2);
const { getMcpConfigForManifest } = await import(lib);
const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
const config = await getMcpConfigForManifest({
  manifest,
  extensionPath,
  systemDirs: { HOME: "/home/u", DESKTOP: "/home/u/Desktop", DOCUMENTS: "/home/u/Documents",
                DOWNLOADS: "/home/u/Downloads" },
  userConfig: JSON.parse(userConfig),
  pathSeparator: "/",
});
process.stdout.write(JSON.stringify(config ?? null));
"""


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return json.loads((BUNDLE / "manifest.json").read_text(encoding="utf-8"))


def _mcpb(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(npm_tool("mcpb")), *args], capture_output=True, text=True, timeout=120, check=False, cwd=ROOT
    )


def test_manifest_version_runtime_and_pins(manifest: dict[str, Any]) -> None:
    assert manifest["manifest_version"] == "0.4"
    assert manifest["version"] == __version__
    server = manifest["server"]
    assert server["type"] == "uv"
    assert (BUNDLE / server["entry_point"]).is_file()
    bundle_project = tomllib.loads((BUNDLE / "pyproject.toml").read_text(encoding="utf-8"))
    assert bundle_project["project"]["dependencies"] == [f"hfjobs-mcp=={__version__}"]
    assert bundle_project["project"]["version"] == __version__
    assert bundle_project["tool"]["uv"]["package"] is False
    # uv takes hfjobs-mcp from the wheel the pack step puts in the bundle, never from an index.
    assert bundle_project["tool"]["uv"]["sources"] == {"hfjobs-mcp": {"path": f"wheels/{WHEEL}"}}


def test_the_pack_step_pins_the_mcpb_the_tests_use() -> None:
    assert f'MCPB_VERSION = "{tooling.NPM_PACKAGES["@anthropic-ai/mcpb"]}"' in PACK.read_text(encoding="utf-8")


def test_tools_listed_are_the_registrys(manifest: dict[str, Any]) -> None:
    expected = [{"name": t.name, "description": t.description.split("\n", 1)[0].strip()} for t in select_tools()]
    assert manifest["tools"] == expected, "regenerate it: .venv/bin/python manifests/pack_mcpb.py --sync-tools"
    assert manifest["tools_generated"] is False


@pytest.mark.slow
def test_sync_tools_rewrites_a_stale_list_and_keeps_the_rest(tmp_path: Path, manifest: dict[str, Any]) -> None:
    stale = {**manifest, "tools": [*manifest["tools"][1:], {"name": "gone_tool", "description": "x"}]}
    (tmp_path / "manifest.json").write_text(json.dumps(stale), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(PACK), "--sync-tools", "--bundle-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    synced = json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8"))
    assert synced == manifest  # the tools back in registry order; every other key as it was
    again = subprocess.run(
        [sys.executable, str(PACK), "--sync-tools", "--bundle-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "already current" in again.stdout


def test_the_token_is_a_sensitive_setting_passed_only_through_env(manifest: dict[str, Any]) -> None:
    token = manifest["user_config"]["hf_token"]
    assert token["type"] == "string"
    assert token["sensitive"] is True
    assert token["required"] is True
    assert "default" not in token
    config = manifest["server"]["mcp_config"]
    assert config["env"] == {"HF_TOKEN": "${user_config.hf_token}"}
    assert not any("hf_token" in arg for arg in config["args"])
    sensitive = [k for k, v in manifest["user_config"].items() if v.get("sensitive")]
    assert sensitive == ["hf_token"]


def test_launch_arguments_are_real_flags_with_the_defaults_substituted(manifest: dict[str, Any]) -> None:
    config = manifest["server"]["mcp_config"]
    assert config["command"] == "uv"
    assert config["args"][:4] == ["run", "--directory", "${__dirname}", manifest["server"]["entry_point"]]
    options = manifest["user_config"]
    defaults = {f"${{user_config.{k}}}": str(v["default"]) for k, v in options.items() if "default" in v}
    server_args = [defaults.get(a, a) for a in config["args"][4:]]
    assert not any("${" in a for a in server_args), server_args
    parsed = parse_hfjobs_args(server_args)
    assert parsed.confirm_above == manifest["user_config"]["confirm_above"]["default"]
    assert parsed.toolsets == parse_hfjobs_args([]).toolsets


@pytest.mark.slow
def test_mcpb_validate_accepts_the_manifest() -> None:
    done = _mcpb("validate", str(BUNDLE / "manifest.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Manifest schema validation passes" in done.stdout


@pytest.mark.slow
def test_mcpb_validate_has_teeth(tmp_path: Path, manifest: dict[str, Any]) -> None:
    broken = {**manifest, "server": {**manifest["server"], "type": "uvx"}}
    (tmp_path / "manifest.json").write_text(json.dumps(broken), encoding="utf-8")
    done = _mcpb("validate", str(tmp_path / "manifest.json"))
    assert done.returncode != 0
    assert "server.type" in done.stdout


def _resolve_launch(extension: Path, user_config: dict[str, object], tmp: Path) -> dict[str, Any] | None:
    """The host's launch configuration for the unpacked bundle, computed by mcpb's own library."""
    lib = npm_tool("mcpb").resolve().parents[1] / "index.js"  # .bin/mcpb -> <package>/dist/cli/cli.js
    script = tmp / "resolve.mjs"
    script.write_text(RESOLVE_JS, encoding="utf-8")
    done = subprocess.run(
        ["node", str(script), lib.as_uri(), str(extension / "manifest.json"), str(extension), json.dumps(user_config)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result: dict[str, Any] | None = json.loads(done.stdout)
    return result


def _pack(*args: str) -> subprocess.CompletedProcess[str]:
    """The README's pack step, with the tests' copy of mcpb instead of ``npx``."""
    return subprocess.run(
        [sys.executable, str(PACK), "--mcpb", str(npm_tool("mcpb")), *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=ROOT,
    )


@pytest.mark.slow
def test_the_pack_step_refuses_a_bundle_of_another_version(tmp_path: Path) -> None:
    stale = tmp_path / "mcpb"
    shutil.copytree(BUNDLE, stale, ignore=shutil.ignore_patterns("__pycache__"))
    manifest = json.loads((stale / "manifest.json").read_text(encoding="utf-8"))
    (stale / "manifest.json").write_text(json.dumps({**manifest, "version": "9.9.9"}), encoding="utf-8")
    pyproject = (stale / "pyproject.toml").read_text(encoding="utf-8")
    (stale / "pyproject.toml").write_text(pyproject.replace(WHEEL, "hfjobs_mcp-9.9.9-py3-none-any.whl"), "utf-8")
    out = tmp_path / "stale.mcpb"
    done = _pack("--bundle-dir", str(stale), "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "manifest.json: version is '9.9.9'" in done.stderr
    assert "[tool.uv.sources] hfjobs-mcp must be" in done.stderr
    assert not out.exists()


@pytest.mark.slow
@pytest.mark.anyio
@pytest.mark.timeout(300)
async def test_the_packed_bundle_runs_as_the_host_runs_it(tmp_path: Path, manifest: dict[str, Any]) -> None:
    packed = tmp_path / "hfjobs-mcp.mcpb"
    done = _pack("--out", str(packed))
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(packed) as archive:
        names = sorted(archive.namelist())
        assert names == ["manifest.json", "pyproject.toml", "server/main.py", f"wheels/{WHEEL}"]
        extension = tmp_path / "installed" / "hfjobs-mcp"
        archive.extractall(extension)
    with zipfile.ZipFile(extension / "wheels" / WHEEL) as wheel:
        # The wheel is this checkout's code.
        assert wheel.read("hfjobs_mcp/cli.py") == (ROOT / "hfjobs_mcp" / "cli.py").read_bytes()

    # A host refuses to start the server until the required token is given.
    assert _resolve_launch(extension, {}, tmp_path) is None
    launch = _resolve_launch(extension, {"hf_token": FAKE_TOKEN}, tmp_path)
    assert launch is not None
    assert launch["command"] == "uv"
    assert launch["args"][:4] == ["run", "--directory", str(extension), "server/main.py"]
    assert launch["env"] == {"HF_TOKEN": FAKE_TOKEN}
    assert FAKE_TOKEN not in json.dumps(launch["args"])

    # The host's environment: nothing tells uv where to find packages (no UV_* of ours, no find-links, no Python
    # chosen for it); it resolves from the bundle's own files, with the package index for the dependencies.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING", "HFJOBS_MCP_", "UV_"))}
    env.pop("VIRTUAL_ENV", None)
    env.update(launch["env"])
    env.update(
        {
            # No call may leave the machine: tools/list needs none, and a stray one would fail here, not on the Hub.
            "HF_ENDPOINT": "http://127.0.0.1:9",
            "HFJOBS_MCP_HOME": str(tmp_path / "hfjobs-home"),
            "HF_HOME": str(tmp_path / "hf"),
        }
    )
    uv = tooling.uv()
    command = shutil.which(launch["command"], path=f"{Path(uv).parent}{os.pathsep}{env.get('PATH', '')}")
    assert command is not None
    params = StdioServerParameters(command=command, args=launch["args"], env=env)
    with (tmp_path / "server.log").open("w") as errlog:
        async with mcp.Client(stdio_client(params, errlog=errlog)) as client:
            tools = model_visible((await client.list_tools()).tools)
    assert [t.name for t in tools] == [t["name"] for t in manifest["tools"]]
    assert FAKE_TOKEN not in (tmp_path / "server.log").read_text(encoding="utf-8")

    # uv installed hfjobs-mcp from the bundle's wheel.
    lock = tomllib.loads((extension / "uv.lock").read_text(encoding="utf-8"))
    (ours,) = [p for p in lock["package"] if p["name"] == "hfjobs-mcp"]
    assert ours["source"] == {"path": f"wheels/{WHEEL}"}
    assert ours["version"] == __version__


def test_the_readme_packs_with_the_pack_step() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    desktop = readme[readme.index("### Claude Desktop") : readme.index("### Claude Code")]
    assert "`.venv/bin/python manifests/pack_mcpb.py`" in desktop
    assert "`dist/hfjobs-mcp-<version>.mcpb`" in desktop
