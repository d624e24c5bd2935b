"""``fetch_metrics``: a running job's CPU, memory, network and GPU use, a few one-second samples."""

from __future__ import annotations

import anyio
from pydantic import Field

from hfjobs_mcp.api import TERMINAL_STAGES
from hfjobs_mcp.tools.args import JobRefArgs
from hfjobs_mcp.tools.base import ToolContext, ToolResult, View


class FetchMetricsArgs(JobRefArgs):
    """Arguments of fetch_metrics."""

    samples: int = Field(default=1, ge=1, le=10, description="One-second samples to take.")


class MetricsSampleView(View):
    cpu_usage_pct: float | None = None
    cpu_millicores: float | None = None
    memory_used_bytes: int | None = None
    memory_total_bytes: int | None = None
    rx_bps: float | None = None
    tx_bps: float | None = None
    gpus: dict[str, dict[str, float]] = Field(default_factory=dict)


class FetchMetricsResult(ToolResult):
    job_id: str
    finished: bool = Field(description="True when the job is over: finished jobs have no metrics.")
    samples: list[MetricsSampleView]

    def render(self) -> str:
        if not self.samples:
            return f"No metrics for {self.job_id}: " + ("the job is over." if self.finished else "none arrived yet.")
        lines = []
        for s in self.samples:
            mem = (
                f"{(s.memory_used_bytes or 0) / 2**20:.0f} MiB / {(s.memory_total_bytes or 0) / 2**20:.0f} MiB"
                if s.memory_total_bytes
                else "n/a"
            )
            gpu = "".join(f"  gpu {k}: {v.get('utilization', 0)}%" for k, v in sorted(s.gpus.items()))
            lines.append(f"cpu {s.cpu_usage_pct}%  mem {mem}  rx {s.rx_bps} B/s  tx {s.tx_bps} B/s{gpu}")
        return "\n".join(lines)


async def fetch_metrics(args: FetchMetricsArgs, ctx: ToolContext) -> FetchMetricsResult:
    samples: list[MetricsSampleView] = []
    with anyio.move_on_after(args.samples * 3 + 5):
        async for sample in ctx.client.stream_metrics(args.job_id):
            samples.append(MetricsSampleView.model_validate(sample.model_dump()))
            if len(samples) >= args.samples:
                break
    job = await ctx.client.inspect_job(args.job_id)
    return FetchMetricsResult(job_id=job.id, finished=job.status.stage in TERMINAL_STAGES, samples=samples)
