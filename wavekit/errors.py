"""The one exception tree of wavekit.

Every error wavekit raises on purpose derives from :class:`WavekitError`, so callers
can catch the whole family in one place::

    WavekitError
    ├── InvalidSpecError (also ValueError)      a tone spec broke a field's limit
    ├── AudioFormatError (also ValueError)      a WAV/FLAC cannot be written or read as asked
    ├── MissingExtraError (also ImportError)    an optional dependency is not installed
    ├── BackendError                            a storage/queue backend failed (maybe transient)
    ├── JobError                                a WAV job cannot do what was asked (HTTP 4xx)
    │   ├── JobNotFoundError                    no such request_id            404
    │   │   └── NotComputedError                a board not computed yet      404
    │   ├── JobNotReadyError                    still in progress             409 + Retry-After
    │   ├── JobFailedError                      synthesis failed              409
    │   ├── JobGoneError                        downloaded or expired         410
    │   ├── ChunkOutOfRangeError                offset_num past the end       416
    │   ├── IdempotencyConflictError            key reused with another spec  409
    │   ├── PayloadTooLargeError                request body over the limit   413
    │   └── RateLimitedError                    too many requests             429 + Retry-After
    ├── AdminAuthError                          admin route without a valid token  401/403
    ├── ServiceError                            the service answered an error (client side)
    ├── AnalyticsError
    │   ├── UnknownNameError (also ValueError)  a board, window, query... not offered
    │   │   ├── UnknownBoardError
    │   │   ├── InvalidWindowError
    │   │   └── UnknownQueryError
    │   ├── ParameterError (also ValueError)    a SQL parameter missing or of the wrong kind
    │   ├── UnsupportedSQLError (also ValueError)  a construct we refuse to translate silently
    │   ├── LakeNotFoundError (also FileNotFoundError)
    │   └── QueryError (also RuntimeError)      the engine (DuckDB, Athena) rejected a query
    ├── ReportError                             a report could not be rendered as asked
    │   ├── ReportParameterError (also InvalidSpecError)
    │   └── ReportFailedError                   every attempt failed
    └── DeployError                             a deploy step failed
        ├── DeployConfigError (also ValueError) a deploy option out of its limits
        └── BundleTooLargeError                 a Lambda bundle over Lambda's limits

Adapters translate third-party errors (pydantic, soundfile, botocore, duckdb, ...) into
these; only the CLI (one rule in :mod:`wavekit.cli.errors`) and the HTTP layer turn them
into exit codes or status codes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


class WavekitError(Exception):
    """Root of every error wavekit raises on purpose."""


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field: where it is (``"frequencies[2].freq"``) and what is wrong."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidSpecError(WavekitError, ValueError):
    """A tone spec is invalid; ``problems`` names each field and the limit it broke."""

    def __init__(self, problems: Sequence[FieldProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems) or "invalid tone spec")

    @classmethod
    def single(cls, field: str, message: str) -> InvalidSpecError:
        return cls([FieldProblem(field, message)])

    @property
    def fields(self) -> list[str]:
        return [p.field for p in self.problems]


class AudioFormatError(WavekitError, ValueError):
    """An audio file cannot be written or read in the requested format."""


class MissingExtraError(WavekitError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""

    def __init__(self, module: str, extra: str) -> None:
        super().__init__(
            f"{module!r} is not installed; install it with: pip install 'wavekit[{extra}]'"
        )
        self.extra = extra


class BackendError(WavekitError):
    """A blob store, job table, queue or event sink failed; ``transient`` means retry."""

    def __init__(self, message: str, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class JobError(WavekitError):
    """A request about a WAV job that cannot be served as asked.

    ``status_code`` is the HTTP status the API answers with, ``code`` a stable short
    name (also the ``error_code`` of the request-log event).
    """

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class JobNotFoundError(JobError):
    status_code = 404
    code = "not_found"


class JobNotReadyError(JobError):
    status_code = 409
    code = "not_ready"


class JobFailedError(JobError):
    status_code = 409
    code = "job_failed"


class JobGoneError(JobError):
    status_code = 410
    code = "gone"


class ChunkOutOfRangeError(JobError):
    status_code = 416
    code = "chunk_out_of_range"


class IdempotencyConflictError(JobError):
    status_code = 409
    code = "idempotency_conflict"


class PayloadTooLargeError(JobError):
    """A request body over ``max_body_bytes`` (by Content-Length, or while it streams)."""

    status_code = 413
    code = "payload_too_large"


class RateLimitedError(JobError):
    status_code = 429
    code = "rate_limited"


class NotComputedError(JobNotFoundError):
    """A leaderboard that has not been computed yet."""

    code = "not_computed"


class AdminAuthError(WavekitError):
    """An admin route called without (or with a wrong) bearer token."""

    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.code = code


class ServiceError(WavekitError):
    """The service answered with an error we have no specific exception for."""

    def __init__(self, status_code: int, message: str) -> None:
        super().__init__(f"HTTP {status_code}: {message}")
        self.status_code = status_code


# -- analytics -------------------------------------------------------------------------------


class AnalyticsError(WavekitError):
    """Root of the analytics errors."""


class UnknownNameError(AnalyticsError, ValueError):
    """A name is not one of the allowed values; the message lists them."""

    kind = "name"

    def __init__(self, value: object, allowed: Iterable[str]) -> None:
        self.value = value
        self.allowed = tuple(allowed)
        super().__init__(
            f"unknown {self.kind} {value!r}; allowed: {', '.join(self.allowed) or '(none)'}"
        )


class UnknownBoardError(UnknownNameError):
    kind = "leaderboard"


class InvalidWindowError(UnknownNameError):
    kind = "window"


class UnknownQueryError(UnknownNameError):
    kind = "query"


class ParameterError(AnalyticsError, ValueError):
    """A query parameter is missing, or a value cannot be bound."""


class UnsupportedSQLError(AnalyticsError, ValueError):
    """The SQL uses a construct whose DuckDB translation would be silently wrong."""


class LakeNotFoundError(AnalyticsError, FileNotFoundError):
    """The event lake directory does not exist."""


class QueryError(AnalyticsError, RuntimeError):
    """The engine rejected or failed a query; names the engine and the query."""

    def __init__(self, engine: str, query: str, message: str) -> None:
        self.engine = engine
        self.query = query
        super().__init__(f"{engine} query {query!r} failed: {message}")


# -- reports and deploy ----------------------------------------------------------------------


class ReportError(WavekitError):
    """A report could not be rendered as asked."""


class ReportParameterError(ReportError, InvalidSpecError):
    """A parameter the notebook does not declare (the message lists the ones it does)."""


class ReportFailedError(ReportError):
    """Every attempt failed; ``failure_page`` explains why and ``executed`` is kept."""

    def __init__(self, message: str, failure_page: Path, executed: Path) -> None:
        super().__init__(message)
        self.failure_page = failure_page
        self.executed = executed


class DeployError(WavekitError):
    """A deploy step failed; the message says which and why (stack events included)."""


class DeployConfigError(DeployError, ValueError):
    """A deploy option (stage, origins, duration cap, ...) is invalid; names the option."""


class BundleTooLargeError(DeployError):
    """A Lambda bundle is over Lambda's size limits."""
