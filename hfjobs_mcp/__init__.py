"""hfjobs-mcp: an MCP server that gives agents typed tools over Hugging Face Jobs.

The package is layered (see ``tests/test_layering.py``): ``api`` speaks the Jobs REST API and knows
nothing of MCP; ``policy`` decides what needs the user's yes; ``tools`` turns validated tool arguments into
API calls; ``serve`` is the only package that imports the MCP SDK; ``local`` is a stand-alone Jobs backend
that shares no code with the client, so that a misreading of the wire format cannot hide on both sides at once.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
