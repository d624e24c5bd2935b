"""From validated tool arguments to the job spec that is sent, and the dry-run view of it.

Run and schedule tools share this path, so a dry run shows exactly what a real call would send (secret values
masked) and a real call sends exactly what the dry run showed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from hfjobs_mcp.api import JobSpec, Volume
from hfjobs_mcp.errors import InvalidRequestError
from hfjobs_mcp.secret_shapes import MASK, value_looks_secret
from hfjobs_mcp.secrets import ConfirmationPlan
from hfjobs_mcp.tools.args import CommonSpecArgs
from hfjobs_mcp.tools.base import ToolContext, View
from hfjobs_mcp.tools.consent import make_plan
from hfjobs_mcp.tools.forwarding import secret_values_for
from hfjobs_mcp.tools.pricing import DEFAULT_TIMEOUT_SECONDS, PRICES, ceiling_usd, runs_per_day


def check_env_values(env: dict[str, str]) -> None:
    """Refuse ``env`` values that look like credentials: they belong in ``secrets``, by name."""
    for key, value in env.items():
        shape = value_looks_secret(value)
        if shape is not None:
            raise InvalidRequestError(
                f"env[{key!r}] looks like {shape}; plain env values are stored and shown in clear",
                hint=f"set it as an environment variable of the server and pass its NAME in `secrets` (e.g. {key})",
            )


def build_spec(
    args: CommonSpecArgs,
    *,
    image: str,
    command: list[str],
    extra_env: dict[str, str] | None = None,
    secret_values: dict[str, str] | None = None,
    default_name: str | None = None,
) -> JobSpec:
    """The client's :class:`JobSpec` for these arguments; the client validates what the server would reject."""
    check_env_values(args.env)
    env = {**args.env, **(extra_env or {})}
    return JobSpec(
        image=image,
        command=command,
        env=env,
        secrets=secret_values or {},
        flavor=args.flavor,
        timeout=args.timeout,
        labels=dict(args.labels),
        volumes=[
            Volume(
                type=v.type,
                source=v.source,
                mount_path=v.mount_path,
                revision=v.revision,
                read_only=v.read_only,
                path=v.path,
            )
            for v in args.volumes
        ],
        expose=list(args.expose),
        name=args.name or (None if "name" in args.labels else default_name),
        attempts=args.attempts,
    )


def masked_payload(spec: JobSpec) -> dict[str, Any]:
    """The wire body with every secret value replaced by the mask."""
    body = spec.to_wire()
    if body.get("secrets"):
        body["secrets"] = dict.fromkeys(body["secrets"], MASK)
    return body


class Cost(View):
    """What a run can cost at most."""

    flavor: str
    price_per_hour_usd: float | None = Field(description="None when the flavor's price is unknown.")
    timeout_seconds: int = Field(description="The run's timeout; 1800 (server default) when none was given.")
    ceiling_usd: float | None = Field(description="price per hour x timeout: the most one run can cost.")
    needs_approval: list[str] = Field(
        default_factory=list,
        description="Dry run: why a real call would need the user's yes (secrets, price, namespace); empty if none.",
    )


async def price_of(ctx: ToolContext, flavor: str, timeout_seconds: int | None) -> Cost:
    """The price ceiling of one run of ``flavor`` for ``timeout_seconds`` (the 30-minute default when None).

    An unknown flavor gets no price (None), so whatever asks about it treats the cost as unknown.
    """
    match = await PRICES.flavor(ctx.client, flavor)
    timeout = timeout_seconds or DEFAULT_TIMEOUT_SECONDS
    price = round(match.price_per_hour, 4) if match is not None else None
    return Cost(
        flavor=flavor,
        price_per_hour_usd=price,
        timeout_seconds=timeout,
        ceiling_usd=None if price is None else ceiling_usd(price, timeout),
    )


async def cost_of(ctx: ToolContext, spec: JobSpec) -> Cost:
    """The price ceiling of one run of ``spec``; an unknown flavor is refused with the valid names."""
    flavors = await PRICES.flavors(ctx.client)
    if flavors and all(f.name != spec.flavor for f in flavors):
        names = ", ".join(f.name for f in flavors)
        raise InvalidRequestError(
            f"unknown hardware flavor {spec.flavor!r}", hint=f"use one of: {names} (see list_hardware for prices)"
        )
    return await price_of(ctx, spec.flavor, spec.timeout_seconds)


@dataclass
class Prepared:
    """A run or schedule request checked, priced and planned, ready for the consent gate and then sending."""

    namespace: str
    secret_values: dict[str, str]
    spec: JobSpec
    cost: Cost
    plan: ConfirmationPlan | None
    runs_per_day: int | None = None
    daily_ceiling_usd: float | None = None


async def prepare(
    ctx: ToolContext,
    args: CommonSpecArgs,
    *,
    tool: str,
    target: str,
    image: str,
    command: list[str],
    schedule: str | None = None,
    **spec_kw: Any,
) -> Prepared:
    """Everything run and schedule tools do before sending: secrets, spec, price, and what needs a yes.

    On a dry run the cost also says what a real call would need approved.
    """
    namespace = args.namespace or await ctx.client.namespace()
    secret_values = await secret_values_for(ctx, args, dry_run=args.dry_run)
    spec = build_spec(args, image=image, command=command, secret_values=secret_values, **spec_kw)
    cost = await cost_of(ctx, spec)
    per_day = daily = None
    if schedule is not None:
        per_day = runs_per_day(schedule)
        daily = None if cost.ceiling_usd is None else round(cost.ceiling_usd * per_day, 4)
    plan = await make_plan(
        ctx,
        tool=tool,
        namespace=namespace,
        target=target,
        cost=cost,
        secrets=list(secret_values),
        schedule=schedule,
        daily_ceiling_usd=daily,
        ports=list(args.expose),
    )
    if args.dry_run:
        cost.needs_approval = list(plan.reasons) if plan else []
    return Prepared(namespace, secret_values, spec, cost, plan, per_day, daily)
