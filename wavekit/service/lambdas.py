"""AWS Lambda entry points: ``api``, ``worker``, ``cleaner`` and ``refresh``.

Importing this module loads nothing heavy (the Lambda init phase stays short); each
handler builds what it needs on its first invocation and keeps it for the warm ones:

- ``api``: the FastAPI app (:func:`wavekit.service.api.create_app`) behind API Gateway
  HTTP API (payload 2.0) through Mangum; request-log events go to Firehose at the end
  of each invocation (a frozen Lambda runs no background thread).
- ``worker``: SQS-triggered; reports only the messages that must come back
  (``ReportBatchItemFailures``); redelivery is harmless (:meth:`JobService.process`).
- ``cleaner``: EventBridge-scheduled; expires and deletes files, and re-queues jobs
  whose message was lost (the queue is empty but the job is still in progress).
- ``refresh``: EventBridge-scheduled; leaderboards from Athena into the DynamoDB cache.

Every log line is one JSON object carrying ``request_id`` where there is one, so
``wavekit logs REQUEST_ID`` can gather a request's lines across the functions.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from wavekit.service.leaderboards import LeaderboardService

if TYPE_CHECKING:
    from wavekit.analytics.refresh import RefreshReport
    from wavekit.ports.analytics import LeaderboardCache, Warehouse
    from wavekit.events import RequestEvent
    from wavekit.ports import EventSink, JobQueue, QueueMessage
    from wavekit.service.jobs import JobService
    from wavekit.settings import Settings

log = logging.getLogger("wavekit.lambdas")

WORKER_RESERVE_MS = 30_000
"""The worker takes no new message with less than this left (the largest file takes
about 15 s to make and upload)."""
LOG_FIELDS = (
    "request_id",
    "route",
    "method",
    "status_code",
    "latency_ms",
    "client_id",
    "error_code",
    "cold_start",
    "message_id",
    "receive_count",
    "outcome",
    "aws_request_id",
    "function",
)

_state: dict[str, Any] = {}


# -- logging ---------------------------------------------------------------------------------


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and known extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in LOG_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def setup_logging() -> None:
    """JSON lines on the Lambda runtime's handler (or stdout), INFO and up. Outside
    Lambda an existing logging set-up (a test runner's, an app's) is left alone."""
    root = logging.getLogger()
    if root.handlers and "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:
        return
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stdout))
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
    root.setLevel(os.environ.get("WAVEKIT_LOG_LEVEL", "INFO"))
    for noisy in ("botocore", "boto3", "urllib3", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _context_fields(context: Any, function: str) -> dict[str, Any]:
    return {"aws_request_id": getattr(context, "aws_request_id", None), "function": function}


def reset() -> None:
    """Forget every built handler (a new 'cold start'); for tests."""
    _state.clear()


def _settings() -> Settings:
    from wavekit.settings import Settings

    return Settings(backend="aws")


# -- api ---------------------------------------------------------------------------------------


class LoggingEventSink:
    """Logs each request-log event as an access line (with its request id), then passes
    it on to the real sink."""

    def __init__(self, inner: EventSink) -> None:
        self.inner = inner

    def emit(self, event: RequestEvent) -> None:
        try:
            log.info(
                "request",
                extra={
                    "request_id": event.request_id,
                    "route": event.route,
                    "status_code": event.status_code,
                    "latency_ms": round(event.latency_ms, 2),
                    "client_id": event.client_id,
                    "error_code": event.error_code,
                    "cold_start": event.cold_start,
                },
            )
        finally:
            self.inner.emit(event)

    def flush(self) -> None:
        self.inner.flush()

    def close(self) -> None:
        self.inner.close()


def _admin_token(settings: Settings, session: Any) -> str | None:
    """The admin bearer token from Secrets Manager (its ARN in the environment)."""
    if settings.admin_token:
        return settings.admin_token
    secret = os.environ.get("WAVEKIT_ADMIN_TOKEN_SECRET")
    if not secret:
        return None
    from wavekit.backends.aws.clients import translated

    with translated("secretsmanager get admin token"):
        value: str = session.client("secretsmanager").get_secret_value(SecretId=secret)[
            "SecretString"
        ]
    return value


class AsyncLeaderboardRefresh(LeaderboardService):
    """The API's leaderboards on AWS: boards come from the DynamoDB cache; an on-demand
    refresh starts the refresh function asynchronously (24 Athena queries do not fit in
    an API request), so it answers at once, with no boards yet."""

    runs_in_background = True

    def __init__(self, cache: LeaderboardCache, function_name: str | None, session: Any) -> None:
        super().__init__(cache, _no_warehouse)
        self.function_name = function_name
        self.session = session

    def refresh(self, now: dt.datetime | None = None) -> RefreshReport:
        from wavekit.analytics.refresh import RefreshReport
        from wavekit.backends.aws.clients import translated
        from wavekit.errors import BackendError

        if not self.function_name:
            raise BackendError("WAVEKIT_REFRESH_FUNCTION is not set", transient=False)
        started = dt.datetime.now(dt.UTC)
        with translated("lambda invoke refresh"):
            self.session.client("lambda").invoke(
                FunctionName=self.function_name,
                InvocationType="Event",
                Payload=json.dumps({"source": "wavekit.api", "detail-type": "refresh"}).encode(),
            )
        return RefreshReport((), started, started)


def _no_warehouse() -> Warehouse:  # pragma: no cover - the API never computes boards itself
    raise RuntimeError("the API reads boards from the cache only")


def _build_api() -> dict[str, Any]:
    from mangum import Mangum

    from wavekit.backends.aws import DynamoLeaderboardCache
    from wavekit.backends.aws.clients import boto3 as _boto3
    from wavekit.runtime import Runtime, aws_backends
    from wavekit.service.api import create_app

    settings = _settings()
    session = _boto3().Session(region_name=settings.aws_region or os.environ.get("AWS_REGION"))
    settings = settings.model_copy(update={"admin_token": _admin_token(settings, session)})
    backends = aws_backends(settings, boto3_session=session)
    backends.events = LoggingEventSink(backends.events)
    runtime = Runtime.aws(settings, backends=backends)
    cache = DynamoLeaderboardCache(str(settings.jobs_table), boto3_session=session)
    runtime.leaderboards = AsyncLeaderboardRefresh(
        cache, os.environ.get("WAVEKIT_REFRESH_FUNCTION"), session
    )
    app = create_app(runtime=runtime, cold_start=True)
    return {"handler": Mangum(app, lifespan="off"), "runtime": runtime}


def api(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) → FastAPI; flushes request events before returning."""
    built = _state.get("api")
    if built is None:
        setup_logging()
        built = _state["api"] = _build_api()
    try:
        response: dict[str, Any] = built["handler"](event, context)
        return response
    finally:
        built["runtime"].backends.events.flush()


