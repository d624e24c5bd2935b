"""Entry point of the Claude Desktop bundle: runs the ``hfjobs-mcp`` MCP server over stdio.

The bundle ships no code of its own beside this file: ``uv run`` installs ``hfjobs-mcp`` from the wheel the bundle
carries (see the bundle's ``pyproject.toml`` and ``manifests/pack_mcpb.py``), and this file hands the command line
to it. The HF token arrives in the environment.
"""

from __future__ import annotations

import sys

from hfjobs_mcp.cli import main

if __name__ == "__main__":
    sys.exit(main())
