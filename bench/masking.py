"""The masking engine: lines masked per second, side by side with the engine it replaced, as values grow.

Why: ``fetch_logs`` with ``grep`` now masks every line of a log before the filter sees it (issue 14), and an
``--auth hf`` deployment masks every caller's token for every caller, so the number of values grows with the
callers. The old engine was one regex alternation of the raw values only (no encodings, no line pieces), run on
the lines returned; the new one is an Aho-Corasick automaton (``pyahocorasick``) over ~15 forms per value. Also
shown: the shared store of keyed hashes (another worker's values), which hashes candidate substrings.

Run: ``.venv/bin/python bench/masking.py [--lines 200000]``.
"""

from __future__ import annotations

import argparse
import re
import secrets
import time
from collections.abc import Callable

from hfjobs_mcp.policy.forwarded import ForwardedDigests
from hfjobs_mcp.policy.redaction import Redactor


def old_engine(values: list[str]) -> Callable[[str], str]:
    """What main had: one alternation of the values, longest first, repeated until nothing matches."""
    pattern = re.compile("|".join(re.escape(v) for v in sorted(values, key=len, reverse=True)))

    def redact(text: str) -> str:
        while True:
            masked = pattern.sub("***", text)
            if masked == text:
                return masked
            text = masked

    return redact


def lines_per_second(redact: Callable[[str], str], lines: list[str]) -> float:
    started = time.perf_counter()
    for line in lines:
        redact(line)
    return len(lines) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=200_000)
    args = parser.parse_args()
    words = ["step", "loss", "0.1234", "lr", "3e-4", "epoch", "tokens/s", "12345", "grad_norm", "eval"]
    lines = [" ".join(words[(i + j) % len(words)] for j in range(12)) + f" {i}" for i in range(args.lines)]
    print(f"{args.lines} log lines of ~{sum(map(len, lines)) // len(lines)} characters, none holding a value")
    print(f"{'values':>7} {'old re (lines/s)':>17} {'new (lines/s)':>14} {'new/old':>8} {'build new (ms)':>15}")
    for count in (1, 10, 100, 1000, 5000):
        values = ["hf_" + secrets.token_urlsafe(26) for _ in range(count)]
        old = lines_per_second(old_engine(values), lines)
        started = time.perf_counter()
        redactor = Redactor(values)
        build = (time.perf_counter() - started) * 1000
        new = lines_per_second(redactor.redact, lines)
        print(f"{count:>7} {old:>17,.0f} {new:>14,.0f} {new / old:>8.2f} {build:>15.1f}")
    shared = Redactor(shared=ForwardedDigests(secrets.token_bytes(32)))
    shared.add(["hf_" + secrets.token_urlsafe(26) for _ in range(100)])
    other = Redactor(shared=shared.shared)
    rate = lines_per_second(other.redact, lines)
    print(f"shared store of keyed hashes (100 values forwarded by another worker): {rate:,.0f} lines/s")


if __name__ == "__main__":
    main()
