"""Approvals: one record of a yes per caller and request, single use, expiring, shared by workers through a file.

Two :class:`Approvals` over one SQLite file stand for two workers of one HTTP deployment.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hfjobs_mcp.policy.approvals import MAX_OPEN_PER_CALLER, Approvals, request_fingerprint
from hfjobs_mcp.serve.http.keys import check_state_key, derive_key

FP = request_fingerprint("run_job", {"image": "python:3.12", "command": ["true"]})


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _pair(tmp_path: Path, clock: Clock) -> tuple[Approvals, Approvals]:
    return Approvals(tmp_path / "a.sqlite", clock=clock), Approvals(tmp_path / "a.sqlite", clock=clock)


def test_the_fingerprint_ignores_confirm_only() -> None:
    base = {"image": "python:3.12", "command": ["true"]}
    assert request_fingerprint("run_job", {**base, "confirm": "x"}) == FP
    assert request_fingerprint("run_job", {**base, "flavor": "t4-small"}) != FP
    assert request_fingerprint("schedule_job", base) != FP


def test_a_card_answer_given_on_one_worker_is_taken_once_on_another(tmp_path: Path, clock: Clock) -> None:
    one, two = _pair(tmp_path, clock)
    approval = one.open(caller="alice", fingerprint=FP, channel="app")
    assert two.take(caller="alice", fingerprint=FP) == "pending"
    assert two.answer(caller="alice", approval_id=approval, approve=True) == "ok"
    assert one.answer(caller="alice", approval_id=approval, approve=False) == "answered"
    assert one.take(caller="alice", fingerprint=FP) == "approved"
    assert two.take(caller="alice", fingerprint=FP) is None  # single use


def test_a_card_answer_belongs_to_its_caller_and_request(tmp_path: Path, clock: Clock) -> None:
    one, two = _pair(tmp_path, clock)
    approval = one.open(caller="alice", fingerprint=FP, channel="app")
    assert two.answer(caller="bob", approval_id=approval, approve=True) == "unknown"
    assert two.answer(caller="alice", approval_id="made-up", approve=True) == "unknown"
    assert two.answer(caller="alice", approval_id=approval, approve=True) == "ok"
    assert one.take(caller="bob", fingerprint=FP) is None
    assert one.take(caller="alice", fingerprint="another request") is None
    assert one.take(caller="alice", fingerprint=FP) == "approved"


def test_a_rejection_is_taken_once_too(clock: Clock) -> None:
    store = Approvals(clock=clock)
    approval = store.open(caller="alice", fingerprint=FP, channel="app")
    assert store.answer(caller="alice", approval_id=approval, approve=False) == "ok"
    assert store.take(caller="alice", fingerprint=FP) == "rejected"
    assert store.take(caller="alice", fingerprint=FP) is None


def test_cards_and_codes_expire(clock: Clock) -> None:
    store = Approvals(clock=clock)
    card = store.open(caller="alice", fingerprint=FP, channel="app")
    code = store.open(caller="alice", fingerprint=FP, channel="code")
    clock.now += 601
    assert store.answer(caller="alice", approval_id=card, approve=True) == "expired"
    assert store.redeem(caller="alice", code=code, fingerprint=FP) == "expired"
    assert store.pending(caller="alice", fingerprint=FP, channel="app") is None


def test_an_approved_card_expires_unused(clock: Clock) -> None:
    store = Approvals(clock=clock)
    card = store.open(caller="alice", fingerprint=FP, channel="app")
    assert store.answer(caller="alice", approval_id=card, approve=True) == "ok"
    clock.now += 601
    assert store.take(caller="alice", fingerprint=FP) is None


def test_a_code_is_redeemed_once_by_its_caller_for_its_request(tmp_path: Path, clock: Clock) -> None:
    one, two = _pair(tmp_path, clock)
    code = one.open(caller="alice", fingerprint=FP, channel="code")
    assert two.redeem(caller="bob", code=code, fingerprint=FP) == "unknown"
    assert two.redeem(caller="alice", code=code, fingerprint=FP) == "ok"
    assert one.redeem(caller="alice", code=code, fingerprint=FP) == "unknown"


def test_a_code_redeemed_for_other_arguments_is_burnt(clock: Clock) -> None:
    store = Approvals(clock=clock)
    code = store.open(caller="alice", fingerprint=FP, channel="code")
    assert store.redeem(caller="alice", code=code, fingerprint="changed") == "mismatch"
    assert store.redeem(caller="alice", code=code, fingerprint=FP) == "unknown"


def test_channels_do_not_mix(clock: Clock) -> None:
    """A card id is no code, and a code cannot be answered as a card (the model holds codes, never card ids)."""
    store = Approvals(clock=clock)
    card = store.open(caller="alice", fingerprint=FP, channel="app")
    code = store.open(caller="alice", fingerprint=FP, channel="code")
    assert store.redeem(caller="alice", code=card, fingerprint=FP) == "unknown"
    assert store.answer(caller="alice", approval_id=code, approve=True) == "unknown"
    assert store.take(caller="alice", fingerprint=FP) == "pending"


def test_a_caller_holds_a_bounded_number_of_open_approvals(clock: Clock) -> None:
    store = Approvals(clock=clock)
    first = store.open(caller="alice", fingerprint="fp-0", channel="app")
    for i in range(1, MAX_OPEN_PER_CALLER + 20):
        store.open(caller="alice", fingerprint=f"fp-{i}", channel="app")
    store.open(caller="bob", fingerprint="fp", channel="app")
    assert store.answer(caller="alice", approval_id=first, approve=True) == "unknown"  # the oldest went first
    rows = store._db.execute("SELECT caller, COUNT(*) FROM approvals GROUP BY caller").fetchall()
    assert dict(rows) == {"alice": MAX_OPEN_PER_CALLER, "bob": 1}


def test_the_shared_file_is_private(tmp_path: Path, clock: Clock) -> None:
    Approvals(tmp_path / "dir" / "a.sqlite", clock=clock)
    assert (tmp_path / "dir" / "a.sqlite").stat().st_mode & 0o077 == 0


def test_state_key_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        check_state_key("short")
    assert check_state_key("x" * 32) == b"x" * 32
    assert derive_key(b"k" * 48, "a") != derive_key(b"k" * 48, "b")
