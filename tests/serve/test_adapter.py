"""How a call's raw arguments are read before the tool's own model validates them (:mod:`hfjobs_mcp.serve.adapter`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from hfjobs_mcp.serve.adapter import decode_json_text


class Probe(BaseModel):
    names: list[str] = []
    options: dict[str, Any] | None = None
    grep: str | None = None
    mode: Literal["a", "b"] | list[str] = "a"
    count: int = 0


def test_json_text_is_decoded_only_for_fields_that_take_no_string() -> None:
    sent = {
        "names": '["x", "y"]',
        "options": '{"k": 1}',
        "grep": "[]",
        "mode": '["z"]',
        "count": "3",
        "unknown": "[1]",
    }
    assert decode_json_text(Probe, sent) == {
        "names": ["x", "y"],
        "options": {"k": 1},
        "grep": "[]",  # a string field keeps a string that happens to be JSON
        "mode": '["z"]',  # a field that also takes a string keeps it too
        "count": "3",  # numbers and strings are left for validation, as sent
        "unknown": "[1]",  # not a field: the tool's model names it
    }


def test_null_text_clears_an_optional_structure_and_bad_json_is_left_for_validation() -> None:
    assert decode_json_text(Probe, {"options": "null", "names": "[oops"}) == {"options": None, "names": "[oops"}
    assert decode_json_text(Probe, {"grep": "null"}) == {"grep": "null"}
    assert decode_json_text(Probe, {"names": "[" * 100_000}) == {"names": "[" * 100_000}  # too deep: not decoded
