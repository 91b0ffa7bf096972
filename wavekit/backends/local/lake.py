"""Request-log events to the local Parquet lake (``lake/dt=YYYY-MM-DD/*.parquet``).

The layout is :mod:`wavekit.events`' (:func:`~wavekit.events.write_lake_partitions`,
the same one Firehose writes on AWS), so the DuckDB warehouse reads what this wrote.
"""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

from wavekit.clock import utc_now
from wavekit.events import RequestEvent, compact_lake, events_table, write_lake_partitions
from wavekit.ports.events import BufferedEventSink

log = logging.getLogger(__name__)


class ParquetEventSink(BufferedEventSink[RequestEvent]):
    """Buffers events in memory and flushes them to the Parquet lake by size and time.

    Buffering, the timer thread, locking and never raising come from
    :class:`~wavekit.ports.events.BufferedEventSink`: ``emit`` only appends to a deque;
    a background thread writes a file per flush under ``lake/dt=YYYY-MM-DD/`` every
    ``flush_s`` seconds or once ``flush_rows`` events wait; a failed flush keeps the
    events for the next try, up to ``max_buffered`` (then the oldest are dropped).
    """

    def __init__(
        self,
        lake: Path,
        flush_rows: int = 5000,
        flush_s: float = 5.0,
        max_buffered: int = 1_000_000,
    ) -> None:
        self.lake = Path(lake)
        super().__init__(max_buffered=max_buffered, flush_s=flush_s, flush_rows=flush_rows)

    def _write(self, batch: list[RequestEvent]) -> list[RequestEvent]:
        """One Parquet file per day in ``batch``, each written whole (atomic rename)."""
        stamp = utc_now().strftime("%Y%m%dT%H%M%S%f")
        write_lake_partitions(
            events_table(batch), self.lake, f"events-{stamp}-{uuid.uuid4().hex[:8]}"
        )
        return []

    def flush_and_compact(self) -> None:
        """Flush, then merge each closed day's small files into one (before the boards run).

        The sink writes a file per flush, thousands a day; queries pay per file. Run in
        the leaderboard refresh, the lake's only reader in the service, so no query sees
        a day while its files are swapped. Never raises: a failed compaction leaves the
        day's files as they were, and the next refresh tries again.
        """
        self.flush()
        try:
            done = compact_lake(self.lake)
        except Exception:
            log.exception("compacting the event lake failed; its files are unchanged")
            return
        if done.days:
            log.info(
                "compacted %d closed day(s) of the event lake: %d files -> %d in %.1f s",
                done.days,
                done.files_before,
                done.files_after,
                done.seconds,
            )
