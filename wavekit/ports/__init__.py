"""Ports: the interfaces between the application (service, analytics) and the adapters.

- :mod:`.jobs`   blob store, job table and job queue, with the job model;
- :mod:`.events` the request-log event sink.

The application imports these, never an adapter; only :mod:`wavekit.runtime` (the
composition root) names concrete adapters.
"""

from wavekit.ports.events import EventSink
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
    "LIVE_STATUSES",
    "BlobStore",
    "EventSink",
    "Job",
    "JobQueue",
    "JobStatus",
    "JobTable",
    "QueueMessage",
    "blob_key",
]
