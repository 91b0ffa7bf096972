"""The analytics ports: what the warehouses and the leaderboard caches share with analytics.

- :class:`Warehouse` runs Athena-dialect SQL from the catalog (:mod:`wavekit.sqlcatalog`)
  and returns a :class:`QueryResult`; DuckDB over the local lake and Athena implement it,
  both normalising their frames with :func:`normalise_frame` so analytics never cares
  which engine ran. :class:`Prices` lets a warehouse put a price on what it scanned.
- :class:`LeaderboardCache` stores computed :class:`Leaderboard` values (SQLite locally,
  the jobs table on DynamoDB); caches validate names against :data:`BOARDS` and
  :data:`WINDOWS`, so an unknown one answers with the allowed values before any lookup.

Analytics computes boards (:mod:`wavekit.analytics.leaderboards`) and resolves windows to
dates (:mod:`wavekit.analytics.windows`); the names and the value objects live here so
the adapters need nothing from analytics.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, get_args, runtime_checkable

from wavekit.errors import InvalidWindowError, MissingExtraError, UnknownBoardError
from wavekit.sqlcatalog import ParamValue

if TYPE_CHECKING:
    import pandas as pd

# -- warehouse -------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryResult:
    """A query's rows plus what it cost: bytes scanned (and files, locally), time, id."""

    name: str
    engine: str
    frame: pd.DataFrame
    elapsed_s: float
    bytes_scanned: int | None = None
    cost_usd: float | None = None
    files_read: tuple[str, ...] = ()
    files_count: int | None = None
    query_id: str | None = None
    sql: str = field(default="", repr=False)


@runtime_checkable
class Warehouse(Protocol):
    """Runs Athena-dialect SQL from the catalog against the request-log events."""

    engine: str

    def run(self, name: str, params: Mapping[str, ParamValue] | None = None) -> QueryResult:
        """Run ``athena/<name>.sql`` with ``params`` bound to its ``:name`` placeholders."""
        ...

    def run_sql(
        self, sql: str, params: Mapping[str, ParamValue] | None = None, *, name: str = "adhoc"
    ) -> QueryResult:
        """Run one Athena-dialect statement that is not in the catalog."""
        ...

    def close(self) -> None:
        """Release connections; the warehouse is not used afterwards."""
        ...


def pandas() -> Any:
    """Import pandas, or say which extra installs it."""
    try:
        import pandas as module
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("pandas", "analytics") from exc
    return module


