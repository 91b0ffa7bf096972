"""The local adapters: files, SQLite, a Parquet lake and DuckDB; zero cloud.

- :mod:`.files` blob store; :mod:`.sqlite` the database, job table and job queue;
- :mod:`.lake` event sink (Parquet); :mod:`.duckdb` warehouse over that lake;
- :mod:`.leaderboard_cache` boards in SQLite.

Importing this package loads neither duckdb nor pyarrow: they are imported when a
warehouse is opened or events are first written.
"""

from wavekit.backends.local.duckdb import DuckDBWarehouse
from wavekit.backends.local.files import LocalBlobStore
from wavekit.backends.local.lake import ParquetEventSink
from wavekit.backends.local.leaderboard_cache import SQLiteLeaderboardCache
from wavekit.backends.local.sqlite import SqliteDatabase, SqliteJobQueue, SqliteJobTable

__all__ = [
    "DuckDBWarehouse",
    "LocalBlobStore",
    "ParquetEventSink",
    "SQLiteLeaderboardCache",
    "SqliteDatabase",
    "SqliteJobQueue",
    "SqliteJobTable",
]
