"""The redaction engine, by properties (hypothesis): generated values and texts, every form of every value.

What must hold whatever the values and the text: no registered value survives masking, in clear, across lines or
encoded (base64, base64url at any alignment, hex, URL-encoding); overlapping values are masked whole; text with no
value is left as it is; keys of mappings are masked; the shared store of keyed hashes finds what another worker
forwarded without holding it; the log filter is one per process.
"""

from __future__ import annotations

import base64
import gc
import logging
import secrets as random
import string
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hfjobs_mcp.policy.forwarded import ForwardedDigests
from hfjobs_mcp.policy.redaction import LOG_MASKING, LineMasker, Redactor, forms, mask_logs, mask_tree
from hfjobs_mcp.policy.shapes import MASK, MIN_SECRET_LENGTH

TOKENISH = string.ascii_letters + string.digits + "_-"
values = st.text(alphabet=string.printable, min_size=MIN_SECRET_LENGTH, max_size=48).filter(lambda v: v.strip())
texts = st.text(max_size=60)


@given(value=values, before=texts, after=texts)
@settings(deadline=None)  # a shared 2-core machine: an example may wait for the CPU
def test_a_value_never_survives_in_clear(value: str, before: str, after: str) -> None:
    assert value not in Redactor([value]).redact(before + value + after)


@given(value=values, prefix=st.binary(max_size=7), suffix=st.binary(max_size=7), url=st.booleans())
@settings(deadline=None)  # a shared 2-core machine: an example may wait for the CPU
def test_a_value_never_survives_base64_encoded_inside_a_longer_text(
    value: str, prefix: bytes, suffix: bytes, url: bool
) -> None:
    encode = base64.urlsafe_b64encode if url else base64.b64encode
    encoded = encode(prefix + value.encode() + suffix).decode()
    masked = Redactor([value]).redact(f"x {encoded} y")
    # What is left of the encoded text beside the mask carries the prefix, the suffix and padding bits only.
    leftover = "".join(masked.split(MASK))
    assert len(leftover) <= len("x  y") + 4 * (len(prefix) + len(suffix)) // 3 + 8
    assert MASK in masked


@pytest.mark.slow
@given(value=values, upper=st.booleans())
@settings(deadline=None)  # a shared 2-core machine: an example may wait for the CPU
def test_hex_and_url_forms_are_masked(value: str, upper: bool) -> None:
    hexed = value.encode().hex()
    r = Redactor([value])
    for form in (hexed.upper() if upper else hexed, quote(value, safe=""), quote_plus(value), quote(value)):
        assert r.redact(f"[{form}]") == f"[{MASK}]" or form == value


@pytest.mark.slow
@given(first=values, second=values, overlap=st.integers(min_value=1, max_value=7))
@settings(deadline=None)  # a shared 2-core machine: an example may wait for the CPU
def test_overlapping_values_are_masked_whole(first: str, second: str, overlap: int) -> None:
    # `second` starts inside `first`: a leftmost-match engine masked `first` and showed the rest of `second`.
    second = first[-overlap:] + second
    text = first + second[overlap:]
    masked = Redactor([first, second]).redact(text)
    assert first not in masked
    assert second not in masked
    assert masked == MASK


@given(text=st.text(alphabet=string.ascii_letters + " .,:/", max_size=200), value=values)
@settings(deadline=None)  # a shared 2-core machine: an example may wait for the CPU
def test_text_without_a_value_is_unchanged(text: str, value: str) -> None:
    assume(all(f not in text for f in forms(value)))
    assert Redactor([value]).redact(text) == text


@pytest.mark.slow
@given(
    lines=st.lists(st.text(alphabet=string.ascii_letters + string.digits + "+/=", min_size=1, max_size=30), min_size=2),
    before=st.lists(st.text(max_size=20).filter(lambda t: "\n" not in t and "\r" not in t), max_size=3),
    after=st.lists(st.text(max_size=20).filter(lambda t: "\n" not in t and "\r" not in t), max_size=3),
    start=st.integers(min_value=0, max_value=10),
    stop=st.integers(min_value=0, max_value=10),
)
@settings(deadline=None)  # a shared 2-core machine: an example may wait for the CPU
def test_a_value_across_lines_shows_nothing_in_any_window(
    lines: list[str], before: list[str], after: list[str], start: int, stop: int
) -> None:
    value = "\n".join(lines)
    assume(len(value) >= MIN_SECRET_LENGTH)
    r = Redactor([value])
    stream = before + lines + after
    lo, hi = min(start, len(stream) - 1), max(len(stream) - stop, min(start, len(stream) - 1) + 1)
    window = stream[lo:hi]
    masked = r.redact_lines(window)
    assert len(masked) == len(window)
    assert value not in "\n".join(masked)
    # The value's lines this window shows: masked, unless what shows of it is too short to mask (a run shorter than
    # the minimum length), or a middle part whose short lines are only masked with their neighbours.
    first, last = len(before), len(before) + len(lines)
    shown = [i for i in range(lo, hi) if first <= i < last]
    if not shown:
        return
    visible = "\n".join(stream[i] for i in shown)
    middle = shown[0] > first and shown[-1] < last - 1
    for i in shown:
        must = len(stream[i]) >= MIN_SECRET_LENGTH or (not middle and len(visible) >= MIN_SECRET_LENGTH)
        if must:
            assert masked[i - lo] != stream[i], (i, stream[i])


