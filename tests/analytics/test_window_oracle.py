"""The windows pinned to literal dates, and a board checked against an oracle that works
out its window bounds itself (pandas offsets), not from :func:`wavekit.analytics.period`:
an off-by-one in the window code cannot hide behind a reference that shares it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from wavekit.analytics import compute_leaderboard, period
from wavekit.backends.local import DuckDBWarehouse
from wavekit.events import RequestEvent, events_table, write_lake_partitions

from . import reference

NOW = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("window", "start", "prev_start", "days"),
    [
        # 30 days back from 15 March: 13 February; 30 more: 14 January
        ("month", "2026-02-13 12:00", "2026-01-14 12:00", "2026-01-14 2026-02-13 2026-03-15"),
        # 365 days: 15 March 2025; 365 more cross 29 February 2024 and land on 15 March 2024
        ("year", "2025-03-15 12:00", "2024-03-15 12:00", "2024-03-15 2025-03-15 2026-03-15"),
        ("all", "1970-01-01 00:00", "1970-01-01 00:00", "1970-01-01 1970-01-01 2026-03-15"),
    ],
)  # fmt: skip
def test_windows_and_their_previous_periods_are_these_dates(
    window: str, start: str, prev_start: str, days: str
) -> None:
    got = period(window, NOW)
    assert (got.start, got.end, got.prev_start) == (utc(start), NOW, utc(prev_start))
    params = got.params()
    edge_days = (params["prev_start_dt"], params["start_dt"], params["end_dt"])
    assert edge_days == tuple(dt.date.fromisoformat(day) for day in days.split())


def oracle_bounds(window: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """``(start, prev_start)`` by pandas' calendar arithmetic: the window's length in days
    as the analytics contract states it (month 30, year 365)."""
    length = pd.Timedelta(days={"month": 30, "year": 365}[window])
    start = pd.Timestamp(now) - length
    return start.to_pydatetime(), (start - length).to_pydatetime()


@pytest.mark.parametrize("window", ["month", "year"])
@pytest.mark.parametrize("board", ["frequencies_by_requests", "clients_by_bytes"])
def test_a_board_matches_an_oracle_with_its_own_window_bounds(
    tmp_path: Path, window: str, board: str
) -> None:
    start, prev_start = oracle_bounds(window, NOW)
    ms = dt.timedelta(milliseconds=1)
    moments = [prev_start - ms, prev_start, start - ms, start, start + ms, NOW - ms, NOW]
    events = [
        RequestEvent("POST /waves", "POST", 202, 5.0, ts=ts, request_id=f"r{i}",
                     client_id=f"client{i % 3}", bytes_out=100 * (i + 1),
                     frequencies=[220.0 * (1 + i % 4)], duration_s=1.0, sample_rate=8000,
                     bits_per_sample=16, channels=1, volume=0.5)
        for i, ts in enumerate(moments)
    ]  # fmt: skip
    lake = tmp_path / "lake"
    lake.mkdir()
    write_lake_partitions(events_table(events), lake)
    kind, metric = board.split("_by_")
    with DuckDBWarehouse(lake) as warehouse:
        got = compute_leaderboard(warehouse, board, window, n=20, now=NOW)
    expected = reference.leaderboard(
        reference.load_events(lake), kind, metric, start, NOW, prev_start, 20
    )
    assert expected  # the window holds events, and so does the previous period
    assert any(entry["prev_value"] for entry in expected)
    assert list(got.entries) == expected
