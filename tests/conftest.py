"""Shared pytest configuration: async tests run on asyncio through anyio's pytest plugin."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    # The product runs on asyncio (uvicorn, the MCP SDK); testing trio too would test a runtime we do not ship.
    return "asyncio"
