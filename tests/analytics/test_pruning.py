"""Partition pruning: a query over one day reads only that day's files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from wavekit.analytics import BOARDS, compute_leaderboard, period, usage
from wavekit.backends.local import DuckDBWarehouse

from .conftest import END


def _files(lake: Path, days: list[str]) -> set[str]:
    return {str(p) for d in days for p in (lake / f"dt={d}").glob("*.parquet")}


def test_a_one_day_query_reads_only_that_days_files(lake: Path, warehouse: DuckDBWarehouse) -> None:
    start = dt.datetime(2026, 2, 14, tzinfo=dt.UTC)
    result = usage(warehouse, "latency_by_route", start=start, end=start + dt.timedelta(days=1))
    day_files = _files(lake, ["2026-02-14"])
    assert day_files
    assert set(result.files_read) == day_files
    assert result.files_count == len(day_files)
    # Bytes include footers (DuckDB also reads the glob's first file to bind the schema),
    # so compare orders of magnitude: 1 day of a 400-day lake.
    lake_bytes = sum(p.stat().st_size for p in lake.rglob("*.parquet"))
    assert result.bytes_scanned is not None
    assert 0 < result.bytes_scanned < lake_bytes / 50


def test_a_full_scan_would_read_everything(lake: Path, warehouse: DuckDBWarehouse) -> None:
    """The check above can fail: without the dt filter every file is read."""
    result = warehouse.run_sql("SELECT count(*) AS n FROM events")
    assert result.files_count == len(list(lake.rglob("*.parquet")))


@pytest.mark.parametrize("board", [b for b in BOARDS if b.endswith("_by_requests")])
def test_monthly_boards_read_only_their_periods(
    lake: Path, warehouse: DuckDBWarehouse, board: str
) -> None:
    span = period("month", END)
    first = (span.prev_start - dt.timedelta(days=3)).date()  # download lookback (specs)
    allowed = {
        str(p)
        for p in lake.glob("dt=*/*.parquet")
        if first.isoformat() <= p.parent.name[3:] <= span.end.date().isoformat()
    }
    result = compute_leaderboard(warehouse, board, "month", now=END)
    assert result.bytes_scanned is not None
    assert warehouse.run_sql("SELECT 1 AS one").files_count == 0
    scan = warehouse.run(
        f"leaderboard_{board.split('_by_')[0]}",
        {**span.params(), "n": 10, "metric": "requests"},
    )
    # specs reads the downloads with a claim flag, the older ones, and their requests
    scans = 3 if board.startswith("specs") else 1
    assert scan.files_count is not None
    assert 0 < scan.files_count <= scans * len(allowed)
    assert set(scan.files_read) <= allowed  # DuckDB lists a few names, then "..."
