"""Redaction: every known secret value masked (``***``) in whatever the server returns or logs.

One engine masks every output path (tool results, errors, log lines, the server's own log records):

- **What is masked** for each value (:func:`forms`): the value itself; for a value of several lines, each of its
  lines and every run of whole lines it starts or ends with (so a window of log lines that cuts a printed PEM key
  shows none of it); and the forms a careless script prints by accident: base64 and base64url (at each of the
  three byte alignments, so the value is found inside a longer encoded text too), hex (lower and upper case) and
  URL-encoding. A job that wants to exfiltrate a value it was given can always transform it some other way:
  masking is defence in depth, the consent is the control.
- **How**: an Aho-Corasick automaton (``pyahocorasick``) over every form of every value finds all occurrences,
  overlapping ones included, in one pass whatever the number of values; the union of what they cover is masked.
  (One regex alternation finds only non-overlapping leftmost matches, so a value overlapping another one showed its
  tail, and its cost grows with the number of values at every position.)
- **Over the whole text**: :meth:`Redactor.redact_lines` masks a list of lines as the one text they form, so a
  value printed across several lines is found; :func:`mask_tree` masks the keys as well as the values of every
  mapping.
- Values shorter than :data:`~hfjobs_mcp.policy.shapes.MIN_SECRET_LENGTH` are refused as secrets before they get
  here, because they could not be masked without mangling ordinary text.

A :class:`Redactor` may also consult a :class:`SharedDigests` store: keyed hashes of the values forwarded by the
other workers and hosts of one HTTP deployment, checked on candidate substrings (see
:mod:`hfjobs_mcp.policy.forwarded`).
"""

from __future__ import annotations

import base64
import logging
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol
from urllib.parse import quote, quote_plus

import ahocorasick

from hfjobs_mcp.policy.shapes import MASK, MIN_SECRET_LENGTH

Span = tuple[int, int]


class SharedDigests(Protocol):
    """Values known elsewhere, kept as keyed hashes: found in a text without ever holding the value."""

    def remember(self, forms: Iterable[str]) -> None: ...

    def spans(self, text: str) -> list[Span]: ...

    def refresh(self) -> None: ...


# --- what is masked for one value --------------------------------------------------------------------------------


def _b64_cores(raw: bytes, alphabet: Callable[[bytes], bytes]) -> set[str]:
    """The base64 text that encodes ``raw`` wherever it sits in a longer byte string, for each alignment.

    With ``o`` unknown bytes before it (o = 0, 1, 2 modulo 3), the first 0, 2 or 3 characters also carry bits of
    those bytes, and the last character of a partial group carries bits of whatever follows: both are dropped.
    """
    cores: set[str] = set()
    for offset, drop in ((0, 0), (1, 2), (2, 3)):
        encoded = alphabet(b"\0" * offset + raw).decode().rstrip("=")
        if (offset + len(raw)) % 3:
            encoded = encoded[:-1]
        cores.add(encoded[drop:])
    return cores


def _url_forms(value: str) -> set[str]:
    out = {quote(value, safe=""), quote(value, safe="/"), quote_plus(value), quote_plus(value, safe="/")}
    # Percent escapes are case-insensitive: %2F and %2f are the same byte.
    out |= {_lower_escapes(v) for v in out}
    return out


def _lower_escapes(text: str) -> str:
    parts = text.split("%")
    return parts[0] + "".join("%" + p[:2].lower() + p[2:] for p in parts[1:])


def _encodings(value: str) -> set[str]:
    raw = value.encode()
    out = _b64_cores(raw, base64.b64encode) | _b64_cores(raw, base64.urlsafe_b64encode)
    out |= {raw.hex(), raw.hex().upper()}
    out |= _url_forms(value)
    return out


def _line_pieces(value: str) -> set[str]:
    """For a value of several lines: each line, and every run of whole lines it starts or ends with.

    A window of lines (a log tail, a page after a cursor) starts and ends at line boundaries, so what it shows of a
    value that it cuts is one of these; each is masked on its own.
    """
    lines = value.splitlines()
    if len(lines) < 2:
        return set()
    out = {"\n".join(lines), "\r\n".join(lines)}
    out |= {line for line in lines}
    for i in range(1, len(lines)):
        out.add("\n".join(lines[:i]))
        out.add("\n".join(lines[i:]))
    return out


def forms(value: str) -> set[str]:
    """Every string masked for ``value`` (those shorter than the minimum length excepted: see module doc)."""
    out = {value} | _line_pieces(value) | _encodings(value)
    flat = "\n".join(value.splitlines())
    if flat != value:
        out |= _encodings(flat)
    return {f for f in out if len(f) >= MIN_SECRET_LENGTH}


# --- spans --------------------------------------------------------------------------------------------------------


