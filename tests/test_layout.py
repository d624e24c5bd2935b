"""The tests mirror the package: a unit test is found where its module is.

- ``tests/<package>/test_<module>[_<topic>].py`` tests ``hfjobs_mcp/<package>/<module>.py`` (or the subpackage
  ``<module>/``), for ``api``, ``local``, ``policy``, ``serve`` (and ``serve/http``) and ``tools``;
- ``tests/test_<module>[_<topic>].py`` tests a module at the package's root (``cli``, ``demo``, ``workflows``...),
  plus the few checks over the whole package (:data:`PACKAGE_WIDE`);
- scenarios that cross modules live in their own folders (:data:`SCENARIOS`): real MCP sessions end to end,
  reliability under faults, huggingface_hub and the ``hf`` CLI against us, browsers, the conformance suite, the
  client manifests, the release artifacts;
- ``tests/bench`` tests the benchmark runner in ``bench/``.

So someone changing ``hfjobs_mcp/serve/http/auth.py`` finds its tests in ``tests/serve/http/test_auth.py``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hfjobs_mcp"
TESTS = ROOT / "tests"

MIRRORED = ("api", "local", "policy", "serve", "serve/http", "tools")
SCENARIOS = ("e2e", "reliability", "acceptance", "browser", "conformance", "manifests", "release")
PACKAGE_WIDE = {"test_layering", "test_layout", "test_static", "test_openapi_validator"}
# Folders of tests that are not test modules themselves.
NOT_TESTS = {"toolsnaps", "data", "__pycache__"}


def _modules(folder: Path) -> set[str]:
    """The names a test file may start with: the folder's modules and subpackages."""
    return {p.stem for p in folder.glob("*.py") if p.stem != "__init__"} | {
        p.name for p in folder.iterdir() if p.is_dir() and (p / "__init__.py").exists()
    }


def _names_a_module(test_file: Path, modules: set[str]) -> bool:
    parts = test_file.stem.removeprefix("test_").split("_")
    return any("_".join(parts[:n]) in modules for n in range(1, len(parts) + 1))


def misplaced(tests: Path = TESTS, package: Path = PACKAGE, bench: Path = ROOT / "bench") -> list[str]:
    """Every test module that is neither beside its module's mirror nor in a scenario folder."""
    wrong = []
    for path in sorted(tests.rglob("test_*.py")):
        rel = path.relative_to(tests)
        folder = rel.parent.as_posix()
        if folder == ".":
            ok = path.stem in PACKAGE_WIDE or _names_a_module(path, _modules(package))
        elif folder in MIRRORED:
            ok = _names_a_module(path, _modules(package / folder))
        elif folder == "bench":
            ok = _names_a_module(path, _modules(bench))
        else:
            ok = rel.parts[0] in SCENARIOS
        if not ok:
            wrong.append(rel.as_posix())
    return wrong


def test_every_test_module_is_where_its_module_is() -> None:
    assert misplaced() == [], (
        "name a unit test tests/<package>/test_<module>[_<topic>].py after the module it tests, "
        "or put a scenario in one of " + ", ".join(SCENARIOS)
    )


def test_no_unknown_test_folder() -> None:
    folders = {p.relative_to(TESTS).parts[0] for p in TESTS.iterdir() if p.is_dir()} - NOT_TESTS
    assert folders <= {*SCENARIOS, *(m.split("/")[0] for m in MIRRORED), "bench"}, folders


def test_the_layout_check_can_fail(tmp_path: Path) -> None:
    package = tmp_path / "hfjobs_mcp"
    (package / "api").mkdir(parents=True)
    (package / "api" / "client.py").write_text("", encoding="utf-8")
    (package / "cli.py").write_text("", encoding="utf-8")
    tests = tmp_path / "tests"
    for name in ("api/test_client.py", "api/test_client_retries.py", "api/test_issue_2.py", "test_cli.py",
                 "test_misc.py", "e2e/test_anything.py", "unit/test_cli.py"):  # fmt: skip
        (tests / name).parent.mkdir(parents=True, exist_ok=True)
        (tests / name).write_text("", encoding="utf-8")
    assert misplaced(tests, package, tmp_path / "bench") == ["api/test_issue_2.py", "test_misc.py", "unit/test_cli.py"]