# -- worker ------------------------------------------------------------------------------------


class OutcomeQueue:
    """The worker's queue: remembers which messages were acked (finished for good)."""

    def __init__(self, inner: JobQueue) -> None:
        self.inner = inner
        self.acked: set[str] = set()

    def send(self, request_id: str) -> None:
        self.inner.send(request_id)

    def receive(self, max_messages: int = 1, wait_s: float = 0.0) -> list[QueueMessage]:
        return self.inner.receive(max_messages, wait_s)

    def ack(self, message: QueueMessage) -> None:
        self.inner.ack(message)
        self.acked.add(message.receipt)

    def retry_later(self, message: QueueMessage, delay_s: float) -> None:
        self.inner.retry_later(message, delay_s)

    def depth(self) -> int:
        return self.inner.depth()

    def recover(self) -> int:
        return self.inner.recover()


def _service(queue_wrapper: type[OutcomeQueue] | None = None) -> tuple[JobService, Any]:
    from wavekit.backends.aws.clients import boto3 as _boto3
    from wavekit.runtime import aws_backends
    from wavekit.service.jobs import JobService

    settings = _settings()
    session = _boto3().Session(region_name=settings.aws_region or os.environ.get("AWS_REGION"))
    backends = aws_backends(settings, boto3_session=session)
    queue = None
    if queue_wrapper is not None:
        queue = backends.queue = queue_wrapper(backends.queue)
    return JobService(settings, backends), queue


