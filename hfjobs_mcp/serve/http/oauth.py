"""OAuth for the HTTP deployment with ``--auth hf``: this server is a protected resource, Hugging Face the issuer.

Hosts that require OAuth (Claude.ai and ChatGPT connectors, MCP's authorization spec) start from a 401: its
``WWW-Authenticate`` names this server's protected-resource metadata (RFC 9728), which names Hugging Face (the
``--endpoint``, or ``--authorization-server``) as the authorization server; the host gets a token there and
calls again with it. The token is a Hugging Face token like any other, verified with whoami-v2 by the gateway
(:mod:`hfjobs_mcp.web`), so static HF tokens keep working unchanged.

A token that says it was issued for another resource (an RFC 8707 audience: the ``aud`` claim of a JWT access
token) is refused before anything else, so a token a user gave another MCP server cannot be replayed here. An
opaque token (``hf_...``) carries no audience this server can read; it is accepted on whoami-v2's word alone.

The metadata document and its URL come from the SDK (``create_protected_resource_routes``,
``build_resource_metadata_url``); the audience is compared as URLs, as the SDK's bearer backend does.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from pydantic import AnyHttpUrl, ConfigDict, TypeAdapter, ValidationError
from starlette.routing import Route

from hfjobs_mcp.config import Settings

DOCS = "https://github.com/hfjobs-mcp/hfjobs-mcp#deployment"
# A path-less URL keeps its form (no trailing slash added): RFC 8414 compares issuers as exact strings.
_URL: TypeAdapter[AnyHttpUrl] = TypeAdapter(AnyHttpUrl, config=ConfigDict(url_preserve_empty_path=True))


def resource_url(settings: Settings, mcp_path: str) -> str:
    """This server's resource identifier: ``--public-url`` (what clients use), else its loopback address."""
    if settings.public_url:
        return settings.public_url
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    return f"http://{host}:{settings.port}{mcp_path}"


def authorization_server(settings: Settings, endpoint: str) -> str:
    """Who issues tokens for this server: ``--authorization-server``, else the Hub the server calls."""
    return (settings.authorization_server or endpoint).rstrip("/")


def metadata_url(resource: str) -> str:
    """Where the protected-resource metadata is served (RFC 9728 §3.1: the well-known path before the resource's)."""
    return str(build_resource_metadata_url(_URL.validate_python(resource)))


def metadata_routes(resource: str, issuer: str) -> list[Route]:
    """The RFC 9728 metadata document's route (served without auth)."""
    return create_protected_resource_routes(
        resource_url=_URL.validate_python(resource),
        authorization_servers=[_URL.validate_python(issuer)],
        resource_name="hfjobs-mcp: Hugging Face Jobs",
        resource_documentation=_URL.validate_python(DOCS),
    )


def _claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT (unverified: it is only ever used to refuse), or None for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    return payload if isinstance(payload, dict) else None


def _same_resource(a: str, b: str) -> bool:
    try:
        return str(AnyHttpUrl(a)).removesuffix("/") == str(AnyHttpUrl(b)).removesuffix("/")
    except ValidationError:
        return False


def issued_elsewhere(token: str, resource: str) -> bool:
    """True when the token names its audience and this server is not part of it."""
    claims = _claims(token)
    if claims is None or "aud" not in claims:
        return False
    audience = claims["aud"]
    audiences = audience if isinstance(audience, list) else [audience]
    return not any(isinstance(a, str) and _same_resource(a, resource) for a in audiences)
