"""The local leaderboard cache: computed boards in a SQLite file next to the jobs."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from wavekit.errors import AnalyticsError
from wavekit.ports.analytics import Leaderboard, board_spec, check_window


class SQLiteLeaderboardCache:
    """The leaderboard cache in one SQLite file (WAL: readers never block the refresh).

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
