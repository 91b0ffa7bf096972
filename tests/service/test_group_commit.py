"""Group commit (ADR 0007): concurrent writers share a COMMIT, and nobody hears "done"
before the COMMIT holding their rows; a failed COMMIT fails every member and keeps none
of their rows; a 202 survives ``kill -9``."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.service.conftest import LiveServer
from wavekit.backends.local.sqlite import SqliteDatabase, SqliteJobQueue, SqliteJobTable
from wavekit.errors import BackendError
from wavekit.ports import Job, JobStatus
from wavekit.runtime import Runtime
from wavekit.service.api import create_app
from wavekit.settings import Settings

# COMMIT fails while an orphan row exists: a deferred foreign key is checked at COMMIT
TRAP = """
CREATE TABLE IF NOT EXISTS parent (id INTEGER PRIMARY KEY);
CREATE TABLE IF NOT EXISTS orphan (
    parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
"""
POISON = """
CREATE TRIGGER poison AFTER INSERT ON jobs WHEN NEW.client_id = 'poison'
BEGIN INSERT INTO orphan VALUES (1); END;
"""


def new_job(key: str | None = None, client: str = "c") -> Job:
    now = dt.datetime.now(dt.UTC)
    return Job(
        request_id=uuid.uuid4().hex,
        file_id="f" * 64,
        status=JobStatus.IN_PROGRESS,
        spec_json="{}",
        client_id=client,
        created_at=now,
        updated_at=now,
        idempotency_key=key,
    )


def stored_ids(path: Path) -> set[str]:
    """What a fresh connection (another process, after a crash) sees."""
    with sqlite3.connect(path) as con:
        return {row[0] for row in con.execute("SELECT request_id FROM jobs")}


def test_concurrent_creates_are_all_committed_before_they_return(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "jobs.sqlite3")
    table, queue = SqliteJobTable(db), SqliteJobQueue(db)
    seen_at_return: list[bool] = []

    def create_and_send(_: int) -> str:
        job = table.create(new_job())
        queue.send(job.request_id)
        seen_at_return.append(job.request_id in stored_ids(db.path))
        return job.request_id

    with ThreadPoolExecutor(16) as pool:
        ids = list(pool.map(create_and_send, range(400)))
    assert len(set(ids)) == 400
    assert all(seen_at_return)
    assert stored_ids(db.path) == set(ids)
    assert queue.depth() == 400


def test_idempotency_holds_inside_one_batch(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "jobs.sqlite3")
    table = SqliteJobTable(db)
    with ThreadPoolExecutor(16) as pool:
        saved = list(pool.map(lambda _: table.create(new_job(key="same")), range(64)))
    assert len({job.request_id for job in saved}) == 1
    assert len(stored_ids(db.path)) == 1


def test_a_failed_commit_fails_every_member_and_keeps_none_of_their_rows(
    tmp_path: Path,
) -> None:
    db = SqliteDatabase(tmp_path / "jobs.sqlite3")
    db.run(lambda con: con.executescript(TRAP + POISON))
    table = SqliteJobTable(db)
    start = threading.Barrier(16)

    def create(i: int) -> tuple[str, bool, bool]:
        poisoned = i % 4 == 0  # its row makes the COMMIT of its whole batch fail
        job = new_job(client="poison" if poisoned else "c")
        start.wait()
        try:
            table.create(job)
        except BackendError:
            return job.request_id, poisoned, False
        return job.request_id, poisoned, True

    outcomes = []
    for _ in range(10):
        with ThreadPoolExecutor(16) as pool:
            outcomes += list(pool.map(create, range(16)))
    stored = stored_ids(db.path)
    assert not any(ok for _, poisoned, ok in outcomes if poisoned)
    assert {rid for rid, _, ok in outcomes if ok} <= stored  # every "done" is durable
    assert not {rid for rid, _, ok in outcomes if not ok} & stored  # every failure kept nothing
    table.create(job := new_job())  # and the next batch works
    assert job.request_id in stored_ids(db.path)


def test_a_failed_commit_answers_503_and_stores_nothing(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, worker_threads=0)
    runtime = Runtime.local(settings)
    db: SqliteDatabase = runtime.extras["db"]  # type: ignore[assignment]
    db.run(lambda con: con.executescript(TRAP))
    db.run(
        lambda con: con.executescript(
            "CREATE TRIGGER trap AFTER INSERT ON jobs BEGIN INSERT INTO orphan VALUES (1); END;"
        )
    )
    with TestClient(create_app(runtime, lifecycle=runtime)) as client:
        answer = client.post("/waves", json={"frequencies": [440], "duration": 0.05})
    assert answer.status_code == 503
    assert answer.json()["error"] == "backend_unavailable"
    assert stored_ids(db.path) == set()


@pytest.mark.slow
def test_every_202_survives_kill_9_under_concurrent_load(tmp_path: Path) -> None:
    server = LiveServer(
        tmp_path / "data",
        env={"WAVEKIT_RATE_LIMIT_PER_S": "1000000", "WAVEKIT_RATE_LIMIT_BURST": "1000000"},
    ).start()
    accepted: list[str] = []
    stop = threading.Event()

    def post_until_killed(n: int) -> None:
        with httpx.Client(base_url=server.url) as client:
            i = 0
            while not stop.is_set():
                i += 1
                try:
                    answer = client.post(
                        "/waves", json={"frequencies": [100 + n * 1000 + i % 900], "duration": 0.05}
                    )
                except httpx.TransportError:
                    return
                if answer.status_code == 202:
                    accepted.append(answer.json()["request_id"])

    threads = [threading.Thread(target=post_until_killed, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    while len(accepted) < 300:
        threading.Event().wait(0.01)
    server.kill()  # while requests are in flight
    stop.set()
    for t in threads:
        t.join()
    assert not set(accepted) - stored_ids(tmp_path / "data" / "wavekit.sqlite3")
    restarted = LiveServer(tmp_path / "data").start()
    try:
        with httpx.Client(base_url=restarted.url) as client:
            for request_id in accepted[-20:]:
                assert client.get(f"/waves/{request_id}").status_code == 200
    finally:
        restarted.stop()
