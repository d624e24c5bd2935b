"""Who may call: the bearer token check (401) and the namespace check (403) of every authenticated route."""

from __future__ import annotations

from starlette.requests import Request

from .config import LocalConfig


class AuthError(Exception):
    """An authentication (401) or authorization (403) failure; ``str(err)`` is the ``error`` body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def check_token(request: Request, cfg: LocalConfig) -> str:
    """The calling user's name, or AuthError(401) when the bearer token is missing or wrong."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError(401, "Invalid credentials in Authorization header: a Bearer token is required")
    user = cfg.user_for_token(token.strip())
    if user is None:
        raise AuthError(401, "Invalid credentials in Authorization header: unknown token")
    return user


def owner_type(namespace: str, cfg: LocalConfig, user: str | None = None) -> str:
    """``user`` or ``org`` for a namespace the calling ``user`` (default: the main one) may use, or AuthError(403)."""
    user = cfg.user if user is None else user
    orgs = cfg.orgs_of(user)
    if namespace == user:
        return "user"
    if namespace in orgs:
        return "org"
    raise AuthError(
        403,
        f"You don't have access to namespace {namespace!r}: this token can use {', '.join([user, *orgs])}",
    )
