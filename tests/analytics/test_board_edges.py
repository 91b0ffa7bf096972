"""Every board at the edges of windows that end mid-day, and downloads that carry their spec
or (older ones) take it from their request. Hand-made lakes, against the independent pandas
reference and against numbers worked out by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pytest

from wavekit.analytics import BOARDS, compute_leaderboard, period
from wavekit.analytics.windows import ALL_TIME_START, Period, span
from wavekit.backends.local import DuckDBWarehouse
from wavekit.events import RequestEvent, events_table, write_lake_partitions

from . import reference

NOON = dt.datetime(2026, 3, 1, 13, 7, 5, 250_000, tzinfo=dt.UTC)
"""A 'now' in the middle of a day, so the window splits its first and last days."""
MS = dt.timedelta(milliseconds=1)
DOWNLOAD = "GET /waves/{request_id}/download"
CHUNK = "GET /waves/{request_id}/chunks/{offset_num}"
SPECS = {
    "a": ([440.0, 445.0], 1.0, 8000, 16, 1, 0.5),
    "b": ([220.0], 2.0, 22050, 24, 2, 1.0),
    "c": ([660.0, 330.0, 330.0], 0.5, 44100, 8, 1, 0.25),
}


def _spec(name: str) -> dict[str, object]:
    freqs, seconds, rate, bits, channels, volume = SPECS[name]
    return {"frequencies": list(freqs), "duration_s": seconds, "sample_rate": rate,
            "bits_per_sample": bits, "channels": channels, "volume": volume}  # fmt: skip


def post(ts: dt.datetime, request_id: str, spec: str, client: str = "c1") -> RequestEvent:
    return RequestEvent("POST /waves", "POST", 202, 5.0, ts=ts, request_id=request_id,
                        client_id=client, bytes_out=200, **_spec(spec))  # type: ignore[arg-type]  # fmt: skip


def download(
    ts: dt.datetime,
    request_id: str,
    spec: str | None,
    *,
    route: str = DOWNLOAD,
    size: int = 1000,
    status: int = 200,
) -> RequestEvent:
    """A download event: with its spec (as the service logs it now) or without (older)."""
    tone = _spec(spec) if spec else {}
    return RequestEvent(route, "GET", status, 4.0, ts=ts, request_id=request_id,
                        client_id="c1", bytes_out=size, **tone)  # type: ignore[arg-type]  # fmt: skip


def make_lake(root: Path, events: Sequence[RequestEvent]) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    write_lake_partitions(events_table(events), root)
    return root


def edge_events(window: Period) -> list[RequestEvent]:
    """Requests and downloads on every edge and on whole days of both periods."""
    day = dt.timedelta(days=1)
    moments = [
        window.prev_start - MS,  # before both periods
        window.prev_start,  # first instant of the previous period
        window.prev_start + day,  # a whole day of the previous period (if it is long enough)
        window.start - MS,  # last instant of the previous period
        window.start,  # first instant of the window
        window.start + MS,
        window.start + 2 * day,  # a whole day of the window
        window.end - MS,  # last instant of the window
        window.end,  # the end is exclusive
    ]
    events: list[RequestEvent] = []
    for index, moment in enumerate(moments):
        if moment < ALL_TIME_START:  # the all-time window starts in 1970: nothing before
            continue
        for copy, spec in enumerate("abc"[: 1 + index % 3]):
            request_id = f"r{index}-{copy}"
            carried = spec if (index + copy) % 2 else None
            created = max(moment - dt.timedelta(hours=1), ALL_TIME_START)
            events.append(post(created, request_id, spec, f"c{copy}"))
            events.append(download(moment, request_id, carried, size=100 * (index + 1)))
            events.append(post(moment, f"p{index}-{copy}", spec, f"c{index % 2}"))
    return events


@pytest.mark.parametrize("board", BOARDS)
@pytest.mark.parametrize(
    "window",
    [
        period("month", NOON),
        period("year", NOON),
        period("all", NOON),
        span(NOON - dt.timedelta(days=4, hours=5), NOON - dt.timedelta(hours=2)),
        span(NOON - dt.timedelta(hours=9), NOON - dt.timedelta(hours=2)),  # within one day
    ],
    ids=["month", "year", "all", "four-days", "hours"],
)
def test_every_board_at_the_edges_of_a_window_ending_mid_day(
    tmp_path: Path, board: str, window: Period
) -> None:
    lake = make_lake(tmp_path / "lake", edge_events(window))
    kind, metric = board.split("_by_")
    with DuckDBWarehouse(lake) as warehouse:
        got = compute_leaderboard(warehouse, board, n=20, span=window)
    expected = reference.leaderboard(
        reference.load_events(lake), kind, metric, window.start, window.end, window.prev_start, 20
    )
    assert expected
    assert list(got.entries) == expected


def test_downloads_carry_their_spec_or_take_their_requests(tmp_path: Path) -> None:
    """The four ways a download finds its spec, with the board's numbers worked out."""
    now = NOON
    window = period("month", now)
    t = now - dt.timedelta(days=3)
    long_ago = window.prev_start - dt.timedelta(days=20)  # before the look-up's first day
    events = [
        # older event: no spec on the download, the spec is its request's
        post(t, "old", "a"),
        download(t + dt.timedelta(minutes=1), "old", None, size=1000),
        # newer event: the spec travels with the download, even when its request's event
        # is outside what the look-up reads (or lost)
        download(t, "new", "b", size=2000),
        post(long_ago, "orphan", "a"),
        download(t, "orphan", "a", size=4000),
        # one request downloaded in chunks across the switch: counted once
        post(t, "both", "b"),
        download(t + dt.timedelta(minutes=1), "both", None, route=CHUNK, size=10),
        download(t + dt.timedelta(minutes=2), "both", "b", route=CHUNK, size=20),
        # an older download whose request cannot be found: not on the board (as before)
        download(t, "lost", None, size=8000),
        # failed downloads count for nothing
        post(t, "failed", "c"),
        download(t, "failed", "c", status=410, size=90),
    ]
    lake = make_lake(tmp_path / "lake", events)
    with DuckDBWarehouse(lake) as warehouse:
        by_requests = compute_leaderboard(warehouse, "specs_by_requests", "month", now=now)
        by_bytes = compute_leaderboard(warehouse, "specs_by_bytes", "month", now=now)
    rows = {
        (tuple(e["frequencies"]), e["duration_s"]): (e["rank"], e["requests"], e["bytes"])
        for e in by_requests.entries
    }
    assert rows == {
        ((220.0,), 2.0): (1, 2, 2030),  # "new" and "both" (10 + 20 bytes, one request)
        ((440.0, 445.0), 1.0): (1, 2, 5000),  # "old" and "orphan"
    }
    assert [(e["rank"], e["bytes"]) for e in by_bytes.entries] == [(1, 5000), (2, 2030)]
    frame = reference.load_events(lake)
    for board, metric in ((by_requests, "requests"), (by_bytes, "bytes")):
        assert list(board.entries) == reference.leaderboard(
            frame, "specs", metric, window.start, window.end, window.prev_start, 10
        )
