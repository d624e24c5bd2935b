"""The key shared by every worker (and host) of one HTTP deployment.

Several uvicorn workers, or several hosts behind a load balancer, serve one deployment, and a confirmation round
trip may land on another worker than the one that asked. **One configured secret**, ``HFJOBS_MCP_STATE_KEY`` (at
least 32 bytes), makes the elicitation round trip work there: the SDK seals the 2026-07-28 ``requestState`` with
it. Any other key is derived from it with HMAC-SHA256 under a purpose label (:func:`derive_key`), so no key is
ever used for two things. Approvals given through an approval card or a confirmation code are shared through
their own SQLite file (:class:`hfjobs_mcp.policy.approvals.Approvals`): per host unless that file is on storage
the hosts share (see the README's Deployment section).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets as _random
from collections.abc import Mapping

from hfjobs_mcp.serve.http.auth import DeploymentError

STATE_KEY_ENV = "HFJOBS_MCP_STATE_KEY"
MIN_STATE_KEY_BYTES = 32


def check_state_key(value: str) -> bytes:
    """The configured state key as bytes; refuses one too short to be a key."""
    raw = value.encode()
    if len(raw) < MIN_STATE_KEY_BYTES:
        raise ValueError(
            f"{STATE_KEY_ENV} must be at least {MIN_STATE_KEY_BYTES} bytes (e.g. `python -c "
            "'import secrets; print(secrets.token_urlsafe(48))'`)"
        )
    return raw


def derive_key(state_key: bytes, purpose: str) -> bytes:
    """A key for one ``purpose``, derived from the deployment's state key (HMAC-SHA256 as a PRF)."""
    return hmac.new(state_key, b"hfjobs-mcp/v1/" + purpose.encode(), hashlib.sha256).digest()


def state_key(environ: Mapping[str, str] | None = None) -> bytes:
    """``HFJOBS_MCP_STATE_KEY``, or a key of this process only (fine for one worker on one host)."""
    env = os.environ if environ is None else environ
    value = env.get(STATE_KEY_ENV)
    if not value:
        return _random.token_bytes(32)
    try:
        return check_state_key(value)
    except ValueError as exc:
        raise DeploymentError(str(exc)) from None
