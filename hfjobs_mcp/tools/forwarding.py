"""Which secret values a run, schedule or webhook request forwards, resolved on the server's side.

The agent names secrets; the values come from the server's secrets file, its environment, or (for
``HF_TOKEN``) its own token. Entries that look like values are refused without being repeated, the policy may
refuse names outright (``deny``, or ``allowlist`` for names not on the list), and every resolved value joins
the redactor at once, so nothing the server returns can show it. Whether the values may travel is decided
later, by the consent gate, right before sending.
"""

from __future__ import annotations

from typing import Protocol

from hfjobs_mcp.errors import PolicyError
from hfjobs_mcp.secret_shapes import MASK, name_problem
from hfjobs_mcp.tools.base import ToolContext


class HasSecrets(Protocol):
    """Any tool arguments that name secrets."""

    secrets: list[str]


def check_names(args: HasSecrets) -> list[str]:
    """The secret names, each checked to be a name and not a value (a value is never repeated back)."""
    for i, entry in enumerate(args.secrets):
        problem = name_problem(entry)
        if problem is not None:
            raise PolicyError(
                f"secrets[{i}] {problem}; nothing was sent",
                hint="list environment variable NAMES in `secrets` (e.g. HF_TOKEN); the server looks the values up",
            )
    return list(dict.fromkeys(args.secrets))


async def secret_values_for(ctx: ToolContext, args: HasSecrets, *, dry_run: bool) -> dict[str, str]:
    """``name -> value`` for the secrets ``args`` names (masked on a dry run, which never looks values up)."""
    names = check_names(args)
    if not names:
        return {}
    policy = ctx.settings.secrets_policy
    if policy == "deny":
        raise PolicyError(
            "this server never forwards secrets (--secrets-policy deny); nothing was sent",
            hint="remove `secrets`, or ask the server's operator to change the policy",
        )
    if policy == "allowlist":
        refused = [n for n in names if n not in ctx.settings.allow_secrets]
        if refused:
            allowed = ", ".join(ctx.settings.allow_secrets) or "none"
            raise PolicyError(
                f"secret(s) not on this server's allow list: {', '.join(refused)}; nothing was sent",
                hint=f"allowed names: {allowed}",
            )
    if dry_run:
        return dict.fromkeys(names, MASK)
    values = ctx.sources.resolve(names)
    ctx.redactor.add(values.values())
    return values


def learn_job_secrets(ctx: ToolContext, names: list[str]) -> None:
    """Mask the values of a job's secrets before showing anything it printed.

    A job's secrets come back as names only; this server resolves those names as it would to forward them, so a
    value a job printed is masked even when another server process forwarded it. Names this server cannot
    resolve are skipped (it has no value to mask, and none to leak).
    """
    for name in names:
        try:
            ctx.redactor.add(ctx.sources.resolve([name]).values())
        except PolicyError:
            continue
