"""A plan: what a writing tool will send, what it costs, and why it needs a yes, computed before anything is sent.

Every tool that is not read-only has two phases. ``plan(args, ctx)`` may read (the job it copies, the hardware
list, the namespace's spend) but cannot write: its context holds a read-only view of the API client. It returns a
:class:`Plan`: the :class:`~hfjobs_mcp.policy.request.Request` it describes, the
:class:`~hfjobs_mcp.policy.review.Review` of it (hard caps already applied), and the tool's own ``payload`` for
the second phase. The server then runs the gate (:mod:`hfjobs_mcp.policy.gate`) and, only if the gate lets the
request through, ``execute(plan, ctx)`` sends it. A dry run is a plan with ``dry_result`` set: it is returned as
the result and nothing is executed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from hfjobs_mcp.policy import question
from hfjobs_mcp.policy.request import Request
from hfjobs_mcp.policy.review import Review

P = TypeVar("P")


@dataclass(frozen=True)
class Plan(Generic[P]):
    """One request, reviewed, with what its execution needs."""

    request: Request
    review: Review
    payload: P
    dry_result: Any = None
    """Set on a dry run: the result to return; the gate is not run and nothing is executed."""

    @property
    def needs_yes(self) -> bool:
        return self.review.needs_yes

    def question(self) -> str:
        return question.render(self.request, self.review)

    def as_dict(self) -> dict[str, Any]:
        return question.as_dict(self.request, self.review)
