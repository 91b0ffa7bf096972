"""The cleaner function (EventBridge schedule): expires old jobs, deletes the files no live
job needs, and re-queues jobs whose message was lost (:meth:`JobService.requeue_lost`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from wavekit.handlers import common
from wavekit.handlers.common import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from wavekit.service.jobs import JobService


def _build() -> JobService:
    from wavekit.runtime import aws_backends
    from wavekit.service.jobs import JobService

    settings = common.settings()
    common.configure_logging(settings)
    backends = aws_backends(settings, boto3_session=common.boto3_session(settings))
    return JobService(settings, backends)


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, int]:
    """Expire old jobs, delete files no live job needs, re-queue lost jobs."""
    service = common.once("cleaner", _build)
    report = service.clean()
    requeued = service.requeue_lost(service.settings.requeue_after_s)
    result = {
        "expired": report.expired,
        "deleted_blobs": report.deleted_blobs,
        "requeued": len(requeued),
    }
    logger.info("cleaner run", extra={**result, "trigger": event.get("source")})
    return result
