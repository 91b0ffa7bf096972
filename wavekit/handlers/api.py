"""The API function: the FastAPI app behind API Gateway HTTP API (payload 2.0), via Mangum.

Request-log events go to Firehose at the end of each invocation (a frozen Lambda runs
no background thread), and each is also logged as one access line. The admin token comes
from Secrets Manager; an on-demand leaderboard refresh starts the refresh function
asynchronously (its 24 Athena queries do not fit in an API request).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from wavekit.backends.aws.clients import LazyClient, translated
from wavekit.errors import BackendError
from wavekit.handlers import common
from wavekit.handlers.common import logger
from wavekit.service.leaderboards import LeaderboardService

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mangum import Mangum
    from mangum.types import LambdaContext as MangumContext
    from types_boto3_lambda import LambdaClient

    from wavekit.analytics import RefreshReport
    from wavekit.events import RequestEvent
    from wavekit.ports import EventSink
    from wavekit.ports.analytics import LeaderboardCache, Warehouse
    from wavekit.runtime import Runtime
    from wavekit.settings import Settings


class LoggingEventSink:
    """Logs each request-log event as an access line (with its request id), then passes
    it on to the real sink."""

    def __init__(self, inner: EventSink) -> None:
        self.inner = inner

    def emit(self, event: RequestEvent) -> None:
        try:
            logger.info(
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


def _admin_token(settings: Settings, boto3_session: Any) -> str | None:
    """The admin bearer token: ``WAVEKIT_ADMIN_TOKEN``, else the Secrets Manager secret
    ``WAVEKIT_ADMIN_TOKEN_SECRET`` names (read once per container)."""
    if settings.admin_token or not settings.admin_token_secret:
        return settings.admin_token
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        value = SecretsProvider(boto3_session=boto3_session).get(settings.admin_token_secret)
    except GetParameterError as exc:
        raise BackendError(f"secretsmanager get admin token: {exc}") from exc
    return str(value)


class AsyncLeaderboardRefresh(LeaderboardService):
    """The API's leaderboards on AWS: boards come from the DynamoDB cache; an on-demand
    refresh starts the refresh function asynchronously, so it answers at once (202),
    with no boards yet."""

    runs_in_background = True

    def __init__(
        self,
        cache: LeaderboardCache,
        function_name: str | None,
        lambda_client: LazyClient[LambdaClient],
    ) -> None:
        super().__init__(cache, _no_warehouse)
        self.function_name = function_name
        self.lambda_client = lambda_client

    def refresh(self, now: dt.datetime | None = None) -> RefreshReport:
        from wavekit.analytics import RefreshReport

        if not self.function_name:
            raise BackendError("WAVEKIT_REFRESH_FUNCTION is not set", transient=False)
        started = dt.datetime.now(dt.UTC)
        with translated("lambda invoke refresh"):
            self.lambda_client.get().invoke(
                FunctionName=self.function_name,
                InvocationType="Event",
                Payload=json.dumps({"source": "wavekit.api", "detail-type": "refresh"}),
            )
        return RefreshReport((), started, started)


def _no_warehouse() -> Warehouse:  # pragma: no cover - the API never computes boards itself
    raise RuntimeError("the API reads boards from the cache only")


@dataclass(frozen=True)
class BuiltApi:
    mangum: Mangum
    runtime: Runtime


def _build() -> BuiltApi:
    from mangum import Mangum

    from wavekit.runtime import Runtime, aws_backends, aws_leaderboard_cache
    from wavekit.service.api import create_app

    settings = common.settings()
    common.configure_logging(settings)
    session = common.boto3_session(settings)
    settings = settings.model_copy(update={"admin_token": _admin_token(settings, session)})
    backends = aws_backends(settings, boto3_session=session)
    backends.events = LoggingEventSink(backends.events)
    runtime = Runtime.aws(settings, backends=backends)
    lambda_client: LazyClient[LambdaClient] = LazyClient("lambda", boto3_session=session)
    runtime.leaderboards = AsyncLeaderboardRefresh(
        aws_leaderboard_cache(settings, boto3_session=session),
        settings.refresh_function,
        lambda_client,
    )
    app = create_app(runtime, cold_start=True)
    return BuiltApi(Mangum(app, lifespan="off"), runtime)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    """API Gateway HTTP API (payload 2.0) → FastAPI; flushes request events before returning."""
    built = common.once("api", _build)
    try:
        # one Lambda context object; powertools and Mangum each type it with a protocol
        response: dict[str, Any] = built.mangum(event, cast("MangumContext", context))
        return response
    finally:
        built.runtime.events.flush()
