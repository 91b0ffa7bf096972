"""Every leaderboard and usage query on generated traffic equals an independent pandas
computation (tests/analytics/reference.py)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from wavekit.analytics import (
    BOARDS,
    DEFAULT_PRICES,
    USAGE_QUERIES,
    WINDOWS,
    compute_leaderboard,
    period,
    usage,
)
from wavekit.analytics.windows import span as explicit_span
from wavekit.backends.local import DuckDBWarehouse

from . import reference
from .conftest import END


@pytest.mark.parametrize("window", WINDOWS)
@pytest.mark.parametrize("board", BOARDS)
def test_leaderboard_matches_pandas(
    warehouse: DuckDBWarehouse, events: pd.DataFrame, board: str, window: str
) -> None:
    kind, metric = board.split("_by_")
    span = period(window, END)
    got = compute_leaderboard(warehouse, board, window, n=8, now=END)
    expected = reference.leaderboard(events, kind, metric, span.start, span.end, span.prev_start, 8)
    assert expected, "the generated traffic should fill every board"
    assert list(got.entries) == expected
    assert (got.start, got.end, got.window) == (span.start, span.end, window)


@pytest.mark.parametrize("board", ["chords_by_requests", "clients_by_bytes"])
def test_leaderboard_over_an_explicit_span_matches_pandas(
    warehouse: DuckDBWarehouse, events: pd.DataFrame, board: str
) -> None:
    chosen = explicit_span(
        dt.datetime(2026, 2, 3, 12, tzinfo=dt.UTC), dt.datetime(2026, 2, 17, tzinfo=dt.UTC)
    )
    got = compute_leaderboard(warehouse, board, n=6, span=chosen)
    kind, metric = board.split("_by_")
    expected = reference.leaderboard(
        events, kind, metric, chosen.start, chosen.end, chosen.prev_start, 6
    )
    assert expected
    assert list(got.entries) == expected
    assert (got.start, got.end, got.window) == (chosen.start, chosen.end, "custom")


def test_boards_show_movement_against_the_previous_period(warehouse: DuckDBWarehouse) -> None:
    board = compute_leaderboard(warehouse, "clients_by_requests", "month", n=20, now=END)
    assert any(e["prev_rank"] is not None for e in board.entries)
    assert {e["prev_rank"] for e in compute_leaderboard(
        warehouse, "clients_by_requests", "all", now=END).entries} == {None}  # fmt: skip


def _compare(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = got.reset_index(drop=True)
    expected = expected.reset_index(drop=True)
    assert list(got.columns) == list(expected.columns)
    for column in got.columns:
        left, right = got[column], expected[column]
        if pd.api.types.is_float_dtype(right) or pd.api.types.is_float_dtype(left):
            np.testing.assert_allclose(
                left.astype(float), right.astype(float), rtol=1e-9, equal_nan=True, err_msg=column
            )
        elif pd.api.types.is_datetime64_any_dtype(right):
            assert list(left) == list(right), column
        else:
            assert [_plain(v) for v in left] == [_plain(v) for v in right], column


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


@pytest.mark.parametrize("name", USAGE_QUERIES)
def test_usage_over_a_window_matches_pandas(
    warehouse: DuckDBWarehouse, events: pd.DataFrame, name: str
) -> None:
    span = period("month", END)
    got = usage(warehouse, name, "month", now=END).frame
    expected = reference.usage(events, name, span.start, span.end, DEFAULT_PRICES)
    assert len(expected) > 0
    _compare(got, expected)


@pytest.mark.parametrize("name", ["requests_per_hour", "errors_by_code", "lambda_cost"])
def test_usage_over_an_explicit_span_matches_pandas(
    warehouse: DuckDBWarehouse, events: pd.DataFrame, name: str
) -> None:
    start = dt.datetime(2026, 2, 10, 6, 30, tzinfo=dt.UTC)
    end = dt.datetime(2026, 2, 12, 18, 0, tzinfo=dt.UTC)
    got = usage(warehouse, name, start=start, end=end).frame
    _compare(got, reference.usage(events, name, start, end, DEFAULT_PRICES))
