"""Time windows of the leaderboards and usage reports, and the parameters they bind.

A window is half-open, ``[start, end)`` with ``end = now``: ``month`` is the last 30
days, ``year`` the last 365 days, ``all`` everything since 1970. The *previous period*
is the span of the same length just before (``[start - length, start)``); ``all`` has
none, so its previous values are 0 and its rank changes null. Fixed lengths (not
calendar months) keep "previous period of the same length" exact and the boards
comparable from one hourly refresh to the next. The names themselves
(:data:`WINDOWS`, :func:`check_window`) are in :mod:`wavekit.ports.analytics`, where the
leaderboard caches check them too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from wavekit.errors import ParameterError
from wavekit.ports.analytics import WINDOWS, Window, check_window
from wavekit.sqlcatalog import ParamValue

__all__ = ["WINDOWS", "Period", "Window", "check_window", "period", "span"]

WINDOW_LENGTHS: dict[str, dt.timedelta | None] = {
    "month": dt.timedelta(days=30),
    "year": dt.timedelta(days=365),
    "all": None,
}
ALL_TIME_START = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_LAST_INSTANT = dt.timedelta(milliseconds=1)
"""Events have millisecond timestamps: the last one in ``[start, end)`` is ``end - 1 ms``."""
DOWNLOAD_LOOKBACK = dt.timedelta(days=3)
"""Blobs are deleted two days after creation; a day more covers clock skew."""


@dataclass(frozen=True)
class Period:
    """A window at a given clock: ``[start, end)`` and the previous ``[prev_start, start)``."""

    window: str
    start: dt.datetime
    end: dt.datetime
    prev_start: dt.datetime

    def params(self) -> dict[str, ParamValue]:
        """The standard parameters every windowed query may use (UTC text)."""
        return {
            "start_ts": self.start,
            "end_ts": self.end,
            "prev_start_ts": self.prev_start,
            "start_dt": self.start.date(),
            "end_dt": (self.end - _LAST_INSTANT).date(),
            "prev_start_dt": self.prev_start.date(),
            "lookback_dt": max(self.prev_start - DOWNLOAD_LOOKBACK, ALL_TIME_START).date(),
        }


def _aware_utc(value: dt.datetime, what: str) -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ParameterError(f"{what} {value.isoformat()} has no time zone; pass an aware one")
    return value.astimezone(dt.UTC)


def period(window: str, now: dt.datetime) -> Period:
    """Resolve ``window`` at ``now`` (any time zone; compared in UTC)."""
    length = WINDOW_LENGTHS[check_window(window)]
    end = _aware_utc(now, "now")
    if length is None:
        return Period(window, ALL_TIME_START, end, ALL_TIME_START)
    start = end - length
    return Period(window, start, end, start - length)


def span(start: dt.datetime, end: dt.datetime) -> Period:
    """An explicit ``[start, end)`` (for usage reports over chosen dates)."""
    start, end = _aware_utc(start, "start"), _aware_utc(end, "end")
    if end < start:
        raise ParameterError(f"end {end.isoformat()} is before start {start.isoformat()}")
    return Period("custom", start, end, start - (end - start))
