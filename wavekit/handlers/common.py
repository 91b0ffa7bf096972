"""What the four handlers share: the powertools ``Logger``, settings, the boto3 session,
and the per-container cache of what each handler builds on its first invocation.

Every log line is one JSON object (powertools' formatter) carrying the Lambda request id
(``function_request_id``, from ``inject_lambda_context``) and, where there is one, the
job's ``request_id``, so ``wavekit logs REQUEST_ID`` gathers a request's lines across
the functions. The Logger is the ``wavekit`` logger itself, so the lines of every
``wavekit.*`` module (the job service, the adapters) come out the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from aws_lambda_powertools import Logger

if TYPE_CHECKING:
    from wavekit.settings import Settings

logger = Logger(service="wavekit", use_rfc3339=True)
"""The ``wavekit`` logger with powertools' JSON formatter (level from ``WAVEKIT_LOG_LEVEL``
once a handler has read its settings)."""

NOISY_LOGGERS = ("botocore", "boto3", "urllib3", "s3transfer")
T = TypeVar("T")
_built: dict[str, Any] = {}


def settings() -> Settings:
    """The handlers' settings: the AWS backend, every name from ``WAVEKIT_*``."""
    from wavekit.settings import Settings

    return Settings(backend="aws")


def boto3_session(settings: Settings) -> Any:
    """One boto3 session in the configured region (``AWS_REGION`` in Lambda)."""
    from wavekit.backends.aws.clients import session

    return session(region_name=settings.aws_region)


def configure_logging(settings: Settings) -> None:
    """``WAVEKIT_LOG_LEVEL`` for wavekit's lines; the SDKs' chatter only from WARNING."""
    logger.setLevel(settings.log_level)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def once(name: str, build: Callable[[], T]) -> T:
    """What handler ``name`` built on its first invocation in this container."""
    if name not in _built:
        _built[name] = build()
    built: T = _built[name]
    return built


def reset() -> None:
    """Forget every built handler (a new 'cold start'); for tests."""
    _built.clear()
