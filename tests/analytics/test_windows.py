"""Window edges, ties, empty windows and time zones, on small hand-made lakes."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from wavekit.analytics import (
    DEFAULT_PRICES,
    USAGE_QUERIES,
    InvalidWindowError,
    LakeNotFoundError,
    ParameterError,
    UnknownBoardError,
    compute_leaderboard,
    period,
    usage,
)
from wavekit.backends.local import DuckDBWarehouse
from wavekit.events import RequestEvent, events_table, write_lake_partitions

from . import reference

NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
MS = dt.timedelta(milliseconds=1)


def tone(ts: dt.datetime, *freqs: float, client: str = "c1", seconds: float = 1.0) -> RequestEvent:
    return RequestEvent(
        "POST /waves", "POST", 202, 5.0, ts=ts, client_id=client, request_id=f"r-{ts}-{freqs}",
        frequencies=list(freqs), duration_s=seconds, sample_rate=8000, bits_per_sample=16,
        channels=1, volume=0.5, bytes_out=200,
    )  # fmt: skip


def make_lake(root: Path, events: Sequence[RequestEvent]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_lake_partitions(events_table(events), root)
    return root


@pytest.mark.parametrize("window", ["month", "year"])
def test_events_exactly_at_the_window_edges(tmp_path: Path, window: str) -> None:
    span = period(window, NOW)
    events = [
        tone(span.start, 440.0),  # first instant of the window: counted
        tone(span.end, 445.0),  # the end is exclusive: not counted anywhere
        tone(span.end - MS, 440.0, 445.0),  # last millisecond: counted
        tone(span.start - MS, 550.0),  # last instant of the previous period
        tone(span.prev_start, 550.0),  # first instant of the previous period
        tone(span.prev_start - MS, 660.0),  # before both periods
        tone(span.start, 440.0, client="c2"),
    ]
    lake = make_lake(tmp_path / "lake", events)
    frame = reference.load_events(lake)
    with DuckDBWarehouse(lake) as warehouse:
        board = compute_leaderboard(warehouse, "frequencies_by_requests", window, now=NOW)
        previous = compute_leaderboard(warehouse, "frequencies_by_requests", window, now=span.start)
    expected = reference.leaderboard(
        frame, "frequencies", "requests", span.start, span.end, span.prev_start, 10
    )
    assert list(board.entries) == expected
    counts = {e["frequency"]: e["requests"] for e in board.entries}
    assert counts == {440.0: 3, 445.0: 1}
    assert {e["frequency"]: e["requests"] for e in previous.entries} == {550.0: 2}


def test_ties_share_a_rank_and_all_tied_entries_are_kept(tmp_path: Path) -> None:
    t = NOW - dt.timedelta(days=1)
    events = [tone(t, 100.0) for _ in range(3)]
    for f in (200.0, 300.0, 400.0):
        events += [tone(t, f), tone(t, f)]
    events.append(tone(t, 500.0))
    lake = make_lake(tmp_path / "lake", events)
    with DuckDBWarehouse(lake) as warehouse:
        board = compute_leaderboard(warehouse, "frequencies_by_requests", "month", n=2, now=NOW)
    span = period("month", NOW)
    expected = reference.leaderboard(
        reference.load_events(lake), "frequencies", "requests", span.start, span.end,
        span.prev_start, 2,
    )  # fmt: skip
    assert list(board.entries) == expected
    assert [(e["rank"], e["frequency"]) for e in board.entries] == [
        (1, 100.0), (2, 200.0), (2, 300.0), (2, 400.0)
    ]  # fmt: skip


def test_rank_change_against_the_previous_period(tmp_path: Path) -> None:
    span = period("month", NOW)
    before, now = span.start - dt.timedelta(days=1), span.end - dt.timedelta(days=1)
    events = [tone(before, 100.0)] * 3 + [tone(before, 200.0)]
    events += [tone(now, 200.0)] * 2 + [tone(now, 100.0)] + [tone(now, 300.0)]
    events = [
        tone(e.ts, *(e.frequencies or []), client=f"c{i}") for i, e in enumerate(events)
    ]  # distinct request ids do not matter for this board, clients vary for realism
    lake = make_lake(tmp_path / "lake", events)
    with DuckDBWarehouse(lake) as warehouse:
        board = compute_leaderboard(warehouse, "frequencies_by_requests", "month", now=NOW)
    expected = reference.leaderboard(
        reference.load_events(lake), "frequencies", "requests", span.start, span.end,
        span.prev_start, 10,
    )  # fmt: skip
    assert list(board.entries) == expected
    moved = {e["frequency"]: (e["prev_rank"], e["rank_change"]) for e in board.entries}
    assert moved[200.0] == (2, 1)  # up from 2nd to 1st
    assert moved[300.0] == (None, None)  # new on the board


def test_empty_windows_and_empty_lakes_give_empty_results(tmp_path: Path) -> None:
    old = make_lake(tmp_path / "old", [tone(NOW - dt.timedelta(days=400), 440.0)])
    empty = tmp_path / "empty"
    empty.mkdir()
    for lake in (old, empty):
        with DuckDBWarehouse(lake) as warehouse:
            board = compute_leaderboard(warehouse, "chords_by_bytes", "month", now=NOW)
            assert board.entries == ()
            for name in USAGE_QUERIES:
                frame = usage(warehouse, name, "month", now=NOW).frame
                if name == "summary":  # one row of zeros: the headline of an empty window
                    assert frame["requests"].tolist() == [0]
                    assert frame["error_rate"].tolist() == [0.0]
                else:
                    assert frame.empty, name
    with DuckDBWarehouse(empty) as warehouse:
        make_lake(empty, [tone(NOW - dt.timedelta(hours=1), 440.0)])
        board = compute_leaderboard(warehouse, "frequencies_by_requests", "all", now=NOW)
        assert [e["frequency"] for e in board.entries] == [440.0], "files added later are seen"


@pytest.fixture
def tokyo_process_time() -> Iterator[None]:
    """Run with the process (and so DuckDB's default) time zone far from UTC."""
    mp = pytest.MonkeyPatch()
    mp.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    yield
    mp.undo()
    time.tzset()


@pytest.mark.usefixtures("tokyo_process_time")
def test_days_and_hours_are_utc_whatever_the_local_time_zone(tmp_path: Path) -> None:
    late = dt.datetime(2026, 2, 10, 23, 30, tzinfo=dt.UTC)  # already Feb 11 in Tokyo
    lake = make_lake(
        tmp_path / "lake", [tone(late, 440.0), tone(late + dt.timedelta(hours=1), 445.0)]
    )
    tokyo = dt.timezone(dt.timedelta(hours=9))
    now_in_tokyo = NOW.astimezone(tokyo)
    frame = reference.load_events(lake)
    span = period("month", NOW)
    with DuckDBWarehouse(lake) as warehouse:
        days = usage(warehouse, "requests_per_day", "month", now=now_in_tokyo).frame
        hours = usage(warehouse, "requests_per_hour", "month", now=now_in_tokyo).frame
    assert list(days["day"]) == ["2026-02-10", "2026-02-11"]
    expected = reference.usage(frame, "requests_per_hour", span.start, span.end, DEFAULT_PRICES)
    assert list(hours["hour"]) == list(expected["hour"])
    assert [h.hour for h in hours["hour"]] == [23, 0]
    assert period("month", now_in_tokyo) == span


def test_bad_names_and_values_are_typed_errors_listing_the_choices(
    tmp_path: Path, warehouse: DuckDBWarehouse
) -> None:
    with pytest.raises(UnknownBoardError, match="chords_by_requests"):
        compute_leaderboard(warehouse, "chords", "month")
    with pytest.raises(InvalidWindowError, match="month, year, all"):
        compute_leaderboard(warehouse, "chords_by_requests", "week")
    with pytest.raises(ParameterError, match="positive"):
        compute_leaderboard(warehouse, "chords_by_requests", "all", n=0)
    with pytest.raises(ParameterError, match="time zone"):
        compute_leaderboard(warehouse, "chords_by_requests", "all", now=dt.datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="lambda_cost"):
        usage(warehouse, "latency", "month")
    with pytest.raises(LakeNotFoundError, match="nowhere"):
        DuckDBWarehouse(tmp_path / "nowhere")
