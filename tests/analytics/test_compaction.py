"""Lake compaction: closed days become one sorted file, with the same events and boards,
and files written before a column existed read (and compact) with it as null."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq

from wavekit.analytics import BOARDS, compute_leaderboard, generate_traffic, usage
from wavekit.backends.local import DuckDBWarehouse
from wavekit.backends.local.lake import ParquetEventSink
from wavekit.events import (
    EVENT_COLUMNS,
    RequestEvent,
    compact_lake,
    events_table,
    read_lake,
    write_lake_partitions,
)

END = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
NEW_COLUMNS = ("download_claim", "waveforms", "sweep_ends", "noise", "spec_hash")


def _sorted_rows(lake: Path) -> list[tuple[object, ...]]:
    table = read_lake(lake)
    return sorted(
        (r["event_id"], r["ts"], r["route"], r["bytes_out"], r["spec_hash"])
        for r in table.to_pylist()
    )


def _boards(lake: Path) -> dict[str, object]:
    with DuckDBWarehouse(lake) as warehouse:
        boards = {
            f"{board}/{window}": compute_leaderboard(warehouse, board, window, now=END).entries
            for board in BOARDS
            for window in ("month", "all")
        }
        boards["tone_kinds"] = usage(warehouse, "tone_kinds", "month", now=END).frame.to_dict()
    return boards


def test_closed_days_become_one_sorted_file_with_the_same_boards(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    # small batches: several files a day, as a service's sink writes them
    generate_traffic(6_000, 40, lake, seed=5, end=END, batch_events=40)
    files_before = len(list(lake.glob("dt=*/*.parquet")))
    rows, boards = _sorted_rows(lake), _boards(lake)
    last_day = lake / f"dt={(END - dt.timedelta(days=1)).date()}"
    open_files = sorted(last_day.glob("*.parquet"))
    assert len(open_files) > 1

    done = compact_lake(lake, now=END - dt.timedelta(minutes=30))  # the last day is not closed

    assert done.days == 39
    assert done.files_before + len(open_files) == files_before
    assert sorted(last_day.glob("*.parquet")) == open_files
    for day in lake.glob("dt=*"):
        files = list(day.glob("*.parquet"))
        if day != last_day:
            assert len(files) == 1
            table = pq.read_table(files[0])
            order = pc.sort_indices(table, [("route", "ascending"), ("ts", "ascending")])
            assert order.to_pylist() == list(range(table.num_rows))  # stored in that order
    assert not list(lake.rglob("*.tmp"))
    assert _sorted_rows(lake) == rows
    assert _boards(lake) == boards
    assert compact_lake(lake, now=END - dt.timedelta(minutes=30)).days == 0  # nothing left


def test_older_files_read_and_compact_with_the_new_columns_as_null(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    old_day, new_day = dt.datetime(2026, 2, 1, 9, tzinfo=dt.UTC), END - dt.timedelta(hours=2)
    old = events_table([RequestEvent("POST /waves", "POST", 202, 1.0, ts=old_day,
                                     frequencies=[440.0], duration_s=1.0, sample_rate=8000,
                                     bits_per_sample=16, channels=1, volume=0.5)])  # fmt: skip
    (lake / "dt=2026-02-01").mkdir(parents=True)
    pq.write_table(old.drop_columns(list(NEW_COLUMNS)), lake / "dt=2026-02-01" / "old.parquet")
    write_lake_partitions(
        events_table([RequestEvent("GET /health", "GET", 200, 1.0, ts=new_day, noise="pink")]),
        lake,
    )
    query = "SELECT route, noise, waveforms FROM events ORDER BY ts"

    def records(warehouse: DuckDBWarehouse) -> list[dict[str, object]]:
        frame = warehouse.run_sql(query).frame.astype(object)
        return frame.where(frame.notna(), None).to_dict(orient="records")

    with DuckDBWarehouse(lake) as warehouse:  # the oldest file lacks columns: matched by name
        before = records(warehouse)
    assert before == [
        {"route": "POST /waves", "noise": None, "waveforms": None},
        {"route": "GET /health", "noise": "pink", "waveforms": None},
    ]

    assert compact_lake(lake, now=END).days == 1  # one file, but without every column
    (compacted,) = (lake / "dt=2026-02-01").glob("*.parquet")
    assert pq.read_schema(compacted).names == list(EVENT_COLUMNS)
    with DuckDBWarehouse(lake) as warehouse:
        assert records(warehouse) == before


def test_the_service_sink_compacts_before_the_boards_read(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    sink = ParquetEventSink(lake, flush_rows=10_000, flush_s=3600)
    yesterday = dt.datetime.now(dt.UTC) - dt.timedelta(days=1, hours=2)
    try:
        for _ in range(3):  # three flushes: three files on a closed day
            sink.emit(RequestEvent("GET /health", "GET", 200, 1.0, ts=yesterday))
            sink.flush()
        sink.emit(RequestEvent("GET /health", "GET", 200, 1.0))  # today: left as written
        day = lake / f"dt={yesterday.date()}"
        assert len(list(day.glob("*.parquet"))) == 3
        sink.flush_and_compact()
        assert len(list(day.glob("*.parquet"))) == 1
        assert read_lake(lake).num_rows == 4
    finally:
        sink.close()
