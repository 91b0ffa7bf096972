"""The port contract (wavekit.ports), run against every backend."""

from __future__ import annotations

import datetime as dt
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.contract.conftest import BackendKit
from wavekit.errors import BackendError
from wavekit.events import EVENT_COLUMNS, RequestEvent
from wavekit.ports import Job, JobStatus, blob_key

T0 = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)


def job(request_id: str, file_id: str = "f1", **changes: object) -> Job:
    base = Job(
        request_id=request_id,
        file_id=file_id,
        status=JobStatus.IN_PROGRESS,
        spec_json='{"frequencies":[440]}',
        client_id="client-a",
        created_at=T0,
        updated_at=T0,
    )
    return base.evolve(**changes)


def test_blobs_store_read_ranges_and_delete(kit: BackendKit) -> None:
    data = bytes(range(256)) * 100
    key = blob_key("abc")
    assert kit.blobs.size(key) is None
    assert kit.blobs.put_file(key, kit.make_file(data)) == len(data)  # type: ignore[operator]
    assert kit.blobs.size(key) == len(data)
    assert kit.blobs.read_range(key, 0, 10) == data[:10]
    assert kit.blobs.read_range(key, 25_000, 1000) == data[25_000:]
    kit.blobs.delete(key)
    kit.blobs.delete(key)  # idempotent
    assert kit.blobs.size(key) is None
    with pytest.raises(BackendError):
        kit.blobs.read_range(key, 0, 10)


def test_job_round_trip_and_conditional_transitions(kit: BackendKit) -> None:
    created = kit.jobs.create(job("r1"))
    assert kit.jobs.get("r1") == created
    assert kit.jobs.get("missing") is None

    ready = kit.jobs.transition("r1", [JobStatus.IN_PROGRESS], JobStatus.READY, bytes=1234)
    assert ready is not None
    assert (ready.status, ready.bytes) == (JobStatus.READY, 1234)
    # compare-and-set: a second worker finishing the same job changes nothing
    assert kit.jobs.transition("r1", [JobStatus.IN_PROGRESS], JobStatus.FAILED) is None
    when = T0 + dt.timedelta(minutes=5)
    done = kit.jobs.transition("r1", [JobStatus.READY], JobStatus.DOWNLOADED, downloaded_at=when)
    assert done is not None
    assert done.downloaded_at == when
    assert kit.jobs.transition("r1", [JobStatus.READY], JobStatus.DOWNLOADED) is None
    assert kit.jobs.transition("nope", [JobStatus.READY], JobStatus.DOWNLOADED) is None


def test_idempotency_key_returns_the_first_job(kit: BackendKit) -> None:
    first = kit.jobs.create(job("r1", idempotency_key="k"))
    again = kit.jobs.create(job("r2", idempotency_key="k"))
    assert again.request_id == first.request_id
    other_client = kit.jobs.create(job("r3", idempotency_key="k", client_id="client-b"))
    assert other_client.request_id == "r3"
    assert kit.jobs.get("r2") is None


def test_attempts_and_in_progress(kit: BackendKit) -> None:
    kit.jobs.create(job("r1"))
    kit.jobs.create(job("r2", status=JobStatus.READY))
    assert kit.jobs.add_attempt("r1") == 1
    assert kit.jobs.add_attempt("r1") == 2
    assert [j.request_id for j in kit.jobs.in_progress()] == ["r1"]


def test_expiry_and_purgeable_blobs(kit: BackendKit) -> None:
    old, new = T0 - dt.timedelta(days=3), T0
    kit.jobs.create(job("old-ready", "f-old", status=JobStatus.READY, created_at=old))
    kit.jobs.create(job("new-ready", "f-new", status=JobStatus.READY, created_at=new))
    kit.jobs.create(
        job(
            "downloaded",
            "f-dl",
            status=JobStatus.DOWNLOADED,
            downloaded_at=T0 - dt.timedelta(hours=1),
        )
    )
    kit.jobs.create(job("fresh-dl", "f-fresh", status=JobStatus.DOWNLOADED, downloaded_at=T0))
    # a shared file: one job downloaded, another still waiting for it
    kit.jobs.create(job("shared-dl", "f-shared", status=JobStatus.DOWNLOADED, downloaded_at=old))
    kit.jobs.create(job("shared-ready", "f-shared", status=JobStatus.READY, created_at=new))

    assert kit.jobs.expire_older_than(T0 - dt.timedelta(days=2), T0) == 1
    assert kit.jobs.get("old-ready").status is JobStatus.EXPIRED  # type: ignore[union-attr]
    keys = kit.jobs.purgeable_blobs(downloaded_before=T0 - dt.timedelta(minutes=5))
    assert sorted(keys) == [blob_key("f-dl"), blob_key("f-old")]
    kit.jobs.mark_purged(keys)
    assert kit.jobs.purgeable_blobs(downloaded_before=T0 - dt.timedelta(minutes=5)) == []


