"""The DynamoDB leaderboard cache meets the SQLite cache's expectations (one parametrised
set of tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aws.resources import BackendResources, new_session
from wavekit.analytics import compute_leaderboard, generate_traffic, refresh_all
from wavekit.backends.aws import DynamoLeaderboardCache
from wavekit.backends.local import DuckDBWarehouse, SQLiteLeaderboardCache
from wavekit.errors import InvalidWindowError, UnknownBoardError
from wavekit.ports.analytics import BOARDS, WINDOWS, LeaderboardCache

END = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DuckDBWarehouse]:
    lake = tmp_path_factory.mktemp("lake")
    generate_traffic(3000, 400, lake, seed=3, end=END)
    with DuckDBWarehouse(lake) as made:
        yield made


@pytest.fixture(params=["sqlite", "dynamodb"])
def cache(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LeaderboardCache]:
    if request.param == "sqlite":
        yield SQLiteLeaderboardCache(tmp_path / "boards.sqlite")
        return
    stack: BackendResources = request.getfixturevalue("stack")
    yield DynamoLeaderboardCache(stack.table, boto3_session=new_session())


def test_refresh_stores_every_board_and_window_with_its_time(
    cache: LeaderboardCache, warehouse: DuckDBWarehouse
) -> None:
    assert isinstance(cache, LeaderboardCache)
    assert cache.get("chords_by_requests", "month") is None
    clock = Clock(END + dt.timedelta(minutes=5))
    report = refresh_all(warehouse, cache, now=END, n=3, clock=clock)
    assert len(report.boards) == len(BOARDS) * len(WINDOWS)
    stored = cache.computed_at()
    assert set(stored) == {(b, w) for b in BOARDS for w in WINDOWS}
    assert set(stored.values()) == {clock.now}
    for board in ("frequencies_by_bytes", "specs_by_requests", "chords_by_bytes"):
        cached = cache.get(board, "year")
        assert cached is not None
        fresh = compute_leaderboard(warehouse, board, "year", n=3, now=END)
        assert cached.entries == fresh.entries
        assert cached.entries  # the generated traffic fills every board
        assert (cached.start, cached.end, cached.computed_at) == (fresh.start, END, clock.now)


def test_a_later_refresh_replaces_the_board(
    cache: LeaderboardCache, warehouse: DuckDBWarehouse
) -> None:
    first, later = Clock(END), Clock(END + dt.timedelta(hours=1))
    only = {"boards": ["clients_by_requests"], "windows": ["month"]}
    refresh_all(warehouse, cache, clock=first, **only)  # type: ignore[arg-type]
    refresh_all(warehouse, cache, now=END - dt.timedelta(days=40), clock=later, **only)  # type: ignore[arg-type]
    cached = cache.get("clients_by_requests", "month")
    assert cached is not None
    assert cached.computed_at == later.now
    assert cached.end == END - dt.timedelta(days=40)
    assert len(cache.computed_at()) == 1


def test_unknown_names_are_refused_before_any_work(
    cache: LeaderboardCache, warehouse: DuckDBWarehouse
) -> None:
    with pytest.raises(UnknownBoardError, match="specs_by_bytes"):
        cache.get("top", "month")
    with pytest.raises(InvalidWindowError, match="month, year, all"):
        cache.get("chords_by_requests", "decade")
    with pytest.raises(InvalidWindowError):
        refresh_all(warehouse, cache, windows=["month", "week"])
    assert cache.computed_at() == {}
