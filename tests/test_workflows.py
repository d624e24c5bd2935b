"""The workflows behind the prompts name only real tools and arguments, and render only from valid arguments.

:func:`problems` is the check: every ``[[tool]]`` / ``[[tool.argument]]`` reference must be a tool of the registry
and an argument of its model, and no tool name or argument of the registry may be written without the markup
(it would escape the check, and the server's rule that a prompt is listed only when its tools are served).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import Field

from hfjobs_mcp.tools.registry import ALL_TOOLS
from hfjobs_mcp.workflows import WORKFLOWS, Workflow, WorkflowArgumentsError, _Args, references

TOOLS = {t.name: t for t in ALL_TOOLS}
ARGUMENT_NAMES = {name for t in ALL_TOOLS for name in t.args.model_fields}
# Words of the texts that look like identifiers but name no tool or argument of ours.
PROSE = {"hub_model_id", "push_to_hub"}


def problems(workflow: Workflow) -> list[str]:
    found = []
    for tool, argument in sorted(references(workflow), key=str):
        if tool not in TOOLS:
            found.append(f"{workflow.name}: no tool {tool}")
        elif argument is not None and argument not in TOOLS[tool].args.model_fields:
            found.append(f"{workflow.name}: {tool} has no argument {argument}")
    bare = re.sub(r"\[\[[a-z_.]+\]\]", "", workflow.text)
    for word in sorted(set(re.findall(r"\b[a-z]+(?:_[a-z]+)+\b", bare))):
        if word in TOOLS:
            found.append(f"{workflow.name}: names the tool {word} without [[...]]")
        elif word not in PROSE and word not in workflow.args.model_fields:
            found.append(f"{workflow.name}: '{word}' is neither a tool, an argument, nor known prose")
    return found


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda w: w.name)
def test_every_tool_and_argument_a_workflow_names_exists(workflow: Workflow) -> None:
    assert references(workflow), "a workflow that names no tool"
    assert problems(workflow) == []


class _ProbeArgs(_Args):
    job_id: str = Field(description="x")


def test_the_check_can_fail() -> None:
    probe = Workflow(
        name="probe",
        title="t",
        description="d",
        args=_ProbeArgs,
        text="[[run_gpu_job]] then [[run_job.gpu]] then [[fetch_logs.tail]], and cancel_job, and fetch_log_lines",
    )
    assert problems(probe) == [
        "probe: no tool run_gpu_job",
        "probe: run_job has no argument gpu",
        "probe: names the tool cancel_job without [[...]]",
        "probe: 'fetch_log_lines' is neither a tool, an argument, nor known prose",
    ]


def test_names_are_unique_and_short_enough_for_a_slash_command() -> None:
    names = [w.name for w in WORKFLOWS]
    assert len(set(names)) == len(names) == 5
    assert all(re.fullmatch(r"[a-z][a-z_]{2,40}", n) for n in names)


@pytest.mark.parametrize(
    ("name", "arguments", "says"),
    [
        ("fine_tune_with_trl", {"model": "m", "dataset": "d", "budget_usd": "-17.25"}, "budget_usd"),
        ("fine_tune_with_trl", {"model": "m", "dataset": "d"}, "budget_usd"),
        ("review_spend", {"hours": "1.5"}, "hours"),
        ("review_spend", {"hours": "0"}, "hours"),
        ("debug_failed_job", {"job_id": "x", "colour": "magenta-xyz"}, "colour"),
    ],
)
def test_typed_arguments_are_refused_with_the_field_named(name: str, arguments: dict[str, Any], says: str) -> None:
    workflow = next(w for w in WORKFLOWS if w.name == name)
    with pytest.raises(WorkflowArgumentsError, match=says) as raised:
        workflow.render(arguments)
    assert "-17.25" not in str(raised.value)
    assert "magenta" not in str(raised.value)


def test_optional_arguments_render_as_empty_and_required_ones_as_given() -> None:
    spend = next(w for w in WORKFLOWS if w.name == "review_spend")
    text = " ".join(spend.render({}).split())
    assert "last 24" in text
    assert "`spend_report`" in text
    assert "{" not in text
    assert "Namespace: not given (if not given, the user's own)" in text
    given = " ".join(spend.render({"hours": "6", "namespace": "acme"}).split())
    assert "last 6 hours" in given
    assert "Namespace: acme" in given
