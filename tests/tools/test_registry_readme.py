"""The README's tool table is generated from the registry: this test fails when they differ.

Run ``UPDATE_README=1 pytest tests/tools/test_registry_readme.py`` to regenerate it after changing a tool.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from hfjobs_mcp.tools.registry import tool_table_markdown

README = Path(__file__).resolve().parents[2] / "README.md"
BLOCK = re.compile(r"(<!-- tools:start -->\n)(.*?)(<!-- tools:end -->)", re.S)


def test_readme_tool_table_matches_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    match = BLOCK.search(text)
    assert match, "README.md lacks the <!-- tools:start --> / <!-- tools:end --> block"
    expected = tool_table_markdown()
    if os.environ.get("UPDATE_README") == "1":
        README.write_text(BLOCK.sub(lambda m: m.group(1) + expected + m.group(3), text), encoding="utf-8")
        return
    assert match.group(2) == expected, (
        "README tool table is stale: run UPDATE_README=1 pytest tests/tools/test_registry_readme.py"
    )
