"""``manifests/server.json``, the MCP Registry entry: valid against the registry's own schema, and true to the code.

The schema is the registry's ``server.schema.json`` of 2025-12-11, vendored in ``tests/data`` (the tests have no
network). Beyond the schema: the versions are the package's, the PyPI identifier and ``uvx`` resolve to the
console script, every argument is a real flag whose documented values the real parser accepts, every environment
variable is one the code reads, the README carries the ``mcp-name`` marker the registry looks for on PyPI, and the
remote, with its variables filled in, reaches a real ``hfjobs-mcp --transport http`` server.
"""

from __future__ import annotations

import json
import re
import socket
import subprocess
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import mcp
import pytest
from mcp.client.streamable_http import streamable_http_client

from hfjobs_mcp import __version__
from tests.manifests.conftest import (
    BIN,
    FAKE_TOKEN,
    MANIFESTS,
    ROOT,
    ParseError,
    clean_env,
    parse_hfjobs_args,
    serve_flags,
)

SCHEMA_PATH = ROOT / "tests" / "data" / "mcp-registry-server.schema-2025-12-11.json"
SCHEMA_URL = "https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json"


@pytest.fixture(scope="module")
def server_json() -> dict[str, Any]:
    return json.loads((MANIFESTS / "server.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def package(server_json: dict[str, Any]) -> dict[str, Any]:
    (pkg,) = server_json["packages"]
    return pkg


def _pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_vendored_schema_is_the_2025_12_11_one() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert schema["$id"] == SCHEMA_URL
    jsonschema.Draft7Validator.check_schema(schema)


def test_validates_against_the_registry_schema(server_json: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    assert server_json["$schema"] == schema["$id"]
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(server_json)]
    assert errors == []


def test_the_schema_rejects_what_the_registry_rejects(server_json: dict[str, Any]) -> None:
    """The vendored schema has teeth: the mistakes the registry refuses are refused here too."""
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
    broken = [
        {**server_json, "name": "hfjobs-mcp"},  # no namespace/
        {**server_json, "description": "x" * 101},
        {**server_json, "packages": [{**server_json["packages"][0], "version": "latest"}]},
        {**server_json, "remotes": [{"type": "streamable-http", "url": "jobs-mcp.example.com/mcp"}]},
    ]
    for document in broken:
        assert not validator.is_valid(document), document


def test_versions_are_the_package_version(server_json: dict[str, Any], package: dict[str, Any]) -> None:
    assert server_json["version"] == __version__
    assert package["version"] == __version__


def test_the_pypi_package_is_this_project_and_uvx_runs_its_console_script(package: dict[str, Any]) -> None:
    project = _pyproject()["project"]
    assert package["registryType"] == "pypi"
    assert package["identifier"] == project["name"]
    assert package["runtimeHint"] == "uvx"
    assert package["transport"] == {"type": "stdio"}
    # `uvx NAME` runs the console script called NAME from the package called NAME.
    assert project["scripts"][package["identifier"]] == "hfjobs_mcp.cli:main"


def test_hf_token_is_a_secret_environment_variable(package: dict[str, Any]) -> None:
    env = {e["name"]: e for e in package["environmentVariables"]}
    assert env["HF_TOKEN"]["isSecret"] is True
    assert "value" not in env["HF_TOKEN"]
    assert "default" not in env["HF_TOKEN"]
    assert not any(e.get("isSecret") for name, e in env.items() if name != "HF_TOKEN")


def test_every_environment_variable_is_read_by_the_code(package: dict[str, Any]) -> None:
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "hfjobs_mcp").rglob("*.py"))
    for variable in package["environmentVariables"]:
        assert re.search(rf"[\"']{re.escape(variable['name'])}[\"']", source), variable["name"]


def _sample_values(argument: dict[str, Any]) -> list[str]:
    values = list(argument.get("choices", []))
    if "default" in argument:
        values.append(argument["default"])
    samples = {
        "namespace": "my-org",
        "usd": "2.5",
        "duration": "2h",
        "namespaces": "my-org,me",
    }
    if argument.get("valueHint") in samples:
        values.append(samples[argument["valueHint"]])
    return values


def test_every_package_argument_is_a_real_flag_that_accepts_its_documented_values(package: dict[str, Any]) -> None:
    arguments = package["packageArguments"]
    assert arguments
    for argument in arguments:
        assert argument["type"] == "named"
        values = _sample_values(argument)
        assert values, f"{argument['name']}: no documented value to try"
        for value in values:
            try:
                parse_hfjobs_args([argument["name"], value])
            except ParseError as exc:
                pytest.fail(f"hfjobs-mcp refuses {argument['name']} {value!r}: {exc}")


def test_defaults_and_choices_match_the_parser(package: dict[str, Any]) -> None:
    defaults = parse_hfjobs_args([])
    by_name = {a["name"]: a for a in package["packageArguments"]}
    assert parse_hfjobs_args(["--toolsets", by_name["--toolsets"]["default"]]).toolsets == defaults.toolsets
    assert by_name["--secrets-policy"]["default"] == defaults.secrets_policy
    assert float(by_name["--confirm-above"]["default"]) == defaults.confirm_above
    assert tuple(by_name["--secrets-policy"]["choices"]) == serve_flags()["--secrets-policy"].choices


def test_the_readme_carries_the_mcp_name_marker(server_json: dict[str, Any]) -> None:
    """The registry proves ownership of a PyPI package by finding ``mcp-name: <name>`` in its description."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    project = _pyproject()["project"]
    assert project["readme"] == "README.md"
    assert f"<!-- mcp-name: {server_json['name']} -->" in readme


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _fill(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], template)


@pytest.fixture
def http_deployment(tmp_path: Path) -> Iterator[str]:
    """``hfjobs-mcp --transport http`` on loopback with a static bearer token (``--auth token``; the README's ``--auth
    hf`` takes the same ``Authorization: Bearer`` header but verifies it with the Hub's whoami, out of reach here)."""
    port = _free_port()
    log = (tmp_path / "server.log").open("w")
    env = clean_env(tmp_path, HFJOBS_MCP_AUTH_TOKEN=FAKE_TOKEN)
    cmd = [str(BIN), "--local", "--state-dir", str(tmp_path / "state"), "--transport", "http", "--auth", "token"]
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                assert proc.poll() is None, (tmp_path / "server.log").read_text()
                time.sleep(0.1)
        else:
            pytest.fail("the HTTP server did not listen within 30 s")
        yield f"127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.slow
@pytest.mark.anyio
async def test_the_remote_with_its_variables_filled_in_reaches_a_real_deployment(
    server_json: dict[str, Any], http_deployment: str
) -> None:
    (remote,) = server_json["remotes"]
    assert remote["type"] == "streamable-http"
    assert set(remote["variables"]) == {"host"}
    url = _fill(remote["url"], {"host": http_deployment}).replace("https://", "http://")  # no TLS on loopback
    (header,) = remote["headers"]
    assert header["isSecret"] is True
    assert set(header["variables"]) == {"hf_token"}
    headers = {header["name"]: _fill(header["value"], {"hf_token": FAKE_TOKEN})}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        mcp.Client(streamable_http_client(url, http_client=http)) as client,
    ):
        tools = await client.list_tools()
    assert "list_hardware" in {t.name for t in tools.tools}