def normalise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Same shapes from every engine: datetimes UTC-aware, numpy arrays → lists."""
    pd = pandas()
    for column in frame.columns:
        series = frame[column]
        if pd.api.types.is_datetime64_any_dtype(series):
            frame[column] = (
                series.dt.tz_convert("UTC")
                if getattr(series.dt, "tz", None) is not None
                else series.dt.tz_localize("UTC")
            )
        elif series.dtype == object and len(series) and _has_arrays(series):
            frame[column] = [_as_list(v) for v in series]
    return frame


def _has_arrays(series: pd.Series) -> bool:
    import numpy as np

    return any(isinstance(v, np.ndarray) for v in series)


def _as_list(value: object) -> object:
    import numpy as np

    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


MIB = 1024**2
TIB = 1024**4


@dataclass(frozen=True)
class Prices:
    """List prices in USD (us-east-1); ``lambda_memory_gb`` is the function's memory.

    The SQL never hard-codes a price: ``athena/usage_lambda_cost.sql`` takes the Lambda
    ones as parameters (:meth:`lambda_params`) and the Athena warehouse prices each query
    with :meth:`athena_query_cost`. The other services' prices are
    :class:`wavekit.analytics.costs.ServicePrices`.
    """

    lambda_price_per_request: float = 0.20 / 1_000_000
    lambda_price_per_gb_second: float = 0.0000166667  # x86_64; arm64 is about 20 % less
    api_price_per_request: float = 1.00 / 1_000_000  # HTTP API, first 300 M a month
    lambda_memory_gb: float = 1.0
    athena_price_per_tb: float = 5.0
    athena_minimum_bytes: int = 10 * MIB
    lambda_free_requests_per_month: int = 1_000_000
    lambda_free_gb_seconds_per_month: int = 400_000

    def lambda_params(self) -> dict[str, ParamValue]:
        """The parameters of ``usage_lambda_cost.sql``."""
        return {
            "memory_gb": self.lambda_memory_gb,
            "lambda_price_per_request": self.lambda_price_per_request,
            "lambda_price_per_gb_second": self.lambda_price_per_gb_second,
            "api_price_per_request": self.api_price_per_request,
        }

    def athena_query_cost(self, bytes_scanned: int) -> float:
        """USD for one Athena query: bytes rounded up to a MiB, 10 MiB minimum, per TiB."""
        billed = max(math.ceil(bytes_scanned / MIB) * MIB, self.athena_minimum_bytes)
        return billed / TIB * self.athena_price_per_tb


DEFAULT_PRICES = Prices()
ARM64_PRICES = Prices(lambda_price_per_gb_second=0.0000133334)

# -- board and window names ------------------------------------------------------------------

METRICS: tuple[str, ...] = ("requests", "bytes")
KINDS: dict[str, tuple[str, ...]] = {
    "frequencies": ("frequency",),
    "chords": ("chord",),
    "clients": ("client_id",),
    "specs": (
        "frequencies",
        "waveforms",
        "sweep_ends",
        "noise",
        "duration_s",
        "sample_rate",
        "bits_per_sample",
        "channels",
        "volume",
    ),
}
"""Board kind → the key columns its SQL returns."""

BOARDS: tuple[str, ...] = tuple(f"{kind}_by_{metric}" for kind in KINDS for metric in METRICS)
"""Every board name: frequencies_by_requests, frequencies_by_bytes, ..., specs_by_bytes."""

ENTRY_COLUMNS = ("rank", "value", "requests", "bytes", "prev_value", "prev_rank", "rank_change")
DEFAULT_N = 10


@dataclass(frozen=True)
class BoardSpec:
    name: str
    kind: str
    metric: str

    @property
    def query(self) -> str:
        return f"leaderboard_{self.kind}"

    @property
    def key_columns(self) -> tuple[str, ...]:
        return KINDS[self.kind]


def board_spec(board: str) -> BoardSpec:
    """Parse a board name; :class:`UnknownBoardError` lists the valid ones."""
    if board not in BOARDS:
        raise UnknownBoardError(board, BOARDS)
    kind, metric = board.rsplit("_by_", 1)
    return BoardSpec(board, kind, metric)


Window = Literal["month", "year", "all"]
WINDOWS: tuple[str, ...] = get_args(Window)
"""Window names; :mod:`wavekit.analytics.windows` resolves them to dates."""


def check_window(window: str) -> Window:
    """``window`` if it is one of :data:`WINDOWS`, else :class:`InvalidWindowError`."""
    if window not in WINDOWS:
        raise InvalidWindowError(window, WINDOWS)
    return window  # type: ignore[return-value]


# -- leaderboards ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Leaderboard:
    """One computed board: entries plus the window it covers and when it was computed."""

    board: str
    window: str
    n: int
    start: dt.datetime
    end: dt.datetime
    computed_at: dt.datetime
    entries: tuple[dict[str, Any], ...]
    engine: str = ""
    bytes_scanned: int | None = None
    key_columns: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (ISO timestamps); :meth:`from_dict` reverses it."""
        return {
            "board": self.board,
            "window": self.window,
            "n": self.n,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "computed_at": self.computed_at.isoformat(),
            "engine": self.engine,
            "bytes_scanned": self.bytes_scanned,
            "key_columns": list(self.key_columns),
            "entries": [dict(e) for e in self.entries],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Leaderboard:
        return cls(
            board=data["board"],
            window=data["window"],
            n=int(data["n"]),
            start=dt.datetime.fromisoformat(data["start"]),
            end=dt.datetime.fromisoformat(data["end"]),
            computed_at=dt.datetime.fromisoformat(data["computed_at"]),
            entries=tuple(dict(e) for e in data["entries"]),
            engine=data.get("engine", ""),
            bytes_scanned=data.get("bytes_scanned"),
            key_columns=tuple(data.get("key_columns", ())),
        )

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_csv(self) -> str:
        """One row per entry; list-valued keys (chords) as JSON arrays."""
        columns = ["rank", *self.key_columns, *ENTRY_COLUMNS[1:]]
        return rows_to_csv(columns, self.entries)

    def to_frame(self) -> pd.DataFrame:
        columns = ["rank", *self.key_columns, *ENTRY_COLUMNS[1:]]
        return pandas().DataFrame(list(self.entries), columns=columns)


def rows_to_csv(columns: Sequence[str], rows: Sequence[Mapping[str, Any]]) -> str:
    """CSV with a header row; lists as JSON arrays, datetimes as ISO text, None empty."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row.get(c)) for c in columns])
    return out.getvalue()


def _csv_cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list):
        return json.dumps(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


@runtime_checkable
class LeaderboardCache(Protocol):
    """Stores the latest computation of each (board, window).

    Computing a board scans the lake (seconds, and money on Athena); serving one should
    be a key lookup, so a refresh stores every board and the API reads :meth:`get`.
    """

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
