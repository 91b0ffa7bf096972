"""The worker's share of the SQLite write lock, and a WAL that stays bounded (ADR 0007,
third round): a job finishes in one transaction, and under continuous writes with a
concurrent reader the WAL file is brought back under its limit."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from wavekit.audio.spec import ToneSpec
from wavekit.backends.local.sqlite import SqliteDatabase
from wavekit.ports import JobStatus
from wavekit.runtime import Runtime
from wavekit.settings import Settings


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    made = Runtime.local(Settings(data_dir=tmp_path, worker_threads=0))
    yield made
    made.close()


def begins_while(db: SqliteDatabase, action: object) -> int:
    """How many write transactions this thread's connection opens while ``action`` runs."""
    statements: list[str] = []
    con = db.connection()
    con.set_trace_callback(statements.append)
    try:
        action()  # type: ignore[operator]
    finally:
        con.set_trace_callback(None)
    return sum(s.strip().upper().startswith("BEGIN") for s in statements)


def queued_ids(path: Path) -> set[str]:
    with sqlite3.connect(path) as con:
        return {row[0] for row in con.execute("SELECT request_id FROM queue")}


def test_a_job_is_made_in_two_write_transactions_and_a_stored_one_in_one(
    runtime: Runtime,
) -> None:
    db = runtime.extras["db"]
    assert isinstance(db, SqliteDatabase)
    service = runtime.service
    first = service.submit(ToneSpec(frequencies=[440.0], duration=0.1), "c")
    twin = service.submit(ToneSpec(frequencies=[440.0], duration=0.1), "c")  # same file
    messages = {m.request_id: m for m in service.queue.receive(10)}

    made = begins_while(db, lambda: service.process(messages[first.request_id]))
    stored = begins_while(db, lambda: service.process(messages[twin.request_id]))

    assert (made, stored) == (2, 1)  # attempt; ready + ack (was 3 each)
    for job in (first, twin):
        done = service.get(job.request_id)
        assert (done.status, done.attempts) == (JobStatus.READY, 1)
        assert done.bytes is not None
        assert done.bytes > 44  # a WAV with samples, its size recorded
    assert queued_ids(db.path) == set()


def test_together_is_one_transaction_seen_whole_or_not_at_all(runtime: Runtime) -> None:
    db = runtime.extras["db"]
    assert isinstance(db, SqliteDatabase)
    service = runtime.service
    job = service.submit(ToneSpec(frequencies=[330.0], duration=0.1), "c")
    (message,) = service.queue.receive(1)

    def fail_after_both_writes() -> None:
        with db.together():
            service.jobs.transition(job.request_id, [JobStatus.IN_PROGRESS], JobStatus.READY)
            service.queue.ack(message)
            with sqlite3.connect(db.path) as other:  # another process sees neither yet
                (status,) = other.execute(
                    "SELECT status FROM jobs WHERE request_id = ?", (job.request_id,)
                ).fetchone()
            assert status == JobStatus.IN_PROGRESS.value
            assert queued_ids(db.path) == {job.request_id}
            raise RuntimeError("the block fails: both writes are undone")

    with pytest.raises(RuntimeError, match="both writes are undone"):
        fail_after_both_writes()
    assert service.get(job.request_id).status is JobStatus.IN_PROGRESS
    assert queued_ids(db.path) == {job.request_id}

    with db.together():
        service.jobs.transition(job.request_id, [JobStatus.IN_PROGRESS], JobStatus.READY)
        service.queue.ack(message)
    assert service.get(job.request_id).status is JobStatus.READY
    assert queued_ids(db.path) == set()


def test_the_wal_is_brought_back_under_its_limit_under_continuous_writes_and_reads(
    tmp_path: Path,
) -> None:
    """A real file: a writer and a reader never pause, the background checkpointer must
    still empty the WAL again and again. (With PASSIVE checkpoints only, the file only
    ever grew.)"""
    limit = 256 * 1024
    db = SqliteDatabase(tmp_path / "jobs.sqlite3", wal_limit_bytes=limit, checkpoint_every_s=0.02)
    wal = Path(f"{db.path}-wal")
    db.run(lambda con: con.execute("CREATE TABLE IF NOT EXISTS filler (data BLOB)"))
    stop = threading.Event()
    written = [0]

    def write() -> None:
        while not stop.is_set():
            db.group_write(lambda con: con.execute("INSERT INTO filler VALUES (zeroblob(4096))"))
            written[0] += 4096

    def read() -> None:
        while not stop.is_set():
            db.run(lambda con: con.execute("SELECT count(*) FROM filler").fetchone())

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for thread in threads:
        thread.start()
    emptied = 0
    try:
        deadline = time.monotonic() + 60  # a generous limit for a loaded machine
        while emptied < 5 and time.monotonic() < deadline:
            while wal.exists() and wal.stat().st_size <= limit and time.monotonic() < deadline:
                time.sleep(0.001)  # wait for it to grow past the limit...
            while wal.exists() and wal.stat().st_size > limit and time.monotonic() < deadline:
                time.sleep(0.001)  # ...then for the checkpointer to empty it again
            emptied += wal.stat().st_size <= limit
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert emptied == 5
    assert written[0] > 5 * limit  # the writes went on throughout