def merge(spans: Iterable[Span]) -> list[Span]:
    """The union of ``spans`` as sorted, disjoint spans (touching spans are joined: one mask, not two)."""
    out: list[Span] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def apply(text: str, spans: Sequence[Span]) -> str:
    """``text`` with each of the disjoint sorted ``spans`` replaced by the mask."""
    if not spans:
        return text
    parts: list[str] = []
    at = 0
    for start, end in spans:
        parts.append(text[at:start])
        parts.append(MASK)
        at = end
    parts.append(text[at:])
    return "".join(parts)


_BATCH = 64  # values added (or transient values over the cap) before the base automaton is rebuilt


def _automaton(form_sets: Iterable[frozenset[str]]) -> Any:
    """An Aho-Corasick automaton of every form (each stored with its length), or None when there is none."""
    automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
    for form_set in form_sets:
        for form in form_set:
            automaton.add_word(form, len(form))
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


class Redactor:
    """Masks every occurrence of the forms of the registered values.

    Thread-safe: log records are masked on whichever thread logs them (the embedded backend's, uvicorn's) while a
    call may be adding a value; the automaton is rebuilt aside and swapped in. ``transient`` values (a caller's
    token in ``--auth hf`` mode) are kept up to ``transient_cap``, oldest dropped first; the others are kept.
    """

    def __init__(
        self, values: Iterable[str] = (), *, shared: SharedDigests | None = None, transient_cap: int = 1024
    ) -> None:
        self._lock = threading.Lock()
        self._values: OrderedDict[str, bool] = OrderedDict()  # value -> transient
        self._forms: dict[str, frozenset[str]] = {}  # value -> its forms, computed once
        # Two automata, swapped in whole: `_base` holds most values and is rebuilt rarely, `_recent` the values
        # added since (cheap to rebuild), so a new value (a new caller's token) costs little however many there are.
        self._base: Any = None
        self._recent: Any = None
        self._recent_values: list[str] = []
        self._max_lines = 1
        self._longest = 0
        self.shared = shared
        self.transient_cap = transient_cap
        self.add(values)

    def add(self, values: Iterable[str], *, transient: bool = False) -> None:
        """Mask these values from now on (shared with the deployment's other workers unless ``transient``)."""
        new = [v for v in dict.fromkeys(values) if len(v) >= MIN_SECRET_LENGTH]
        with self._lock:
            fresh = [v for v in new if v not in self._values or (self._values[v] and not transient)]
            if not fresh:
                for v in new:  # a transient value seen again stays among the most recent
                    if self._values.get(v):
                        self._values.move_to_end(v)
                return
            for v in fresh:
                self._values[v] = transient
                self._values.move_to_end(v)
                if v not in self._forms:
                    self._forms[v] = frozenset(forms(v))
                    self._recent_values.append(v)
                for form in self._forms[v]:
                    self._longest = max(self._longest, len(form))
                    if "\n" in form:
                        self._max_lines = max(self._max_lines, form.count("\n") + 1)
            transients = [v for v, t in self._values.items() if t]
            # Evict in batches (each eviction rebuilds the base automaton).
            if len(transients) > self.transient_cap + _BATCH:
                for v in transients[: len(transients) - self.transient_cap]:
                    del self._values[v]
                    del self._forms[v]
                self._rebuild_all()
            elif len(self._recent_values) > _BATCH:
                self._rebuild_all()
            else:
                self._recent = _automaton(self._forms[v] for v in self._recent_values)
        if self.shared is not None and not transient:
            for v in fresh:
                self.shared.remember(self._forms.get(v) or forms(v))

    def _rebuild_all(self) -> None:
        self._base = _automaton(self._forms[v] for v in self._values)
        self._recent, self._recent_values = None, []
        self._max_lines = max(
            (f.count("\n") + 1 for fs in self._forms.values() for f in fs if "\n" in f),
            default=1,
        )

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Redactor({len(self._values)} values)"

    @property
    def max_lines(self) -> int:
        """The most lines one masked form spans: how much context a stream of lines needs (1: none)."""
        return self._max_lines

    @property
    def longest_form(self) -> int:
        """The length of the longest masked form: how much context a cut through a text needs on each side."""
        return self._longest

    @property
    def active(self) -> bool:
        return self._base is not None or self._recent is not None or self.shared is not None

    def refresh(self) -> None:
        """Learn what the deployment's other workers forwarded since last time (a no-op without a shared store)."""
        if self.shared is not None:
            self.shared.refresh()

    def spans(self, text: str) -> list[Span]:
        """Where ``text`` shows a known value, as sorted disjoint spans."""
        found: list[Span] = []
        if len(text) >= MIN_SECRET_LENGTH:
            for automaton in (self._base, self._recent):
                if automaton is not None:
                    found += [(end + 1 - length, end + 1) for end, length in automaton.iter(text)]
        if self.shared is not None:
            found += self.shared.spans(text)
        return merge(found)

    def redact(self, text: str) -> str:
        """``text`` with every known value masked.

        Masking can bring a value back together (a value containing ``***`` beside its own pieces), so it repeats
        until nothing is found; each pass shortens the text, because values are longer than the mask.
        """
        if not text or not self.active:
            return text
        if self.shared is None and not any(
            a is not None and next(a.iter(text), None) for a in (self._base, self._recent)
        ):
            return text  # the common case, found in one call per automaton: nothing to mask
        while True:
            spans = self.spans(text)
            if not spans:
                return text
            text = apply(text, spans)

    def redact_lines(self, lines: Sequence[str]) -> list[str]:
        """``lines`` masked as the one text they form (``\\n``-joined): a value printed across lines is found.

        Each line keeps its place: the part of a match that falls on a line is masked on that line.
        """
        if not lines or not self.active:
            return list(lines)
        if self._max_lines == 1 and self.shared is None:
            return [self.redact(line) for line in lines]
        current = list(lines)
        while True:
            joined = "\n".join(current)
            spans = self.spans(joined)
            if not spans:
                return current
            current = _apply_by_line(current, spans)

    def contains_secret(self, text: str) -> bool:
        return bool(self.spans(text))


