"""Confirmation codes any worker can redeem, once: two instances over one used-nonce file stand for two workers."""

from __future__ import annotations

from pathlib import Path

import pytest

from hfjobs_mcp.shared_state import SharedConfirmationCodes, UsedNonces, check_state_key, derive_key

STATE_KEY = b"k" * 48
FP = "fingerprint-of-the-request"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _worker(path: Path, clock: Clock, principal: str = "alice") -> SharedConfirmationCodes:
    return SharedConfirmationCodes(
        used=UsedNonces(path), clock=clock, _key=derive_key(STATE_KEY, f"confirm-codes:{principal}")
    )


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_a_code_issued_by_one_worker_is_redeemed_by_another_once(tmp_path: Path, clock: Clock) -> None:
    one, two = _worker(tmp_path / "used.sqlite", clock), _worker(tmp_path / "used.sqlite", clock)
    code = one.issue(FP)
    assert two.redeem(code, FP) == "ok"
    assert one.redeem(code, FP) == "unknown"
    assert two.redeem(code, FP) == "unknown"


def test_changed_arguments_are_a_mismatch_and_burn_the_code(tmp_path: Path, clock: Clock) -> None:
    one, two = _worker(tmp_path / "used.sqlite", clock), _worker(tmp_path / "used.sqlite", clock)
    code = one.issue(FP)
    assert two.redeem(code, "another request") == "mismatch"
    assert one.redeem(code, FP) == "unknown"


def test_codes_expire_after_ten_minutes(tmp_path: Path, clock: Clock) -> None:
    worker = _worker(tmp_path / "used.sqlite", clock)
    code = worker.issue(FP)
    clock.now += 601
    assert worker.redeem(code, FP) == "expired"


def test_a_code_is_worthless_to_another_caller_and_forgeries_are_unknown(tmp_path: Path, clock: Clock) -> None:
    alice, bob = _worker(tmp_path / "u.sqlite", clock), _worker(tmp_path / "u.sqlite", clock, "bob")
    code = alice.issue(FP)
    assert bob.redeem(code, FP) == "unknown"
    nonce, expiry, tag, mac = code.split(".")
    assert alice.redeem(f"{nonce}.{int(expiry) + 3600}.{tag}.{mac}", FP) == "unknown"
    assert alice.redeem("garbage", FP) == "unknown"
    assert alice.redeem(code, FP) == "ok"


def test_without_a_shared_store_codes_are_single_use_in_the_process(clock: Clock) -> None:
    codes = SharedConfirmationCodes(clock=clock)
    code = codes.issue(FP)
    assert codes.redeem(code, FP) == "ok"
    assert codes.redeem(code, FP) == "unknown"


def test_used_nonces_are_forgotten_once_expired(tmp_path: Path) -> None:
    store = UsedNonces(tmp_path / "used.sqlite")
    assert store.claim("n1", expires=100.0, now=50.0)
    assert not store.claim("n1", expires=100.0, now=60.0)
    assert store.claim("n2", expires=300.0, now=200.0)  # sweeps n1
    count = store._db.execute("SELECT COUNT(*) FROM used").fetchone()[0]
    assert count == 1


def test_state_key_must_be_long_enough() -> None:
    with pytest.raises(ValueError, match="at least 32 bytes"):
        check_state_key("short")
    assert check_state_key("x" * 32) == b"x" * 32
    assert derive_key(STATE_KEY, "a") != derive_key(STATE_KEY, "b")
