"""How the demo shows calls and results: whole, or cut at a word with an ellipsis; and its one-line note on what
the local backend ran differently from Hugging Face. Properties over arbitrary text, then the cases that matter."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from hfjobs_mcp.demo import ELLIPSIS, clip, echo, local_difference, python_of_image, shorten

TEXT = st.text(alphabet=st.sampled_from("ab_1.( )\n\t\"'é"), max_size=300)


@given(TEXT, st.integers(min_value=1, max_value=120))
def test_shorten_is_whole_or_cut_between_words(text: str, limit: int) -> None:
    out = shorten(text, limit)
    if out == text:
        return
    assert out.endswith(ELLIPSIS)
    kept = out[: -len(ELLIPSIS)]
    assert kept.strip(), "an ellipsis alone shows nothing"
    assert text.startswith(kept)
    assert len(kept) < len(text)
    # The cut splits no word: whitespace on one side of it.
    assert kept[-1].isspace() or text[len(kept)].isspace()
    assert not kept[-1].isspace(), "trailing whitespace is dropped before the ellipsis"
    first_word = len(text) - len(text.lstrip()) + len(text.split()[0])
    assert len(kept) <= max(limit, first_word)


def test_shorten_keeps_tokens_whole() -> None:
    assert shorten("total = sum(i * i for i in range(1_000_000))", 40) == "total = sum(i * i for i in…"
    assert shorten("short", 10) == "short"
    # One word longer than the limit: kept whole, then cut at the next space.
    assert shorten("supercalifragilistic expialidocious", 5) == "supercalifragilistic…"
    assert shorten("x" * 50, 10) == "x" * 50


def test_echo_cuts_only_long_strings_and_stays_json() -> None:
    script = "import sys\n" + "print('a fairly long line of output here')\n" * 5
    line = echo("run_uv_job", {"script": script, "flavor": "a10g-small", "dry_run": True, "env": {"A": "b"}})
    assert line.startswith('run_uv_job({"script": "import sys\\nprint(')
    assert line.endswith(', "flavor": "a10g-small", "dry_run": true, "env": {"A": "b"}})')
    assert ELLIPSIS in line
    assert echo("cancel_job", {"job_id": "ns/abc"}) == 'cancel_job({"job_id": "ns/abc"})'


@example(lines=["", "aaaaaaaaaa"], limit=10)  # an empty first line is a line too
@example(lines=["a" * 11], limit=10)  # one line over the limit: whole, with no "0 more lines"
@given(st.lists(st.text(alphabet="abc ", max_size=40), max_size=200), st.integers(min_value=10, max_value=500))
def test_clip_keeps_whole_lines(lines: list[str], limit: int) -> None:
    body = "\n".join(lines)
    out = clip(body, limit)
    if out == body:
        return
    *shown, tail = out.split("\n")
    assert body.splitlines()[: len(shown)] == shown  # whole lines, from the first
    left = len(body.splitlines()) - len(shown)
    assert left >= 1
    assert tail == f"{ELLIPSIS} ({left} more line{'' if left == 1 else 's'})"


def test_python_of_image() -> None:
    assert python_of_image("python:3.12") == "3.12"
    assert python_of_image("ghcr.io/astral-sh/uv:python3.12-bookworm") == "3.12"
    assert python_of_image("python:3.10-slim") == "3.10"
    assert python_of_image("ubuntu:22.04") is None
    assert python_of_image("hf.co/spaces/user/space") is None


def test_local_difference_names_both_pythons_only_when_they_differ() -> None:
    note = local_difference("python:3.12", "hi from a job on Python 3.11.7")
    assert note == (
        "note: locally this ran on this machine's Python 3.11.7; on Hugging Face it runs in the image python:3.12 "
        "(Python 3.12)."
    )
    assert "\n" not in note
    assert local_difference("python:3.12", "hi on Python 3.12.4") is None
    assert local_difference("ubuntu:22.04", "hi on Python 3.11.7") is None
    assert local_difference("python:3.12", "no version printed") is None
