"""The gate between a writing tool's plan and its execution: the human's yes, or nothing is sent.

The server runs :func:`decide` for every plan that is not a dry run, in one place, right before ``execute``. A
yes comes only through a channel the model cannot write to (design §5.5):

1. ``elicitation``: the client declared MCP elicitation (Claude Code, VS Code, Cursor, fast-agent); the server
   asked the user with the question of this plan before the call ran (``elicited``);
2. ``app``: the client declared MCP Apps and not elicitation (Claude Desktop, Claude.ai, VS Code, ChatGPT,
   Goose...): the call returns an approval card (:class:`~hfjobs_mcp.errors.ApprovalPending`), the human's
   answer is recorded server-side by an app-only tool, and the request goes through, once, when called again;
3. the server's own configuration, set by the human before the session: a plan that needs no yes (allowlisted
   secrets, prices under ``--confirm-above``, spend under ``--budget``, ``--allowed-namespaces``) simply goes.

A client with neither channel is refused with what the operator can configure, unless the server was started
with ``--confirm-via code``: then a single-use code comes back in the result for the agent to show the human, and
a call repeating the request with ``confirm=<code>`` goes. That trusts the agent to relay it honestly, which is
why it is an explicit opt-in. ``--secrets-policy strict`` accepts elicitation only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from hfjobs_mcp.errors import ApprovalPending, ConfirmationRequired, PolicyError
from hfjobs_mcp.policy.approvals import APPROVAL_TTL_SECONDS, Approvals, request_fingerprint

if TYPE_CHECKING:
    from hfjobs_mcp.config import Settings
    from hfjobs_mcp.policy.plan import Plan

Channel = Literal["elicitation", "app", "code", "none"]
_TTL_MINUTES = int(APPROVAL_TTL_SECONDS // 60)
Elicited = Literal["approved", "declined", "cancelled"]

__all__ = ["Channel", "ConsentForm", "Elicited", "channel_for", "decide"]


class ConsentForm(BaseModel):
    """What the elicitation asks: consent only, never a secret."""

    approve: bool = Field(description="Yes: send this request. No: nothing is sent.")


def channel_for(settings: Settings, *, can_elicit: bool, has_apps: bool) -> Channel:
    """How this client's user can be asked for a yes (see the module docstring)."""
    if can_elicit:
        return "elicitation"
    if settings.secrets_policy == "strict":
        return "none"
    if has_apps:
        return "app"
    if settings.confirm_via == "code":
        return "code"
    return "none"


_CONFIGURE = {
    "secrets": "--secrets-policy allowlist --allow-secret NAME (those names then travel without asking)",
    "price": "--confirm-above USD (runs, and schedules per day, under it need no yes)",
    "budget": "--budget USD (the 24-hour committed spend per namespace that needs no yes)",
    "namespace": "--allowed-namespaces NS (namespaces billed without asking)",
}


def _no_channel(plan: Plan[Any], settings: Settings) -> PolicyError:
    options = [_CONFIGURE[k] for k in ("secrets", "price", "budget", "namespace") if k in plan.review.kinds]
    if settings.secrets_policy != "strict":
        options.append("--confirm-via code (trusts the agent to show you a confirmation code)")
    what = "elicitation" if settings.secrets_policy == "strict" else "elicitation or MCP Apps"
    # No flag lets files of the disk leave unasked: the agent can send their text itself instead.
    files = (
        "; files read from the server's disk need the user's yes: pass their text in `file_texts` (and the script's "
        "source in `script`) instead of paths"
        if "files" in plan.review.kinds
        else ""
    )
    return PolicyError(
        "this request needs the user's yes, and this MCP client has no way to ask them (no "
        f"{what}); nothing was sent\n" + plan.question(),
        hint=(
            "tell the user what you wanted to run and why it needs a yes; they can use a client that supports "
            f"{what}, or restart the server with " + "; or ".join(options) + files
        ),
    )


def decide(
    plan: Plan[Any],
    *,
    arguments: Mapping[str, Any],
    settings: Settings,
    channel: Channel,
    elicited: Elicited | None,
    approvals: Approvals,
    caller: str,
) -> str:
    """Let ``plan`` through, returning how it was confirmed (for the audit line), or raise; nothing is sent here."""
    review = plan.review
    if not review.needs_yes:
        return "allowlist" if review.allowlisted else "not needed"
    tool = plan.request.tool
    if channel == "elicitation":
        if elicited == "approved":
            return "elicitation"
        if elicited in ("declined", "cancelled"):
            raise PolicyError(
                f"the user {elicited} the request; nothing was sent",
                hint="ask the user what to change, or do not run it",
            )
        raise PolicyError("the user was not asked; nothing was sent", hint="call the tool again")

    # Bound to what the request uploads too: a card approved for one file's content does not send another's.
    fingerprint = request_fingerprint(tool, arguments, content=plan.request.content_digest())
    if channel == "app":
        taken = approvals.take(caller=caller, fingerprint=fingerprint)
        if taken == "approved":
            return "approval card"
        if taken == "rejected":
            raise PolicyError(
                "the user rejected this request in the approval card; nothing was sent",
                hint="ask the user what to change, or do not run it",
            )
        approval_id = approvals.pending(caller=caller, fingerprint=fingerprint, channel="app") or approvals.open(
            caller=caller, fingerprint=fingerprint, channel="app"
        )
        raise ApprovalPending(
            "waiting for the user: an approval card shows them this request; nothing was sent yet\n" + plan.question(),
            hint=(
                f"wait for the user to answer the card (valid {_TTL_MINUTES} minutes). If they "
                f"approve, the card starts it; otherwise call {tool} again with exactly the same arguments"
            ),
            plan=plan.as_dict(),
            tool=tool,
            approval_id=approval_id,
        )

    if channel == "code":
        code = arguments.get("confirm")
        if code:
            outcome = approvals.redeem(caller=caller, code=str(code), fingerprint=fingerprint)
            if outcome == "ok":
                return "confirmation code"
            why = {
                "unknown": "is unknown or was already used",
                "expired": f"has expired (codes last {_TTL_MINUTES} minutes)",
                "mismatch": "was issued for a different request (the arguments changed)",
            }[outcome]
            raise PolicyError(
                f"confirmation code {why}; nothing was sent",
                hint="call again without `confirm` to get a new plan and code, show it to the user, and retry",
            )
        new_code = approvals.open(caller=caller, fingerprint=fingerprint, channel="code")
        raise ConfirmationRequired(
            "confirmation required: show this plan to the user and ask for a yes; nothing was sent\n" + plan.question(),
            hint=(
                f"if the user approves, call {tool} again with exactly the same arguments plus "
                f'confirm="{new_code}" (single use, valid {_TTL_MINUTES} minutes)'
            ),
            plan=plan.as_dict(),
            code=new_code,
        )
    raise _no_channel(plan, settings)
