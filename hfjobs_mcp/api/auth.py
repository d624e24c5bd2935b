"""Where the token and the endpoint come from, found the way ``huggingface_hub`` finds them.

Token: ``HF_TOKEN``, then ``HUGGING_FACE_HUB_TOKEN``, then the file ``HF_TOKEN_PATH`` (default
``$HF_HOME/token``, ``HF_HOME`` defaulting to ``$XDG_CACHE_HOME/huggingface`` then ``~/.cache/huggingface``).
So a user who ran ``hf auth login`` needs to configure nothing. The token is returned as a
:class:`~pydantic.SecretStr` so that no repr, log or error can show it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

__all__ = ["DEFAULT_ENDPOINT", "find_endpoint", "find_token", "token_file"]

DEFAULT_ENDPOINT = "https://huggingface.co"


def token_file(environ: Mapping[str, str] | None = None) -> Path:
    """The token file ``hf auth login`` writes."""
    env = os.environ if environ is None else environ
    if env.get("HF_TOKEN_PATH"):
        return Path(env["HF_TOKEN_PATH"]).expanduser()
    if env.get("HF_HOME"):
        home = Path(env["HF_HOME"]).expanduser()
    else:
        cache = Path(env["XDG_CACHE_HOME"]).expanduser() if env.get("XDG_CACHE_HOME") else Path.home() / ".cache"
        home = cache / "huggingface"
    return home / "token"


def find_token(environ: Mapping[str, str] | None = None) -> SecretStr | None:
    """The first token found, whitespace-stripped; None when there is none."""
    env = os.environ if environ is None else environ
    for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"):
        value = (env.get(name) or "").strip()
        if value:
            return SecretStr(value)
    path = token_file(env)
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return SecretStr(value) if value else None


def find_endpoint(environ: Mapping[str, str] | None = None) -> str:
    """``HF_ENDPOINT`` without its trailing slash, else the Hub."""
    env = os.environ if environ is None else environ
    return (env.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
