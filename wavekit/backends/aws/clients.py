"""What every AWS-touching module shares: the boto3 guard, clients, errors and retries.

One place for the plumbing that the AWS adapters, the Athena warehouse, the Lambda
handlers and ``wavekit deploy`` all need:

- :func:`boto3` imports boto3 or says which extra installs it;
- :func:`session` and :class:`LazyClient` build clients on first use (an injected client
  or session wins; tests pass moto-backed ones), with :func:`default_config`;
- :func:`region` is the one region fallback (explicit, ``AWS_REGION``,
  ``AWS_DEFAULT_REGION``, then ``us-east-1`` where a default is needed);
- :func:`error_code`, :func:`backend_error` and :func:`translated` turn botocore errors
  into :class:`~wavekit.errors.BackendError` at the boundary; :func:`is_aws_error`
  recognises them without importing botocore (the CLI and ``wavekit deploy`` use it);
- :class:`AwsRetry` is the retry policy for control-plane calls (tenacity: jittered
  exponential backoff on throttling and on IAM's eventual consistency).
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from wavekit.errors import BackendError, MissingExtraError

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "SlowDown",
        "KMSThrottlingException",
        "LimitExceededException",
    }
)
"""Error codes that mean "slow down": always worth retrying."""

TRANSIENT_CODES = THROTTLING_CODES | frozenset(
    {
        "TransactionInProgressException",
        "TransactionConflict",
        "RequestTimeout",
        "RequestTimeoutException",
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
    }
)
"""Error codes worth retrying: throttling, conflicts that clear, server-side trouble."""

IAM_PROPAGATION = re.compile(
    r"cannot be assumed|role defined for the function|not authorized to perform: sts:AssumeRole"
    r"|The role .* does not have permissions|execution role does not have permissions",
    re.IGNORECASE,
)
"""Messages of a role created seconds ago that IAM has not propagated yet."""

FALLBACK_REGION = "us-east-1"


def boto3() -> Any:
    """The boto3 module, or :class:`MissingExtraError` naming the ``aws`` extra."""
    try:
        import boto3 as module
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise MissingExtraError("boto3", "aws") from exc
    return module


def region(explicit: str | None = None, *, fallback: str | None = None) -> str | None:
    """The AWS region: ``explicit``, else ``AWS_REGION`` (set in Lambda), else
    ``AWS_DEFAULT_REGION`` (botocore's), else ``fallback``."""
    return (
        explicit or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or fallback
    )


def session(boto3_session: Any = None, region_name: str | None = None) -> Any:
    """``boto3_session`` if given, else a new session in :func:`region`."""
    if boto3_session is not None:
        return boto3_session
    return boto3().Session(region_name=region(region_name))


def default_config(**overrides: Any) -> Any:
    """botocore ``Config``: standard retry mode (backoff on throttling), short timeouts."""
    from botocore.config import Config

    settings: dict[str, Any] = {
        "retries": {"mode": "standard", "max_attempts": 3},
        "connect_timeout": 3,
        "read_timeout": 30,
    }
    settings.update(overrides)
    return Config(**settings)


ClientT = TypeVar("ClientT")


class LazyClient(Generic[ClientT]):
    """One boto3 client, built from the session on first use (explicit client wins).

    Generic in the client type, so an adapter declares ``LazyClient[S3Client]`` (the
    types-boto3 stubs) and mypy checks every call it makes.
    """

    def __init__(
        self,
        service: str,
        client: ClientT | None = None,
        boto3_session: Any = None,
        boto_config: Any = None,
        region: str | None = None,
    ) -> None:
        self._service = service
        self._client = client
        self._session = boto3_session
        self._config = boto_config
        self._region = region
        self._lock = threading.Lock()

    def get(self) -> ClientT:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    built = session(self._session, self._region)
                    config = self._config or default_config()
                    self._client = cast(ClientT, built.client(self._service, config=config))
        return self._client


AWS_SDK_PACKAGES = frozenset({"botocore", "boto3"})


def is_aws_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from botocore or boto3 (including the classes botocore makes
    at run time for a service's error codes), judged by module name so that neither SDK
    is imported just to ask."""
    return any(cls.__module__.partition(".")[0] in AWS_SDK_PACKAGES for cls in type(exc).__mro__)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` (``""`` for anything else)."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


def is_client_error(exc: BaseException, *codes: str) -> bool:
    """Whether ``exc`` is a botocore ``ClientError`` with one of ``codes``."""
    from botocore.exceptions import ClientError

    return isinstance(exc, ClientError) and error_code(exc) in codes


def backend_error(exc: Exception, action: str) -> BackendError:
    """Translate a botocore exception into :class:`BackendError` (throttling → transient)."""
    from botocore import exceptions as bex

    if isinstance(exc, bex.ClientError):
        code = error_code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        transient = code in TRANSIENT_CODES or status >= 500 or status == 429
        message = exc.response.get("Error", {}).get("Message", "") or str(exc)
        return BackendError(f"{action}: {code}: {message}", transient=transient)
    transient = isinstance(
        exc,
        bex.EndpointConnectionError
        | bex.ConnectTimeoutError
        | bex.ReadTimeoutError
        | bex.ConnectionClosedError,
    )
    return BackendError(f"{action}: {exc}", transient=transient)


@contextlib.contextmanager
def translated(action: str) -> Iterator[None]:
    """Run AWS calls; their errors leave as :class:`BackendError`."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        raise backend_error(exc, action) from exc


QUOTA_CODES = frozenset({"LimitExceededException"})
"""A quota hit on control-plane calls (CloudFormation, IAM): retrying cannot clear it."""


def is_retryable(exc: BaseException) -> bool:
    """Throttling, server trouble, or IAM not yet consistent (a role created seconds ago);
    not a quota hit, which waiting does not clear."""
    code = error_code(exc)
    if code in TRANSIENT_CODES - QUOTA_CODES:
        return True
    return bool(code) and bool(IAM_PROPAGATION.search(str(exc)))


@dataclass(frozen=True)
class AwsRetry:
    """Call AWS with exponential backoff (tenacity) on :func:`is_retryable` errors.

    Parameters
    ----------
    attempts
        Tries in all.
    initial_s, max_s
        First wait and the cap (jittered exponential backoff).
    sleep
        How to wait (tests pass a recorder).
    """

    attempts: int = 8
    initial_s: float = 0.5
    max_s: float = 20.0
    sleep: Callable[[float], None] = time.sleep

    def __call__(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        import tenacity

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=self.initial_s, max=self.max_s)
            + tenacity.wait_random(0, self.initial_s),
            retry=tenacity.retry_if_exception(is_retryable),
            sleep=self.sleep,
            reraise=True,
        )
        return retrying(call, *args, **kwargs)


DEFAULT_RETRY = AwsRetry()
