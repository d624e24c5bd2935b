"""The Jobs REST client (no MCP in here)."""
