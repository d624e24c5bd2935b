"""The gate in front of every request that forwards secrets or spends money: the user's yes, or nothing is sent.

A tool that may need consent calls :func:`gate` right before its one sending call, with the
:class:`~hfjobs_mcp.secrets.ConfirmationPlan` of that exact request (None when nothing needs a yes). The gate
decides from the policy and from what the server already learned from the user (:class:`Consent`, filled by the
server from MCP elicitation before the handler ran):

- nothing to confirm, or every secret on the ``--allow-secret`` list (``allowlist``): go;
- the user approved through elicitation: go; declined or cancelled: refuse, nothing sent;
- no elicitation: ``strict`` refuses; ``confirm`` hands back a single-use code bound to a hash of this exact
  request (:class:`~hfjobs_mcp.errors.ConfirmationRequired`), and a call repeating the request with
  ``confirm=<code>`` goes.

The server asks the user by running the handler in *planning* mode first: the gate then raises
:class:`Planned` with the plan instead of deciding, so the question shown is computed by the very code that
sends, and nothing is ever sent while planning.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hfjobs_mcp.errors import ConfirmationRequired, PolicyError
from hfjobs_mcp.secrets import ConfirmationPlan, request_fingerprint
from hfjobs_mcp.tools.base import Consent, ToolContext

if TYPE_CHECKING:
    from hfjobs_mcp.tools.specs import Cost

__all__ = ["Consent", "Planned", "gate", "make_plan"]


class Planned(Exception):
    """Raised by :func:`gate` in planning mode: the request that would be sent needs ``plan`` (or nothing)."""

    def __init__(self, plan: ConfirmationPlan | None) -> None:
        super().__init__("planned")
        self.plan = plan


async def make_plan(
    ctx: ToolContext,
    *,
    tool: str,
    namespace: str,
    target: str,
    cost: Cost,
    secrets: list[str],
    schedule: str | None = None,
    daily_ceiling_usd: float | None = None,
    ports: list[int] | None = None,
) -> ConfirmationPlan | None:
    """The plan of a request, or None when nothing in it needs the user's yes; hard caps refuse here."""
    flavor, timeout_seconds = cost.flavor, cost.timeout_seconds
    price_ceiling_usd, price_per_hour = cost.ceiling_usd, cost.price_per_hour_usd
    s = ctx.settings
    if s.only_namespaces and namespace not in s.only_namespaces:
        raise PolicyError(
            f"namespace {namespace!r} is not allowed on this server",
            hint=f"use one of: {', '.join(s.only_namespaces)}",
        )
    if s.max_timeout is not None and timeout_seconds > s.max_timeout:
        raise PolicyError(
            f"timeout {timeout_seconds}s is above this server's cap of {s.max_timeout}s",
            hint=f"set `timeout` to at most {s.max_timeout} seconds",
        )
    if s.max_price_per_job is not None and (price_ceiling_usd is None or price_ceiling_usd > s.max_price_per_job):
        what = "unknown" if price_ceiling_usd is None else f"${price_ceiling_usd:.2f}"
        raise PolicyError(
            f"this run could cost {what}, above this server's cap of ${s.max_price_per_job:.2f} per job",
            hint="choose a cheaper flavor (list_hardware) or a shorter timeout",
        )
    reasons: list[str] = []
    if secrets:
        reasons.append(f"forwards secret values of: {', '.join(secrets)}")
    limit = s.confirm_above
    per_run_over = limit is not None and (price_ceiling_usd is None or price_ceiling_usd > limit)
    daily_over = limit is not None and schedule is not None and (daily_ceiling_usd is None or daily_ceiling_usd > limit)
    if limit is not None and (per_run_over or daily_over) and (price_per_hour is None or price_per_hour > 0):
        amount = daily_ceiling_usd if daily_over and not per_run_over else price_ceiling_usd
        unit = "/day" if daily_over and not per_run_over else " per run"
        shown = "an unknown amount" if amount is None else f"up to ${amount:.2f}{unit}"
        reasons.append(f"may spend {shown} (above ${limit:.2f})")
    default_ns = await ctx.client.namespace() if ctx.client.has_token else namespace
    if namespace != default_ns and namespace not in s.allowed_namespaces:
        reasons.append(f"bills namespace {namespace!r}, not your default {default_ns!r}")
    if not reasons:
        return None
    return ConfirmationPlan(
        tool=tool,
        reasons=tuple(reasons),
        namespace=namespace,
        target=target,
        flavor=flavor,
        timeout_seconds=timeout_seconds,
        price_ceiling_usd=price_ceiling_usd,
        secrets=tuple(secrets),
        schedule=schedule,
        daily_ceiling_usd=daily_ceiling_usd,
        ports=tuple(ports or ()),
    )


async def gate(ctx: ToolContext, *, tool: str, arguments: dict[str, Any], plan: ConfirmationPlan | None) -> str:
    """Let the request through (returning how it was confirmed) or raise; see the module docstring."""
    policy = ctx.settings.secrets_policy
    allowlisted = (
        plan is not None
        and policy == "allowlist"
        and all(r.startswith("forwards secret") for r in plan.reasons)
        and set(plan.secrets) <= set(ctx.settings.allow_secrets)
    )
    if ctx.consent.state == "planning":
        raise Planned(None if allowlisted else plan)
    if plan is None:
        return "not needed"
    if allowlisted:
        return "allowlist"
    state = ctx.consent.state
    if state == "approved":
        return "elicitation"
    if state in ("declined", "cancelled"):
        raise PolicyError(
            f"the user {state} the request; nothing was sent",
            hint="ask the user what to change, or do not run it",
        )
    if policy == "strict":
        raise PolicyError(
            "this request needs the user's confirmation and this MCP client cannot ask (no elicitation); "
            "nothing was sent",
            hint="use a client that supports elicitation, or ask the server's operator to change --secrets-policy",
        )
    fingerprint = request_fingerprint(tool, {k: v for k, v in arguments.items() if k != "confirm"})
    code = arguments.get("confirm")
    if code:
        outcome = ctx.codes.redeem(str(code), fingerprint)
        if outcome == "ok":
            return "confirmation code"
        why = {
            "unknown": "is unknown or was already used",
            "expired": "has expired (codes last 10 minutes)",
            "mismatch": "was issued for a different request (the arguments changed)",
        }[outcome]
        raise PolicyError(
            f"confirmation code {why}; nothing was sent",
            hint="call again without `confirm` to get a new plan and code, show it to the user, and retry",
        )
    new_code = ctx.codes.issue(fingerprint)
    raise ConfirmationRequired(
        "confirmation required: show this plan to the user and ask for a yes; nothing was sent\n" + plan.message(),
        hint=(
            f"if the user approves, call {tool} again with exactly the same arguments plus "
            f'confirm="{new_code}" (single use, valid 10 minutes)'
        ),
        plan=plan.as_dict(),
        code=new_code,
    )