def test_queue_is_at_least_once_with_visibility_timeout(kit: BackendKit) -> None:
    kit.queue.send("r1")
    kit.queue.send("r2")
    kit.queue.send("r1")  # duplicates of a waiting message collapse
    assert kit.queue.depth() == 2
    first = kit.queue.receive(max_messages=10)
    assert sorted(m.request_id for m in first) == ["r1", "r2"]
    assert kit.queue.receive(max_messages=10) == []  # hidden while in flight
    by_id = {m.request_id: m for m in first}
    kit.queue.ack(by_id["r1"])
    kit.queue.retry_later(by_id["r2"], 0.0)
    again = kit.queue.receive(max_messages=10)
    assert [m.request_id for m in again] == ["r2"]
    assert again[0].receive_count == 2
    time.sleep(0.6)  # not acked within the visibility timeout: delivered again
    redelivered = kit.queue.receive(max_messages=10, wait_s=1.0)
    assert [m.request_id for m in redelivered] == ["r2"]
    kit.queue.ack(again[0])  # a stale receipt does not delete the message
    assert kit.queue.depth() == 1
    kit.queue.ack(redelivered[0])
    assert kit.queue.depth() == 0


def test_receive_waits_for_a_message(kit: BackendKit) -> None:
    started = time.monotonic()
    assert kit.queue.receive(wait_s=0.3) == []
    assert time.monotonic() - started >= 0.25


def test_event_sink_delivers_every_event_with_the_contract_schema(kit: BackendKit) -> None:
    for i in range(25):
        kit.events.emit(RequestEvent("GET /health", "GET", 200, float(i), bytes_out=i))
    kit.events.flush()
    table = kit.read_events()  # type: ignore[operator]
    assert table.num_rows == 25
    assert list(table.schema.names) == list(EVENT_COLUMNS)
    assert sorted(table.column("bytes_out").to_pylist()) == list(range(25))


def test_claim_download_is_compare_and_set(kit: BackendKit) -> None:
    kit.jobs.create(job("r1"))
    until = T0 + dt.timedelta(minutes=5)
    assert kit.jobs.claim_download("r1", "tok", until, T0) is None  # not ready yet
    kit.jobs.transition("r1", [JobStatus.IN_PROGRESS], JobStatus.READY, bytes=10)
    claimed = kit.jobs.claim_download("r1", "tok", until, T0)
    assert claimed is not None
    assert (claimed.status, claimed.download_token) == (JobStatus.DOWNLOADING, "tok")
    assert (claimed.download_until, claimed.downloaded_at, claimed.bytes) == (until, T0, 10)
    assert kit.jobs.get("r1") == claimed
    assert kit.jobs.claim_download("r1", "other", until, T0) is None  # held: nobody else
    assert kit.jobs.transition("r1", [JobStatus.READY], JobStatus.DOWNLOADED) is None  # /download
    assert kit.jobs.claim_download("missing", "tok", until, T0) is None
    done = kit.jobs.transition("r1", [JobStatus.DOWNLOADING], JobStatus.DOWNLOADED)
    assert done is not None
    assert (done.status, done.download_token, done.downloaded_at) == (
        JobStatus.DOWNLOADED,
        "tok",
        T0,
    )


def test_a_claimed_blob_is_kept_for_the_claim_and_then_purgeable(kit: BackendKit) -> None:
    kit.jobs.create(job("r1", "f-claimed", status=JobStatus.READY))
    kit.jobs.claim_download("r1", "tok", T0 + dt.timedelta(minutes=5), T0)
    assert kit.jobs.purgeable_blobs(downloaded_before=T0 - dt.timedelta(minutes=5)) == []
    after = kit.jobs.purgeable_blobs(downloaded_before=T0 + dt.timedelta(seconds=1))
    assert after == [blob_key("f-claimed")]


@pytest.mark.parametrize("trial", range(3))
def test_of_concurrent_claims_exactly_one_wins(kit: BackendKit, trial: int) -> None:
    kit.jobs.create(job("r1", status=JobStatus.READY, bytes=10))
    clients = 16
    start = threading.Barrier(clients)
    until = T0 + dt.timedelta(minutes=5)

    def claim(i: int) -> str | None:
        start.wait()
        won = kit.jobs.claim_download("r1", f"token-{i}", until, T0)
        return None if won is None else won.download_token

    with ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(claim, range(clients)))
    winners = [token for token in results if token is not None]
    assert len(winners) == 1, results
    assert kit.jobs.get("r1").download_token == winners[0]  # type: ignore[union-attr]
