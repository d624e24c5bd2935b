"""Secret-shape detection and redaction: the checks that keep values out of names, env and output."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hfjobs_mcp.policy.redaction import Redactor
from hfjobs_mcp.policy.shapes import MASK, MIN_SECRET_LENGTH, name_problem, value_looks_secret

FAKE_VALUES = [
    "hf_" + "Fake" * 8,
    "sk-ant-" + "fakefakefake" * 2,
    "sk-proj-" + "FAKEfake1234" * 2,
    "ghp_" + "fakeFAKE1234" * 3,
    "github_pat_" + "fake_FAKE_1234" * 2,
    "AKIA" + "FAKEFAKEFAKEFAKE",
    "xoxb-1234-fake-token",
    "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
    "Zx9kQ2mP7vL4rT8wY1nB6cF3hJ5sD0gA",
    # issue 14: shapes that slipped through
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    "postgres://admin:s3cr3tP4ssw0rd@db.example.com:5432/app",
    "https://hooks.slack.com/services/T0FAKE000/B0FAKE000/fakefakefakefakefakefake",
    "https://discord.com/api/webhooks/123456789012345678/fakeFAKEfakeFAKEfakeFAKEfake01234",
    "4f9a2c7e1b3d5f6a8c0e2b4d6f8a1c3e",
    "Bearer Zx9kQ2mP7vL4rT8wY1nB6cF3hJ5sD0gA",
    "glpat-fakefakefake01234567",
    "AIzaFAKEfakeFAKEfakeFAKEfakeFAKEfake012",
]

PLAIN_VALUES = [
    "HF_TOKEN",
    "true",
    "meta-llama/Llama-3.1-8B-Instruct",
    "/usr/local/lib/python3.12/site-packages",
    "https://example.com/data.csv",
    "0123456789abcdef0123456789abcdef01234567",  # a commit sha
    "a" * 64,
    "bf16",
    "THIS_IS_A_RATHER_LONG_CONSTANT_NAME",
    "sha256:" + "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "/data/Models/Run42/checkpoints/step_000100/final_v2",
    "Qwen/Qwen2.5-0.5B-Instruct",
    "8.8.8.8",
    "APDataset12345",
    "https://user@example.com/x",
]


@pytest.mark.parametrize(
    ("key", "secret"),
    [
        *[("WANDB_API_KEY", True), ("HF_TOKEN", True), ("DB_PASSWORD", True), ("AWS_SECRET_ACCESS_KEY", True)],
        *[("TOKENIZER_NAME", False), ("MAX_TOKENS", False), ("KEYBOARD", False), ("PWD", False), ("MODEL_ID", False)],
    ],
)
def test_env_names_that_say_credential(key: str, secret: bool) -> None:
    from hfjobs_mcp.tools.specs import named_like_a_secret

    assert named_like_a_secret(key) is secret


@pytest.mark.parametrize("value", FAKE_VALUES)
def test_credentials_are_recognised(value: str) -> None:
    assert value_looks_secret(value) is not None
    problem = name_problem(value)
    assert problem is not None
    assert value not in problem


@pytest.mark.parametrize("value", PLAIN_VALUES)
def test_ordinary_values_are_not_flagged(value: str) -> None:
    assert value_looks_secret(value) is None


@pytest.mark.parametrize("entry", ["A=b", "MY TOKEN", "1ABC", "my-token", ""])
def test_bad_names_are_refused_without_echo(entry: str) -> None:
    problem = name_problem(entry)
    assert problem is not None
    if entry:
        assert entry not in problem


@pytest.mark.parametrize("entry", ["HF_TOKEN", "OPENAI_API_KEY", "x", "WANDB_API_KEY"])
def test_good_names_pass(entry: str) -> None:
    assert name_problem(entry) is None


@given(st.text(alphabet=string.ascii_letters + string.digits + "+/=_-", min_size=40, max_size=80))
def test_name_check_never_echoes(entry: str) -> None:
    problem = name_problem(entry)
    if problem is not None:
        assert entry not in problem


def test_redactor_masks_longest_first_and_ignores_short_values() -> None:
    r = Redactor(["supersecretvalue", "supersecretvalue-extended", "short"])
    assert len(r) == 2
    text = "x supersecretvalue-extended y supersecretvalue z short"
    assert r.redact(text) == f"x {MASK} y {MASK} z short"
    assert r.contains_secret(text)
    assert not r.contains_secret(r.redact(text))
    assert "supersecret" not in repr(r)


@pytest.mark.slow
@given(
    secret=st.text(alphabet=string.printable, min_size=MIN_SECRET_LENGTH, max_size=40),
    before=st.text(max_size=30),
    after=st.text(max_size=30),
)
def test_redacted_text_never_contains_the_value(secret: str, before: str, after: str) -> None:
    r = Redactor([secret])
    assert secret not in r.redact(before + secret + after)


def test_redaction_cannot_reassemble_a_value() -> None:
    r = Redactor(["x***yyyy"])
    assert "x***yyyy" not in r.redact("x" + "x***yyyy" + "yyyy")
