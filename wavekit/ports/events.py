"""The event port: where request-log events go (a Parquet lake locally, Firehose on AWS).

:class:`EventSink` is the interface the service sees. :class:`BufferedEventSink` is the
one buffering base both sinks share (in the spirit of aws-lambda-powertools' base
classes: the base owns the mechanics, each adapter supplies one method): ``emit`` only
appends to a bounded in-memory deque, never blocks on I/O and never raises; ``flush``
hands everything buffered to the adapter's :meth:`~BufferedEventSink._write` under a
lock, and keeps whatever was not delivered for the next flush; an optional timer thread
flushes by size and time; ``close`` stops it and flushes one last time.
"""

from __future__ import annotations

import collections
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Generic, Protocol, TypeVar, cast, runtime_checkable

from wavekit.events import RequestEvent

log = logging.getLogger(__name__)

RecordT = TypeVar("RecordT")


@runtime_checkable
class EventSink(Protocol):
    """Request-log events. ``emit`` never blocks on I/O and never raises."""

    def emit(self, event: RequestEvent) -> None: ...

    def flush(self) -> None: ...

    def close(self) -> None: ...


class BufferedEventSink(ABC, Generic[RecordT]):
    """An :class:`EventSink` that buffers in memory and writes in batches.

    Subclasses implement :meth:`_write` and may override :meth:`_encode` (to buffer a
    serialised form, or to drop an event that can never be delivered).

    Parameters
    ----------
    max_buffered
        Bound of the buffer; when full, the oldest record is dropped (with a warning
        and a count in :attr:`dropped`) so a long outage cannot exhaust memory.
    flush_s
        Flush at least this often from a background thread; ``None`` runs no thread
        (a frozen Lambda runs no threads: its handler calls :meth:`flush` instead).
    flush_rows
        With a thread, wake it early once this many records wait.
    thread_name
        Name of the background thread.
    """

    def __init__(
        self,
        *,
        max_buffered: int,
        flush_s: float | None = None,
        flush_rows: int | None = None,
        thread_name: str = "wavekit-events",
    ) -> None:
        self.flush_s = flush_s
        self.flush_rows = flush_rows
        self.dropped = 0
        """Events dropped: undeliverable ones, and the oldest when the buffer was full."""
        self._buffer: collections.deque[RecordT] = collections.deque(maxlen=max_buffered)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if flush_s is not None:
            self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
            self._thread.start()

    # -- what an adapter supplies ------------------------------------------------------------

    @abstractmethod
    def _write(self, batch: list[RecordT]) -> Sequence[RecordT]:
        """Deliver ``batch`` (oldest first); return the records that were not delivered.

        Raising counts as delivering none of them: the whole batch is kept.
        """

    def _encode(self, event: RequestEvent) -> RecordT | None:
        """The form ``event`` is buffered in, or ``None`` to drop it. Default: as is."""
        return cast(RecordT, event)

    # -- the port --------------------------------------------------------------------------

    def emit(self, event: RequestEvent) -> None:
        try:
            record = self._encode(event)
            if record is None:
                self.dropped += 1
                return
            if len(self._buffer) == self._buffer.maxlen:
                self.dropped += 1
                log.warning("event buffer full: dropping the oldest event")
            self._buffer.append(record)
            if self.flush_rows is not None and len(self._buffer) >= self.flush_rows:
                self._wake.set()
        except Exception:  # emit must never fail a request
            log.exception("could not buffer a request-log event")

    def pending(self) -> int:
        """Records waiting for the next flush."""
        return len(self._buffer)

    def flush(self) -> None:
        """Write everything buffered; keep what failed for the next flush. Never raises."""
        try:
            with self._lock:
                batch = [self._buffer.popleft() for _ in range(len(self._buffer))]
                if not batch:
                    return
                try:
                    failed = list(self._write(batch))
                except Exception:
                    log.exception(
                        "flushing %d events failed; keeping them for the next try", len(batch)
                    )
                    failed = batch
                else:
                    if failed:
                        log.warning("%d events not delivered; keeping them", len(failed))
                self._buffer.extendleft(reversed(failed))
        except Exception:  # pragma: no cover - belt and braces: flush never raises
            log.exception("flushing request-log events failed")

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.flush_s)
            self._wake.clear()
            self.flush()

    def close(self) -> None:
        """Stop the thread (if any) and flush what is left."""
        if self._thread is not None:
            self._stop.set()
            self._wake.set()
            self._thread.join(timeout=30)
        self.flush()
