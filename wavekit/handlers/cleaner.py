"""The cleaner function (EventBridge schedule), in this order:

1. fails the jobs whose message was dead-lettered (:func:`drain_dead_letters`): the
   worker was given them ``maxReceiveCount`` times and never finished, so the client
   gets 409 ``job_failed`` instead of waiting for the TTL;
2. expires old jobs and deletes the files no live job needs (:meth:`JobService.clean`);
3. re-queues jobs in progress for longer than ``requeue_after_s``, whatever the queue's
   depth (:meth:`JobService.requeue_lost`); after step 1, so a dead-lettered job is
   never sent round again.

The DLQ is drained here rather than by its own SQS trigger: a dead letter needs no
prompt answer (the client polls; 15 minutes at most), one function keeps the stack and
its roles small, and the DLQ keeps the message (14 days) for whoever wants to look
before the next run. Two overlapping runs would be harmless: a letter one of them
received is invisible to the other, and failing a job twice is a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from wavekit.handlers import common
from wavekit.handlers.common import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from wavekit.service.cleaner import DeadLetters
    from wavekit.service.jobs import JobService


@dataclass(frozen=True)
class BuiltCleaner:
    service: JobService
    dead_letters: DeadLetters


def _build() -> BuiltCleaner:
    from wavekit.runtime import aws_backends, aws_dead_letters
    from wavekit.service.jobs import JobService

    settings = common.settings()
    common.configure_logging(settings)
    session = common.boto3_session(settings)
    backends = aws_backends(settings, boto3_session=session)
    return BuiltCleaner(
        JobService(settings, backends), aws_dead_letters(settings, boto3_session=session)
    )


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, int]:
    """Fail dead-lettered jobs, expire old jobs, delete unneeded files, re-queue lost jobs."""
    from wavekit.service.cleaner import drain_dead_letters

    built = common.once("cleaner", _build)
    service = built.service
    dead_lettered = drain_dead_letters(service, built.dead_letters)
    report = service.clean()
    requeued = service.requeue_lost(service.settings.requeue_after_s)
    result = {
        "expired": report.expired,
        "deleted_blobs": report.deleted_blobs,
        "requeued": len(requeued),
        "dead_lettered": len(dead_lettered),
    }
    logger.info("cleaner run", extra={**result, "trigger": event.get("source")})
    return result