def worker(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Make the files of one SQS batch; return the messages that must come back."""
    from wavekit.backends.aws import message_from_record

    built = _state.get("worker")
    if built is None:
        setup_logging()
        built = _state["worker"] = _service(OutcomeQueue)
    service, queue = built
    fields = _context_fields(context, "worker")
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    failures: list[str] = []
    for record in event.get("Records", []):
        message_id = str(record.get("messageId", ""))
        if remaining is not None and remaining() < WORKER_RESERVE_MS:
            failures.append(message_id)  # not started: it comes back to a fresh invocation
            continue
        try:
            message = message_from_record(record)
        except (KeyError, TypeError, ValueError):
            log.error("malformed message (goes to the DLQ after its retries)",
                      extra={"message_id": message_id, **fields})  # fmt: skip
            failures.append(message_id)
            continue
        extra = {"request_id": message.request_id, "message_id": message_id, **fields}
        log.info("processing", extra={**extra, "receive_count": message.receive_count})
        started = time.perf_counter()
        try:
            service.process(message)
        except Exception:
            log.exception("processing failed; the message comes back", extra=extra)
            failures.append(message_id)
            continue
        done = message.receipt in queue.acked
        if not done:
            failures.append(message_id)
        log.info(
            "processed",
            extra={
                **extra,
                "outcome": "done" if done else "retry",
                "latency_ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
    queue.acked.clear()
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failures]}


# -- cleaner -----------------------------------------------------------------------------------


def requeue_lost(service: JobService, older_than_s: float, now: dt.datetime) -> list[str]:
    """Send again the jobs still in progress long after they were last touched, when the
    queue is empty (so their message was lost: a failed send after the job was stored,
    or a re-send swallowed by FIFO deduplication)."""
    if service.queue.depth() > 0:
        return []
    cutoff = now - dt.timedelta(seconds=older_than_s)
    lost = [job.request_id for job in service.jobs.in_progress() if job.updated_at < cutoff]
    for request_id in lost:
        service.queue.send(request_id)
        log.warning("re-queued a job whose message was lost", extra={"request_id": request_id})
    return lost


def cleaner(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Expire old jobs, delete files no live job needs, re-queue lost jobs."""
    built = _state.get("cleaner")
    if built is None:
        setup_logging()
        built = _state["cleaner"] = _service()
    service, _ = built
    report = service.clean()
    requeued = requeue_lost(service, service.settings.requeue_after_s, service.clock())
    result = {
        "expired": report.expired,
        "deleted_blobs": report.deleted_blobs,
        "requeued": len(requeued),
    }
    log.info("cleaner run %s", json.dumps(result), extra=_context_fields(context, "cleaner"))
    return result


# -- leaderboards --------------------------------------------------------------------------------


def _build_refresh() -> dict[str, Any]:
    from wavekit.backends.aws import AthenaWarehouse
    from wavekit.backends.aws import DynamoLeaderboardCache
    from wavekit.backends.aws.clients import boto3 as _boto3

    settings = _settings()
    session = _boto3().Session(region_name=settings.aws_region or os.environ.get("AWS_REGION"))
    if not (settings.glue_database and settings.athena_workgroup and settings.jobs_table):
        from wavekit.errors import BackendError

        raise BackendError(
            "refresh needs WAVEKIT_GLUE_DATABASE, WAVEKIT_ATHENA_WORKGROUP, WAVEKIT_JOBS_TABLE",
            transient=False,
        )
    warehouse = AthenaWarehouse(
        database=settings.glue_database,
        workgroup=settings.athena_workgroup,
        boto3_session=session,
    )
    if settings.lake_uri:  # views and table, idempotent (DDL scans nothing)
        warehouse.setup(settings.lake_uri)
    cache = DynamoLeaderboardCache(settings.jobs_table, boto3_session=session)
    return {"warehouse": warehouse, "cache": cache}


def refresh(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Recompute every leaderboard × window in Athena and store them in DynamoDB."""
    from wavekit.analytics import refresh_all

    built = _state.get("refresh")
    if built is None:
        setup_logging()
        built = _state["refresh"] = _build_refresh()
    report = refresh_all(built["warehouse"], built["cache"])
    scanned = sum(b.bytes_scanned or 0 for b in report.boards)
    result = {
        "refreshed": len(report.boards),
        "bytes_scanned": scanned,
        "seconds": round((report.finished_at - report.started_at).total_seconds(), 3),
    }
    log.info(
        "leaderboards refreshed %s", json.dumps(result), extra=_context_fields(context, "refresh")
    )
    return result
