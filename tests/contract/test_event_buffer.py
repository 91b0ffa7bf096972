"""The event-buffer base both sinks share: bounded buffer, keep-on-failure, timer, close.

The AWS sink's batching and partial retries are in ``tests/aws/backends/test_firehose.py``;
here the local Parquet sink and a minimal in-memory subclass exercise the base itself.
"""

from __future__ import annotations

import time
from pathlib import Path

from wavekit.backends.local import ParquetEventSink
from wavekit.events import RequestEvent, read_lake
from wavekit.ports import BufferedEventSink, EventSink


def event(i: int) -> RequestEvent:
    return RequestEvent("GET /health", "GET", 200, 1.0, bytes_out=i)


class ListSink(BufferedEventSink[RequestEvent]):
    """Delivers into a list; refuses while ``down`` (as a stream or disk might)."""

    def __init__(self, max_buffered: int = 100) -> None:
        super().__init__(max_buffered=max_buffered)
        self.delivered: list[RequestEvent] = []
        self.down = False

    def _write(self, batch: list[RequestEvent]) -> list[RequestEvent]:
        if self.down:
            raise OSError("unavailable")
        self.delivered.extend(batch)
        return []


def test_a_failed_flush_keeps_every_event_in_order_for_the_next() -> None:
    sink = ListSink()
    assert isinstance(sink, EventSink)
    sink.down = True
    for i in range(3):
        sink.emit(event(i))
    sink.flush()  # raises inside _write: nothing escapes, nothing is lost
    assert sink.pending() == 3
    sink.emit(event(3))
    sink.down = False
    sink.flush()
    assert [e.bytes_out for e in sink.delivered] == [0, 1, 2, 3]
    assert sink.pending() == 0


def test_a_full_buffer_drops_the_oldest_and_counts_it() -> None:
    sink = ListSink(max_buffered=3)
    for i in range(5):
        sink.emit(event(i))
    assert (sink.pending(), sink.dropped) == (3, 2)
    sink.close()
    assert [e.bytes_out for e in sink.delivered] == [2, 3, 4]


def test_the_parquet_sink_keeps_events_while_the_lake_is_unwritable(tmp_path: Path) -> None:
    blocker = tmp_path / "blocked"
    blocker.write_text("a file where the lake's directory should be")
    sink = ParquetEventSink(blocker / "lake", flush_rows=1000, flush_s=60)
    for i in range(4):
        sink.emit(event(i))
    sink.flush()
    assert sink.pending() == 4
    blocker.unlink()
    sink.close()
    assert sorted(read_lake(blocker / "lake").column("bytes_out").to_pylist()) == [0, 1, 2, 3]
    assert sink.pending() == 0


def test_the_parquet_sink_flushes_from_its_thread_once_enough_events_wait(
    tmp_path: Path,
) -> None:
    sink = ParquetEventSink(tmp_path / "lake", flush_rows=10, flush_s=60)
    try:
        for i in range(10):
            sink.emit(event(i))
        deadline = time.monotonic() + 10
        while read_lake(tmp_path / "lake").num_rows < 10 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert read_lake(tmp_path / "lake").num_rows == 10  # written without a flush() call
        assert sink.pending() == 0
    finally:
        sink.close()
