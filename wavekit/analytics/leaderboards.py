"""Leaderboards (top frequencies, chords, clients, downloaded specs) and usage reports.

A board is ``<kind>_by_<metric>``: kind picks the SQL file
(``athena/leaderboard_<kind>.sql``), metric (``requests`` or ``bytes``) what it ranks by.
Each entry carries its rank, the key, both measures, and, against the previous period of
the same length, ``prev_value``, ``prev_rank`` and ``rank_change`` (positive = moved up,
null = new on the board). Ties share a rank, so a board may hold more than ``n`` rows.
The board names and the :class:`~wavekit.ports.analytics.Leaderboard` value live in
:mod:`wavekit.ports.analytics` (the caches store and validate them).
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wavekit.analytics.windows import Period, period, span
from wavekit.clock import utc_now
from wavekit.errors import ParameterError, UnknownQueryError
from wavekit.ports.analytics import (
    DEFAULT_N,
    DEFAULT_PRICES,
    ENTRY_COLUMNS,
    Leaderboard,
    Prices,
    QueryResult,
    Warehouse,
    board_spec,
    pandas,
    rows_to_csv,
)
from wavekit.sqlcatalog import ParamValue

if TYPE_CHECKING:
    import pandas as pd

ARRAY_KEYS = frozenset({"chord", "frequencies", "sweep_ends", "waveforms"})

USAGE_QUERIES: tuple[str, ...] = (
    "summary",
    "requests_per_hour",
    "requests_per_day",
    "latency_by_route",
    "errors_by_code",
    "bytes_served",
    "cold_starts",
    "unique_clients",
    "lambda_cost",
    "tone_kinds",
)
"""Usage reports; each is ``athena/usage_<name>.sql``."""


def _plain(value: Any) -> Any:
    """numpy/pandas scalars → JSON-safe Python values (NaN/NA → None)."""
    import numpy as np

    if value is None:
        return None
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, str):
        return value
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer | int):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if math.isnan(value) else float(value)
    try:
        if pandas().isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return value


def _parse_array_text(text: str, column: str = "frequencies") -> Any:
    """Athena returns arrays as text (``[440.0, null]``, ``[square, sine]``); back to lists."""
    if len(text) >= 2 and text[0] == "[" and text[-1] == "]":
        parts = [part.strip() for part in text[1:-1].split(",")] if text[1:-1].strip() else []
        if column == "waveforms":
            return parts
        try:
            return [None if part == "null" else float(part) for part in parts]
        except ValueError:
            return text
    return text


def _integral(value: Any) -> Any:
    return None if value is None else int(value)


def compute_leaderboard(
    warehouse: Warehouse,
    board: str,
    window: str = "all",
    *,
    n: int = DEFAULT_N,
    now: dt.datetime | None = None,
    clock: Callable[[], dt.datetime] = utc_now,
    span: Period | None = None,
) -> Leaderboard:
    """Run one board's SQL for one window (or an explicit ``span``, as reports do).

    Parameters
    ----------
    warehouse
        Where to run (DuckDB locally, Athena on AWS).
    board
        One of :data:`BOARDS`.
    window
        ``month``, ``year`` or ``all`` (see :mod:`wavekit.analytics.windows`).
    n
        Top ``n`` ranks (ties at the edge are all kept).
    now
        End of the window; ``clock()`` when omitted.
    clock
        Gives ``computed_at`` (and ``now`` if omitted); inject one in tests.
    span
        An explicit period (:func:`wavekit.analytics.windows.span`); overrides ``window``
        and ``now``. Rank changes compare with the preceding period of the same length.

    Raises
    ------
    UnknownBoardError, InvalidWindowError, ParameterError, QueryError
    """
    spec = board_spec(board)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ParameterError(f"n must be a positive integer, got {n!r}")
    resolved = span or period(window, now if now is not None else clock())
    params: dict[str, ParamValue] = {**resolved.params(), "n": n, "metric": spec.metric}
    result = warehouse.run(spec.query, params)
    columns = ("rank", *spec.key_columns, *ENTRY_COLUMNS[1:])
    records = result.frame.to_dict(orient="records")
    entries = []
    for record in records:
        entry = {column: _plain(record.get(column)) for column in columns}
        for column in ARRAY_KEYS.intersection(spec.key_columns):
            if isinstance(entry[column], str):
                entry[column] = _parse_array_text(entry[column], column)
        for column in ENTRY_COLUMNS:
            entry[column] = _integral(entry[column])
        entries.append(entry)
    return Leaderboard(
        board=board,
        window=resolved.window,
        n=n,
        start=resolved.start,
        end=resolved.end,
        computed_at=clock(),
        entries=tuple(entries),
        engine=result.engine,
        bytes_scanned=result.bytes_scanned,
        key_columns=spec.key_columns,
    )


def usage(
    warehouse: Warehouse,
    name: str,
    window: str | None = "month",
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    now: dt.datetime | None = None,
    prices: Prices = DEFAULT_PRICES,
) -> QueryResult:
    """Run one usage report over a window, or over an explicit ``[start, end)``.

    Parameters
    ----------
    warehouse
        Where to run.
    name
        One of :data:`USAGE_QUERIES`.
    window
        ``month``, ``year`` or ``all``; ignored when ``start`` and ``end`` are given.
    start, end
        An explicit UTC-comparable span (both aware datetimes).
    now
        End of ``window``; the current time when omitted.
    prices
        Price constants bound into the cost report.

    Raises
    ------
    UnknownQueryError, InvalidWindowError, ParameterError, QueryError
    """
    if name not in USAGE_QUERIES:
        raise UnknownQueryError(name, USAGE_QUERIES)
    resolved = resolve(window, start=start, end=end, now=now)
    params: dict[str, ParamValue] = {**resolved.params(), **prices.lambda_params()}
    return warehouse.run(f"usage_{name}", params)


def resolve(
    window: str | None,
    *,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> Period:
    """A :class:`Period` from a window name or an explicit span."""
    if start is not None or end is not None:
        if start is None or end is None:
            raise ParameterError("give both start and end, or neither")
        return span(start, end)
    return period(window or "all", now if now is not None else utc_now())


def frame_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A result frame as JSON-safe records (ISO timestamps, lists, None for missing)."""
    records = []
    for record in frame.to_dict(orient="records"):
        row = {}
        for key, value in record.items():
            if hasattr(value, "isoformat"):
                row[str(key)] = value.isoformat()
            else:
                row[str(key)] = _plain(value)
        records.append(row)
    return records


def frame_to_json(frame: pd.DataFrame, indent: int | None = 2) -> str:
    """Export a usage (or any result) frame as a JSON array of records."""
    return json.dumps(frame_records(frame), indent=indent)


def frame_to_csv(frame: pd.DataFrame) -> str:
    """Export a result frame as CSV (lists as JSON arrays, ISO timestamps)."""
    return rows_to_csv([str(c) for c in frame.columns], frame_records(frame))
