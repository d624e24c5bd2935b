"""Change notification for the streams: per-job signals that exist only while a reader waits on them.

A logs or metrics stream waits for news of its job (a log line, a change of stage) on a :class:`Signal`.
The runner notifies on every write, for every job, watched or not; so the signals live in a :class:`Watchers`
registry that creates a job's signal when its first reader arrives and drops it when its last reader leaves
(finished, hung up, or the backend closing). Before, every job ever streamed kept an entry, and every notify
allocated a new ``asyncio.Event``: about 3 KB per job, forever, in a long-running backend.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


class Signal:
    """Wakes every waiter on ``notify()``. Take ``current()`` *before* reading, then wait on it: no lost wake-up.

    The event is made when a reader asks for it, so notifying a signal nobody waits on allocates nothing.
    """

    def __init__(self) -> None:
        self._event: asyncio.Event | None = None

    def current(self) -> asyncio.Event:
        if self._event is None:
            self._event = asyncio.Event()
        return self._event

    def notify(self) -> None:
        if self._event is not None:
            self._event.set()
            self._event = None


class _Entry:
    __slots__ = ("readers", "signal")

    def __init__(self) -> None:
        self.signal = Signal()
        self.readers = 0


class Watchers:
    """Job id -> the :class:`Signal` its current readers share; a job without readers has no entry."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    @contextlib.contextmanager
    def watch(self, job_id: str) -> Iterator[Signal]:
        """The job's signal for as long as the ``with`` block lasts."""
        entry = self._entries.get(job_id)
        if entry is None:
            entry = self._entries[job_id] = _Entry()
        entry.readers += 1
        try:
            yield entry.signal
        finally:
            entry.readers -= 1
            if entry.readers == 0:
                del self._entries[job_id]

    def notify(self, job_id: str) -> None:
        if (entry := self._entries.get(job_id)) is not None:
            entry.signal.notify()

    def notify_all(self) -> None:
        for entry in list(self._entries.values()):
            entry.signal.notify()

    def watched(self, job_id: str) -> bool:
        return job_id in self._entries

    def __len__(self) -> int:
        return len(self._entries)
