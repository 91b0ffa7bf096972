"""Leaderboards in the service: served from the cache, refreshed hourly and on demand.

The computation lives in :mod:`wavekit.analytics`; this module only decides *when* it
runs (a thread inside ``wavekit serve``, an EventBridge schedule on AWS, or
``POST /leaderboards/refresh``) and where the results are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from wavekit.errors import NotComputedError
from wavekit.service.periodic import PeriodicTask

if TYPE_CHECKING:
    from wavekit.analytics import RefreshReport
    from wavekit.ports.analytics import Leaderboard, LeaderboardCache, Warehouse

log = logging.getLogger(__name__)


class LeaderboardService:
    """Read boards from ``cache``; recompute them all from ``warehouse`` on refresh.

    ``before_refresh`` runs first (locally: flush buffered request events to the lake,
    so an on-demand refresh sees the requests that were just made). The composition
    root (:mod:`wavekit.runtime`) picks the cache and the warehouse.
    """

    runs_in_background = False
    """True where :meth:`refresh` only starts the work (the API answers 202)."""

    def __init__(
        self,
        cache: LeaderboardCache,
        warehouse: Callable[[], Warehouse],
        before_refresh: Callable[[], None] = lambda: None,
    ) -> None:
        self.cache = cache
        self.warehouse = warehouse
        self.before_refresh = before_refresh
        self._refreshing = threading.Lock()

    def get(self, board: str, window: str) -> Leaderboard:
        """The cached board; unknown names raise with the allowed values."""
        found = self.cache.get(board, window)
        if found is None:
            raise NotComputedError(
                f"leaderboard {board!r} ({window}) has not been computed yet; "
                "it refreshes hourly, or POST /leaderboards/refresh"
            )
        return found

    def refresh(self, now: dt.datetime | None = None) -> RefreshReport:
        """Recompute every board × window; concurrent calls run one at a time."""
        from wavekit.analytics import refresh_all

        with self._refreshing:
            self.before_refresh()
            warehouse = self.warehouse()
            try:
                return refresh_all(warehouse, self.cache, now)
            finally:
                close = getattr(warehouse, "close", None)
                if close is not None:
                    close()


class RefreshThread(PeriodicTask["RefreshReport"]):
    """:meth:`LeaderboardService.refresh` every ``interval_s`` seconds until stopped."""

    def __init__(self, leaderboards: LeaderboardService, interval_s: float) -> None:
        super().__init__("wavekit-leaderboards", interval_s, leaderboards.refresh)
