"""Where secret values come from, and which names may be asked for at all.

Secrets are named, never given: the agent lists environment variable NAMES, and the server resolves the values on
its own side (its environment, an optional dotenv ``--secrets-file``, and for ``HF_TOKEN`` its own token, as
``hf jobs --secrets HF_TOKEN`` does). :func:`check_names` refuses entries that look like values (without repeating
them) and names the policy never lets travel (``deny``; ``allowlist`` for names not on the list). Whether the
values may travel for one request is decided later, by the gate (:mod:`hfjobs_mcp.policy.gate`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from hfjobs_mcp.errors import MissingSecretsError, PolicyError
from hfjobs_mcp.policy.shapes import MIN_SECRET_LENGTH, name_problem
from hfjobs_mcp.private_paths import UnsafePathError, check_private

SecretsPolicy = Literal["confirm", "strict", "allowlist", "deny"]


def check_names(entries: Sequence[str]) -> list[str]:
    """The secret names, each checked to be a name and not a value (a value is never repeated back)."""
    for i, entry in enumerate(entries):
        problem = name_problem(entry)
        if problem is not None:
            raise PolicyError(
                f"secrets[{i}] {problem}; nothing was sent",
                hint="list environment variable NAMES in `secrets` (e.g. HF_TOKEN); the server looks the values up",
            )
    return list(dict.fromkeys(entries))


def check_policy(names: Sequence[str], *, policy: SecretsPolicy, allowed: Sequence[str], stored: bool = False) -> None:
    """Refuse names this server never forwards: any under ``deny``, those off the list under ``allowlist``.

    ``stored``: the names are a job's stored secrets that a rerun, trigger or resume would forward again (names
    the Hub keeps, so they are named); names the agent gave are referred to by position, never repeated.
    """
    if not names:
        return
    what = "this request re-forwards the stored secrets " if stored else "this request forwards secrets "
    if policy == "deny":
        listed = f"({', '.join(names)}) " if stored else f"({len(names)}) "
        raise PolicyError(
            f"{what}{listed}and this server never forwards secrets (--secrets-policy deny); nothing was sent",
            hint="remove `secrets`, or ask the server's operator to change the policy",
        )
    if policy == "allowlist":
        refused = [i for i, n in enumerate(names) if n not in allowed]
        if refused:
            listed = ", ".join(names[i] for i in refused) if stored else ", ".join(f"secrets[{i}]" for i in refused)
            raise PolicyError(
                f"{what}not on this server's allow list: {listed}; nothing was sent",
                hint=f"allowed names: {', '.join(allowed) or 'none'}",
            )


class SecretSources:
    """The server-side places a secret value can come from, in order: secrets file, environment, own token.

    The secrets file wins over the environment because it is the more deliberate choice; ``HF_TOKEN`` falls back
    to the token the server itself uses, so ``secrets: ["HF_TOKEN"]`` works after ``hf auth login``.
    ``use_environment=False`` (HTTP served to several users) forwards nothing from the server's environment.
    """

    def __init__(
        self,
        *,
        environ: Mapping[str, str] | None = None,
        secrets_file: Path | None = None,
        hf_token: SecretStr | Callable[[], SecretStr | None] | None = None,
        use_environment: bool = True,
    ) -> None:
        self._environ = dict(os.environ if environ is None else environ) if use_environment else {}
        self._file: dict[str, str] = {}
        if secrets_file is not None:
            if not secrets_file.is_file():
                raise PolicyError(f"secrets file not found: {secrets_file}", hint="pass an existing dotenv file")
            try:
                check_private(secrets_file, "the secrets file")
            except UnsafePathError as exc:
                raise PolicyError(str(exc), hint="make the secrets file yours and writable by you only") from None
            # The dotenv parser only with a secrets file (start-up time).
            from dotenv import dotenv_values

            self._file = {k: v for k, v in dotenv_values(secrets_file).items() if v is not None}
        self._hf_token = hf_token if callable(hf_token) or hf_token is None else (lambda: hf_token)

    def __repr__(self) -> str:
        return f"SecretSources(file={len(self._file)} names, environment={len(self._environ)} names)"

    def file_values(self) -> list[str]:
        """Every value of the secrets file and the server's token: redacted from output from the start."""
        values = list(self._file.values())
        token = self._hf_token() if self._hf_token is not None else None
        if token is not None:
            values.append(token.get_secret_value())
        return values

    def known_values(self, names: Iterable[str]) -> list[str]:
        """The values this server would forward for ``names``, skipping names it cannot resolve.

        A job's secrets come back as names only; resolving them as this server would to forward them lets it mask
        a value a job printed even when another server process forwarded it. A name with no value here has no
        value to mask, and none to leak.
        """
        values: list[str] = []
        for name in names:
            try:
                values += self.resolve([name]).values()
            except PolicyError:
                continue
        return values

    def resolve(self, names: Iterable[str]) -> dict[str, str]:
        """``name -> value`` for ``names``; lists every missing or unusable name, never a value."""
        values: dict[str, str] = {}
        missing: list[str] = []
        short: list[str] = []
        for name in names:
            value = self._file.get(name)
            if value is None:
                value = self._environ.get(name)
            token = self._hf_token() if self._hf_token is not None else None
            if value is None and name == "HF_TOKEN" and token is not None:
                value = token.get_secret_value()
            if value is None or value == "":
                missing.append(name)
            elif len(value) < MIN_SECRET_LENGTH:
                short.append(name)
            else:
                values[name] = value
        if missing:
            raise MissingSecretsError(missing)
        if short:
            raise PolicyError(
                f"the value of {', '.join(short)} is shorter than {MIN_SECRET_LENGTH} characters, so it could not be "
                "masked in output without mangling ordinary text; it is refused as a secret",
                hint="use a longer secret value, or pass a non-sensitive value in `env` instead",
            )
        return values
