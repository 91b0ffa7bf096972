"""Backends under contract: every implementation of the ports gets the same tests.

Add a backend by adding a fixture param here (the AWS one runs under moto)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wavekit.backends.local import (
    LocalBlobStore,
    ParquetEventSink,
    SqliteDatabase,
    SqliteJobQueue,
    SqliteJobTable,
)
from wavekit.events import read_lake
from wavekit.ports import BlobStore, EventSink, JobQueue, JobTable


@dataclass
class BackendKit:
    blobs: BlobStore
    jobs: JobTable
    queue: JobQueue
    events: EventSink
    read_events: object  # () -> pyarrow.Table of everything the sink delivered
    make_file: object  # (bytes) -> Path on a filesystem the blob store can take from


def _local(tmp_path: Path) -> BackendKit:
    db = SqliteDatabase(tmp_path / "db.sqlite3")
    blobs = LocalBlobStore(tmp_path / "blobs")

    def make_file(data: bytes) -> Path:
        path = blobs.temp_path()
        path.write_bytes(data)
        return path

    return BackendKit(
        blobs=blobs,
        jobs=SqliteJobTable(db),
        queue=SqliteJobQueue(db, visibility_timeout_s=0.5),
        events=ParquetEventSink(tmp_path / "lake", flush_rows=1000, flush_s=60),
        read_events=lambda: read_lake(tmp_path / "lake"),
        make_file=make_file,
    )


def _aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BackendKit]:
    """S3, DynamoDB, SQS FIFO and Firehose under moto (in-process, dummy credentials)."""
    from moto import mock_aws

    from tests.aws.resources import (
        DUMMY_ENV,
        create_backend_resources,
        delivered_lines,
        new_session,
    )
    from wavekit.backends.aws import (
        DynamoJobTable,
        FirehoseEventSink,
        S3BlobStore,
        SqsJobQueue,
        event_from_json,
    )
    from wavekit.events import events_table

    for name in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in DUMMY_ENV.items():  # never real credentials, whatever the machine has
        monkeypatch.setenv(name, value)
    serialise_moto_requests(monkeypatch)
    with mock_aws():
        session = new_session()
        # SQS timeouts are whole seconds: 1 s is the shortest that still hides a message
        made = create_backend_resources(session, visibility_timeout_s=1)

        def make_file(data: bytes) -> Path:
            path = tmp_path / f"upload-{len(data)}.bin"
            path.write_bytes(data)
            return path

        def read_events() -> object:
            lines = delivered_lines(session, made.lake_bucket)
            return events_table([event_from_json(line) for line in lines])

        yield BackendKit(
            blobs=S3BlobStore(made.bucket, boto3_session=session),
            jobs=DynamoJobTable(made.table, boto3_session=session),
            queue=SqsJobQueue(made.queue_url, boto3_session=session),
            events=FirehoseEventSink(made.stream, boto3_session=session),
            read_events=read_events,
            make_file=make_file,
        )


def serialise_moto_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Handle one AWS request at a time, as DynamoDB applies each request (a write and its
    condition) atomically. In-process moto does not: two threads' conditional updates can
    both pass their condition. With this, an adapter that writes conditionally wins a race
    once, while one that reads and then writes still loses it (the read and the write are
    separate requests)."""
    import threading

    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.Lock()
    process = BotocoreStubber.process_request

    def one_at_a_time(self: BotocoreStubber, request: object) -> object:
        with lock:
            return process(self, request)  # type: ignore[arg-type]

    monkeypatch.setattr(BotocoreStubber, "process_request", one_at_a_time)


@pytest.fixture(params=["local", "aws"])
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendKit]:
    if request.param == "aws":
        made_aws = _aws(tmp_path, request.getfixturevalue("monkeypatch"))
        made = next(made_aws)
        yield made
        made.events.close()
        next(made_aws, None)
        return
    made = _local(tmp_path)
    yield made
    made.events.close()
