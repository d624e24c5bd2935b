"""Starting a UV job whose script travels in the ``jobs-artifacts`` bucket: ``run_uv_job`` through a real MCP session
side by side with huggingface_hub 2.4's own ``HfApi.run_uv_job`` of the same local file, against one local backend.

Why: since issue 18 a script is uploaded (a bucket, hf_xet, a volume) rather than carried in the job's environment,
as ``hf jobs uv run`` does it. Both sides do the same work on the wire (create the private bucket, upload through
Xet, create the job); ours also plans (hardware list, budget reads, the consent review), asks the user (a local
file leaves the machine only with a yes: the client here answers at once) and speaks MCP. The
baseline is the official client doing that same upload in the same process; calls alternate so noise hits both.
Medians are reported for a 1 KiB and a 200 KiB script.

Run: ``.venv/bin/python bench/uv_upload.py [--calls 8]``.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
import mcp
from mcp_types import ElicitResult

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchlib import TOKEN, emit, local_backend, median
from hfjobs_mcp.api import JobsClient
from hfjobs_mcp.config import Settings
from hfjobs_mcp.serve.context import base_context
from hfjobs_mcp.serve.server import build_server

TARGET = 1.5


def script_of(size: int) -> str:
    head = "print('uploaded script ran')\n"
    return head + "#" + "x" * max(0, size - len(head) - 2) + "\n"


async def approve(context: Any, params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"approve": True})


async def measure(url: str, calls: int, tmp: Path) -> dict[str, dict[str, list[float]]]:
    from huggingface_hub import HfApi
    from huggingface_hub.utils import disable_progress_bars

    disable_progress_bars()
    hub = HfApi(endpoint=url, token=TOKEN)
    out: dict[str, dict[str, list[float]]] = {}
    async with JobsClient(token=TOKEN, endpoint=url) as client:
        server = build_server(base_context(Settings(endpoint=url), client))
        # A file of the disk leaves the machine only with the user's yes: this client says yes at once.
        async with mcp.Client(server, elicitation_callback=approve) as session:
            for size in (1024, 200 * 1024):
                path = tmp / f"script_{size}.py"
                path.write_text(script_of(size), encoding="utf-8")
                times: dict[str, list[float]] = {"ours": [], "hub": []}
                for i in range(calls + 1):  # the first round warms up (imports, bucket creation)
                    t0 = time.perf_counter()
                    result = await session.call_tool("run_uv_job", {"script": str(path)})
                    t1 = time.perf_counter()
                    assert not result.is_error, result
                    with contextlib.redirect_stdout(io.StringIO()):  # it prints the bucket's URL
                        await anyio.to_thread.run_sync(lambda p=path: hub.run_uv_job(str(p)))
                    t2 = time.perf_counter()
                    if i:
                        times["ours"].append(t1 - t0)
                        times["hub"].append(t2 - t1)
                out[f"{size // 1024} KiB"] = times
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, local_backend() as backend:
        os.environ["HF_XET_CACHE"] = str(Path(tmp) / "xet")
        results = anyio.run(measure, backend.url, args.calls, Path(tmp))
    rows = []
    print(f"{'script':>8} {'run_uv_job (ms)':>16} {'HfApi.run_uv_job (ms)':>22} {'ratio':>6}")
    for label, times in results.items():
        ours, hub = median(times["ours"]) * 1000, median(times["hub"]) * 1000
        ratio = ours / hub
        print(f"{label:>8} {ours:16.0f} {hub:22.0f} {ratio:6.2f}")
        rows.append(
            {
                "benchmark": f"run_uv_job upload+start, {label} script",
                "measured": f"{ours:.0f} ms",
                "baseline": f"{hub:.0f} ms (HfApi.run_uv_job)",
                "ratio": round(ratio, 2),
                "target": f"<= {TARGET}x",
                "met": ratio <= TARGET,
            }
        )
    emit(rows)


if __name__ == "__main__":
    main()
