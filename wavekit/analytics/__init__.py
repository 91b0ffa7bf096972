"""Request-log analytics: Athena SQL that also runs on DuckDB, leaderboards, usage, costs.

Analytics works on the ports (:mod:`wavekit.ports.analytics`): give it any
:class:`Warehouse`. The engines are adapters: :class:`~wavekit.backends.local.DuckDBWarehouse`
over the local Parquet lake, :class:`~wavekit.backends.aws.AthenaWarehouse` on AWS; the
leaderboard caches are adapters too. Importing this package loads no engine.

Typical use::

    from wavekit.analytics import compute_leaderboard, usage
    from wavekit.backends.local import DuckDBWarehouse

    with DuckDBWarehouse("out/lake") as warehouse:
        board = compute_leaderboard(warehouse, "chords_by_requests", "month", n=10)
        print(board.to_csv())
        print(usage(warehouse, "latency_by_route", "month").frame)
"""

from wavekit.analytics.leaderboards import (
    USAGE_QUERIES,
    compute_leaderboard,
    frame_to_csv,
    frame_to_json,
    usage,
)
from wavekit.analytics.refresh import RefreshReport, refresh_all
from wavekit.analytics.traffic import TrafficSummary, generate_traffic
from wavekit.analytics.windows import Period, period
from wavekit.errors import (
    AnalyticsError,
    InvalidWindowError,
    LakeNotFoundError,
    ParameterError,
    QueryError,
    UnknownBoardError,
    UnknownNameError,
    UnknownQueryError,
    UnsupportedSQLError,
)
from wavekit.ports.analytics import (
    ARM64_PRICES,
    BOARDS,
    DEFAULT_PRICES,
    METRICS,
    WINDOWS,
    Leaderboard,
    LeaderboardCache,
    Prices,
    QueryResult,
    Warehouse,
)

__all__ = [
    "ARM64_PRICES",
    "BOARDS",
    "DEFAULT_PRICES",
    "METRICS",
    "USAGE_QUERIES",
    "WINDOWS",
    "AnalyticsError",
    "InvalidWindowError",
    "LakeNotFoundError",
    "Leaderboard",
    "LeaderboardCache",
    "ParameterError",
    "Period",
    "Prices",
    "QueryError",
    "QueryResult",
    "RefreshReport",
    "TrafficSummary",
    "UnknownBoardError",
    "UnknownNameError",
    "UnknownQueryError",
    "UnsupportedSQLError",
    "Warehouse",
    "compute_leaderboard",
    "frame_to_csv",
    "frame_to_json",
    "generate_traffic",
    "period",
    "refresh_all",
    "usage",
]
