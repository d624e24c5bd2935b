"""Entry point of the Claude Desktop bundle: runs the ``hfjobs-mcp`` MCP server over stdio.

The bundle ships no code of its own; ``uv run`` installs the pinned ``hfjobs-mcp`` from PyPI (see the bundle's
``pyproject.toml``) and this file hands the command line to it. The HF token arrives in the environment.
"""

from __future__ import annotations

import sys

from hfjobs_mcp.cli import main

if __name__ == "__main__":
    sys.exit(main())
