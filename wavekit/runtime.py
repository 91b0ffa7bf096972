"""The composition root: the one module that names concrete adapters.

:func:`build` turns :class:`~wavekit.settings.Settings` into a :class:`Runtime`: the
adapters for ``settings.backend`` (files + SQLite + a Parquet lake locally; S3, DynamoDB,
SQS and Firehose on AWS) wired into the application (:class:`JobService`, the worker,
the cleaner, the leaderboards). Everything else takes ports, so the same service runs
in ``wavekit serve``, a notebook and the Lambda handlers.

A :class:`Runtime` is also what the HTTP API takes: it satisfies
:class:`wavekit.service.api.ApiContext` (settings, job service, event sink, leaderboards)
and :class:`wavekit.service.api.Lifecycle` (start, close). The Lambda handlers get their
AWS-only parts here too (:func:`aws_leaderboard_cache`, :func:`aws_refresh_parts`,
:func:`aws_dead_letters`, :func:`sqs_message`), so no other module names an adapter.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wavekit.clock import Clock, utc_now
from wavekit.errors import BackendError, FieldProblem, InvalidSpecError, MissingExtraError
from wavekit.service.cleaner import CleanerThread, DeadLetters
from wavekit.service.jobs import Backends, JobService
from wavekit.service.leaderboards import LeaderboardService, RefreshThread
from wavekit.service.worker import Worker
from wavekit.settings import Settings

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from wavekit.ports import EventSink, QueueMessage
    from wavekit.ports.analytics import LeaderboardCache, Warehouse

log = logging.getLogger(__name__)
WORKER_NICENESS = 10
WORKER_SWITCH_INTERVAL_S = 0.0002
STOP_BUDGET_S = 2.0
"""How long :meth:`Runtime.close` waits for each background part (worker threads, the
worker process, cleaner, refresher) before leaving it: ``wavekit serve`` must exit
within seconds of SIGTERM (a service manager's stop). A job cut short is not lost: its
message was never acked, so the next start re-queues it, and the partial file is
removed by the blob store's recovery."""


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
    _worker_process: BaseProcess | None = None

    @property
    def events(self) -> EventSink:
        """Where the API's request-log events go (part of the ``ApiContext``)."""
        return self.backends.events

    @classmethod
    def local(cls, settings: Settings, clock: Clock = utc_now) -> Runtime:
        """Files, SQLite and a Parquet lake under ``settings.data_dir``; worker threads."""
        from wavekit.backends.local import (
            LocalBlobStore,
            ParquetEventSink,
            SqliteDatabase,
            SqliteJobQueue,
            SqliteJobTable,
        )

        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = SqliteDatabase(settings.db_path)
        blobs = LocalBlobStore(settings.blob_dir)
        queue = SqliteJobQueue(db, settings.visibility_timeout_s)
        events = ParquetEventSink(
            settings.lake_dir, settings.event_flush_rows, settings.event_flush_s
        )
        backends = Backends(
            blobs=blobs,
            jobs=SqliteJobTable(db),
            queue=queue,
            events=events,
            loop_commits=db,  # POSTs on the event loop share a COMMIT (ADR 0007)
        )
        service = JobService(settings, backends, clock)
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
            runtime.leaderboards = local_leaderboards(settings, events.flush_and_compact)
            runtime.refresher = RefreshThread(runtime.leaderboards, settings.leaderboard_refresh_s)
        except MissingExtraError:
            log.info("leaderboards need the analytics extra: pip install 'wavekit[analytics]'")
        return runtime

    @classmethod
    def aws(
        cls,
        settings: Settings,
        boto3_session: Any = None,
        *,
        boto_config: Any = None,
        backends: Backends | None = None,
    ) -> Runtime:
        """A runtime on AWS. Its worker and cleaner threads are never started: there the
        SQS-triggered and scheduled Lambdas do that work."""
        backends = backends or aws_backends(
            settings, boto3_session=boto3_session, boto_config=boto_config
        )
        service = JobService(settings, backends)
        return cls(
            settings=settings,
            backends=backends,
            service=service,
            worker=Worker(service, threads=0),
            cleaner=CleanerThread(service, settings.cleaner_interval_s),
        )

    def start(self) -> None:
        """Recover from a crash, then start the worker (threads or a process) and cleaner."""
        if self._started:
            return
        removed = self.backends.blobs.recover()
        if removed:
            log.info("removed %d partial files left by an interrupted run", removed)
        self.backends.queue.recover()
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
        import multiprocessing

        # Told to stop by SIGTERM, not by a multiprocessing.Event: a child killed while
        # holding the Event's lock (SIGTERM to the process group) left set() blocked for
        # ever, and the server hung at "Waiting for application shutdown".
        context = multiprocessing.get_context("spawn")
        process = context.Process(
            target=_worker_process_main,
            args=(self.settings.model_dump_json(), os.getpid()),
            name="wavekit-worker",
            daemon=True,
        )
        process.start()
        self._worker_process = process

    def close(self) -> None:
        """Stop the worker and cleaner, and flush buffered events, within
        :data:`STOP_BUDGET_S` in all (one deadline shared by every part, so a loaded
        machine cannot add the parts' waits up): unfinished jobs are re-queued on the
        next start."""
        deadline = time.monotonic() + STOP_BUDGET_S

        def left() -> float:
            return max(0.05, deadline - time.monotonic())

        if self._worker_process is not None:
            process, self._worker_process = self._worker_process, None
            if process.is_alive():
                process.terminate()  # SIGTERM: the child stops its threads and exits
        else:
            process = None
        self.worker.stop(left())
        if process is not None:
            process.join(left())
            if process.is_alive():
                process.kill()
                process.join(STOP_BUDGET_S)  # SIGKILL is immediate; reaped: no zombie
            _stop_resource_tracker()
        self.cleaner.stop(left())
        if self.refresher is not None:
            self.refresher.stop(left())
        self.backends.events.close()
        self._started = False


WAREHOUSE_ENGINES = ("local", "athena")


def open_warehouse(
    engine: str = "local",
    lake: str | Path = "out/lake",
    athena_database: str = "wavekit_logs",
    athena_workgroup: str = "wavekit",
) -> Warehouse:
    """DuckDB over a local lake, or Athena in the project's workgroup: the one place that
    picks a warehouse for the CLI, the reports and the local service."""
    if engine == "local":
        try:
            from wavekit.backends.local.duckdb import DuckDBWarehouse
        except ImportError as exc:  # pragma: no cover - depends on installed extras
            raise MissingExtraError("duckdb", "analytics") from exc
        return DuckDBWarehouse(lake)
    if engine == "athena":
        from wavekit.backends.aws.athena import AthenaWarehouse

        return AthenaWarehouse(database=athena_database, workgroup=athena_workgroup)
    raise InvalidSpecError(
        [FieldProblem("engine", f"must be one of {WAREHOUSE_ENGINES}, got {engine!r}")]
    )


def local_leaderboards(
    settings: Settings, before_refresh: Callable[[], None]
) -> LeaderboardService:
    """SQLite cache next to the jobs, DuckDB over the service's own Parquet lake."""
    from wavekit.backends.local.leaderboard_cache import SQLiteLeaderboardCache

    lake = str(settings.lake_dir)
    return LeaderboardService(
        SQLiteLeaderboardCache(str(settings.leaderboard_db_path)),
        lambda: open_warehouse("local", lake),
        before_refresh,
    )


def build(settings: Settings) -> Runtime:
    """The runtime ``settings.backend`` names: ``local`` (default) or ``aws``."""
    if settings.backend == "aws":
        return Runtime.aws(settings)
    return Runtime.local(settings)


def _required(settings: Settings, *names: str) -> list[str]:
    values = [getattr(settings, name) for name in names]
    missing = [f"WAVEKIT_{n.upper()}" for n, v in zip(names, values, strict=True) if not v]
    if missing:
        raise BackendError(f"the aws backend needs {', '.join(missing)}", transient=False)
    return [str(v) for v in values]


def aws_backends(
    settings: Settings, *, boto3_session: Any = None, boto_config: Any = None
) -> Backends:
    """The four job ports on AWS, named by ``settings`` (``WAVEKIT_BLOB_BUCKET`` ...)."""
    from wavekit.backends.aws import DynamoJobTable, FirehoseEventSink, S3BlobStore, SqsJobQueue
    from wavekit.backends.aws.clients import region

    bucket, table, queue, stream = _required(
        settings, "blob_bucket", "jobs_table", "queue_url", "events_stream"
    )
    common: dict[str, Any] = {
        "boto3_session": boto3_session,
        "boto_config": boto_config,
        "region": region(settings.aws_region),
    }
    return Backends(
        blobs=S3BlobStore(bucket, **common),
        jobs=DynamoJobTable(table, ttl_s=settings.job_ttl_s, **common),
        queue=SqsJobQueue(queue, **common),
        events=FirehoseEventSink(stream, **common),
    )


def aws_dead_letters(settings: Settings, *, boto3_session: Any = None) -> DeadLetters:
    """The job queue's dead-letter queue (found from its redrive policy), for the cleaner."""
    from wavekit.backends.aws.clients import region
    from wavekit.backends.aws.dead_letters import SqsDeadLetterQueue

    (queue,) = _required(settings, "queue_url")
    return SqsDeadLetterQueue(
        queue, boto3_session=boto3_session, region=region(settings.aws_region)
    )


def aws_leaderboard_cache(settings: Settings, *, boto3_session: Any = None) -> LeaderboardCache:
    """The boards cached in the jobs table (``WAVEKIT_JOBS_TABLE``), as the API reads them."""
    from wavekit.backends.aws import DynamoLeaderboardCache

    (table,) = _required(settings, "jobs_table")
    return DynamoLeaderboardCache(table, boto3_session=boto3_session)


def aws_refresh_parts(
    settings: Settings, *, boto3_session: Any = None
) -> tuple[Warehouse, LeaderboardCache]:
    """Athena over the request-log events and the DynamoDB cache: what the scheduled
    refresh recomputes the boards with. With ``WAVEKIT_LAKE_URI`` the events table and
    views are (re)declared first, which is idempotent and scans nothing."""
    from wavekit.backends.aws import AthenaWarehouse, DynamoLeaderboardCache

    database, workgroup, table = _required(
        settings, "glue_database", "athena_workgroup", "jobs_table"
    )
    warehouse = AthenaWarehouse(database=database, workgroup=workgroup, boto3_session=boto3_session)
    if settings.lake_uri:
        warehouse.setup(settings.lake_uri)
    return warehouse, DynamoLeaderboardCache(table, boto3_session=boto3_session)


def sqs_message(record: Mapping[str, Any]) -> QueueMessage:
    """The job message inside one record of an SQS-triggered Lambda event (``KeyError``,
    ``TypeError`` or ``ValueError`` when it is malformed)."""
    from wavekit.backends.aws import message_from_record

    return message_from_record(record)


def _stop_resource_tracker() -> None:
    """Reap the helper process a ``spawn`` start leaves running (multiprocessing's
    resource tracker). Left alone it outlives the server by a moment, and where the
    process it is handed to does not reap orphans (a container's init), it stays a zombie
    in the service's process group. There is no public API; without it, nothing is done."""
    from multiprocessing import resource_tracker

    stop = getattr(getattr(resource_tracker, "_resource_tracker", None), "_stop", None)
    if callable(stop):
        try:
            stop()
        except Exception:  # a tracker already gone, or another Python's internals
            log.debug("could not stop the resource tracker", exc_info=True)


def _worker_process_main(settings_json: str, parent_pid: int) -> None:
    """Worker threads in their own process; they exit on SIGTERM (from the parent, or
    sent to the whole process group) or when the parent dies (a ``kill -9`` of the server
    must not leave an orphan behind)."""
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the group; the parent stops us
    os.nice(WORKER_NICENESS)  # accepting requests comes first; synthesis drains the queue after
    # Its threads write the jobs database between synthesis steps. Each SQLite call gives
    # the GIL up and takes it back, and a synthesising thread kept it for up to the 5 ms
    # switch interval, while the database's write lock was held: the API's BEGIN waited
    # for it (18 % of its event loop under load, ADR 0007). A short interval bounds that.
    sys.setswitchinterval(WORKER_SWITCH_INTERVAL_S)
    settings = Settings.model_validate_json(settings_json)
    runtime = Runtime.local(settings)
    runtime.worker.start()
    try:
        while not stop.wait(0.5) and os.getppid() == parent_pid:
            pass
    finally:
        runtime.worker.stop(STOP_BUDGET_S / 2)  # inside the parent's wait for us
        runtime.backends.events.close()
    # Leave at once: a thread still synthesising must not hold up the exit (its job's
    # message is re-delivered on the next start), and interpreter shutdown under a
    # running daemon thread is where hangs hide.
    os._exit(0)
