from __future__ import annotations

import datetime as dt
from dataclasses import fields
from pathlib import Path

import duckdb

from wavekit.events import (
    EVENT_COLUMNS,
    RequestEvent,
    arrow_schema,
    events_table,
    read_lake,
    write_lake_partitions,
)


def test_columns_match_the_contract_and_the_dataclass() -> None:
    assert list(arrow_schema().names) == list(EVENT_COLUMNS)
    assert {f.name for f in fields(RequestEvent)} == set(EVENT_COLUMNS)


def test_events_land_in_daily_partitions_readable_by_duckdb(tmp_path: Path) -> None:
    late = dt.datetime(2026, 3, 1, 23, 59, 59, 999_000, tzinfo=dt.UTC)
    events = [
        RequestEvent("POST /waves", "POST", 202, 3.5, ts=late, frequencies=[440.0, 445.0]),
        RequestEvent("GET /health", "GET", 200, 0.2, ts=late + dt.timedelta(milliseconds=1)),
    ]
    written = write_lake_partitions(events_table(events), tmp_path)
    assert sorted(p.parent.name for p in written) == ["dt=2026-03-01", "dt=2026-03-02"]
    assert not list(tmp_path.rglob("*.tmp"))

    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    rows = con.execute(
        f"SELECT dt, route, frequencies, ts FROM read_parquet('{tmp_path}/**/*.parquet', "
        "hive_partitioning=true) ORDER BY ts"
    ).fetchall()
    assert [(str(r[0]), r[1], r[2]) for r in rows] == [
        ("2026-03-01", "POST /waves", [440.0, 445.0]),
        ("2026-03-02", "GET /health", None),
    ]
    assert rows[0][3] == late
    assert read_lake(tmp_path, [dt.date(2026, 3, 2)]).num_rows == 1
    assert read_lake(tmp_path / "empty").num_rows == 0


def test_partition_day_is_the_utc_day_also_before_1970(tmp_path: Path) -> None:
    just_before = dt.datetime(1969, 12, 31, 23, 59, 59, 999_000, tzinfo=dt.UTC)
    written = write_lake_partitions(
        events_table([RequestEvent("GET /health", "GET", 200, 1.0, ts=just_before)]), tmp_path
    )
    assert [p.parent.name for p in written] == ["dt=1969-12-31"]
