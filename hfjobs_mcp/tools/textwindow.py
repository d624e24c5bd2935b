"""One window of a text file, cut so that no secret value can be read in pieces, and masked.

``read_job_file`` returns a file in windows of at most ``max_bytes``, from a byte ``cursor`` the agent passes back.
The cursor is the agent's to choose, so a cut is a place where a secret value printed into the file could be split
(the start of one window shows the value's tail, which the redactor, knowing only whole values and their forms,
would not recognise). So the bytes read reach :func:`margin` further on both sides than the window, the spans of
known values are found in that wider text, every span the window touches is masked whole (its visible part becomes
``***``), and a window's end never falls inside a span. Windows end at a line break when the range has one, and
always on a character boundary; a cursor inside a character moves on to the next one.

A range that is not UTF-8 text (a NUL byte, or bytes that do not decode) is reported as binary: no content.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

from hfjobs_mcp.policy.redaction import Redactor
from hfjobs_mcp.policy.shapes import MASK

MIN_MARGIN = 16 << 10


def margin(redactor: Redactor) -> int:
    """Bytes of context read on each side of a window: at least the longest masked form, in UTF-8."""
    return max(MIN_MARGIN, 4 * redactor.longest_form)


@dataclass(frozen=True)
class Window:
    """The masked text of bytes ``start`` to ``end`` (excluded) of a file."""

    text: str
    start: int
    end: int


def _continuation(byte: int) -> bool:
    return 0x80 <= byte <= 0xBF


def cut(data: bytes, *, data_start: int, size: int, cursor: int, limit: int, redactor: Redactor) -> Window | None:
    """The window from ``cursor`` of at most ``limit`` bytes (more only to keep a secret's span whole), masked;
    None when the bytes are not text.

    ``data`` holds the file's bytes from ``data_start`` on, covering ``cursor - margin`` to ``cursor + limit +
    margin`` (clipped to the file of ``size`` bytes).
    """
    if b"\0" in data:
        return None
    head = 0
    if data_start > 0:  # the context may start inside a character
        while head < min(3, len(data)) and _continuation(data[head]):
            head += 1
    begin = cursor - data_start
    moved = 0
    while begin < len(data) and moved < 3 and _continuation(data[begin]):
        begin, moved = begin + 1, moved + 1
    complete = data_start + len(data) >= size
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(data[head:], final=complete)
    except UnicodeDecodeError:
        return None
    decoded_end = head + len(text.encode())  # where the decoded bytes end (an incomplete tail is left out)
    begin = min(begin, decoded_end)

    if cursor + limit >= size:
        end = decoded_end
    else:
        stop = min(begin + limit, decoded_end)
        newline = data.rfind(b"\n", begin, stop)
        if newline >= begin:
            end = newline + 1
        else:
            end = stop
            while end > begin and end < len(data) and _continuation(data[end]):
                end -= 1
            if end == begin:  # a limit smaller than one character: take that character, so reading moves on
                end = min(begin + 1, decoded_end)
                while end < decoded_end and _continuation(data[end]):
                    end += 1
    first = len(data[head:begin].decode())
    last = first + len(data[begin:end].decode())

    spans = redactor.spans(text)
    for s, t in spans:
        if s < last < t:
            last = s if s > first else t
    if last != first + len(data[begin:end].decode()):
        end = head + len(text[:last].encode())

    out: list[str] = []
    at = first
    for s, t in spans:
        if t <= first or s >= last:
            continue
        out.append(text[at : max(at, s)])
        out.append(MASK)
        at = min(max(at, t), last)
    out.append(text[at:last])
    return Window(text=redactor.redact("".join(out)), start=data_start + begin, end=data_start + end)
