"""The leaderboard cache: refresh writes every board with its timestamp; reads give it back."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest

from wavekit.analytics import (
    BOARDS,
    WINDOWS,
    InvalidWindowError,
    LeaderboardCache,
    UnknownBoardError,
    compute_leaderboard,
    refresh_all,
)
from wavekit.backends.local import DuckDBWarehouse, SQLiteLeaderboardCache

from .conftest import END


class Clock:
    """A settable clock, so computed_at is known exactly."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def test_refresh_stores_every_board_and_window_with_its_time(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    cache = SQLiteLeaderboardCache(tmp_path / "state" / "leaderboards.sqlite")
    assert isinstance(cache, LeaderboardCache)
    assert cache.get("chords_by_requests", "month") is None
    clock = Clock(END + dt.timedelta(minutes=5))
    report = refresh_all(warehouse, cache, now=END, n=3, clock=clock)

    assert len(report.boards) == len(BOARDS) * len(WINDOWS)
    stored = cache.computed_at()
    assert set(stored) == {(b, w) for b in BOARDS for w in WINDOWS}
    assert set(stored.values()) == {clock.now}
    for board in ("frequencies_by_bytes", "specs_by_requests"):
        cached = cache.get(board, "year")
        assert cached is not None
        fresh = compute_leaderboard(warehouse, board, "year", n=3, now=END)
        assert cached.entries == fresh.entries
        assert (cached.start, cached.end, cached.computed_at) == (fresh.start, END, clock.now)


def test_a_later_refresh_replaces_the_board(tmp_path: Path, warehouse: DuckDBWarehouse) -> None:
    cache = SQLiteLeaderboardCache(tmp_path / "c.sqlite")
    first, later = Clock(END), Clock(END + dt.timedelta(hours=1))
    refresh_all(warehouse, cache, boards=["clients_by_requests"], windows=["month"], clock=first)
    refresh_all(
        warehouse,
        cache,
        now=END - dt.timedelta(days=40),
        boards=["clients_by_requests"],
        windows=["month"],
        clock=later,
    )
    cached = cache.get("clients_by_requests", "month")
    assert cached is not None
    assert cached.computed_at == later.now
    assert cached.end == END - dt.timedelta(days=40)
    assert len(cache.computed_at()) == 1


def test_the_cache_file_uses_wal_and_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    SQLiteLeaderboardCache(path)
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert SQLiteLeaderboardCache(path).computed_at() == {}


def test_unknown_names_are_refused_before_any_work(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    cache = SQLiteLeaderboardCache(tmp_path / "c.sqlite")
    with pytest.raises(UnknownBoardError, match="specs_by_bytes"):
        cache.get("top", "month")
    with pytest.raises(InvalidWindowError, match="month, year, all"):
        cache.get("chords_by_requests", "decade")
    with pytest.raises(InvalidWindowError):
        refresh_all(warehouse, cache, windows=["month", "week"])
    assert cache.computed_at() == {}
