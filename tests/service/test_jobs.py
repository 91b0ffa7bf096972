"""JobService rules with the real local backends and an injected clock (no threads)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import soundfile as sf

from wavekit import ToneSpec
from wavekit.backends.local import LocalBlobStore
from wavekit.errors import (
    BackendError,
    IdempotencyConflictError,
    InvalidSpecError,
    JobFailedError,
    JobGoneError,
    JobNotReadyError,
)
from wavekit.ports import JobStatus
from wavekit.runtime import Runtime
from wavekit.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2026, 5, 1, 9, 0, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(tmp_path: Path, clock: Clock) -> Iterator[Runtime]:
    made = Runtime.local(Settings(data_dir=tmp_path, worker_threads=0, max_attempts=3), clock)
    yield made
    made.close()


def spec(freq: float = 440.0) -> ToneSpec:
    return ToneSpec(frequencies=[freq], duration=0.2)


def drain(runtime: Runtime) -> None:
    while runtime.worker.run_once(max_messages=10):
        pass


def test_submit_process_download_once(runtime: Runtime) -> None:
    service = runtime.service
    job = service.submit(spec(), "c1")
    assert job.status is JobStatus.IN_PROGRESS
    with pytest.raises(JobNotReadyError) as not_ready:
        service.claim_download(job.request_id)
    assert not_ready.value.retry_after == 1.0
    drain(runtime)
    ready = service.get(job.request_id)
    assert ready.status is JobStatus.READY
    assert ready.bytes == runtime.backends.blobs.size(ready.blob_key)
    service.claim_download(job.request_id)
    with pytest.raises(JobGoneError, match="already downloaded"):
        service.claim_download(job.request_id)


def test_identical_specs_share_one_synthesis(runtime: Runtime) -> None:
    first = runtime.service.submit(spec(), "c1")
    drain(runtime)
    blob = Path(runtime.settings.blob_dir / first.blob_key)
    made_at = blob.stat().st_mtime_ns
    second = runtime.service.submit(ToneSpec(frequencies=["A4"], duration=0.2), "c2")
    assert second.status is JobStatus.READY  # no queue round trip
    assert second.file_id == first.file_id
    assert blob.stat().st_mtime_ns == made_at


def test_a_job_stores_the_canonical_spec_under_its_hash(runtime: Runtime) -> None:
    """``submit`` builds the canonical JSON once and hashes it itself: it must agree with
    :attr:`ToneSpec.spec_hash`, the name the worker and every other reader use."""
    tone = ToneSpec(frequencies=["C4", 880.5], duration=0.3, volume="-6dB", noise="pink")
    job = runtime.service.submit(tone, "c1")
    assert job.file_id == tone.spec_hash
    assert job.spec_json == tone.canonical_json()
    assert runtime.service.get(job.request_id).spec_json == tone.canonical_json()
    assert len(job.request_id) == 32
    assert int(job.request_id, 16) >= 0  # hex, as the path pattern and clients expect


def test_service_duration_limit_names_the_field(runtime: Runtime) -> None:
    with pytest.raises(InvalidSpecError, match=r"duration: must be at most 60 s in the service"):
        runtime.service.submit(ToneSpec(frequencies=[440], duration=61), "c1")


def test_idempotency_conflict(runtime: Runtime) -> None:
    runtime.service.submit(spec(440), "c1", idempotency_key="k")
    same = runtime.service.submit(spec(440), "c1", idempotency_key="k")
    assert runtime.service.submit(spec(440), "c1", idempotency_key="k") == same
    with pytest.raises(IdempotencyConflictError, match="Idempotency-Key"):
        runtime.service.submit(spec(441), "c1", idempotency_key="k")


class FlakyBlobStore(LocalBlobStore):
    """The real local store, failing its first ``failures`` writes like a busy disk."""

    def __init__(self, root: Path, failures: int, transient: bool = True) -> None:
        super().__init__(root)
        self.failures = failures
        self.transient = transient

    def put_file(self, key: str, path: Path) -> int:
        if self.failures:
            self.failures -= 1
            raise BackendError("disk busy", transient=self.transient)
        return super().put_file(key, path)


def use_blobs(runtime: Runtime, blobs: LocalBlobStore) -> None:
    runtime.backends.blobs = blobs
    runtime.service.blobs = blobs


def test_transient_failures_are_retried(runtime: Runtime) -> None:
    use_blobs(runtime, FlakyBlobStore(runtime.settings.blob_dir, failures=2))
    job = runtime.service.submit(spec(), "c1")
    for _ in range(3):
        runtime.backends.queue.recover()
        drain(runtime)
    done = runtime.service.get(job.request_id)
    assert done.status is JobStatus.READY
    assert done.attempts == 3
    assert not list((runtime.settings.blob_dir / ".tmp").iterdir())


def test_failure_after_max_attempts_is_recorded(runtime: Runtime) -> None:
    use_blobs(runtime, FlakyBlobStore(runtime.settings.blob_dir, failures=10))
    job = runtime.service.submit(spec(), "c1")
    for _ in range(5):
        runtime.backends.queue.recover()
        drain(runtime)
    failed = runtime.service.get(job.request_id)
    assert failed.status is JobStatus.FAILED
    assert failed.attempts == 3
    assert "disk busy" in (failed.error or "")
    assert runtime.backends.queue.depth() == 0
    with pytest.raises(JobFailedError, match="disk busy"):
        runtime.service.claim_download(job.request_id)


def test_permanent_failure_is_not_retried(runtime: Runtime) -> None:
    use_blobs(runtime, FlakyBlobStore(runtime.settings.blob_dir, failures=1, transient=False))
    job = runtime.service.submit(spec(), "c1")
    drain(runtime)
    assert runtime.service.get(job.request_id).attempts == 1
    assert runtime.service.get(job.request_id).status is JobStatus.FAILED


def test_redelivered_message_is_harmless(runtime: Runtime) -> None:
    job = runtime.service.submit(spec(), "c1")
    drain(runtime)
    runtime.backends.queue.send(job.request_id)  # SQS may deliver twice
    drain(runtime)
    assert runtime.service.get(job.request_id).attempts == 1


def test_cleaner_deletes_downloaded_and_old_keeps_fresh(runtime: Runtime, clock: Clock) -> None:
    service = runtime.service
    blobs = runtime.backends.blobs
    old = service.submit(spec(100), "c1")
    downloaded = service.submit(spec(200), "c1")
    drain(runtime)
    clock.advance(hours=47)
    fresh = service.submit(spec(300), "c1")
    drain(runtime)
    service.claim_download(downloaded.request_id)

    clock.advance(minutes=1)  # downloaded but inside the URL lifetime: kept
    report = service.clean()
    assert report.deleted_blobs == 0
    clock.advance(hours=1, minutes=1)  # now > 2 days for `old`, URL grace over
    report = service.clean()
    assert (report.expired, report.deleted_blobs) == (1, 2)
    assert service.get(old.request_id).status is JobStatus.EXPIRED
    assert blobs.size(old.blob_key) is None
    assert blobs.size(downloaded.blob_key) is None
    assert blobs.size(fresh.blob_key) is not None
    assert service.clean() == type(report)(expired=0, deleted_blobs=0)  # idempotent
    with pytest.raises(JobGoneError, match="expired"):
        service.claim_download(old.request_id)
    assert sf.info(str(runtime.settings.blob_dir / fresh.blob_key)).frames == 8820


def test_shared_file_survives_until_every_job_is_done(runtime: Runtime, clock: Clock) -> None:
    service = runtime.service
    first = service.submit(spec(), "c1")
    drain(runtime)
    second = service.submit(spec(), "c2")
    service.claim_download(first.request_id)
    clock.advance(hours=1)
    service.clean()
    assert runtime.backends.blobs.size(second.blob_key) is not None  # `second` still needs it
    service.claim_download(second.request_id)
    clock.advance(hours=1)
    assert service.clean().deleted_blobs == 1


def test_missing_file_is_made_again(runtime: Runtime) -> None:
    job = runtime.service.submit(spec(), "c1")
    drain(runtime)
    runtime.backends.blobs.delete(job.blob_key)
    with pytest.raises(JobNotReadyError, match="made again"):
        runtime.service.claim_download(job.request_id)
    drain(runtime)
    assert runtime.service.claim_download(job.request_id).status is JobStatus.DOWNLOADED


def test_recover_requeues_unfinished_jobs(tmp_path: Path, clock: Clock) -> None:
    settings = Settings(data_dir=tmp_path, worker_threads=0)
    first = Runtime.local(settings, clock)
    jobs = [first.service.submit(spec(200 + i), "c1") for i in range(3)]
    first.close()
    db = first.extras["db"]
    db.connection().execute("DELETE FROM queue")  # type: ignore[attr-defined]  # lost messages

    second = Runtime.local(settings, clock)
    try:
        assert second.service.recover() == 3
        drain(second)
        assert {second.service.get(j.request_id).status for j in jobs} == {JobStatus.READY}
    finally:
        second.close()
