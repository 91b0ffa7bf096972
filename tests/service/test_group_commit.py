"""Group commit (ADR 0007): concurrent writers share a COMMIT, and nobody hears "done"
before the COMMIT holding their rows; a failed COMMIT fails every member and keeps none
of their rows; a 202 survives ``kill -9``."""

from __future__ import annotations

import asyncio
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


# -- on the event loop: a COMMIT per loop iteration (SqliteDatabase.deferring) -------------


def test_writes_of_one_loop_iteration_share_a_commit_that_each_awaits(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "jobs.sqlite3")
    table, queue = SqliteJobTable(db), SqliteJobQueue(db)

    async def accept() -> tuple[str, bool, bool]:
        with db.deferring() as committed:
            job = table.create(new_job())
            queue.send(job.request_id)
        before = job.request_id in stored_ids(db.path)  # written, not yet committed
        await committed()
        return job.request_id, before, job.request_id in stored_ids(db.path)

    async def many() -> list[tuple[str, bool, bool]]:
        return await asyncio.gather(*(accept() for _ in range(64)))

    batches_before = db._group._opened
    outcomes = asyncio.run(many())
    assert not any(before for _, before, _ in outcomes)  # nobody committed on its own
    assert all(after for _, _, after in outcomes)  # and each was durable when it returned
    assert db._group._opened - batches_before < 4  # 64 accepts, a COMMIT or few
    assert stored_ids(db.path) == {rid for rid, _, _ in outcomes}
    assert queue.depth() == 64


def test_a_failed_loop_commit_fails_every_member_and_keeps_none(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "jobs.sqlite3")
    db.run(lambda con: con.executescript(TRAP + POISON))
    table = SqliteJobTable(db)

    async def accept(client: str) -> tuple[str, bool]:
        job = new_job(client=client)
        with db.deferring() as committed:
            table.create(job)
        try:
            await committed()
        except BackendError:
            return job.request_id, False
        return job.request_id, True

    async def batch(clients: list[str]) -> list[tuple[str, bool]]:
        return await asyncio.gather(*(accept(c) for c in clients))

    failed = asyncio.run(batch(["c"] * 7 + ["poison"] + ["c"] * 8))
    assert not any(ok for _, ok in failed)  # one bad row: the whole batch's COMMIT failed
    assert stored_ids(db.path) == set()
    worked = asyncio.run(batch(["c"] * 16))  # the next batch works
    assert all(ok for _, ok in worked)
    assert stored_ids(db.path) == {rid for rid, _ in worked}


def test_threads_and_the_loop_writing_at_once_only_return_committed_rows(
    tmp_path: Path,
) -> None:
    """Threads join batches the loop opened (and commit them); the loop joins theirs."""
    db = SqliteDatabase(tmp_path / "jobs.sqlite3")
    table = SqliteJobTable(db)
    unseen: list[str] = []

    def in_thread(_: int) -> str:
        job = table.create(new_job())
        if job.request_id not in stored_ids(db.path):
            unseen.append(job.request_id)
        return job.request_id

    async def on_loop() -> str:
        with db.deferring() as committed:
            job = table.create(new_job())
        await committed()
        if job.request_id not in stored_ids(db.path):
            unseen.append(job.request_id)
        return job.request_id

    async def both() -> list[str]:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(8) as pool:
            threads = [loop.run_in_executor(pool, in_thread, i) for i in range(200)]
            ids = []
            for _ in range(10):
                ids += await asyncio.gather(*(on_loop() for _ in range(20)))
            return ids + list(await asyncio.gather(*threads))

    ids = asyncio.run(both())
    assert len(set(ids)) == 400
    assert not unseen
    assert stored_ids(db.path) == set(ids)


def test_concurrent_posts_in_a_failed_batch_all_answer_503_and_store_nothing(
    tmp_path: Path,
) -> None:
    settings = Settings(
        data_dir=tmp_path, worker_threads=0, rate_limit_per_s=1000, rate_limit_burst=1000
    )
    runtime = Runtime.local(settings)
    db: SqliteDatabase = runtime.extras["db"]  # type: ignore[assignment]
    db.run(lambda con: con.executescript(TRAP + POISON))
    app = create_app(runtime, lifecycle=runtime)

    async def post_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await asyncio.gather(
                *(
                    client.post(
                        "/waves",
                        json={"frequencies": [300 + i], "duration": 0.05},
                        headers={"X-Client-Id": "poison" if i == 5 else f"c{i}"},
                    )
                    for i in range(12)
                )
            )

    answers = asyncio.run(post_all())
    runtime.close()
    assert [a.status_code for a in answers] == [503] * 12
    assert {a.json()["error"] for a in answers} == {"backend_unavailable"}
    assert stored_ids(db.path) == set()
