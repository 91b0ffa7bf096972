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
    JobError,
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
        description="Stable code: invalid_spec, malformed_json, not_found, not_ready, "
        "job_failed, gone, chunk_out_of_range, idempotency_conflict, payload_too_large, "
        "rate_limited, unknown_board, invalid_window, not_computed, unauthorized, "
        "admin_disabled, backend_unavailable, unavailable, internal, ...",
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
    are present, with ``Retry-After``.
    """

    status: JobStatus
    offset_num: int
    is_last: bool
    file: str | None = Field(default=None, description="Base64 of at most chunk_bytes bytes.")
    sha256: str | None = Field(default=None, description="Of the decoded bytes.")
    total_bytes: int | None = None
    chunk_bytes: int | None = None


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

ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed JSON (`malformed_json`)",
    401: "No valid admin bearer token (`unauthorized`)",
    403: "Admin routes are off: no token configured (`admin_disabled`)",
    404: "Not found",
    409: "Conflict",
    410: "Gone: downloaded once already, expired, or a dead link (`gone`)",
    413: "Body over the limit (`payload_too_large`)",
    416: "`offset_num` past the last chunk (`chunk_out_of_range`)",
    422: "Invalid input; `detail` names each field (`invalid_spec`, `invalid_window`)",
    429: "Over the per-client rate (`rate_limited`), with Retry-After",
    500: "Unexpected error; it has been logged (`internal`)",
    503: "A backend is unavailable (`backend_unavailable`, `unavailable`), with Retry-After",
}
"""What each error status means in this API (the ``description`` of its response)."""

ERRORS_BY_STATUS: dict[int, tuple[type[JobError], ...]] = {
    404: (JobNotFoundError, NotComputedError),
    409: (JobNotReadyError, JobFailedError, IdempotencyConflictError),
    410: (JobGoneError,),
    413: (PayloadTooLargeError,),
    416: (ChunkOutOfRangeError,),
    429: (RateLimitedError,),
}
"""The job errors behind a status, for the descriptions (their stable codes)."""

WITH_RETRY_AFTER = {409, 429, 503}
"""Statuses that may carry ``Retry-After`` (409 only for ``not_ready``)."""


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route: :class:`ErrorBody` for each status, plus the ones
    every route can answer (422 for its parameters, 500 and 503)."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*statuses, 500, 503}):
        codes = ", ".join(f"`{e.code}`" for e in ERRORS_BY_STATUS.get(status, ()))
        description = ERROR_DESCRIPTIONS[status] + (f": {codes}" if codes else "")
        entry: dict[str, Any] = {"model": ErrorBody, "description": description}
        if status in WITH_RETRY_AFTER:
            entry["headers"] = RETRY_AFTER
        documented[status] = entry
    return documented
