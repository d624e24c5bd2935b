"""``fetch_logs``'s ``grep``: a substring, or a regular expression run on RE2 (time linear in the text)."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["PatternError", "matcher"]


class PatternError(ValueError):
    """A ``grep`` regular expression RE2 does not accept; the message says why."""


def matcher(pattern: str, *, regex: bool) -> Callable[[str], bool]:
    """A predicate for a substring, or a regular expression (:class:`PatternError` if it does not compile).

    Regular expressions run on RE2 (``google-re2``): time linear in the text, whatever the pattern, so a pattern
    like ``(a+)+$`` cannot hold the server (Python's backtracking ``re`` took 12 s on one long line, with the
    event loop blocked for every other caller). RE2 has no backreferences or lookarounds.
    """
    if regex:
        import re2  # on first use, for start-up time: most calls never filter by regex

        options = re2.Options()
        options.log_errors = False  # the error is the caller's, returned to it; nothing for the server's log
        try:
            compiled = re2.compile(pattern, options=options)
        except re2.error as exc:
            detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise PatternError(detail) from None
        return lambda text: compiled.search(text) is not None
    return lambda text: pattern in text
