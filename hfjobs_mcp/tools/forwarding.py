"""Which secret values a run or schedule request forwards.

Secrets are forwarded only by name and only after the user confirmed it (design §5); until that confirmation
machinery exists, a request naming any secret is refused outright, so no value can travel unasked.
"""

from __future__ import annotations

from typing import Protocol

from hfjobs_mcp.errors import PolicyError
from hfjobs_mcp.secret_shapes import MASK, name_problem
from hfjobs_mcp.tools.base import ToolContext


class HasSecrets(Protocol):
    """Any tool arguments that name secrets."""

    secrets: list[str]


async def secret_values_for(ctx: ToolContext, args: HasSecrets, *, dry_run: bool) -> dict[str, str]:
    """The ``name -> value`` secrets to send for ``args``; refuses when any are named."""
    for i, entry in enumerate(args.secrets):
        problem = name_problem(entry)
        if problem is not None:
            raise PolicyError(f"secrets[{i}] {problem}", hint="list environment variable NAMES in `secrets`")
    if dry_run:
        # A dry run shows which names would travel; their values are never looked at.
        return dict.fromkeys(args.secrets, MASK)
    if args.secrets:
        raise PolicyError(
            "this server does not forward secrets yet: secrets need the user's confirmation, which is not available",
            hint="remove `secrets` from the request, or use a job that does not need them",
        )
    return {}
