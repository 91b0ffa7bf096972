"""Wire a deployment: backends from settings, plus the worker and cleaner threads.

``Runtime.local(settings)`` is the embedded default (zero cloud). The AWS Lambda entry
points build their backends differently but drive the same :class:`JobService`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from wavekit.backends.local import (
    LocalBlobStore,
    ParquetEventSink,
    SqliteDatabase,
    SqliteJobQueue,
    SqliteJobTable,
)
from wavekit.service.cleaner import CleanerThread
from wavekit.service.jobs import Backends, Clock, JobService, utc_now
from wavekit.service.worker import Worker
from wavekit.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    """Everything a running service owns; :meth:`start` and :meth:`close` bracket its life."""

    settings: Settings
    backends: Backends
    service: JobService
    worker: Worker
    cleaner: CleanerThread
    extras: dict[str, object] = field(default_factory=dict)
    _started: bool = False

    @classmethod
    def local(cls, settings: Settings, clock: Clock = utc_now) -> Runtime:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = SqliteDatabase(settings.db_path)
        blobs = LocalBlobStore(settings.blob_dir)
        queue = SqliteJobQueue(db, settings.visibility_timeout_s)
        backends = Backends(
            blobs=blobs,
            jobs=SqliteJobTable(db),
            queue=queue,
            events=ParquetEventSink(
                settings.lake_dir, settings.event_flush_rows, settings.event_flush_s
            ),
        )
        service = JobService(settings, backends, blobs.temp_path, clock)
        runtime = cls(
            settings=settings,
            backends=backends,
            service=service,
            worker=Worker(service, settings.worker_threads),
            cleaner=CleanerThread(service, settings.cleaner_interval_s),
        )
        runtime.extras["db"] = db
        return runtime

    def start(self) -> None:
        """Recover from a crash, then start the worker and cleaner threads."""
        if self._started:
            return
        blobs = self.backends.blobs
        if isinstance(blobs, LocalBlobStore):
            removed = blobs.remove_temp_files()
            if removed:
                log.info("removed %d partial files left by an interrupted run", removed)
        queue = self.backends.queue
        if isinstance(queue, SqliteJobQueue):
            queue.make_all_visible()
        requeued = self.service.recover()
        if requeued:
            log.info("re-queued %d unfinished job(s)", requeued)
        self.worker.start()
        self.cleaner.start()
        self._started = True

    def close(self) -> None:
        """Stop threads and flush buffered events."""
        self.worker.stop()
        self.cleaner.stop()
        self.backends.events.close()
        self._started = False
