"""The worker function: makes the files of one SQS batch and reports partial failures.

powertools' :class:`BatchProcessor` runs :func:`process_record` on each record and
answers ``{"batchItemFailures": [...]}`` (the trigger has ``ReportBatchItemFailures``):
only the messages that must come back are reported, and redelivery is harmless
(:meth:`JobService.process` is idempotent). A record fails when it is malformed (it goes
to the DLQ after its retries), when processing raises, when the job service left the
message for a later attempt (a transient failure below ``max_attempts``), or when too
little time is left to start it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from wavekit.errors import JobNotReadyError
from wavekit.handlers import common
from wavekit.handlers.common import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from wavekit.ports import JobQueue, QueueMessage
    from wavekit.service.jobs import JobService

WORKER_RESERVE_MS = 30_000
"""The worker takes no new message with less than this left (the largest file takes
about 15 s to make and upload)."""

processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
"""A failed batch is reported item by item, never raised: the messages that were not
started come back to a fresh invocation, the malformed ones go to the DLQ."""


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


@dataclass(frozen=True)
class BuiltWorker:
    service: JobService
    queue: OutcomeQueue


def _build() -> BuiltWorker:
    from wavekit.runtime import aws_backends
    from wavekit.service.jobs import JobService

    settings = common.settings()
    common.configure_logging(settings)
    backends = aws_backends(settings, boto3_session=common.boto3_session(settings))
    queue = OutcomeQueue(backends.queue)
    backends.queue = queue
    return BuiltWorker(JobService(settings, backends), queue)


def process_record(record: SQSRecord, lambda_context: LambdaContext) -> str:
    """Make one job's file; raise (the record is reported) unless it is done for good."""
    from wavekit.runtime import sqs_message

    built = common.once("worker", _build)
    if lambda_context.get_remaining_time_in_millis() < WORKER_RESERVE_MS:
        raise JobNotReadyError("not started: too little time left in this invocation")
    try:
        message = sqs_message(record)
    except (KeyError, TypeError, ValueError):
        logger.error(
            "malformed message (goes to the DLQ after its retries)",
            extra={"message_id": record.message_id},
        )
        raise
    extra = {"request_id": message.request_id, "message_id": record.message_id}
    logger.info("processing", extra={**extra, "receive_count": message.receive_count})
    started = time.perf_counter()
    try:
        built.service.process(message)
    except Exception:
        logger.exception("processing failed; the message comes back", extra=extra)
        raise
    done = message.receipt in built.queue.acked
    logger.info(
        "processed",
        extra={
            **extra,
            "outcome": "done" if done else "retry",
            "latency_ms": round((time.perf_counter() - started) * 1000, 1),
        },
    )
    if not done:
        raise JobNotReadyError("left for a later attempt (a transient failure)")
    return message.request_id


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    """Make the files of one SQS batch; return the messages that must come back."""
    built = common.once("worker", _build)
    try:
        return process_partial_response(
            event=event, record_handler=process_record, processor=processor, context=context
        )
    finally:
        built.queue.acked.clear()
