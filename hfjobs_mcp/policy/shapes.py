"""Secret shapes: recognising secret values where only names or plain values belong.

:func:`value_looks_secret` says whether a string looks like a credential (known token shapes, a PEM block, a long
high-entropy string). ``secrets`` entries must be names, and ``env`` values must not be credentials; the error
messages built from it never repeat the value. Pure functions of text, so they can be fuzzed.
"""

from __future__ import annotations

import math
import re
from collections import Counter

MIN_SECRET_LENGTH = 8
MASK = "***"

SECRET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# Known credential prefixes: Hugging Face, OpenAI/Anthropic style, GitHub, AWS access keys, Slack.
_TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{20,}")),
    ("an API key (sk-...)", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("an AWS access key", re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
)
_OPAQUE = re.compile(r"^[A-Za-z0-9+/=_-]{32,}$")


def _entropy_bits_per_char(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def value_looks_secret(value: str) -> str | None:
    """What kind of credential ``value`` looks like, or None.

    The high-entropy rule wants 32+ characters of a base64/url-safe alphabet mixing upper case, lower case and
    digits with at least 4 bits of entropy per character: random keys match; hex digests, words, paths, URLs
    and model ids (they contain '.', ':' or spaces, or lack the mix) do not.
    """
    for label, pattern in _TOKEN_SHAPES:
        if pattern.search(value):
            return label
    candidate = value.strip()
    if (
        _OPAQUE.match(candidate)
        and re.search(r"[A-Z]", candidate)
        and re.search(r"[a-z]", candidate)
        and re.search(r"[0-9]", candidate)
        and _entropy_bits_per_char(candidate) >= 4.0
    ):
        return "a long random string (a key or token)"
    return None


def name_problem(entry: str) -> str | None:
    """Why ``entry`` is not an acceptable secret NAME, or None. Never includes the entry itself."""
    if "=" in entry:
        return "contains '=': pass only the variable's name, the server looks its value up"
    if any(ch.isspace() for ch in entry):
        return "contains whitespace: a secret is given by its environment variable name"
    shape = value_looks_secret(entry)
    if shape is not None:
        return f"looks like {shape}, i.e. a value: pass the NAME of the environment variable that holds it"
    if not SECRET_NAME.match(entry):
        return "is not an environment variable name (a letter first, then letters, digits or '_')"
    return None
