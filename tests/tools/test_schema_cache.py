"""The published-schema cache serves exactly what the models generate, and only for the sources it was made from."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from hfjobs_mcp.tools import schema
from hfjobs_mcp.tools.registry import ALL_TOOLS


def _compute() -> dict[str, object]:
    return {t.name: (lambda t=t: {"input": t.input_schema(), "output": t.output_schema()}) for t in ALL_TOOLS}


@pytest.mark.slow
def test_cache_round_trip_equals_fresh_generation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fresh = schema.cached_schemas(_compute())  # type: ignore[arg-type]
    files = list((tmp_path / "hfjobs-mcp").glob("schemas-*.json"))
    assert len(files) == 1
    calls: list[str] = []

    def spy(name: str) -> object:
        def make() -> object:
            calls.append(name)
            return {}

        return make

    again = schema.cached_schemas({t.name: spy(t.name) for t in ALL_TOOLS})  # type: ignore[arg-type]
    assert calls == [], "the cache was not used"
    assert again == json.loads(json.dumps(fresh))
    assert again == {t.name: {"input": t.input_schema(), "output": t.output_schema()} for t in ALL_TOOLS}


def test_an_edited_source_or_other_pydantic_uses_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    package = tmp_path / "hfjobs_mcp"
    shutil.copytree(Path(schema.__file__).parent.parent, package, ignore=shutil.ignore_patterns("__pycache__"))
    first = schema._cache_file(package)
    assert schema._cache_file(package) == first
    tool = package / "tools" / "jobs.py"
    stat = tool.stat()
    tool.write_text(tool.read_text(encoding="utf-8").replace("Use it", "Use  it", 1), encoding="utf-8")
    os.utime(tool, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # a longer file, even with the old mtime
    second = schema._cache_file(package)
    assert second != first
    os.utime(tool, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))  # or the same size written a moment later
    assert schema._cache_file(package) not in (first, second)
    (package / "tools" / "added.py").write_text("# a new module\n", encoding="utf-8")  # a file more, anywhere
    assert schema._cache_file(package) not in (first, second)
    # The local backend's sources are not in the key: no tool schema comes from them.
    before = schema._cache_file(package)
    (package / "local" / "app.py").write_text("# edited\n", encoding="utf-8")
    assert schema._cache_file(package) == before
    monkeypatch.setattr(schema.pydantic, "VERSION", "9.9.9")
    assert schema._cache_file(package) != before


def test_a_corrupt_cache_is_regenerated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = schema._cache_file()
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    out = schema.cached_schemas(_compute())  # type: ignore[arg-type]
    assert set(out) == {t.name for t in ALL_TOOLS}
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(out))