def _apply_by_line(lines: list[str], spans: list[Span]) -> list[str]:
    """Apply spans found in the ``\\n``-joined text of ``lines`` to each line (the newlines themselves stay)."""
    out: list[str] = []
    at = i = 0
    for line in lines:
        start, end = at, at + len(line)
        while i < len(spans) and spans[i][1] <= start:
            i += 1
        mine: list[Span] = []
        j = i
        while j < len(spans) and spans[j][0] < end:
            s, e = spans[j]
            mine.append((max(s, start) - start, min(e, end) - start))
            j += 1
        out.append(apply(line, [m for m in mine if m[1] > m[0]]))
        at = end + 1
    return out


class LineMasker:
    """Masks a stream of lines as one text, each line as soon as the lines after it can no longer change it.

    A line is final once ``max_lines - 1`` further lines have arrived (no masked form spans more lines than
    that); :meth:`push` returns the lines that became final, :meth:`flush` the rest at the end of the stream. The
    lines before them are kept as context, so a value that started earlier is still found.
    """

    def __init__(self, redactor: Redactor) -> None:
        self.redactor = redactor
        self.reach = max(0, redactor.max_lines - 1)
        self._context: list[str] = []  # raw lines already returned, the last `reach` of them
        self._pending: list[tuple[Any, str]] = []
        self._batch = max(64, 4 * self.reach)

    def push(self, item: Any, text: str) -> list[tuple[Any, str]]:
        self._pending.append((item, text))
        if len(self._pending) < self._batch + self.reach:
            return []
        return self._emit(len(self._pending) - self.reach)

    def flush(self) -> list[tuple[Any, str]]:
        return self._emit(len(self._pending))

    def _emit(self, count: int) -> list[tuple[Any, str]]:
        if count <= 0:
            return []
        texts = [t for _, t in self._pending]
        masked = self.redactor.redact_lines(self._context + texts)[len(self._context) :]
        out = [(item, masked[i]) for i, (item, _) in enumerate(self._pending[:count])]
        done = texts[:count]
        self._pending = self._pending[count:]
        self._context = (self._context + done)[-self.reach :] if self.reach else []
        return out


# --- structured values ----------------------------------------------------------------------------------------------


def mask_tree(value: Any, redact: Callable[[str], str]) -> Any:
    """``value`` (JSON-like) with every string masked: list items, and the keys as well as the values of mappings.

    Two keys that mask to the same text both stay, the second numbered, so nothing is silently dropped.
    """
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list | tuple):
        return [mask_tree(v, redact) for v in value]
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            key = redact(k) if isinstance(k, str) else k
            n = 2
            unique = key
            while unique in out:
                unique, n = f"{key} ({n})", n + 1
            out[unique] = mask_tree(v, redact)
        return out
    return value


# --- log records ----------------------------------------------------------------------------------------------------


class _LogMasking(logging.Filter):
    """The one filter on the root handlers: masks every registered redactor's values in each log record.

    One per process, holding its redactors weakly: a server (or a test) registers its redactor once, and nothing
    piles up as servers come and go.
    """

    def __init__(self) -> None:
        super().__init__()
        self._redactors: weakref.WeakSet[Redactor] = weakref.WeakSet()
        self._lock = threading.Lock()

    def register(self, redactor: Redactor) -> None:
        with self._lock:
            self._redactors.add(redactor)
        for handler in logging.getLogger().handlers:
            if self not in handler.filters:
                handler.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        with self._lock:
            redactors = [r for r in self._redactors if r.active]
        if redactors:
            message = record.getMessage()
            for redactor in redactors:
                message = redactor.redact(message)
            record.msg, record.args = message, None
            if record.exc_info and not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            if record.exc_text:
                for redactor in redactors:
                    record.exc_text = redactor.redact(record.exc_text)
        return True

    def __len__(self) -> int:
        return len(self._redactors)


LOG_MASKING = _LogMasking()


def mask_logs(redactor: Redactor) -> None:
    """Mask ``redactor``'s values in every log record the root handlers format (installed once per handler)."""
    LOG_MASKING.register(redactor)
