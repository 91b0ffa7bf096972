"""Request-log analytics: Athena SQL that also runs on DuckDB, leaderboards, usage, costs.

Importing this package loads no engine: duckdb, pyarrow, sqlglot, pandas and awswrangler
are imported when a warehouse first needs them (extras ``analytics`` and ``aws``).

Typical use::

    from wavekit.analytics import DuckDBWarehouse, compute_leaderboard, usage

    with DuckDBWarehouse("out/lake") as warehouse:
        board = compute_leaderboard(warehouse, "chords_by_requests", "month", n=10)
        print(board.to_csv())
        print(usage(warehouse, "latency_by_route", "month").frame)
"""

from wavekit.analytics.athena import AthenaWarehouse
from wavekit.analytics.cache import (
    LeaderboardCache,
    RefreshReport,
    SQLiteLeaderboardCache,
    refresh_all,
)
from wavekit.analytics.costs import ARM64_PRICES, DEFAULT_PRICES, Prices
from wavekit.analytics.duckdb_warehouse import DuckDBWarehouse
from wavekit.analytics.leaderboards import (
    BOARDS,
    METRICS,
    USAGE_QUERIES,
    Leaderboard,
    compute_leaderboard,
    frame_to_csv,
    frame_to_json,
    usage,
)
from wavekit.analytics.traffic import TrafficSummary, generate_traffic
from wavekit.analytics.warehouse import QueryResult, Warehouse
from wavekit.analytics.windows import WINDOWS, Period, period
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

__all__ = [
    "ARM64_PRICES",
    "BOARDS",
    "DEFAULT_PRICES",
    "METRICS",
    "USAGE_QUERIES",
    "WINDOWS",
    "AnalyticsError",
    "AthenaWarehouse",
    "DuckDBWarehouse",
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
    "SQLiteLeaderboardCache",
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
