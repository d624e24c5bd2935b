"""Browser-test fixtures: Debian's Chromium (installed with apt when missing) and the screenshot folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.browser.harness import install_chromium


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of Debian's Chromium; installs the package first when it is missing (CI runs as root)."""
    return install_chromium()


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots of each state go: ``$HFJOBS_MCP_SCREENSHOTS``, else a temporary folder."""
    chosen = os.environ.get("HFJOBS_MCP_SCREENSHOTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
