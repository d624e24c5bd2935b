"""Job metrics: CPU and memory of a job's process tree (psutil), shaped as the Hub's metric events (§5.6).

CPU is reported against the flavor's cores (``cpu_usage_pct`` = used millicores / (cores x 1000)),
memory as the tree's resident set against the flavor's RAM. A local process has no network counters
of its own and no GPU, so ``rx_bps``/``tx_bps`` are 0 and ``gpus`` is empty.
"""

from __future__ import annotations

import contextlib
from typing import Any

import psutil

from . import hardware


class TreeSampler:
    """Samples one job's processes; keeps them between samples so CPU is measured over the interval."""

    def __init__(self, pid: int, flavor: str) -> None:
        self._pid = pid
        self._flavor = hardware.lookup(flavor)
        self._procs: dict[int, psutil.Process] = {}
        self.sample()  # prime the CPU counters; the first real sample comes one interval later

    def _tree(self) -> list[psutil.Process]:
        try:
            root = psutil.Process(self._pid)
            found = [root, *root.children(recursive=True)]
        except psutil.Error:
            return []
        tree = []
        for proc in found:
            # Reuse the Process object we already primed, so cpu_percent() measures since the last sample.
            tree.append(self._procs.setdefault(proc.pid, proc))
        self._procs = {p.pid: p for p in tree}
        return tree

    def sample(self) -> dict[str, Any]:
        millicores = 0.0
        rss = 0
        for proc in self._tree():
            with contextlib.suppress(psutil.Error):
                millicores += proc.cpu_percent(interval=None) * 10
                rss += proc.memory_info().rss
        cores = self._flavor.cpu_cores
        return {
            "cpu_usage_pct": round(min(100.0, millicores / (cores * 10)), 2),
            "cpu_millicores": round(millicores),
            "memory_used_bytes": rss,
            "memory_total_bytes": self._flavor.ram_bytes,
            "rx_bps": 0,
            "tx_bps": 0,
            "gpus": {},
            "replica": "local",
        }
