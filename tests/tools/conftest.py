"""Fixtures for tool-surface tests: a server whose tools are listed through a real in-memory MCP session.

Listing tools sends nothing to the Jobs API, so the client here points at a closed port and has a fake token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import mcp
import pytest
from mcp_types import Tool

from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.config import TOOLSETS, Settings
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server
from tests.visibility import model_visible

ListTools = Callable[..., Any]


@asynccontextmanager
async def listed(*, app_only: bool = False, **kwargs: Any) -> AsyncIterator[list[Tool]]:
    """The tools the model sees (``app_only``: every listed tool, the approval card's app-only one included)."""
    settings = Settings()
    kwargs.setdefault("toolsets", TOOLSETS)  # every tool unless a test picks toolsets
    async with JobsClient(token="hf_fake_listing_token_000", endpoint="http://127.0.0.1:9") as client:
        server = build_server(base_context(settings, client), **kwargs)
        async with mcp.Client(server) as session:
            tools = (await session.list_tools()).tools
            yield tools if app_only else model_visible(tools)


@pytest.fixture
def list_tools() -> Callable[..., Any]:
    return listed
