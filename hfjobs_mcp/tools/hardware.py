"""The ``hardware`` toolset: flavors with their prices, so an agent can choose and cost a job."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from hfjobs_mcp.policy.pricing import PRICES
from hfjobs_mcp.tools.base import Hints, ToolArgs, ToolContext, ToolDef, ToolResult
from hfjobs_mcp.tools.spend import SpendReportArgs, SpendReportResult, spend_report
from hfjobs_mcp.tools.views import FlavorView


class ListHardwareArgs(ToolArgs):
    """Arguments of list_hardware."""

    kind: Literal["cpu", "gpu", "tpu"] | None = Field(default=None, description="Only CPU, GPU or TPU flavors.")
    max_price_per_hour: float | None = Field(default=None, ge=0, description="Only flavors at most this USD per hour.")


class ListHardwareResult(ToolResult):
    flavors: list[FlavorView] = Field(description="Matching flavors, cheapest first.")

    def render(self) -> str:
        if not self.flavors:
            return "No flavor matches."
        rows = [
            f"{f.name:<18} ${f.price_per_hour_usd:>7.2f}/h  {f.cpu:<8} {f.ram:<8} {f.accelerator or ''}"
            for f in self.flavors
        ]
        return "\n".join(rows)


async def list_hardware(args: ListHardwareArgs, ctx: ToolContext) -> ListHardwareResult:
    views = [FlavorView.of(hw) for hw in await PRICES.flavors(ctx.client)]
    if args.kind is not None:
        views = [v for v in views if v.kind == args.kind]
    if args.max_price_per_hour is not None:
        views = [v for v in views if v.price_per_hour_usd <= args.max_price_per_hour]
    views.sort(key=lambda v: (v.price_per_hour_usd, v.name))
    return ListHardwareResult(flavors=views)


TOOLS: tuple[ToolDef[Any, Any], ...] = (
    ToolDef(
        name="list_hardware",
        toolset="hardware",
        title="List hardware and prices",
        description=(
            "List hardware flavors: CPU, RAM, accelerator, price per hour.\n"
            "Use it to pick `flavor` and estimate cost. Free. Next: run_job."
        ),
        args=ListHardwareArgs,
        result=ListHardwareResult,
        hints=Hints(read_only=True, destructive=False, idempotent=True),
        handler=list_hardware,
    ),
    ToolDef(
        name="spend_report",
        toolset="hardware",
        title="Report spending",
        description=(
            "A namespace's spend over the last `hours`, by flavor and label, and what running work may add.\n"
            "Use it to check spending. Free. Next: cancel_job."
        ),
        args=SpendReportArgs,
        result=SpendReportResult,
        hints=Hints(read_only=True, destructive=False, idempotent=True),
        handler=spend_report,
    ),
)
