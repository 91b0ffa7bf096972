"""Wire a deployment: backends from settings, plus the worker and cleaner threads.

``Runtime.local(settings)`` is the embedded default (zero cloud). The AWS Lambda entry
points build their backends differently but drive the same :class:`JobService`.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Protocol

from wavekit.backends.local import (
    LocalBlobStore,
    ParquetEventSink,
    SqliteDatabase,
    SqliteJobQueue,
    SqliteJobTable,
)
from wavekit.errors import MissingExtraError
from wavekit.service.cleaner import CleanerThread
from wavekit.service.jobs import Backends, Clock, JobService, utc_now
from wavekit.service.leaderboards import LeaderboardService, RefreshThread
from wavekit.service.worker import Worker
from wavekit.settings import Settings

log = logging.getLogger(__name__)
WORKER_NICENESS = 10


class EventLike(Protocol):
    def wait(self, timeout: float | None = None) -> bool: ...

    def set(self) -> None: ...


@dataclass
class Runtime:
    """Everything a running service owns; :meth:`start` and :meth:`close` bracket its life."""

    settings: Settings
    backends: Backends
    service: JobService
    worker: Worker
    cleaner: CleanerThread
    leaderboards: LeaderboardService | None = None
    refresher: RefreshThread | None = None
    extras: dict[str, object] = field(default_factory=dict)
    _started: bool = False
    _worker_process: tuple[BaseProcess, EventLike] | None = None

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
        try:
            settings.lake_dir.mkdir(parents=True, exist_ok=True)
            runtime.leaderboards = LeaderboardService.local(
                str(settings.leaderboard_db_path),
                str(settings.lake_dir),
                before_refresh=backends.events.flush,
            )
            runtime.refresher = RefreshThread(runtime.leaderboards, settings.leaderboard_refresh_s)
        except MissingExtraError:
            log.info("leaderboards need the analytics extra: pip install 'wavekit[analytics]'")
        return runtime

    @classmethod
    def aws(cls, settings: Settings, boto3_session: object = None) -> Runtime:
        """The AWS backends (S3, DynamoDB, SQS, Firehose); see :mod:`wavekit.backends.aws`."""
        from wavekit.backends.aws import aws_runtime

        return aws_runtime(settings, boto3_session=boto3_session)

    def start(self) -> None:
        """Recover from a crash, then start the worker (threads or a process) and cleaner."""
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
        if self.settings.worker_mode == "process" and self.settings.worker_threads:
            self._start_worker_process()
        else:
            self.worker.start()
        self.cleaner.start()
        if self.refresher is not None:
            self.refresher.start()
        self._started = True

    def _start_worker_process(self) -> None:
        context = multiprocessing.get_context("spawn")
        stop = context.Event()
        process = context.Process(
            target=_worker_process_main,
            args=(self.settings.model_dump_json(), os.getpid(), stop),
            name="wavekit-worker",
            daemon=True,
        )
        process.start()
        self._worker_process = (process, stop)

    def close(self) -> None:
        """Stop the worker and cleaner, and flush buffered events."""
        self.worker.stop()
        if self._worker_process is not None:
            process, stop = self._worker_process
            self._worker_process = None
            stop.set()
            process.join(30)
            if process.is_alive():
                process.terminate()
        self.cleaner.stop()
        if self.refresher is not None:
            self.refresher.stop()
        self.backends.events.close()
        self._started = False


def _worker_process_main(settings_json: str, parent_pid: int, stop: EventLike) -> None:
    """Worker threads in their own process; they exit when told to or when the parent
    dies (a ``kill -9`` of the server must not leave an orphan behind)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group; the parent stops us
    os.nice(WORKER_NICENESS)  # accepting requests comes first; synthesis drains the queue after
    settings = Settings.model_validate_json(settings_json)
    runtime = Runtime.local(settings)
    runtime.worker.start()
    try:
        while not stop.wait(0.5) and os.getppid() == parent_pid:
            pass
    finally:
        runtime.worker.stop()
        runtime.backends.events.close()
