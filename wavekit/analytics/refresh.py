"""The leaderboard refresh: every board × window computed at one instant and cached.

Computing a board scans the lake (seconds, and money on Athena); serving one should be a
key lookup. So :func:`refresh_all` computes every board × window and stores each with its
``computed_at`` in a :class:`~wavekit.ports.analytics.LeaderboardCache` (SQLite locally,
the jobs table on DynamoDB); ``GET /leaderboards/{board}?window=`` reads it back.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from wavekit.analytics.leaderboards import compute_leaderboard
from wavekit.clock import utc_now
from wavekit.ports.analytics import (
    BOARDS,
    DEFAULT_N,
    WINDOWS,
    Leaderboard,
    LeaderboardCache,
    Warehouse,
    board_spec,
    check_window,
)


@dataclass(frozen=True)
class RefreshReport:
    """What one refresh did."""

    boards: tuple[Leaderboard, ...]
    started_at: dt.datetime
    finished_at: dt.datetime


def refresh_all(
    warehouse: Warehouse,
    cache: LeaderboardCache,
    now: dt.datetime | None = None,
    *,
    boards: Sequence[str] = BOARDS,
    windows: Sequence[str] = WINDOWS,
    n: int = DEFAULT_N,
    clock: Callable[[], dt.datetime] = utc_now,
) -> RefreshReport:
    """Compute every board for every window at one instant and store them.

    Parameters
    ----------
    warehouse
        Where the SQL runs.
    cache
        Where the boards go.
    now
        The instant all windows end at (one snapshot for every board); ``clock()`` if omitted.
    boards, windows
        Subsets to refresh; names are checked before anything runs.
    n
        Top ``n`` per board.
    clock
        Source of ``computed_at`` timestamps; inject a fixed one in tests.

    Returns
    -------
    RefreshReport
        The stored boards and when the refresh started and finished.
    """
    for board in boards:
        board_spec(board)
    for window in windows:
        check_window(window)
    started = clock()
    as_of = now if now is not None else started
    computed = []
    for board in boards:
        for window in windows:
            result = compute_leaderboard(warehouse, board, window, n=n, now=as_of, clock=clock)
            cache.put(result)
            computed.append(result)
    return RefreshReport(tuple(computed), started, clock())
