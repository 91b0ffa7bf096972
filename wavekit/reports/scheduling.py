"""When reports run: ``"1h"``-style intervals or cron lines (UTC), a foreground scheduler,
and the days of a backfill.

A restarted scheduler keeps the same slots (intervals are aligned to the epoch), and a
slot already rendered is skipped by :func:`~wavekit.reports.runner.render`, so a restart
in the middle of an hour does not render that hour twice.
"""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Callable
from typing import Any

from wavekit.clock import Clock, utc_now
from wavekit.errors import ReportError
from wavekit.reports.runner import ReportRequest, ReportResult, render

_INTERVAL = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def next_run(every: str, after: dt.datetime) -> dt.datetime:
    """The first fire time strictly after ``after``: ``"1h"``-style intervals aligned to
    the epoch (so restarts keep the same slots), or a 5-field cron expression (UTC)."""
    after = after.astimezone(dt.UTC)
    if match := _INTERVAL.match(every):
        step = int(match[1]) * _UNITS[match[2]]
        if step <= 0:
            raise ReportError(f"every: the interval must be positive, got {every!r}")
        seconds = int(after.timestamp()) // step * step + step
        return dt.datetime.fromtimestamp(seconds, dt.UTC)
    try:
        from croniter import croniter

        fire: dt.datetime = croniter(every, after).get_next(dt.datetime)
    except (ImportError, ValueError, KeyError) as exc:
        raise ReportError(
            f"every: {every!r} is neither an interval like '1h' or '30m' nor a cron expression"
        ) from exc
    return fire.astimezone(dt.UTC)


def schedule(
    make_request: Callable[[dt.datetime], ReportRequest],
    every: str,
    *,
    clock: Clock = utc_now,
    sleep: Callable[[float], None] = time.sleep,
    max_runs: int | None = None,
    on_result: Callable[[ReportResult | ReportError], None] = lambda _: None,
    **render_options: Any,
) -> int:
    """Run in the foreground: at each fire time render ``make_request(fire_time)``.

    A failed run is reported through ``on_result`` and the schedule goes on. Returns the
    number of runs (when ``max_runs`` stops it; otherwise it runs until interrupted).
    """
    runs = 0
    fire = next_run(every, clock())
    while max_runs is None or runs < max_runs:
        wait = (fire - clock()).total_seconds()
        if wait > 0:
            sleep(wait)
            continue
        try:
            on_result(render(make_request(fire), clock=clock, **render_options))
        except ReportError as exc:
            on_result(exc)
        runs += 1
        fire = next_run(every, max(fire, clock()))
    return runs


def days(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from ``first`` to ``last`` inclusive."""
    if last < first:
        raise ReportError(f"to: {last} is before from: {first}")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
