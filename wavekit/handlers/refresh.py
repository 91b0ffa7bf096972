"""The refresh function (EventBridge schedule, or started by ``POST /leaderboards/refresh``):
every leaderboard × window recomputed in Athena and stored in the DynamoDB cache."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

from wavekit.handlers import common
from wavekit.handlers.common import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from wavekit.ports.analytics import LeaderboardCache, Warehouse


@dataclass(frozen=True)
class BuiltRefresh:
    warehouse: Warehouse
    cache: LeaderboardCache


def _build() -> BuiltRefresh:
    from wavekit.runtime import aws_refresh_parts

    settings = common.settings()
    common.configure_logging(settings)
    warehouse, cache = aws_refresh_parts(settings, boto3_session=common.boto3_session(settings))
    return BuiltRefresh(warehouse, cache)


@logger.inject_lambda_context
@event_source(data_class=EventBridgeEvent)
def handler(event: EventBridgeEvent, context: LambdaContext) -> dict[str, Any]:
    """Recompute every leaderboard × window in Athena and store them in DynamoDB."""
    from wavekit.analytics import refresh_all

    built = common.once("refresh", _build)
    report = refresh_all(built.warehouse, built.cache)
    scanned = sum(b.bytes_scanned or 0 for b in report.boards)
    result = {
        "refreshed": len(report.boards),
        "bytes_scanned": scanned,
        "seconds": round((report.finished_at - report.started_at).total_seconds(), 3),
    }
    logger.info("leaderboards refreshed", extra={**result, "trigger": event.get("source")})
    return result
