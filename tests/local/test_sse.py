"""The log stream's framing: one ``data:`` event per stored line, whatever the lines hold."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hfjobs_mcp.local.sse import _events

# Stored lines are JSON objects without a newline; any bytes without one stand in for them.
LINES = st.lists(st.binary().filter(lambda b: b"\n" not in b), max_size=50)


@given(LINES)
def test_events_are_the_per_line_framing(lines: list[bytes]) -> None:
    assert _events(lines) == b"".join(b"data: " + line + b"\n\n" for line in lines)
