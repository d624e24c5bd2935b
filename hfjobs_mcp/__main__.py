"""``python -m hfjobs_mcp``: the same entry point as the ``hfjobs-mcp`` console script."""

from __future__ import annotations

from hfjobs_mcp.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
