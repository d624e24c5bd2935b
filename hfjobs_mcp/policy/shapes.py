"""Secret shapes: recognising secret values where only names or plain values belong.

:func:`value_looks_secret` says whether a string looks like a credential. Two sources, the maintained one first:

- the provider detectors of ``detect-secrets`` (Yelp): AWS, Azure storage, GitHub, GitLab, Slack tokens and
  webhook URLs, Stripe, Twilio, SendGrid, Mailchimp, npm, PyPI, OpenAI, Telegram, Discord bot tokens, IBM,
  Square, Softlayer, Cloudant, JWTs (checked to decode as JWTs), URLs with credentials, private keys. Its
  high-entropy and keyword plugins are left out (they flag model ids, paths and any ``key=value``), and so are
  its Artifactory and public-IP rules (an IP address is not a secret; the Artifactory rule matches ordinary
  words such as ``APDataset12345``);
- a few shapes it lacks, here: Hugging Face tokens, current OpenAI/Anthropic keys (``sk-proj-``, ``sk-ant-``),
  Discord webhook URLs, long hex keys (32+ hex digits; a 40-digit commit id excepted) and long random strings.

``secrets`` entries must be names, and ``env`` values must not be credentials; the error messages built from it
never repeat the value. Pure functions of text, so they can be fuzzed.
"""

from __future__ import annotations

import importlib
import inspect
import math
import pkgutil
import re
from collections import Counter
from functools import cache
from typing import Any

MIN_SECRET_LENGTH = 8
MASK = "***"

SECRET_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# Shapes detect-secrets does not know (or knows only in an older format).
_TOKEN_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{20,}")),
    ("an API key (sk-...)", re.compile(r"\bsk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}")),
    ("a GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("an npm token", re.compile(r"\bnpm_[A-Za-z0-9]{36}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")),
    (
        "a Discord webhook URL",
        re.compile(r"discord(?:app)?\.com/api/(?:v\d+/)?webhooks/\d+/[A-Za-z0-9_-]{20,}", re.IGNORECASE),
    ),
    ("a Slack webhook URL", re.compile(r"hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/-]{16,}")),
    ("a URL with a password", re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:[^/\s@]+@")),
)
_OPAQUE = re.compile(r"[A-Za-z0-9+/=_-]{32,}")
_HEX = re.compile(r"(?<![A-Za-z0-9])[0-9a-fA-F]{32,}(?![A-Za-z0-9])")
_LOWER_WORD = re.compile(r"[a-z]{4,}")
_COMMIT_ID_LENGTH = 40
_DIGEST_PREFIX = re.compile(r"(?:sha1|sha256|sha384|sha512|md5|blake2b?):$", re.IGNORECASE)
_WORDS = re.compile(r"[\s\"'=:,;@]+")

# detect-secrets plugins left out, and why: see the module docstring.
_SKIPPED_PLUGINS = {
    "Base64HighEntropyString",
    "HexHighEntropyString",
    "KeywordDetector",
    "IPPublicDetector",
    "ArtifactoryDetector",
}


@cache
def _detectors() -> tuple[Any, ...]:
    """The detect-secrets provider detectors (imported on first use: they cost ~0.3 s to import)."""
    # detect-secrets on first use (start-up time: about 0.3 s).
    import detect_secrets.plugins as plugins
    from detect_secrets.plugins.base import BasePlugin

    found: list[Any] = []
    for info in pkgutil.iter_modules(plugins.__path__):
        module = importlib.import_module(f"detect_secrets.plugins.{info.name}")
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, BasePlugin)
                and cls.__module__ == module.__name__
                and not inspect.isabstract(cls)
                and name not in _SKIPPED_PLUGINS
            ):
                found.append(cls())
    return tuple(sorted(found, key=lambda p: type(p).__name__))


def _entropy_bits_per_char(text: str) -> float:
    counts = Counter(text)
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _path_like(word: str) -> bool:
    """A path or URL path: starts with '/', or one of its '/'-separated parts is a lower-case word."""
    if "/" not in word:
        return False
    return word.startswith("/") or "//" in word or any(_LOWER_WORD.fullmatch(p) for p in word.split("/"))


def _random_looking(word: str) -> bool:
    """32+ characters of a base64/url-safe alphabet mixing upper case, lower case and digits, 4+ bits per char."""
    return (
        _OPAQUE.fullmatch(word) is not None
        and not _path_like(word)
        and re.search(r"[A-Z]", word) is not None
        and re.search(r"[a-z]", word) is not None
        and re.search(r"[0-9]", word) is not None
        and _entropy_bits_per_char(word) >= 4.0
    )


def _hex_key(value: str) -> bool:
    """32+ hex digits, mixing digits and letters (not ``aaaa...``), other than a 40-digit commit id."""
    for match in _HEX.finditer(value):
        digits = match.group()
        if _DIGEST_PREFIX.search(value[: match.start()]):
            continue  # `sha256:<hex>`: a content digest, named as one
        if len(digits) == _COMMIT_ID_LENGTH or len(set(digits.lower())) < 8:
            continue
        if re.search(r"[0-9]", digits) and re.search(r"[a-fA-F]", digits):
            return True
    return False


def _detect_secrets_label(value: str) -> str | None:
    for plugin in _detectors():
        try:
            hit = next(iter(plugin.analyze_string(value)), None)
        except Exception:  # noqa: S112 (a plugin failing on odd text is not a finding; the others still run)
            continue
        if hit is not None:
            kind = str(getattr(plugin, "secret_type", type(plugin).__name__))
            return f"a credential ({kind})"
    return None


def value_looks_secret(value: str) -> str | None:
    """What kind of credential ``value`` looks like, or None.

    The high-entropy rule applies to the value and to each word of it (split on spaces, quotes, ``=``, ``:``,
    ``,``, ``;`` and ``@``, so ``Bearer <key>`` and ``key=<key>`` are seen): hex digests of 40 digits, words,
    paths, URLs and model ids do not match it.
    """
    for label, pattern in _TOKEN_SHAPES:
        if pattern.search(value):
            return label
    if _hex_key(value):
        return "a long hex key"
    candidate = value.strip()
    if _random_looking(candidate) or any(_random_looking(w) for w in _WORDS.split(candidate) if len(w) >= 32):
        return "a long random string (a key or token)"
    return _detect_secrets_label(value)


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
