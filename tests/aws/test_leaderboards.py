"""The DynamoDB leaderboard cache meets the SQLite cache's expectations (one parametrised
set of tests), and the scheduled refresh Lambda fills it from Athena (moto, seeded)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.athena.models import QueryResults, athena_backends

from tests.aws.conftest import LambdaContext, http_event, scheduled_event
from tests.aws.resources import ACCOUNT, REGION, BackendResources, new_session
from wavekit.analytics import (
    BOARDS,
    WINDOWS,
    AthenaWarehouse,
    DuckDBWarehouse,
    InvalidWindowError,
    LeaderboardCache,
    SQLiteLeaderboardCache,
    UnknownBoardError,
    compute_leaderboard,
    generate_traffic,
    refresh_all,
)
from wavekit.analytics.leaderboards import KINDS, board_spec
from wavekit.backends.aws import DynamoLeaderboardCache
from wavekit.service import lambdas

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


def _seed_one_row_per_board(setup_statements: int) -> None:
    """One Athena result per (board, window), in refresh order, as Athena returns text;
    moto hands seeded results out in query order, so the DDL of the set-up gets blanks."""
    values = {
        "frequency": ("440.0", "double"),
        "chord": ("[440.0, 445.0]", "array"),
        "client_id": ("client-7", "varchar"),
        "frequencies": ("[440.0, 445.0]", "array"),
        "duration_s": ("1.0", "double"),
        "sample_rate": ("44100", "integer"),
        "bits_per_sample": ("16", "integer"),
        "channels": ("2", "integer"),
        "volume": ("0.5", "double"),
    }
    backend = athena_backends[ACCOUNT][REGION]
    for _ in range(setup_statements):
        backend.query_results_queue.append(QueryResults(rows=[], column_info=[]))
    for board in BOARDS:
        keys = KINDS[board_spec(board).kind]
        for _ in WINDOWS:
            header = ["rank", *keys, "value", "requests", "bytes", "prev_value", "prev_rank"]
            header.append("rank_change")
            row = ["1", *(values[k][0] for k in keys), "12", "12", "3400", "", "", ""]
            types = ["bigint", *(values[k][1] for k in keys), *["bigint"] * 6]
            columns = [{"Name": n, "Type": t} for n, t in zip(header, types, strict=True)]
            rows = [{"Data": [{"VarCharValue": v} for v in r]} for r in (header, row)]
            backend.query_results_queue.append(QueryResults(rows=rows, column_info=columns))


def test_scheduled_refresh_fills_the_cache_the_api_serves(
    stack: BackendResources, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = new_session()
    session.client("s3").create_bucket(Bucket="wkl-results")
    session.client("athena").create_work_group(
        Name="wavekit-test",
        Configuration={
            "ResultConfiguration": {"OutputLocation": "s3://wkl-results/results/"},
            "EnforceWorkGroupConfiguration": True,
        },
    )
    session.client("glue").create_database(DatabaseInput={"Name": "wavekit_test"})
    monkeypatch.setenv("WAVEKIT_GLUE_DATABASE", "wavekit_test")
    monkeypatch.setenv("WAVEKIT_ATHENA_WORKGROUP", "wavekit-test")
    monkeypatch.setenv("WAVEKIT_LAKE_URI", "s3://wkl-lake/events/")
    ddl = AthenaWarehouse(database="-", workgroup="-").setup_statements("s3://wkl-lake/events/")
    _seed_one_row_per_board(len(ddl))

    result = lambdas.refresh(scheduled_event("wavekit-refresh"), LambdaContext())
    assert result["refreshed"] == len(BOARDS) * len(WINDOWS)
    executions = list(athena_backends[ACCOUNT][REGION].executions.values())
    assert {e.workgroup.name for e in executions} == {"wavekit-test"}
    assert any("CREATE OR REPLACE VIEW requests_enriched" in e.query for e in executions)

    response = lambdas.api(
        http_event("GET", "/leaderboards/chords_by_requests", query="window=year"), LambdaContext()
    )
    assert response["statusCode"] == 200
    board: dict[str, Any] = json.loads(response["body"])
    assert board["window"] == "year"
    assert board["entries"][0]["chord"] == [440.0, 445.0]
    assert board["entries"][0]["requests"] == 12
