"""``read_job_file``'s windows: read in any steps, from any cursor, a file gives back its text and never a piece of a
secret value (the cursor is the agent's to choose, so it may fall in the middle of one)."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hfjobs_mcp.policy.redaction import Redactor
from hfjobs_mcp.tools.textwindow import Window, cut, margin

SECRET = "hfjobsSecretValueQwErTyUiOp"  # letters only: the filler below has none, so any leak shows


def window(data: bytes, cursor: int, limit: int, redactor: Redactor) -> Window | None:
    """What read_job_file does: the bytes from ``cursor - margin`` to ``cursor + limit + margin``, then the cut."""
    m = margin(redactor)
    lo = max(0, cursor - m)
    hi = min(len(data), cursor + limit + m)
    return cut(data[lo:hi], data_start=lo, size=len(data), cursor=cursor, limit=limit, redactor=redactor)


def read_all(data: bytes, limit: int, redactor: Redactor) -> list[Window]:
    out: list[Window] = []
    cursor = 0
    while cursor < len(data):
        w = window(data, cursor, limit, redactor)
        assert w is not None
        assert w.end > cursor, "a window must move the cursor on"
        out.append(w)
        cursor = w.end
    return out


@pytest.mark.slow  # hypothesis
@settings(max_examples=150, deadline=None)
@given(text=st.text(min_size=1, max_size=400), limit=st.integers(min_value=1, max_value=64))
def test_windows_read_in_order_give_the_whole_text_back(text: str, limit: int) -> None:
    data = text.replace("\0", "").encode() or b"x"
    windows = read_all(data, limit, Redactor())
    assert "".join(w.text for w in windows) == data.decode()
    assert [w.start for w in windows[1:]] == [w.end for w in windows[:-1]]


def test_a_window_ends_at_a_line_break_when_its_range_has_one() -> None:
    data = b"first line\nsecond line\nthird\n"
    w = window(data, 0, 15, Redactor())
    assert w is not None
    assert (w.text, w.end) == ("first line\n", 11)


@pytest.mark.slow  # hypothesis, every cursor
@settings(max_examples=60, deadline=None)
@given(
    before=st.integers(min_value=0, max_value=300),
    after=st.integers(min_value=0, max_value=300),
    lines=st.booleans(),
    limit=st.integers(min_value=1, max_value=40),
)
def test_no_cursor_and_no_limit_shows_a_piece_of_a_secret(before: int, after: int, lines: bool, limit: int) -> None:
    filler = ".\n" if lines else ".."
    data = ((filler * before)[:before] + SECRET + (filler * after)[:after]).encode()
    redactor = Redactor([SECRET])
    for cursor in range(len(data)):
        w = window(data, cursor, limit, redactor)
        assert w is not None
        assert not any(c in string.ascii_letters for c in w.text), (cursor, limit, w)
    # Read in order, the secret is masked once and everything else comes back.
    joined = "".join(w.text for w in read_all(data, limit, redactor))
    assert joined.replace("***", "") == data.decode().replace(SECRET, "")
    assert "***" in joined


def test_encoded_forms_of_a_secret_are_masked_too() -> None:
    import base64

    encoded = base64.b64encode(SECRET.encode()).decode()
    data = f"token: {encoded}\n".encode()
    w = window(data, 0, 1000, Redactor([SECRET]))
    assert w is not None
    assert encoded not in w.text
    assert "***" in w.text


def test_a_cursor_inside_a_character_moves_on_to_the_next_one() -> None:
    data = "é€x".encode()  # 2 + 3 + 1 bytes
    w = window(data, 1, 10, Redactor())
    assert w is not None
    assert (w.start, w.text) == (2, "€x")
    tiny = window(data, 2, 1, Redactor())  # a limit smaller than the character: the character, not nothing
    assert tiny is not None
    assert (tiny.text, tiny.end) == ("€", 5)


def test_bytes_that_are_not_text_are_binary() -> None:
    assert window(b"PK\x03\x04\0\0binary", 0, 100, Redactor()) is None
    assert window(b"\xff\xfe not utf-8", 0, 100, Redactor()) is None
    # A window cut inside a character at the end of the bytes read is still text.
    data = ("a" * 10 + "€").encode()
    w = window(data, 0, 11, Redactor())
    assert w is not None
    assert w.text == "a" * 10
