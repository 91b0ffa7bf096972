"""The WAV job life cycle, independent of HTTP and of where it runs.

::

    submit ─► in_progress ─► ready ─► downloaded                (download-once: 303)
                   │           ├────► downloading ─► downloaded (download-once: chunks)
                   │           └────► expired          (not downloaded within retention)
                   └─► failed                          (after max_attempts)

Download-once holds on both download paths, under any concurrency, because each starts
with one atomic compare-and-set on ``ready``: ``/download`` moves the job straight to
``downloaded``; the first chunk request claims it (``downloading``, a conditional write
in the adapter) and gets a ``download_token``. The holder may (re-)read any chunk with
that token until the last chunk is served (then ``downloaded``) or the claim lapses
after the download-URL lifetime; everyone else gets 410. A lapsed claim that never
finished counts as downloaded, not ready again: its chunks may already have left the
service, and a second copy is what download-once forbids.

The FastAPI app (local or behind API Gateway), the worker (thread or SQS Lambda) and
the cleaner (thread or scheduled Lambda) all drive jobs through this one class, so the
rules live in one place. Files are content-addressed by spec hash: identical specs
share one blob, which is only deleted once no live job needs it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import secrets
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

from wavekit.audio.spec import ToneSpec
from wavekit.clock import Clock, utc_now
from wavekit.errors import (
    BackendError,
    ChunkOutOfRangeError,
    IdempotencyConflictError,
    InvalidSpecError,
    JobFailedError,
    JobGoneError,
    JobNotFoundError,
    JobNotReadyError,
)
from wavekit.ports import (
    BlobStore,
    EventSink,
    Job,
    JobQueue,
    JobStatus,
    JobTable,
    QueueMessage,
    blob_key,
)
from wavekit.settings import Settings

log = logging.getLogger(__name__)
RETRY_AFTER_S = 1.0


@dataclass(frozen=True, slots=True)
class Chunk:
    """One slice of a file for clients behind a response-size limit."""

    data: bytes
    offset_num: int
    is_last: bool
    total_bytes: int
    chunk_bytes: int
    download_token: str = ""
    claimed: bool = False
    """Whether this read took the job's one download claim (the request-log event says so)."""

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True, slots=True)
class CleanReport:
    expired: int
    deleted_blobs: int


class LoopCommits(Protocol):
    """A job store whose writes can share a transaction: those made on an event loop one
    COMMIT per loop iteration, a thread's in one block (SQLite locally, see ADR 0007;
    DynamoDB and SQS writes are durable when they return, so the AWS backends have none).
    """

    def together(self) -> AbstractContextManager[None]:
        """This thread's writes (jobs and queue) inside the block are one transaction,
        committed when it ends, undone together if it raises."""
        ...

    def deferring(self) -> AbstractContextManager[Callable[[], Awaitable[None]]]:
        """Writes made inside the block return before their COMMIT; after the block,
        ``await`` the yielded function's result: it returns once every one of them is
        committed, or raises :class:`BackendError` if their COMMIT failed."""
        ...


@dataclass
class Backends:
    """The four ports wired for one deployment (local or AWS)."""

    blobs: BlobStore
    jobs: JobTable
    queue: JobQueue
    events: EventSink
    loop_commits: LoopCommits | None = None


