"""The bodies of the HTTP API, as pydantic models: they make ``/openapi.json`` the contract.

Every route declares the model of each status it can answer (success bodies here, the
error body :class:`ErrorBody` for every 4xx/5xx), so a client generated from the schema
reads every answer, and the schemathesis fuzz test checks the service keeps its word.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from wavekit.errors import (
    ChunkOutOfRangeError,
    IdempotencyConflictError,
    JobFailedError,
    JobGoneError,
    JobNotFoundError,
    JobNotReadyError,
    NotComputedError,
    PayloadTooLargeError,
    RateLimitedError,
)
from wavekit.ports import JobStatus

# -- errors --------------------------------------------------------------------------------


class Problem(BaseModel):
    """One invalid field and what is wrong with it."""

    field: str = Field(examples=["frequencies[0].freq"])
    message: str = Field(examples=["must be below the Nyquist frequency (4000 Hz)"])


class ErrorBody(BaseModel):
    """Every error answer: a stable code, a message naming the reason, the fields at fault."""

    error: str = Field(
        description="Stable code (each response's description lists the ones it answers "
        "with): invalid_spec, malformed_json, not_found, not_ready, job_failed, gone, "
        "chunk_out_of_range, idempotency_conflict, payload_too_large, rate_limited, "
        "unknown_board, invalid_window, not_computed, unauthorized, admin_disabled, "
        "backend_unavailable, unavailable, internal.",
        examples=["not_found"],
    )
    message: str = Field(examples=["request_id: no job 'abc'"])
    detail: list[Problem] | None = Field(
        default=None, description="The fields at fault (400 and 422 answers)."
    )


# -- waves -----------------------------------------------------------------------------------


class Links(BaseModel):
    """Where to poll and how to download."""

    self: str = Field(examples=["/waves/5f2c1a9b7e3d4c21"])
    download: str = Field(examples=["/waves/5f2c1a9b7e3d4c21/download"])
    chunks: str = Field(examples=["/waves/5f2c1a9b7e3d4c21/chunks/0"])


class WaveAccepted(BaseModel):
    """``POST /waves``: the job, ready at once when an identical spec was made before."""

    request_id: str
    file_id: str = Field(description="The spec's hash; identical specs share one file.")
    status: JobStatus
    links: Links


class WaveStatus(BaseModel):
    """``GET /waves/{request_id}``: the job and its canonical spec."""

    request_id: str
    file_id: str
    status: JobStatus
    spec: dict[str, Any] = Field(description="The canonical tone spec (every field).")
    created_at: str = Field(description="ISO 8601, UTC.")
    bytes: int | None = Field(description="Size of the WAV file once it is made.")
    links: Links
    error: str | None = Field(default=None, description="Why the job failed (failed only).")


class WaveChunk(BaseModel):
    """``GET /waves/{request_id}/chunks/{offset_num}``: one base64 slice of the file.

    While the job is in progress only ``status``, ``offset_num`` and ``is_last`` (false)
    are present, with ``Retry-After``. Once the file is sent, ``download_token`` is the
    claim the later chunks must pass (``?download_token=``): download-once.
    """

    status: JobStatus
    offset_num: int
    is_last: bool
    file: str | None = Field(default=None, description="Base64 of at most chunk_bytes bytes.")
    sha256: str | None = Field(default=None, description="Of the decoded bytes.")
    total_bytes: int | None = None
    chunk_bytes: int | None = None
    download_token: str | None = Field(
        default=None,
        description="Pass it as ?download_token= on the later chunks of this download.",
    )


# -- leaderboards and health ----------------------------------------------------------------


class LeaderboardEntry(BaseModel):
    """One row of a board; its key columns (``frequency``, ``chord``, ``client_id``,
    ``spec_hash`` ...) depend on the board and are listed in ``key_columns``."""

    model_config = ConfigDict(extra="allow")

    rank: int
    value: int | float | None = None
    requests: int | None = None
    bytes: int | None = None
    prev_value: int | float | None = Field(default=None, description="null: new on the board.")
    prev_rank: int | None = None
    rank_change: int | None = Field(default=None, description="Positive: moved up.")


class LeaderboardBody(BaseModel):
    """A cached board and the window it covers."""

    board: str = Field(examples=["frequencies_by_requests"])
    window: str = Field(examples=["month"])
    n: int
    start: str = Field(description="ISO 8601, start of the window (inclusive).")
    end: str = Field(description="ISO 8601, end of the window (exclusive).")
    computed_at: str
    engine: str
    bytes_scanned: int | None
    key_columns: list[str]
    entries: list[LeaderboardEntry]


class RefreshDone(BaseModel):
    """``POST /leaderboards/refresh`` locally: the boards were recomputed."""

    status: Literal["done"]
    refreshed: int
    started_at: str
    finished_at: str


class RefreshStarted(BaseModel):
    """``POST /leaderboards/refresh`` on AWS: the refresh function was started."""

    status: Literal["started"]
    started_at: str


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    queue_depth: int


# -- the status codes each route documents ----------------------------------------------------

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}
LOCATION = {"Location": {"description": "The job's status URL", "schema": {"type": "string"}}}

ERROR_STATUS: dict[str, int] = {
    "malformed_json": 400,
    "unauthorized": 401,
    "admin_disabled": 403,
    "unknown_board": 404,
    "invalid_spec": 422,
    "invalid_window": 422,
    "internal": 500,
    "backend_unavailable": 503,
    "unavailable": 503,
    **{
        error.code: error.status_code
        for error in (
            JobNotFoundError,
            NotComputedError,
            JobNotReadyError,
            JobFailedError,
            IdempotencyConflictError,
            JobGoneError,
            PayloadTooLargeError,
            ChunkOutOfRangeError,
            RateLimitedError,
        )
    },
}
"""Every stable error code the API answers with, and its status (the job errors' from
:mod:`wavekit.errors`; the others from :mod:`wavekit.service.api.error_handlers`)."""

STATUS_TEXT = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    410: "Gone",
    413: "Content too large",
    416: "Range not satisfiable",
    422: "Unprocessable content; `detail` names each field",
    429: "Too many requests",
    500: "Unexpected error; it has been logged",
    503: "Service unavailable",
}
WITH_RETRY_AFTER = frozenset({"not_ready", "rate_limited", "backend_unavailable", "unavailable"})
"""The codes whose answers carry ``Retry-After``."""
EVERY_ROUTE = ("internal", "backend_unavailable", "unavailable")
"""What any route can answer: a bug (500) or a backend that is down (503)."""


def error_responses(*codes: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` entries of a route that answers these error ``codes`` (plus
    :data:`EVERY_ROUTE`): an :class:`ErrorBody` per status, the description naming the
    codes, ``Retry-After`` where one of them sets it."""
    by_status: dict[int, list[str]] = {}
    for code in (*codes, *EVERY_ROUTE):
        by_status.setdefault(ERROR_STATUS[code], []).append(code)
    documented: dict[int | str, dict[str, Any]] = {}
    for status, named in sorted(by_status.items()):
        entry: dict[str, Any] = {
            "model": ErrorBody,
            "description": f"{STATUS_TEXT[status]}: " + ", ".join(f"`{c}`" for c in named),
        }
        if WITH_RETRY_AFTER.intersection(named):
            entry["headers"] = RETRY_AFTER
        documented[status] = entry
    return documented
