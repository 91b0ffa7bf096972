"""The API function: the FastAPI app behind API Gateway HTTP API (payload 2.0), via Mangum.

Request-log events go to Firehose at the end of each invocation (a frozen Lambda runs
no background thread), and each is also logged as one access line. The admin token and
the client-id salt come from Secrets Manager; an on-demand leaderboard refresh starts the
refresh function asynchronously (its 24 Athena queries do not fit in an API request).
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


def _secret(value: str | None, secret_id: str | None, what: str, boto3_session: Any) -> str | None:
    """``value`` when set, else the Secrets Manager secret ``secret_id`` names (read once
    per container): the admin token, the client-id salt."""
    if value or not secret_id:
        return value
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError

    try:
        found = SecretsProvider(boto3_session=boto3_session).get(secret_id)
    except GetParameterError as exc:
        raise BackendError(f"secretsmanager get {what}: {exc}") from exc
    return str(found)


def _admin_token(settings: Settings, boto3_session: Any) -> str | None:
    """The admin bearer token: ``WAVEKIT_ADMIN_TOKEN``, else the Secrets Manager secret
    ``WAVEKIT_ADMIN_TOKEN_SECRET`` names."""
    return _secret(settings.admin_token, settings.admin_token_secret, "admin token", boto3_session)


def _client_id_salt(settings: Settings, boto3_session: Any) -> str | None:
    """The salt of address pseudonyms: ``WAVEKIT_CLIENT_ID_SALT``, else the secret
    ``WAVEKIT_CLIENT_ID_SALT_SECRET`` names. Every container must use the same one (a salt
    generated into ``/tmp`` would split one caller into a client per container)."""
    return _secret(
        settings.client_id_salt, settings.client_id_salt_secret, "client-id salt", boto3_session
    )


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
    settings = settings.model_copy(
        update={
            "admin_token": _admin_token(settings, session),
            "client_id_salt": _client_id_salt(settings, session),
        }
    )
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
