"""The published-schema cache serves exactly what the models generate, and only for the sources it was made from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hfjobs_mcp.tools import schema
from hfjobs_mcp.tools.registry import ALL_TOOLS


def _compute() -> dict[str, object]:
    return {t.name: (lambda t=t: {"input": t.input_schema(), "output": t.output_schema()}) for t in ALL_TOOLS}


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


def test_a_different_source_hash_uses_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    first = schema._cache_file()
    monkeypatch.setattr(schema.metadata, "version", lambda dist: "9.9.9")
    assert schema._cache_file() != first


def test_a_corrupt_cache_is_regenerated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = schema._cache_file()
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    out = schema.cached_schemas(_compute())  # type: ignore[arg-type]
    assert set(out) == {t.name for t in ALL_TOOLS}
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(json.dumps(out))
