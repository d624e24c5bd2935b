"""Identifiers: new 24-hex object ids (time-ordered like the Hub's) and stable ids for users and orgs."""

from __future__ import annotations

import hashlib
import secrets
import time


def new_id() -> str:
    """A fresh 24-hex id: 8 hex of the creation second, then 16 random hex (the Hub's ObjectId shape)."""
    return f"{int(time.time()) & 0xFFFFFFFF:08x}{secrets.token_hex(8)}"


def entity_id(name: str) -> str:
    """A 24-hex id for a user or org name, the same on every run so ``owner.id`` is stable."""
    return hashlib.sha256(f"hfjobs-mcp-local:{name}".encode()).hexdigest()[:24]
