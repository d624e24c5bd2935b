"""Drive hfjobs-mcp's prompts and resources through fast-agent's own API, with its ``passthrough`` model (no LLM).

Run by ``tests/manifests/test_fast_agent.py`` with the Python of the fast-agent virtual environment (this file
imports nothing from the repository), taking fast-agent's own command line (``--model passthrough``). The agent is
declared here rather than by a card because a card cannot carry an elicitation handler, and the run that forwards
a secret needs a yes: :func:`consent` is that yes, given through fast-agent's elicitation path as a person's would
be. The server is the shipped configuration's rehearsal server, unchanged. Inputs come from the environment:

- ``HFJOBS_FA_CONFIG``: the fast-agent configuration (``manifests/fast-agent/fast-agent.yaml``);
- ``HFJOBS_FA_SERVER``: the server of that configuration to use (``hf-jobs-local``);
- ``HFJOBS_FA_STATE``: the local backend's state folder, where ``backend.json`` holds the token the server uses
  (read only to check that no answer shows it; the value is never written anywhere);
- ``HFJOBS_FA_OUT``: where to write what fast-agent returned, as JSON.

What fast-agent offers for these, read in its source (0.10.48): ``McpAgent.list_prompts``, ``get_prompt`` and
``apply_prompt`` (agents/mcp_agent.py), ``get_resource`` (same file), and completion only for resource template
variables (``MCPAggregator.complete_resource_argument``, mcp/mcp_aggregator.py, which its ``@`` mention completer
in ui/prompt/completer.py calls). Prompt arguments are asked as plain text (``get_argument_input`` in
ui/prompt/input.py: a ``PromptSession`` with no completer), so a prompt's job id is completed here as fast-agent
completes it anywhere: from the log template's ``job_id`` variable.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from fast_agent import FastAgent
from mcp_types import ElicitRequestParams, ElicitResult

SERVER = os.environ["HFJOBS_FA_SERVER"]
LOG_TEMPLATE = "hfjobs://jobs/{namespace}/{job_id}/logs"
SCRIPT = "import os\nprint('token', os.environ['HF_TOKEN'])\nprint('giving up')\nraise SystemExit(3)\n"

fast = FastAgent("hfjobs-mcp prompts and resources", config_path=os.environ["HFJOBS_FA_CONFIG"], quiet=True)
asked: list[str] = []


async def consent(context: Any, params: ElicitRequestParams) -> ElicitResult:
    """The person's yes to the consent form (recorded, so the test sees a question was really asked)."""
    del context
    asked.append(params.message)
    return ElicitResult(action="accept", content={"approve": True})


def texts(result: Any) -> list[str]:
    return [c.text for c in result.content if getattr(c, "text", None) is not None]


def prompt_text(result: Any) -> str:
    return "\n".join(m.content.text for m in result.messages if getattr(m.content, "text", None) is not None)


@fast.agent(name="rehearsal", instruction="Rehearse Hugging Face Jobs.", servers=[SERVER], elicitation_handler=consent)
async def main() -> None:
    out: dict[str, Any] = {}
    async with fast.run() as app:
        agent: Any = app["rehearsal"]
        prompts = (await agent.list_prompts(namespace=SERVER))[SERVER]
        out["prompts"] = {p.name: [[a.name, bool(a.required)] for a in p.arguments or []] for p in prompts}
        tools = (await agent.list_mcp_tools(SERVER))[SERVER]
        out["tools"] = {t.name: sorted((t.input_schema or {}).get("properties", {})) for t in tools}

        # A job that prints the server's token (forwarded as the secret HF_TOKEN, after the yes) and fails.
        run = await agent.call_tool("run_uv_job", {"script": SCRIPT, "secrets": ["HF_TOKEN"], "timeout": "5m"})
        out["run"] = {"is_error": bool(run.is_error), "text": texts(run)}
        job = (run.structured_content or {}).get("job") or {}
        out["job"] = {"id": job.get("id"), "namespace": job.get("namespace")}
        waited = await agent.call_tool("wait_for_job", {"job_id": job.get("id"), "timeout_seconds": 120})
        out["waited"] = (waited.structured_content or {}).get("job", {}).get("stage")
        out["asked"] = list(asked)

        # Completion, as fast-agent's @-mention completer asks it: namespaces, then job ids in the chosen one.
        aggregator = agent.aggregator
        namespaces = await aggregator.complete_resource_argument(SERVER, LOG_TEMPLATE, "namespace", "")
        out["completed_namespaces"] = list(namespaces.values)
        namespace = out["completed_namespaces"][0] if out["completed_namespaces"] else ""
        ids = await aggregator.complete_resource_argument(
            SERVER, LOG_TEMPLATE, "job_id", "", context_args={"namespace": namespace}
        )
        out["completed_job_ids"] = list(ids.values)
        job_id = out["completed_job_ids"][0] if out["completed_job_ids"] else ""

        # The prompt rendered with the completed id, as fast-agent fetches it and as it applies it to the model.
        rendered = await agent.get_prompt("debug_failed_job", {"job_id": job_id}, namespace=SERVER)
        out["rendered"] = prompt_text(rendered)
        out["applied"] = await agent.apply_prompt("debug_failed_job", {"job_id": job_id}, namespace=SERVER)

        # The log resource of that job, read through fast-agent.
        uri = LOG_TEMPLATE.replace("{namespace}", namespace).replace("{job_id}", job_id)
        read = await agent.get_resource(uri, namespace=SERVER)
        out["logs_uri"] = uri
        out["logs"] = [getattr(c, "text", None) for c in read.contents]

        # The token the server used: checked against every answer here, never written out.
        backend = json.loads((Path(os.environ["HFJOBS_FA_STATE"]) / "backend.json").read_text(encoding="utf-8"))
        token = str(backend["token"])
        out["token_length"] = len(token)
        out["token_in_answers"] = token in json.dumps(out)
    Path(os.environ["HFJOBS_FA_OUT"]).write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    asyncio.run(main())