class JobService:
    """Submit, inspect, download and clean WAV jobs."""

    def __init__(
        self,
        settings: Settings,
        backends: Backends,
        clock: Clock = utc_now,
    ) -> None:
        self.settings = settings
        self.blobs = backends.blobs
        self.jobs = backends.jobs
        self.queue = backends.queue
        self.events = backends.events
        self.loop_commits = backends.loop_commits
        self.clock = clock

    # -- API side ---------------------------------------------------------------------

    def check_limits(self, spec: ToneSpec) -> None:
        """Service limits beyond the spec's own (the library allows any duration)."""
        if spec.duration > self.settings.max_duration_s:
            raise InvalidSpecError.single(
                "duration",
                f"must be at most {self.settings.max_duration_s:g} s in the service "
                f"(got {spec.duration:g})",
            )

    def submit(self, spec: ToneSpec, client_id: str, idempotency_key: str | None = None) -> Job:
        """Accept a spec: reuse a stored file for an identical spec, else queue synthesis.

        Returns once the job (and its queue message) is durable."""
        self.check_limits(spec)
        now = self.clock()
        spec_json = spec.canonical_json()
        file_id = spec.spec_hash  # the canonical JSON is built once per spec (cached)
        stored_size = self.blobs.size(blob_key(file_id))
        job = Job(
            request_id=os.urandom(16).hex(),  # 128 random bits, a third of uuid4()'s cost
            file_id=file_id,
            status=JobStatus.READY if stored_size is not None else JobStatus.IN_PROGRESS,
            spec_json=spec_json,
            client_id=client_id,
            created_at=now,
            updated_at=now,
            bytes=stored_size,
            idempotency_key=idempotency_key,
        )
        saved = self.jobs.create(job)
        if saved.request_id != job.request_id:  # an earlier request with the same key
            if saved.file_id != file_id:
                raise IdempotencyConflictError(
                    "Idempotency-Key: this key was already used with a different spec"
                )
            return saved
        if saved.status is JobStatus.IN_PROGRESS:
            self.queue.send(saved.request_id)
        return saved

    async def submit_on_loop(
        self, spec: ToneSpec, client_id: str, idempotency_key: str | None = None
    ) -> Job:
        """:meth:`submit` for a caller on an event loop: returns once the job is durable,
        but lets the backend commit the jobs of every request that reached this point in
        the same loop iteration at once (one COMMIT for dozens of POSTs, ADR 0007)."""
        if self.loop_commits is None:
            return self.submit(spec, client_id, idempotency_key)
        with self.loop_commits.deferring() as committed:
            job = self.submit(spec, client_id, idempotency_key)
        await committed()
        return job

    def get(self, request_id: str) -> Job:
        job = self.jobs.get(request_id)
        if job is None:
            raise JobNotFoundError(f"request_id: no job {request_id!r}")
        return job

    def _ready(self, request_id: str) -> Job:
        """The job if its file can be downloaded now, else the error that says why."""
        job = self.get(request_id)
        if job.status is JobStatus.IN_PROGRESS:
            raise JobNotReadyError("the file is still being made", retry_after=RETRY_AFTER_S)
        if job.status is JobStatus.FAILED:
            raise JobFailedError(f"the job failed: {job.error}")
        if job.status is JobStatus.DOWNLOADED:
            raise JobGoneError("the file was already downloaded (files download once)")
        if job.status is JobStatus.DOWNLOADING:
            raise JobGoneError(
                "the file is being downloaded in chunks by another client (files download once)"
            )
        if job.status is JobStatus.EXPIRED:
            raise JobGoneError(f"the file expired (kept {self.settings.retention_s / 3600:g} h)")
        if self.blobs.size(job.blob_key) is None:
            self._resynthesise(job)
        return job

    def _resynthesise(self, job: Job) -> None:
        """The shared file vanished (cleaned for another job): make it again."""
        log.warning("blob of %s is missing; queueing it again", job.request_id)
        if self.jobs.transition(job.request_id, [JobStatus.READY], JobStatus.IN_PROGRESS):
            self.queue.send(job.request_id)
        raise JobNotReadyError("the file is being made again", retry_after=RETRY_AFTER_S)

    def claim_download(self, request_id: str) -> Job:
        """Mark a ready job downloaded (once) and return it; the caller sends the bytes."""
        job = self._ready(request_id)
        claimed = self.jobs.transition(
            request_id, [JobStatus.READY], JobStatus.DOWNLOADED, downloaded_at=self.clock()
        )
        if claimed is None:
            raise JobGoneError("the file was already downloaded (files download once)")
        return claimed if claimed.bytes is not None else job

    def read_chunk(
        self,
        request_id: str,
        offset_num: int,
        download_token: str | None = None,
        *,
        holder: str | None = None,
    ) -> Chunk:
        """Chunk ``offset_num`` of the file, for the holder of the job's download claim.

        Without a token (and without ``holder``) the request claims the download: it wins
        only if the job is ``ready`` (atomically, see the module docstring) and its chunk
        carries the new ``download_token``. With the token, the holder reads any chunk
        until the last one has been served or the claim lapses. Everything else is
        :class:`JobGoneError` (410). An out-of-range offset is refused before claiming.

        Parameters
        ----------
        download_token
            The token the claiming chunk carried.
        holder
            Bind the claim to this identity instead of a token (a protocol without tokens
            passes the caller's client id): its first request claims, later ones continue.
        """
        now = self.clock()
        credential = f"holder:{holder}" if holder is not None else download_token
        took_claim = False
        job = self.get(request_id)
        if job.status is not JobStatus.DOWNLOADING:
            job = self._ready(request_id)
            self._chunk_range(job, offset_num)
            minted = credential or secrets.token_urlsafe(24)
            until = now + dt.timedelta(seconds=self.settings.download_url_ttl_s)
            claimed = self.jobs.claim_download(request_id, minted, until, now)
            if claimed is not None:
                credential = minted
                took_claim = True
            job = claimed if claimed is not None else self.get(request_id)
        if job.status is not JobStatus.DOWNLOADING:
            self._ready(request_id)  # raises: downloaded, expired, or made again
            raise JobGoneError("the file was already downloaded (files download once)")
        self._check_claim(job, credential, now)
        size, count = self._chunk_range(job, offset_num)
        step = self.settings.chunk_bytes
        data = self.blobs.read_range(job.blob_key, offset_num * step, step)
        is_last = offset_num == count - 1
        if is_last:
            self.jobs.transition(
                request_id, [JobStatus.DOWNLOADING], JobStatus.DOWNLOADED, downloaded_at=now
            )
        return Chunk(data, offset_num, is_last, size, step, job.download_token or "", took_claim)

    def _check_claim(self, job: Job, credential: str | None, now: dt.datetime) -> None:
        """Pass only the claim's holder, and only while the claim lasts."""
        if credential is None or not secrets.compare_digest(
            credential.encode(), (job.download_token or "").encode()
        ):
            raise JobGoneError(
                "the file is being downloaded in chunks by another client (files download "
                "once; the client that claimed it passes its download_token)"
            )
        if job.download_until is None or now >= job.download_until:
            # lapsed before the last chunk: it counts as downloaded (downloaded_at kept)
            self.jobs.transition(job.request_id, [JobStatus.DOWNLOADING], JobStatus.DOWNLOADED)
            raise JobGoneError("the download claim expired before the last chunk was read")

    def _chunk_range(self, job: Job, offset_num: int) -> tuple[int, int]:
        """The file's size and number of chunks; ``ChunkOutOfRangeError`` past the end."""
        size = job.bytes if job.bytes is not None else self.blobs.size(job.blob_key) or 0
        step = self.settings.chunk_bytes
        count = max(1, -(-size // step))
        if offset_num < 0 or offset_num >= count:
            raise ChunkOutOfRangeError(
                f"offset_num: must be between 0 and {count - 1} for this file "
                f"({size} bytes in chunks of {step}), got {offset_num}"
            )
        return size, count

    # -- worker side ------------------------------------------------------------------

    def process(self, message: QueueMessage) -> None:
        """Make the file for one queued job. Idempotent: safe on redelivery.

        A transient failure leaves the message to come back later; after
        ``max_attempts`` (or at once for a permanent error) the job is marked failed.
        """
        job = self.jobs.get(message.request_id)
        if job is None or job.status is not JobStatus.IN_PROGRESS:
            self.queue.ack(message)
            return
        try:
            existing = self.blobs.size(job.blob_key)
        except BackendError:  # the attempt below meets it again, and retries
            existing = None
        if existing is not None:  # an identical spec was made already: one write in all
            with self._together():
                self.jobs.add_attempt(job.request_id)
                self._finish(job, message, JobStatus.READY, bytes=existing)
            return
        attempts = self.jobs.add_attempt(job.request_id)  # committed before the work: a
        # crash while synthesising still counts (max_attempts stops a job that kills us)
        try:
            size = self._make_file(job)
        except Exception as exc:
            permanent = isinstance(exc, InvalidSpecError | MemoryError) or (
                isinstance(exc, BackendError) and not exc.transient
            )
            if permanent or attempts >= self.settings.max_attempts:
                log.exception("job %s failed after %d attempt(s)", job.request_id, attempts)
                self._finish(job, message, JobStatus.FAILED, error=f"{type(exc).__name__}: {exc}")
            else:
                log.warning(
                    "job %s attempt %d failed (%s); will retry", job.request_id, attempts, exc
                )
                self.queue.retry_later(message, min(60.0, 2.0**attempts))
            return
        self._finish(job, message, JobStatus.READY, bytes=size)

    def _together(self) -> AbstractContextManager[None]:
        """One transaction for the writes inside, where the backend has them."""
        return self.loop_commits.together() if self.loop_commits is not None else nullcontext()

    def _finish(self, job: Job, message: QueueMessage, to: JobStatus, **fields: Any) -> None:
        """Move the job out of ``in_progress`` and delete its message, in one transaction
        where the backend allows (locally: one take of the write lock instead of two).
        Elsewhere in that order: a crash between the two redelivers the message, and the
        job, no longer in progress, is acked without work."""
        with self._together():
            self.jobs.transition(job.request_id, [JobStatus.IN_PROGRESS], to, **fields)
            self.queue.ack(message)

    def _make_file(self, job: Job) -> int:
        from wavekit.audio import wavfile  # numpy and soundfile: only where files are made

        spec = ToneSpec.parse(job.spec_json)
        path = self.blobs.temp_path()
        try:
            wavfile.write(spec, path)
            return self.blobs.put_file(job.blob_key, path)
        finally:
            path.unlink(missing_ok=True)

    def recover(self) -> int:
        """Queue every accepted, unfinished job again (after a crash or restart)."""
        pending = self.jobs.in_progress()
        for job in pending:
            self.queue.send(job.request_id)
        return len(pending)

    # -- cleaner ----------------------------------------------------------------------

    def requeue_lost(self, older_than_s: float) -> list[str]:
        """Send again the jobs in progress that nothing has touched for ``older_than_s``,
        whatever else is queued (under steady load the queue is never empty).

        Why a re-send is always safe on the FIFO job queue, where the request id is both
        the message group and the deduplication id:

        - the message was lost (a failed send after the job was stored, a re-send
          swallowed by deduplication): the re-send is the job's only message;
        - the message waits or is in flight: SQS delivers one message of a group at a
          time, so the copy waits until the first is deleted, and :meth:`process` then
          acks it without work (the job is no longer in progress);
        - the message was dead-lettered: the cleaner fails the job first
          (:meth:`fail_dead_lettered`), so it is no longer in progress here.

        Each re-send touches the job (a conditional in-progress → in-progress update), so
        a job is sent at most once per ``older_than_s`` and never after it finished; with
        ``older_than_s`` above the five-minute deduplication window, the re-send is not
        swallowed by the previous send.
        """
        cutoff = self.clock() - dt.timedelta(seconds=older_than_s)
        stale = [job.request_id for job in self.jobs.in_progress() if job.updated_at < cutoff]
        requeued = []
        for request_id in stale:
            touched = self.jobs.transition(
                request_id, [JobStatus.IN_PROGRESS], JobStatus.IN_PROGRESS, updated_at=self.clock()
            )
            if touched is None:  # finished (or failed) since it was listed
                continue
            self.queue.send(request_id)
            requeued.append(request_id)
            log.warning("re-queued a job in progress too long", extra={"request_id": request_id})
        return requeued

    def fail_dead_lettered(self, request_id: str, reason: str) -> Job | None:
        """Mark a job whose message reached the dead-letter queue failed, with ``reason``.

        A message is dead-lettered after the worker received it ``maxReceiveCount`` times
        without finishing (killed by its timeout or out of memory, or crashed), so no
        worker will ever finish the job: the client must learn it failed (409) rather
        than wait for the TTL. Returns the failed job, or ``None`` when the job is unknown
        or no longer in progress (it finished on an earlier delivery).
        """
        failed = self.jobs.transition(
            request_id, [JobStatus.IN_PROGRESS], JobStatus.FAILED, error=reason
        )
        if failed is not None:
            log.error("job failed: its message was dead-lettered", extra={"request_id": request_id})
        return failed

    def clean(self) -> CleanReport:
        """Expire old ready jobs; delete blobs that no live job needs.

        Downloaded files are kept for the download-URL lifetime, so a client that was
        just redirected can still fetch its file.
        """
        now = self.clock()
        expired = self.jobs.expire_older_than(
            now - dt.timedelta(seconds=self.settings.retention_s), now
        )
        grace = dt.timedelta(seconds=self.settings.download_url_ttl_s)
        keys = self.jobs.purgeable_blobs(downloaded_before=now - grace)
        for key in keys:
            self.blobs.delete(key)
        self.jobs.mark_purged(keys)
        return CleanReport(expired=expired, deleted_blobs=len(keys))
