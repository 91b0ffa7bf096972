"""Ports: the interfaces between the application (service, analytics) and the adapters.

- :mod:`.jobs`      blob store, job table and job queue, with the job model;
- :mod:`.events`    the request-log event sink, and the buffering base both sinks share;
- :mod:`.analytics` the warehouse and the leaderboard cache, with the values they carry
  (query results, prices, leaderboards, board and window names).

The application imports these, never an adapter; only :mod:`wavekit.runtime` (the
composition root) names concrete adapters.
"""

from wavekit.ports.analytics import (
    BOARDS,
    WINDOWS,
    Leaderboard,
    LeaderboardCache,
    Prices,
    QueryResult,
    Warehouse,
)
from wavekit.ports.events import BufferedEventSink, EventSink
from wavekit.ports.jobs import (
    LIVE_STATUSES,
    BlobStore,
    Job,
    JobQueue,
    JobStatus,
    JobTable,
    QueueMessage,
    blob_key,
)

__all__ = [
    "BOARDS",
    "LIVE_STATUSES",
    "WINDOWS",
    "BlobStore",
    "BufferedEventSink",
    "EventSink",
    "Job",
    "JobQueue",
    "JobStatus",
    "JobTable",
    "Leaderboard",
    "LeaderboardCache",
    "Prices",
    "QueryResult",
    "QueueMessage",
    "Warehouse",
    "blob_key",
]
