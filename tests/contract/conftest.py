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
from wavekit.backends.ports import BlobStore, EventSink, JobQueue, JobTable
from wavekit.events import read_lake


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


@pytest.fixture(params=["local"])
def kit(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendKit]:
    backends = {"local": _local}
    made = backends[request.param](tmp_path)
    yield made
    made.events.close()
