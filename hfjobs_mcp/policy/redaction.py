"""Redaction: every known secret value masked (``***``) in whatever the server returns or logs.

Values shorter than :data:`~hfjobs_mcp.policy.shapes.MIN_SECRET_LENGTH` are refused as secrets before they get
here, because they could not be redacted without mangling ordinary text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from hfjobs_mcp.policy.shapes import MASK, MIN_SECRET_LENGTH


class Redactor:
    """Replaces every exact occurrence of registered values by ``***``.

    Longest values are matched first, so a value that contains another is masked whole. Values shorter than
    :data:`MIN_SECRET_LENGTH` are ignored here; callers refuse them before they become secrets.
    """

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self.add(values)

    def add(self, values: Iterable[str]) -> None:
        new = {v for v in values if len(v) >= MIN_SECRET_LENGTH} - self._values
        if not new:
            return
        self._values |= new
        ordered = sorted(self._values, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} values)"

    def redact(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        # Masking can bring a value back together (a value containing '***' beside its own pieces), so repeat
        # until nothing matches; each pass shortens the text, because values are longer than the mask.
        while True:
            masked = self._pattern.sub(MASK, text)
            if masked == text:
                return masked
            text = masked

    def contains_secret(self, text: str) -> bool:
        return self._pattern is not None and self._pattern.search(text) is not None
