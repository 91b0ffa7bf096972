"""Download-once on the chunk path: JobService rules with real local backends and an
injected clock (the HTTP race with parallel clients is in test_download_once.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.service.test_jobs import Clock, drain, spec
from wavekit.errors import ChunkOutOfRangeError, JobGoneError
from wavekit.ports import Job, JobStatus
from wavekit.runtime import Runtime
from wavekit.service.jobs import JobService
from wavekit.settings import Settings


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def runtime(tmp_path: Path, clock: Clock) -> Iterator[Runtime]:
    settings = Settings(data_dir=tmp_path, worker_threads=0, download_url_ttl_s=300)
    made = Runtime.local(settings, clock)
    yield made
    made.close()


def ready_job(runtime: Runtime, freq: float = 440.0) -> Job:
    job = runtime.service.submit(spec(freq), "c1")
    drain(runtime)
    done = runtime.service.get(job.request_id)
    assert done.status is JobStatus.READY
    return done


def with_chunk_bytes(runtime: Runtime, chunk_bytes: int) -> JobService:
    service = runtime.service
    service.settings = service.settings.model_copy(update={"chunk_bytes": chunk_bytes})
    return service


def whole_file(runtime: Runtime, job: Job) -> bytes:
    return runtime.backends.blobs.read_range(job.blob_key, 0, job.bytes or 0)


def test_first_chunk_claims_and_only_the_token_holder_reads_on(runtime: Runtime) -> None:
    job = ready_job(runtime)
    size = job.bytes or 0
    service = with_chunk_bytes(runtime, 4096)
    first = service.read_chunk(job.request_id, 0)
    token = first.download_token
    assert len(token) >= 32
    assert service.get(job.request_id).status is JobStatus.DOWNLOADING
    for intruder in (None, "guess", token[:-1]):
        with pytest.raises(JobGoneError, match="another client"):
            service.read_chunk(job.request_id, 1, intruder)
    with pytest.raises(JobGoneError, match="being downloaded in chunks"):
        service.claim_download(job.request_id)  # /download: excluded while chunks are claimed
    again = service.read_chunk(job.request_id, 0, token)  # a retry after a network error
    assert again.data == first.data
    count = -(-size // 4096)
    parts = [service.read_chunk(job.request_id, n, token) for n in range(1, count)]
    assert [p.is_last for p in parts] == [False] * (count - 2) + [True]
    assert first.data + b"".join(p.data for p in parts) == whole_file(runtime, job)
    assert service.get(job.request_id).status is JobStatus.DOWNLOADED
    with pytest.raises(JobGoneError, match="already downloaded"):
        service.read_chunk(job.request_id, 0, token)  # the last chunk ends the claim


def test_download_redirect_excludes_chunks(runtime: Runtime) -> None:
    job = ready_job(runtime)
    runtime.service.claim_download(job.request_id)
    with pytest.raises(JobGoneError, match="already downloaded"):
        runtime.service.read_chunk(job.request_id, 0)


def test_a_lapsed_claim_counts_as_downloaded(runtime: Runtime, clock: Clock) -> None:
    job = ready_job(runtime)
    service = with_chunk_bytes(runtime, 4096)
    claimed_at = clock.now
    token = service.read_chunk(job.request_id, 0).download_token
    clock.advance(seconds=299)
    service.read_chunk(job.request_id, 1, token)
    clock.advance(seconds=1)  # the download-URL lifetime is over
    with pytest.raises(JobGoneError, match="claim expired"):
        service.read_chunk(job.request_id, 2, token)
    lapsed = service.get(job.request_id)
    assert (lapsed.status, lapsed.downloaded_at) == (JobStatus.DOWNLOADED, claimed_at)
    with pytest.raises(JobGoneError):
        service.read_chunk(job.request_id, 0)
    with pytest.raises(JobGoneError):
        service.claim_download(job.request_id)


def test_claimed_blob_is_kept_while_the_claim_lasts(runtime: Runtime, clock: Clock) -> None:
    job = ready_job(runtime)
    service = with_chunk_bytes(runtime, 4096)
    token = service.read_chunk(job.request_id, 0).download_token
    clock.advance(seconds=290)
    assert service.clean().deleted_blobs == 0
    assert service.read_chunk(job.request_id, 1, token).data
    clock.advance(seconds=11)
    assert service.clean().deleted_blobs == 1


def test_size_an_exact_multiple_of_the_chunk_size(runtime: Runtime) -> None:
    job = ready_job(runtime)
    size = job.bytes or 0
    assert size % 2 == 0  # RIFF pads to an even size
    service = with_chunk_bytes(runtime, size // 2)
    first = service.read_chunk(job.request_id, 0)
    with pytest.raises(ChunkOutOfRangeError, match="between 0 and 1"):
        service.read_chunk(job.request_id, 2, first.download_token)
    last = service.read_chunk(job.request_id, 1, first.download_token)
    assert (first.is_last, last.is_last) == (False, True)
    assert (len(first.data), len(last.data), last.total_bytes) == (size // 2, size // 2, size)
    assert first.data + last.data == whole_file(runtime, job)


def test_a_one_byte_last_chunk(runtime: Runtime) -> None:
    job = ready_job(runtime)
    size = job.bytes or 0
    service = with_chunk_bytes(runtime, size - 1)
    first = service.read_chunk(job.request_id, 0)
    last = service.read_chunk(job.request_id, 1, first.download_token)
    assert (len(first.data), len(last.data), last.is_last) == (size - 1, 1, True)
    assert first.data + last.data == whole_file(runtime, job)


@pytest.mark.parametrize("offset", [-1, -1000, 5, 10**9])
def test_out_of_range_offsets_are_refused_without_claiming(runtime: Runtime, offset: int) -> None:
    job = ready_job(runtime)
    service = with_chunk_bytes(runtime, 4096)
    count = -(-(job.bytes or 0) // 4096)
    assert count == 5, "the spec's file should take 5 chunks"
    with pytest.raises(ChunkOutOfRangeError, match=f"between 0 and {count - 1}"):
        service.read_chunk(job.request_id, offset if offset != 5 else count)
    assert service.get(job.request_id).status is JobStatus.READY  # still claimable
    token = service.read_chunk(job.request_id, 0).download_token
    with pytest.raises(ChunkOutOfRangeError):
        service.read_chunk(job.request_id, offset if offset != 5 else count, token)
    assert service.get(job.request_id).status is JobStatus.DOWNLOADING


def test_a_holder_instead_of_a_token(runtime: Runtime) -> None:
    """A protocol without tokens binds the claim to the caller (its client id)."""
    job = ready_job(runtime)
    service = with_chunk_bytes(runtime, 4096)
    first = service.read_chunk(job.request_id, 0, holder="client-a")
    assert service.read_chunk(job.request_id, 0, holder="client-a").data == first.data
    with pytest.raises(JobGoneError, match="another client"):
        service.read_chunk(job.request_id, 1, holder="client-b")
    with pytest.raises(JobGoneError, match="another client"):
        service.read_chunk(job.request_id, 1)
    assert service.read_chunk(job.request_id, 4, holder="client-a").is_last
    assert service.get(job.request_id).status is JobStatus.DOWNLOADED


def test_downloading_job_is_not_expired_or_resynthesised(runtime: Runtime, clock: Clock) -> None:
    job = ready_job(runtime)
    service = with_chunk_bytes(runtime, 4096)
    service.read_chunk(job.request_id, 0)
    clock.advance(days=3)
    report = service.clean()
    assert (report.expired, report.deleted_blobs) == (0, 1)  # claimed: never expired, purged
    assert service.get(job.request_id).status is JobStatus.DOWNLOADING
    with pytest.raises(JobGoneError):
        service.read_chunk(job.request_id, 0)
