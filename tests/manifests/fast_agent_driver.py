"""Drive hfjobs-mcp through fast-agent with its ``passthrough`` model: each ``***CALL_TOOL <tool> <json>`` message
makes fast-agent call that tool on the server and answer with the tool's text, with no LLM involved.

Run by ``tests/manifests/test_fast_agent.py`` with the Python of the fast-agent virtual environment (fast-agent
needs Python >= 3.12; this file imports nothing from the repository). Like any fast-agent ``agent.py`` it takes
fast-agent's own command line, here ``--model passthrough``. Inputs come from the environment:

- ``HFJOBS_FA_CONFIG``: the fast-agent configuration (``manifests/fast-agent/fast-agent.yaml``);
- ``HFJOBS_FA_CARDS``: the folder of agent cards to load; ``HFJOBS_FA_AGENT``: the card to drive;
- ``HFJOBS_FA_OUT``: where to write a JSON object ``{tool: text answered by fast-agent}``.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path

from fast_agent import FastAgent

SCRIPT = "print('hello from fast-agent')\nprint('rehearsed on the local backend')\n"

fast = FastAgent("hfjobs-mcp manifest check", config_path=os.environ["HFJOBS_FA_CONFIG"], quiet=True)
fast.load_agents(os.environ["HFJOBS_FA_CARDS"])


async def call(agent: object, tool: str, arguments: dict[str, object]) -> str:
    answer = await agent.send(f"***CALL_TOOL {tool} {json.dumps(arguments)}")  # type: ignore[attr-defined]
    return str(answer)


def job_id_of(answer: str) -> str:
    """The job id in run_uv_job's answer (its structured result as JSON, else the id in its text)."""
    try:
        return str(json.loads(answer)["job"]["id"])
    except (ValueError, KeyError, TypeError):
        match = re.search(r"\b([0-9a-f]{24})\b", answer)
        if match is None:
            raise SystemExit(f"no job id in run_uv_job's answer: {answer!r}") from None
        return match.group(1)


async def main() -> None:
    results: dict[str, str] = {}
    async with fast.run() as app:
        agent = app[os.environ["HFJOBS_FA_AGENT"]]
        results["list_hardware"] = await call(agent, "list_hardware", {})
        results["run_uv_job"] = await call(agent, "run_uv_job", {"script": SCRIPT, "timeout": "5m"})
        job_id = job_id_of(results["run_uv_job"])
        results["job_id"] = job_id
        results["wait_for_job"] = await call(agent, "wait_for_job", {"job_id": job_id, "timeout_seconds": 120})
        results["fetch_logs"] = await call(agent, "fetch_logs", {"job_id": job_id})
    Path(os.environ["HFJOBS_FA_OUT"]).write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
