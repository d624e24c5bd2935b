"""The hardware flavors table (wire-protocol §5.5): names, sizes, accelerators and per-minute prices.

Prices are the published dollars per hour divided by 60 (``unitCostUSD``) and in micro-dollars
(``unitCostMicroUSD``, rounded); ``cpu-basic`` = 167 is the value the official client documents.
The local backend runs every flavor as a plain process: the flavor only sets ``CPU_CORES``,
``MEMORY`` and ``ACCELERATOR`` in the job's environment and the totals reported as metrics.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Flavor:
    name: str
    pretty_name: str
    cpu_cores: int
    ram_gb: int
    storage_gb: int
    usd_per_hour: float
    gpu_model: str | None = None
    gpu_count: int = 0
    gpu_vram_gb: int = 0  # per GPU

    @property
    def is_gpu(self) -> bool:
        return self.gpu_model is not None

    @property
    def unit_cost_usd(self) -> float:
        # Derived from the rounded micro-dollars so the pair agrees (cpu-basic: 167 and 0.000167).
        return self.unit_cost_micro_usd / 1_000_000

    @property
    def unit_cost_micro_usd(self) -> int:
        return round(self.usd_per_hour / 60 * 1_000_000)

    @property
    def memory_env(self) -> str:
        """``MEMORY`` as set inside a job, e.g. ``16Gi``."""
        return f"{self.ram_gb}Gi"

    @property
    def ram_bytes(self) -> int:
        return self.ram_gb * 1024**3

    def to_wire(self) -> dict[str, Any]:
        accelerator: dict[str, str] | None = None
        if self.gpu_model is not None:
            accelerator = {
                "type": "gpu",
                "model": self.gpu_model,
                "quantity": str(self.gpu_count),
                "vram": f"{self.gpu_vram_gb * self.gpu_count} GB",
                "manufacturer": "Nvidia",
            }
        return {
            "name": self.name,
            "prettyName": self.pretty_name,
            "cpu": f"{self.cpu_cores} vCPU",
            "ram": f"{self.ram_gb} GB",
            "ephemeralStorage": f"{self.storage_gb} GB",
            "accelerator": accelerator,
            "unitCostMicroUSD": self.unit_cost_micro_usd,
            "unitCostUSD": self.unit_cost_usd,
            "unitLabel": "minute",
        }


def _multi(
    base: str, pretty: str, model: str, vram: int, rows: list[tuple[str, int, int, int, int, float]]
) -> list[Flavor]:
    return [
        Flavor(f"{base}{suffix}", f"{n}x {pretty}" if n > 1 else pretty, cpu, ram, disk, usd, model, n, vram)
        for suffix, n, cpu, ram, disk, usd in rows
    ]


FLAVORS: tuple[Flavor, ...] = (
    Flavor("cpu-basic", "CPU Basic", 2, 16, 50, 0.01),
    Flavor("cpu-upgrade", "CPU Upgrade", 8, 32, 50, 0.03),
    Flavor("cpu-performance", "CPU Performance", 32, 256, 1024, 1.90),
    Flavor("cpu-xl", "CPU XL", 16, 124, 1000, 1.00),
    Flavor("t4-small", "Nvidia T4 - small", 4, 15, 50, 0.40, "T4", 1, 16),
    Flavor("t4-medium", "Nvidia T4 - medium", 8, 30, 100, 0.60, "T4", 1, 16),
    Flavor("l4x1", "1x Nvidia L4", 8, 30, 400, 0.80, "L4", 1, 24),
    Flavor("l4x4", "4x Nvidia L4", 48, 186, 3200, 3.80, "L4", 4, 24),
    Flavor("l40sx1", "1x Nvidia L40S", 8, 62, 380, 1.80, "L40S", 1, 48),
    Flavor("l40sx4", "4x Nvidia L40S", 48, 382, 3200, 8.30, "L40S", 4, 48),
    Flavor("l40sx8", "8x Nvidia L40S", 192, 1534, 6500, 23.50, "L40S", 8, 48),
    Flavor("a10g-small", "Nvidia A10G - small", 4, 15, 110, 1.00, "A10G", 1, 24),
    Flavor("a10g-large", "Nvidia A10G - large", 12, 46, 200, 1.50, "A10G", 1, 24),
    Flavor("a10g-largex2", "2x Nvidia A10G - large", 24, 92, 1000, 3.00, "A10G", 2, 24),
    Flavor("a10g-largex4", "4x Nvidia A10G - large", 48, 184, 2000, 5.00, "A10G", 4, 24),
    Flavor("a100-large", "Nvidia A100 - large", 12, 142, 1000, 2.50, "A100", 1, 80),
    Flavor("a100x4", "4x Nvidia A100", 48, 568, 4000, 10.00, "A100", 4, 80),
    Flavor("a100x8", "8x Nvidia A100", 96, 1136, 8000, 20.00, "A100", 8, 80),
    *_multi(
        "h200",
        "Nvidia H200",
        "H200",
        141,
        [
            ("", 1, 23, 256, 3000, 5.0),
            ("x2", 2, 46, 512, 6000, 10.0),
            ("x4", 4, 92, 1024, 12000, 20.0),
            ("x8", 8, 184, 2048, 24000, 40.0),
        ],
    ),
    *_multi(
        "rtx-pro-6000",
        "Nvidia RTX PRO 6000",
        "RTX PRO 6000",
        96,
        [
            ("", 1, 23, 256, 475, 2.75),
            ("x2", 2, 46, 512, 950, 5.5),
            ("x4", 4, 92, 1024, 1900, 11.0),
            ("x8", 8, 184, 2048, 3800, 22.0),
        ],
    ),
)

BY_NAME: dict[str, Flavor] = {f.name: f for f in FLAVORS}

LEGACY_FLAVORS: dict[str, Flavor] = {
    # Accepted by the Hub's request schema but not listed by GET /api/jobs/hardware.
    "sprx8": Flavor("sprx8", "Sapphire Rapids x8", 8, 32, 50, 0.0),
    "zero-a10g": Flavor("zero-a10g", "ZeroGPU A10G", 4, 15, 50, 0.0, "A10G", 1, 24),
    "inf2x6": Flavor("inf2x6", "AWS Inferentia2 x6", 24, 192, 1000, 0.0),
}

ALL_FLAVOR_NAMES: tuple[str, ...] = (*BY_NAME, *LEGACY_FLAVORS)
"""Every value the request schema's ``flavor`` enum allows (29)."""


def lookup(name: str) -> Flavor:
    """The flavor called ``name`` (a legacy one included); KeyError if unknown."""
    return BY_NAME.get(name) or LEGACY_FLAVORS[name]


def hardware_list() -> list[dict[str, Any]]:
    """The body of ``GET /api/jobs/hardware``."""
    return [f.to_wire() for f in FLAVORS]
