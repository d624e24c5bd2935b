"""The review of one writing request: the hard caps that refuse it, and every reason it needs the user's yes.

Everything the server's operator configured about spending and forwarding is applied here, once, for every
writing tool (design §5 and §5.1):

- refused outright (:class:`~hfjobs_mcp.errors.PolicyError`, nothing sent): a namespace outside
  ``--only-namespaces``; secrets under ``--secrets-policy deny`` or off the ``allowlist``; a timeout above
  ``--max-timeout``; a run ceiling above (or unknown to) ``--max-price-per-job``; committed spend that would pass
  ``--max-spend-per-day``;
- a yes needed: secret values that travel (named, or a job's stored ones sent again), unless allowlisted; files of
  the server's disk uploaded for a job (they leave the machine, and the agent can read them back); a run
  ceiling above ``--confirm-above`` (per day for schedules; any paid webhook, whose events are unbounded); a
  committed spend that would pass ``--budget``; a namespace other than the default one and not in
  ``--allowed-namespaces``.

The review reads (the budget lists the namespace's jobs and schedules) and never writes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hfjobs_mcp.errors import PolicyError
from hfjobs_mcp.policy.budget import Committed, SpendSource, committed_spend
from hfjobs_mcp.policy.sources import check_policy

if TYPE_CHECKING:
    from hfjobs_mcp.config import Settings
    from hfjobs_mcp.policy.request import Request


@dataclass(frozen=True)
class BudgetView:
    """The rolling budget as the question shows it."""

    limit_usd: float | None
    committed_usd: float
    adds_usd: float | None
    """None: unbounded (a paid webhook)."""
    notes: tuple[str, ...] = ()

    @property
    def after_usd(self) -> float | None:
        return None if self.adds_usd is None else round(self.committed_usd + self.adds_usd, 4)


@dataclass(frozen=True)
class Review:
    """Why a request needs the user's yes (empty: it does not), and the budget it was measured against."""

    reasons: tuple[str, ...] = ()
    kinds: frozenset[str] = frozenset()
    """What the reasons are about: 'secrets', 'files', 'price', 'budget', 'namespace' (to say what the operator can
    set)."""
    budget: BudgetView | None = None
    allowlisted: tuple[str, ...] = ()
    """Secret names that travel without a question because they are on the ``--allow-secret`` list."""

    @property
    def needs_yes(self) -> bool:
        return bool(self.reasons)


def about(value: float) -> str:
    """A spend in whole dollars, rounded up: stable while it moves by cents."""
    return f"about ${math.ceil(value)}"


def _money(value: float | None) -> str:
    return "an unknown amount" if value is None else f"${value:.2f}"


async def review(request: Request, *, settings: Settings, source: SpendSource, default_namespace: str) -> Review:
    """Refuse ``request`` if a hard cap forbids it, else list every reason it needs a yes (see module docstring)."""
    s = settings
    reasons: list[str] = []
    kinds: set[str] = set()
    if s.only_namespaces and request.namespace not in s.only_namespaces:
        raise PolicyError(
            f"namespace {request.namespace!r} is not allowed on this server; nothing was sent",
            hint=f"use one of: {', '.join(s.only_namespaces)}",
        )

    check_policy(request.secrets, policy=s.secrets_policy, allowed=s.allow_secrets, stored=request.stored_secrets)
    allowlisted: tuple[str, ...] = ()
    if request.secrets and s.secrets_policy == "allowlist":
        allowlisted = request.secrets
    elif request.secrets:
        stored = "re-forwards its stored secret values" if request.stored_secrets else "forwards secret values"
        reasons.append(f"{stored} of: {', '.join(request.secrets)}")
        kinds.add("secrets")

    disk = [f for f in request.uploads if f.from_disk]
    if disk:
        # A file of the user's machine leaves it, into a bucket the agent can read back (read_job_file): the same
        # care as a secret value. The agent's own text (file_texts, inline scripts) and public URLs need no yes.
        reasons.append(
            f"uploads {len(disk)} file(s) read from the server's disk ({sum(f.size for f in disk)} bytes) to "
            f"{request.upload_bucket}, where the job and the agent can read them"
        )
        kinds.add("files")

    budget = await _spending(request, settings=s, source=source, reasons=reasons, kinds=kinds)

    bills = request.price is not None and not request.price.free
    if bills and request.namespace != default_namespace and request.namespace not in s.allowed_namespaces:
        reasons.append(f"bills namespace {request.namespace!r}, not your default {default_namespace!r}")
        kinds.add("namespace")
    return Review(reasons=tuple(reasons), kinds=frozenset(kinds), budget=budget, allowlisted=allowlisted)


async def _spending(
    request: Request, *, settings: Settings, source: SpendSource, reasons: list[str], kinds: set[str]
) -> BudgetView | None:
    s = settings
    price = request.price
    if price is None:
        return None
    if s.max_timeout is not None and price.timeout_seconds > s.max_timeout:
        raise PolicyError(
            f"timeout {price.timeout_seconds}s is above this server's cap of {s.max_timeout}s; nothing was sent",
            hint=f"set `timeout` to at most {s.max_timeout} seconds",
        )
    ceiling = price.ceiling_usd
    if s.max_price_per_job is not None and (ceiling is None or ceiling > s.max_price_per_job):
        raise PolicyError(
            f"one run could cost {_money(ceiling)}, above this server's cap of ${s.max_price_per_job:.2f} per job; "
            "nothing was sent",
            hint="choose a cheaper flavor (list_hardware), a shorter timeout or fewer attempts",
        )
    if price.free:
        return None

    limit = s.confirm_above
    before = len(reasons)
    if limit is not None:
        if request.unbounded:
            reasons.append(
                f"each watched event starts a run of up to {_money(ceiling)}, with no limit on events "
                f"(above ${limit:.2f})"
            )
        elif request.schedule is not None:
            daily = request.daily_ceiling_usd
            if daily is None or daily > limit:
                reasons.append(f"may spend up to {_money(daily)}/day on schedule (above ${limit:.2f})")
        elif ceiling is None or ceiling > limit:
            reasons.append(f"may spend up to {_money(ceiling)} per run (above ${limit:.2f})")
    if len(reasons) > before:
        kinds.add("price")

    if s.budget is None and s.max_spend_per_day is None:
        return None
    committed: Committed = await committed_spend(source, request.namespace)
    adds = request.adds_usd
    view = BudgetView(limit_usd=s.budget, committed_usd=committed.total_usd, adds_usd=adds, notes=committed.notes)
    after = view.after_usd
    if s.max_spend_per_day is not None and (after is None or after > s.max_spend_per_day):
        what = "unbounded spending (every event starts a paid run)" if adds is None else f"{_money(after)}"
        raise PolicyError(
            f"namespace {request.namespace!r} has committed {_money(committed.total_usd)} in the last and next 24 "
            f"hours; this request would take it to {what}, above this server's cap of "
            f"${s.max_spend_per_day:.2f} per day; nothing was sent",
            hint="cancel or suspend running work (list_jobs, list_scheduled_jobs), or choose cheaper hardware",
        )
    if s.budget is not None and (after is None or after > s.budget):
        # Whole dollars: the question is asked again if its text changes between the rounds of one call, and the
        # committed spend moves by cents as jobs run and finish.
        reasons.append(
            f"takes the 24-hour committed spend of {request.namespace!r} to "
            f"{'an unbounded amount' if after is None else about(after)}, over its budget of ${s.budget:.2f}"
        )
        kinds.add("budget")
    return view
