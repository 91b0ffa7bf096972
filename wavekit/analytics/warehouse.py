"""The ``Warehouse`` port: run a catalog query (or ad-hoc Athena SQL) and get a DataFrame back.

Two adapters implement it: :class:`~wavekit.analytics.duckdb_warehouse.DuckDBWarehouse`
(the local Parquet lake) and :class:`~wavekit.analytics.athena.AthenaWarehouse`. Both
take the same Athena-dialect text with ``:name`` parameters (see :mod:`.sql`) and return
frames normalised the same way (timestamps UTC-aware, arrays as lists), so leaderboards,
usage reports and the notebook do not care which engine ran.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from wavekit.analytics.sql import ParamValue

if TYPE_CHECKING:
    import pandas as pd


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
    from wavekit.errors import MissingExtraError

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
