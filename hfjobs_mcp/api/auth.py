"""Where the token and the endpoint come from, found the way ``huggingface_hub`` finds them.

Token: ``HF_TOKEN``, then ``HUGGING_FACE_HUB_TOKEN``, then the file ``HF_TOKEN_PATH`` (default
``$HF_HOME/token``, ``HF_HOME`` defaulting to ``$XDG_CACHE_HOME/huggingface`` then ``~/.cache/huggingface``).
So a user who ran ``hf auth login`` needs to configure nothing. The token is returned as a
:class:`~pydantic.SecretStr` so that no repr, log or error can show it.
"""

from __future__ import annotations

import configparser
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import anyio.to_thread
from pydantic import SecretStr

__all__ = ["DEFAULT_ENDPOINT", "TokenSource", "find_endpoint", "find_token", "token_file"]

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


REFRESH_MARGIN_SECONDS = 24 * 3600  # as huggingface_hub: refresh when less than a day of validity remains
RECHECK_SECONDS = 300.0


def _hub_get_token() -> str | None:
    """huggingface_hub's own ``get_token()``: refreshes a browser-login token close to expiry and persists it.

    Imported here, on first need: huggingface_hub takes about a second to import, which start-up must not pay.
    """
    from huggingface_hub import get_token  # on first need, for start-up time (about a second to import)

    return get_token()


class TokenSource:
    """The token, and how it stays valid: fixed, or read from the file ``hf auth login`` writes.

    A browser login (``hf auth login`` with OAuth) saves an access token that expires, with a refresh token and the
    expiry in ``stored_tokens`` beside the token file. While such a token is in use, :meth:`fresh` checks the expiry
    at most every :data:`RECHECK_SECONDS` (or when it is due) and, within :data:`REFRESH_MARGIN_SECONDS` of it,
    lets huggingface_hub refresh and persist it, as huggingface_hub 2.4 does itself. :meth:`reload` re-reads the file
    (after a 401: the user may have logged in again). Listeners learn every new token (the redactor masks it).
    """

    def __init__(
        self,
        token: SecretStr | None,
        *,
        file: Path | None = None,
        fetch: Callable[[], str | None] = _hub_get_token,
        origin: str | None = None,
    ) -> None:
        self.token = token
        self.file = file
        self.origin = origin or ("no token" if token is None else "the configured token")
        """Where the token comes from, in words (a dry run says which token a real call would use)."""
        self._fetch = fetch
        self._next_check = 0.0
        self._listeners: list[Callable[[SecretStr], None]] = []

    @classmethod
    def found(cls, environ: Mapping[str, str] | None = None) -> TokenSource:
        """The token as :func:`find_token` finds it, refreshable when it came from the token file."""
        env = os.environ if environ is None else environ
        token = find_token(env)
        named = next((n for n in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN") if (env.get(n) or "").strip()), None)
        if named is not None:
            return cls(token, origin=f"{named} from the server's environment")
        if token is None:
            return cls(None, origin="no token found (set HF_TOKEN or run `hf auth login`)")
        path = token_file(env)
        return cls(token, file=path, origin=f"the token saved by `hf auth login` ({path})")

    def on_new_token(self, listener: Callable[[SecretStr], None]) -> None:
        self._listeners.append(listener)

    def _adopt(self, value: str | None) -> bool:
        if not value or (self.token is not None and value == self.token.get_secret_value()):
            return False
        self.token = SecretStr(value)
        for listener in self._listeners:
            listener(self.token)
        return True

    def _expiry(self) -> float | None:
        """The active token's expiry from ``stored_tokens``, if it is a refreshable OAuth token."""
        if self.file is None or self.token is None:
            return None
        parser = configparser.ConfigParser()
        try:
            parser.read(self.file.parent / "stored_tokens", encoding="utf-8")
        except (OSError, configparser.Error):
            return None
        current = self.token.get_secret_value()
        for section in parser.sections():
            fields = parser[section]
            if fields.get("hf_token") == current and fields.get("refresh_token") and fields.get("expires_at"):
                try:
                    return float(fields["expires_at"])
                except ValueError:
                    return None
        return None

    async def fresh(self) -> SecretStr | None:
        """The token, refreshed first if it is a browser-login token close to expiry (checked when due)."""
        now = time.time()
        if self.file is None or now < self._next_check:
            return self.token
        expires = self._expiry()
        if expires is None or expires - REFRESH_MARGIN_SECONDS > now:
            self._next_check = (
                now + RECHECK_SECONDS
                if expires is None
                else min(expires - REFRESH_MARGIN_SECONDS, now + RECHECK_SECONDS)
            )
            return self.token
        self._next_check = now + RECHECK_SECONDS
        self._adopt(await anyio.to_thread.run_sync(self._fetch))
        return self.token

    async def reload(self) -> bool:
        """Re-read the token file (after a 401); True when it holds another token than the one in use."""
        if self.file is None:
            return False
        self._next_check = 0.0
        before = self.token
        await self.fresh()
        if self.token is before:
            try:
                self._adopt(self.file.read_text(encoding="utf-8").strip())
            except (OSError, UnicodeDecodeError):
                return False
        return self.token is not before
