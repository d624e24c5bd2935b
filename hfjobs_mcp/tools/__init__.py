"""Tool definitions, one module per toolset: argument and result models plus handlers; no MCP imports."""
