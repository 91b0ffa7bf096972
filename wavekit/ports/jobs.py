"""The job ports: what the WAV service needs from storage and queues, whatever runs it.

The local adapters (files + SQLite) and the AWS adapters (S3, DynamoDB, SQS) implement
these; one contract test suite (``tests/contract/``) runs against every implementation.
Adapters raise :class:`wavekit.errors.BackendError` for their own failures, never an SDK
exception.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


class JobStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    READY = "ready"
    DOWNLOADING = "downloading"
    FAILED = "failed"
    DOWNLOADED = "downloaded"
    EXPIRED = "expired"


LIVE_STATUSES = frozenset({JobStatus.IN_PROGRESS, JobStatus.READY})
"""Jobs whose file may still be downloaded: their blob must not be deleted. (A
``downloading`` job's blob is kept like a ``downloaded`` one's: for the download-URL
lifetime after ``downloaded_at``, which is exactly its claim's lifetime.)"""


@dataclass(frozen=True, slots=True)
class Job:
    """One accepted request for a WAV file.

    ``file_id`` is the spec hash: identical specs share one stored file (``blob_key``).
    A ``downloading`` job carries the chunk download's claim: ``download_token`` (the
    holder's credential), ``downloaded_at`` (when it was claimed) and ``download_until``
    (when the claim lapses).
    """

    request_id: str
    file_id: str
    status: JobStatus
    spec_json: str
    client_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    bytes: int | None = None
    error: str | None = None
    idempotency_key: str | None = None
    attempts: int = 0
    downloaded_at: dt.datetime | None = None
    purged: bool = False
    download_token: str | None = None
    download_until: dt.datetime | None = None

    @property
    def blob_key(self) -> str:
        return blob_key(self.file_id)

    def evolve(self, **changes: Any) -> Job:
        return replace(self, **changes)


def blob_key(file_id: str) -> str:
    return f"waves/{file_id}.wav"


@dataclass(frozen=True, slots=True)
class QueueMessage:
    request_id: str
    receipt: str
    receive_count: int


@runtime_checkable
class BlobStore(Protocol):
    """Immutable files by key (content-addressed by spec hash)."""

    def put_file(self, key: str, path: Path) -> int:
        """Store the file at ``path`` under ``key`` (the source may be moved); return its size."""

    def size(self, key: str) -> int | None:
        """Size in bytes, or ``None`` if there is no such blob."""

    def read_range(self, key: str, start: int, length: int) -> bytes:
        """Up to ``length`` bytes from ``start``; raise ``BackendError`` if the blob is gone."""

    def delete(self, key: str) -> None:
        """Remove a blob; a missing blob is not an error."""

    def presigned_url(self, key: str, expires_s: int, filename: str) -> str | None:
        """A time-limited URL the client can GET directly, or ``None`` if the service
        must serve the bytes itself (the local store)."""

    def temp_path(self, suffix: str = ".part") -> Path:
        """A fresh local path where a file is written before :meth:`put_file` stores it."""

    def recover(self) -> int:
        """After a crash: remove what an interrupted write left behind (partial files);
        return how many. Stores whose writes are atomic have nothing to do."""


@runtime_checkable
class JobTable(Protocol):
    """Job records with conditional (compare-and-set) transitions."""

    def create(self, job: Job) -> Job:
        """Insert ``job``; if its ``(client_id, idempotency_key)`` exists, return that job."""

    def get(self, request_id: str) -> Job | None: ...

    def transition(
        self, request_id: str, allowed: Iterable[JobStatus], to: JobStatus, **fields: Any
    ) -> Job | None:
        """Move a job to ``to`` only if it is in one of ``allowed``; return the new job, or
        ``None`` if the condition failed (another worker or request got there first)."""

    def claim_download(
        self, request_id: str, token: str, until: dt.datetime, now: dt.datetime
    ) -> Job | None:
        """Atomically move a ``ready`` job to ``downloading``, held by ``token`` until
        ``until`` (``downloaded_at`` = ``now``); return the claimed job, or ``None`` if
        the job was not ready (another client claimed or downloaded it first). Exactly
        one of any number of concurrent callers wins."""

    def add_attempt(self, request_id: str) -> int:
        """Count one more processing attempt; return the new count."""

    def in_progress(self) -> list[Job]:
        """Jobs accepted but not finished (re-queued on start-up)."""

    def expire_older_than(self, cutoff: dt.datetime, now: dt.datetime) -> int:
        """Mark ready jobs created before ``cutoff`` as expired; return how many."""

    def purgeable_blobs(self, downloaded_before: dt.datetime) -> list[str]:
        """Blob keys whose jobs are all finished (downloaded before the cut-off, expired or
        failed) and not yet purged: safe to delete."""

    def mark_purged(self, keys: Iterable[str]) -> None: ...


@runtime_checkable
class JobQueue(Protocol):
    """At-least-once delivery of request ids to workers."""

    def send(self, request_id: str) -> None: ...

    def receive(self, max_messages: int = 1, wait_s: float = 0.0) -> list[QueueMessage]:
        """Up to ``max_messages``, hidden from other receivers until acked or timed out."""

    def ack(self, message: QueueMessage) -> None: ...

    def retry_later(self, message: QueueMessage, delay_s: float) -> None:
        """Make the message visible again after ``delay_s``."""

    def depth(self) -> int:
        """Messages waiting or in flight (approximate on AWS)."""

    def recover(self) -> int:
        """After a crash: make messages claimed by the dead process visible again; return
        how many. Queues whose claims time out by themselves (SQS) have nothing to do."""
