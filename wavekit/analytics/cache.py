"""The leaderboard cache: boards computed hourly (or on demand) and served from storage.

Computing a board scans the lake (seconds, and money on Athena); serving one should be a
key lookup. So :func:`refresh_all` computes every board × window and stores each with its
``computed_at``; ``GET /leaderboards/{board}?window=`` reads :meth:`LeaderboardCache.get`.
The port is tiny so the job-table backends (SQLite locally, DynamoDB on AWS) can carry it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from wavekit.analytics.leaderboards import (
    BOARDS,
    DEFAULT_N,
    Leaderboard,
    board_spec,
    compute_leaderboard,
)
from wavekit.analytics.warehouse import Warehouse
from wavekit.analytics.windows import WINDOWS, check_window
from wavekit.clock import utc_now
from wavekit.errors import AnalyticsError


@runtime_checkable
class LeaderboardCache(Protocol):
    """Stores the latest computation of each (board, window)."""

    def put(self, board: Leaderboard) -> None:
        """Store ``board``, replacing the previous one for its (board, window)."""
        ...

    def get(self, board: str, window: str) -> Leaderboard | None:
        """The stored board, or None if never computed. Unknown names raise (they list the
        allowed values) so the API can answer 404/422 without a lookup."""
        ...

    def computed_at(self) -> dict[tuple[str, str], dt.datetime]:
        """When each stored (board, window) was computed."""
        ...


class SQLiteLeaderboardCache:
    """:class:`LeaderboardCache` in one SQLite file (WAL: readers never block the refresh).

    Parameters
    ----------
    path
        The database file; its directory is created. Safe to share between threads and
        processes (one short connection per call).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.execute(
                "CREATE TABLE IF NOT EXISTS leaderboards ("
                " board TEXT NOT NULL, time_window TEXT NOT NULL, computed_at TEXT NOT NULL,"
                " payload TEXT NOT NULL, PRIMARY KEY (board, time_window))"
            )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            con = sqlite3.connect(self.path, timeout=10.0)
        except sqlite3.Error as exc:
            raise AnalyticsError(f"leaderboard cache {self.path}: {exc}") from exc
        try:
            with con:
                yield con
        except sqlite3.Error as exc:
            raise AnalyticsError(f"leaderboard cache {self.path}: {exc}") from exc
        finally:
            con.close()

    def put(self, board: Leaderboard) -> None:
        with self._connect() as con:
            con.execute(
                "INSERT INTO leaderboards (board, time_window, computed_at, payload)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (board, time_window) DO UPDATE SET"
                " computed_at = excluded.computed_at, payload = excluded.payload",
                (board.board, board.window, board.computed_at.isoformat(), board.to_json(None)),
            )

    def get(self, board: str, window: str) -> Leaderboard | None:
        board_spec(board)
        check_window(window)
        with self._connect() as con:
            row = con.execute(
                "SELECT payload FROM leaderboards WHERE board = ? AND time_window = ?",
                (board, window),
            ).fetchone()
        return None if row is None else Leaderboard.from_dict(json.loads(row[0]))

    def computed_at(self) -> dict[tuple[str, str], dt.datetime]:
        with self._connect() as con:
            rows = con.execute(
                "SELECT board, time_window, computed_at FROM leaderboards"
            ).fetchall()
        return {(b, w): dt.datetime.fromisoformat(at) for b, w, at in rows}


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