@given(
    lines=st.lists(st.text(alphabet=TOKENISH, min_size=8, max_size=20), min_size=2, max_size=6),
    noise=st.lists(st.text(alphabet=string.ascii_lowercase, max_size=12), min_size=0, max_size=150),
    at=st.integers(min_value=0, max_value=150),
)
@settings(max_examples=50, deadline=None)
def test_the_line_masker_agrees_with_masking_the_whole_text(lines: list[str], noise: list[str], at: int) -> None:
    value = "\n".join(lines)
    r = Redactor([value])
    stream = [*noise[:at], *lines, *noise[at:]]
    masker = LineMasker(r)
    out = [t for i, line in enumerate(stream) for _, t in masker.push(i, line)] + [t for _, t in masker.flush()]
    assert out == r.redact_lines(stream)
    assert not any(line in out for line in lines)


def test_masking_cannot_reassemble_a_value() -> None:
    r = Redactor(["x***yyyy", "WWWWWWWW"])
    assert "x***yyyy" not in r.redact("x" + "x***yyyy" + "yyyy")
    assert "x***yyyy" not in r.redact("xWWWWWWWWyyyy")


@given(value=st.text(alphabet=TOKENISH, min_size=MIN_SECRET_LENGTH, max_size=40), other=st.text(max_size=20))
@settings(deadline=None)  # a shared 2-core machine: an example may wait for the CPU
def test_keys_and_values_of_mappings_are_masked(value: str, other: str) -> None:
    assume(value not in other)
    tree = {value: [value, {f"k{value}": other}], "plain": {"n": 1, "none": None}, other: value}
    masked = mask_tree(tree, Redactor([value]).redact)
    assert value not in repr(masked)
    assert masked["plain"] == {"n": 1, "none": None}


def test_keys_that_mask_alike_are_all_kept() -> None:
    a, b = "first-secret-value", "second-secret-val"
    assert mask_tree({a: 1, b: 2}, Redactor([a, b]).redact) == {MASK: 1, f"{MASK} (2)": 2}


@pytest.mark.slow
def test_many_values_are_one_automaton() -> None:
    many = [random.token_urlsafe(24) for _ in range(2000)]
    r = Redactor(many)
    text = " ".join(many[::97])
    assert set(r.redact(text).split()) == {MASK}
    assert r.max_lines == 1


def test_transient_values_are_capped_and_shared_ones_kept() -> None:
    r = Redactor(["kept-for-good-0001"], transient_cap=2)
    tokens = [f"caller-token-{i:05d}" for i in range(70)]
    r.add(tokens, transient=True)  # over the cap by more than a batch: the oldest are dropped, down to the cap
    assert r.redact(tokens[0]) == tokens[0]
    assert r.redact(f"{tokens[-1]} {tokens[-2]} kept-for-good-0001") == f"{MASK} {MASK} {MASK}"
    r.add([tokens[-2]])  # forwarded after all: kept for good
    r.add([f"later-token-{i:05d}" for i in range(70)], transient=True)
    assert r.redact(tokens[-2]) == MASK
    assert r.redact(tokens[-1]) == tokens[-1]
    assert len(r) == 2 + 2


@pytest.mark.slow
@given(token=st.text(alphabet=string.ascii_letters + string.digits, min_size=34, max_size=34), pad=texts)
@settings(max_examples=30, deadline=None)
def test_another_worker_finds_a_forwarded_value_from_keyed_hashes_only(token: str, pad: str, tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    value = "hf_" + token
    path = tmp_path_factory.mktemp("fwd") / "forwarded.sqlite"
    key = b"k" * 32
    here = Redactor(shared=ForwardedDigests(key, path))
    here.add([value])
    assert value.encode() not in path.read_bytes()  # the file holds hashes, never the value
    there = Redactor(shared=ForwardedDigests(key, path))  # another worker: never given the value
    there.refresh()
    b64 = base64.b64encode(value.encode()).decode()
    masked = there.redact(f"{pad} {value} {b64} {value.encode().hex()}")
    assert value not in masked
    assert b64[:-4] not in masked
    assert value.encode().hex() not in masked
    stranger = Redactor(shared=ForwardedDigests(b"z" * 32, path))  # another deployment's key finds nothing
    stranger.refresh()
    assert value in stranger.redact(value)


@pytest.mark.slow
def test_one_log_filter_whatever_the_number_of_servers(caplog) -> None:  # type: ignore[no-untyped-def]
    root = logging.getLogger()
    for _ in range(5):
        mask_logs(Redactor(["a-log-secret-123"]))
    for handler in root.handlers:
        assert sum(1 for f in handler.filters if f is LOG_MASKING) <= 1
    keep = Redactor(["another-log-secret"])
    mask_logs(keep)
    gc.collect()
    assert len(LOG_MASKING) >= 1
    caplog.handler.addFilter(LOG_MASKING)
    logging.getLogger("hfjobs_mcp.test").warning("value %s here", "another-log-secret")
    assert "another-log-secret" not in caplog.text
