"""Tool-schema snapshots ("toolsnaps"): one JSON file per tool under tests/toolsnaps, keys sorted.

A schema change must be a reviewed diff of these files. A missing snapshot is written on a developer machine but
fails under ``CI=true`` (so a new tool cannot reach main without one); ``UPDATE_TOOLSNAPS=1`` rewrites them all.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.anyio

SNAP_DIR = Path(__file__).resolve().parent.parent / "toolsnaps"


def _snapshot(tool: Any) -> str:
    data = {
        "name": tool.name,
        "title": tool.title,
        "description": tool.description,
        "annotations": tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else None,
        "inputSchema": tool.input_schema,
        "outputSchema": tool.output_schema,
        "_meta": tool.meta,
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


async def test_tool_schemas_match_their_snapshots(list_tools: Any) -> None:
    update = os.environ.get("UPDATE_TOOLSNAPS") == "1"
    in_ci = os.environ.get("CI", "").lower() == "true"
    problems: list[str] = []
    async with list_tools(app_only=True) as tools:  # the app-only tool is published too
        for tool in tools:
            path = SNAP_DIR / f"{tool.name}.snap.json"
            current = _snapshot(tool)
            if update or (not path.exists() and not in_ci):
                SNAP_DIR.mkdir(exist_ok=True)
                path.write_text(current, encoding="utf-8")
                continue
            if not path.exists():
                problems.append(f"{tool.name}: no snapshot (run with UPDATE_TOOLSNAPS=1 and commit it)")
            elif path.read_text(encoding="utf-8") != current:
                problems.append(f"{tool.name}: schema differs from {path.name} (UPDATE_TOOLSNAPS=1 to accept)")
        stale = {p.name for p in SNAP_DIR.glob("*.snap.json")} - {f"{t.name}.snap.json" for t in tools}
    problems += [f"{name}: snapshot of a tool that no longer exists" for name in sorted(stale)]
    assert not problems, "\n".join(problems)
