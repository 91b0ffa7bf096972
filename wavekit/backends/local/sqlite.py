"""Jobs and the job queue in one SQLite file (WAL), shared by the service's threads.

Real code, not a mock: it is what ``wavekit serve`` runs by default. Durability comes
from SQLite in WAL mode (a ``kill -9`` loses nothing that was committed); the queue
gives SQS's at-least-once semantics with visibility timeouts.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from wavekit.backends.local.sqlite_writes import (
    Deferring,
    GroupCommit,
    checkpoint_while_open,
    in_savepoint,
)
from wavekit.clock import utc_now
from wavekit.errors import BackendError
from wavekit.ports import Job, JobStatus, QueueMessage, blob_key

T = TypeVar("T")
log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    request_id      TEXT PRIMARY KEY,
    file_id         TEXT NOT NULL,
    status          TEXT NOT NULL,
    spec_json       TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    bytes           INTEGER,
    error           TEXT,
    idempotency_key TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    downloaded_at   TEXT,
    purged          INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS jobs_idempotency
    ON jobs (client_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS jobs_status_created ON jobs (status, created_at);
DROP INDEX IF EXISTS jobs_file;
DROP INDEX IF EXISTS jobs_unpurged;
CREATE INDEX IF NOT EXISTS jobs_live ON jobs (purged, created_at) WHERE purged = 0;
CREATE TABLE IF NOT EXISTS queue (
    request_id    TEXT PRIMARY KEY,
    visible_at    REAL NOT NULL,
    receipt       TEXT,
    receive_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS queue_visible ON queue (visible_at);
"""
# Indexes are what an INSERT pays for: each one keyed by a random value (the request id,
# the file's hash) dirties its own page, and every dirty page is a WAL frame at COMMIT and
# again at checkpoint (~16 KiB per job with four). So besides the primary key only the
# idempotency index (keyed requests only) and two indexes that grow at their end remain;
# the cleaner's passes read the live (unpurged) jobs through `jobs_live` (ADR 0007).
_JOB_COLUMNS = (
    "request_id, file_id, status, spec_json, client_id, created_at, updated_at, bytes, "
    "error, idempotency_key, attempts, downloaded_at, purged"
)
_CLAIM_COLUMNS = {"download_token": "TEXT", "download_until": "TEXT"}
"""Added after the first release: ``ALTER TABLE`` adds them to an older database. A new
job never has a claim, so :meth:`SqliteJobTable.create` does not write them."""
_ROW_COLUMNS = f"{_JOB_COLUMNS}, {', '.join(_CLAIM_COLUMNS)}"


def _add_claim_columns(con: sqlite3.Connection) -> None:
    present = {row[1] for row in con.execute("PRAGMA table_info(jobs)")}
    for name, kind in _CLAIM_COLUMNS.items():
        if name not in present:
            con.execute(f"ALTER TABLE jobs ADD COLUMN {name} {kind}")


def _ts(value: dt.datetime | None) -> str | None:
    """ISO-8601 in UTC with fixed width, so text order is time order."""
    if value is None:
        return None
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _parse_ts(text: str | None) -> dt.datetime | None:
    return None if text is None else dt.datetime.fromisoformat(text)


WAL_LIMIT_BYTES = 32 * 1024 * 1024
"""The WAL is brought back to empty once it grows past this (see
:func:`checkpoint_while_open`); it is also SQLite's ``journal_size_limit``."""


class SqliteDatabase:
    """One SQLite file shared by threads: a connection per thread, WAL, busy timeout."""

    def __init__(
        self,
        path: Path,
        *,
        wal_limit_bytes: int = WAL_LIMIT_BYTES,
        checkpoint_every_s: float = 0.5,
    ) -> None:
        self.path = Path(path)
        self.wal_limit_bytes = wal_limit_bytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._write_lock = threading.Lock()
        self._group = GroupCommit(self._connect_shared, self._write_lock)
        threading.Thread(
            target=checkpoint_while_open,
            args=(weakref.ref(self), self.path, wal_limit_bytes, checkpoint_every_s),
            name="wavekit-sqlite-checkpoint",
            daemon=True,
        ).start()
        self.run(lambda con: con.executescript(_SCHEMA))  # executescript manages its own tx
        with self.transaction() as con:
            _add_claim_columns(con)

    def connection(self) -> sqlite3.Connection:
        con: sqlite3.Connection | None = getattr(self._local, "con", None)
        if con is None:
            con = self._connect()
            self._local.con = con
        return con

    def _connect(self, *, shared: bool = False) -> sqlite3.Connection:
        con = sqlite3.connect(
            self.path, timeout=30, isolation_level=None, check_same_thread=not shared
        )
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: safe against kill -9
        con.execute("PRAGMA wal_autocheckpoint=0")  # the checkpoint thread does it
        con.execute(f"PRAGMA journal_size_limit={int(self.wal_limit_bytes)}")
        con.execute("PRAGMA foreign_keys=ON")
        con.row_factory = sqlite3.Row
        return con

    def _connect_shared(self) -> sqlite3.Connection:
        return self._connect(shared=True)

    def group_write(
        self, action: Callable[[sqlite3.Connection], T], *, one_statement: bool = False
    ) -> T:
        """Run ``action`` in a write transaction shared with concurrent callers (group
        commit); return only once that transaction is committed (durable).

        ``one_statement``: the action writes with a single statement, which SQLite undoes
        by itself when it fails, so it needs no SAVEPOINT of its own (two fewer round trips).
        """
        held: sqlite3.Connection | None = getattr(self._local, "held", None)
        if held is not None:  # inside together(): durable when that block commits
            return in_savepoint(held, action) if not one_statement else action(held)
        deferring: Deferring | None = getattr(self._local, "deferring", None)
        if deferring is not None:
            return self._group.run_deferred(
                action, savepoint=not one_statement, waits=deferring.waits
            )
        return self._group.run(action, savepoint=not one_statement)

    @contextmanager
    def deferring(self) -> Iterator[Callable[[], Awaitable[None]]]:
        """Inside the block, on an event loop, :meth:`group_write` returns before the
        COMMIT: await the yielded function's result after the block, before answering
        (it raises :class:`BackendError` if the COMMIT failed). Used by
        :meth:`wavekit.service.jobs.JobService.submit_on_loop`; see :class:`GroupCommit`.
        """
        # A thread-local, not a ContextVar: the block runs without an await, so no other
        # request of this loop can enter it meanwhile, and a ContextVar.set in a request's
        # task cost ~14 us (a hundred times a thread-local's) under uvicorn.
        deferring = Deferring()
        outer = getattr(self._local, "deferring", None)
        self._local.deferring = deferring
        try:
            yield deferring.committed
        finally:
            self._local.deferring = outer

    @contextmanager
    def together(self) -> Iterator[None]:
        """Every write this thread makes inside the block goes into one transaction,
        committed at its end (or rolled back as a whole if the block raises).

        The worker finishes a job with two writes (the job ``ready``, its message
        deleted); as one transaction they take the database's write lock once, and the
        API's ``BEGIN IMMEDIATE`` in the other process has half as many locks to run
        into (each collision costs it one of SQLite's busy-handler sleeps, >= 1 ms).
        Keep the block short: no synthesis or file I/O in it, the lock is held throughout.
        """
        if getattr(self._local, "held", None) is not None:  # nested: the outer one commits
            yield
            return
        with self.transaction() as con:
            self._local.held = con
            try:
                yield
            finally:
                self._local.held = None

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction. Threads of this process take turns on a lock first:
        SQLite's own busy handler sleeps up to 100 ms between retries, which under
        contention cut throughput from thousands to tens of requests per second.
        Inside :meth:`together` it is that block's transaction (no BEGIN or COMMIT here)."""
        held: sqlite3.Connection | None = getattr(self._local, "held", None)
        if held is not None:
            yield held
            return
        with self._write_lock:
            yield from self._transaction()

    def _transaction(self) -> Iterator[sqlite3.Connection]:
        con = self.connection()
        try:
            con.execute("BEGIN IMMEDIATE")
            yield con
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise BackendError(f"sqlite: {exc}") from exc
        except BaseException:
            if con.in_transaction:
                con.execute("ROLLBACK")
            raise

    def run(self, action: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only action, translating sqlite errors."""
        try:
            return action(self.connection())
        except sqlite3.Error as exc:
            raise BackendError(f"sqlite: {exc}") from exc


class SqliteJobTable:
    """Jobs in SQLite; transitions are single conditional UPDATEs (compare-and-set)."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    @staticmethod
    def _job(row: sqlite3.Row) -> Job:
        names = row.keys()
        return Job(
            request_id=row["request_id"],
            file_id=row["file_id"],
            status=JobStatus(row["status"]),
            spec_json=row["spec_json"],
            client_id=row["client_id"],
            created_at=_parse_ts(row["created_at"]),  # type: ignore[arg-type]
            updated_at=_parse_ts(row["updated_at"]),  # type: ignore[arg-type]
            bytes=row["bytes"],
            error=row["error"],
            idempotency_key=row["idempotency_key"],
            attempts=row["attempts"],
            downloaded_at=_parse_ts(row["downloaded_at"]),
            purged=bool(row["purged"]),
            # create()'s idempotency lookup reads the original columns only
            download_token=row["download_token"] if "download_token" in names else None,
            download_until=_parse_ts(row["download_until"]) if "download_until" in names else None,
        )

    def create(self, job: Job) -> Job:
        """Insert ``job`` (or return the earlier job with its idempotency key) in a group
        commit: returns once the row is committed."""

        def insert(con: sqlite3.Connection) -> Job:
            if job.idempotency_key is not None:
                row = con.execute(
                    f"SELECT {_JOB_COLUMNS} FROM jobs WHERE client_id = ? AND idempotency_key = ?",
                    (job.client_id, job.idempotency_key),
                ).fetchone()
                if row is not None:
                    return self._job(row)
            con.execute(
                f"INSERT INTO jobs ({_JOB_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    job.request_id,
                    job.file_id,
                    job.status.value,
                    job.spec_json,
                    job.client_id,
                    _ts(job.created_at),
                    _ts(job.updated_at),
                    job.bytes,
                    job.error,
                    job.idempotency_key,
                    job.attempts,
                    _ts(job.downloaded_at),
                    int(job.purged),
                ),
            )
            return job

        return self.db.group_write(insert, one_statement=True)  # the SELECT only reads

    def get(self, request_id: str) -> Job | None:
        row = self.db.run(
            lambda con: con.execute(
                f"SELECT {_ROW_COLUMNS} FROM jobs WHERE request_id = ?", (request_id,)
            ).fetchone()
        )
        return None if row is None else self._job(row)

    def transition(
        self, request_id: str, allowed: Iterable[JobStatus], to: JobStatus, **fields: Any
    ) -> Job | None:
        allowed_values = [s.value for s in allowed]
        values = {k: (_ts(v) if isinstance(v, dt.datetime) else v) for k, v in fields.items()}
        values.setdefault("updated_at", _ts(utc_now()))
        assignments = ", ".join(f"{name} = ?" for name in values)
        marks = ",".join("?" * len(allowed_values))
        with self.db.transaction() as con:
            row = con.execute(
                f"UPDATE jobs SET status = ?, {assignments} "
                f"WHERE request_id = ? AND status IN ({marks}) RETURNING {_ROW_COLUMNS}",
                (to.value, *values.values(), request_id, *allowed_values),
            ).fetchone()
        return None if row is None else self._job(row)

    def claim_download(
        self, request_id: str, token: str, until: dt.datetime, now: dt.datetime
    ) -> Job | None:
        """One conditional UPDATE (``status = 'ready'``): of concurrent claims, the first
        to commit matches the row and every later one matches nothing."""
        return self.transition(
            request_id,
            [JobStatus.READY],
            JobStatus.DOWNLOADING,
            download_token=token,
            download_until=until,
            downloaded_at=now,
            updated_at=now,
        )

    def add_attempt(self, request_id: str) -> int:
        with self.db.transaction() as con:
            row = con.execute(
                "UPDATE jobs SET attempts = attempts + 1 WHERE request_id = ? RETURNING attempts",
                (request_id,),
            ).fetchone()
        return 0 if row is None else int(row[0])

    def in_progress(self) -> list[Job]:
        rows = self.db.run(
            lambda con: con.execute(
                f"SELECT {_ROW_COLUMNS} FROM jobs WHERE status = ? ORDER BY created_at",
                (JobStatus.IN_PROGRESS.value,),
            ).fetchall()
        )
        return [self._job(r) for r in rows]

    def expire_older_than(self, cutoff: dt.datetime, now: dt.datetime) -> int:
        with self.db.transaction() as con:
            cursor = con.execute(
                "UPDATE jobs SET status = ?, updated_at = ? WHERE status = ? AND created_at < ?",
                (JobStatus.EXPIRED.value, _ts(now), JobStatus.READY.value, _ts(cutoff)),
            )
        return cursor.rowcount

    def purgeable_blobs(self, downloaded_before: dt.datetime) -> list[str]:
        rows = self.db.run(
            lambda con: con.execute(
                """
                SELECT file_id FROM jobs WHERE purged = 0
                GROUP BY file_id
                HAVING SUM(CASE
                    WHEN status IN ('in_progress', 'ready') THEN 1
                    WHEN status IN ('downloaded', 'downloading') AND downloaded_at >= ? THEN 1
                    ELSE 0 END) = 0
                """,
                (_ts(downloaded_before),),
            ).fetchall()
        )
        return [blob_key(r["file_id"]) for r in rows]

    def mark_purged(self, keys: Iterable[str]) -> None:
        """One pass over the live jobs (``jobs_live``), not a look-up per file: no index
        is keyed by the file, see :data:`_SCHEMA`."""
        file_ids = json.dumps([Path(k).stem for k in keys])
        with self.db.transaction() as con:
            con.execute(
                "UPDATE jobs SET purged = 1 WHERE purged = 0 "
                "AND status NOT IN ('in_progress', 'ready') "
                "AND file_id IN (SELECT value FROM json_each(?))",
                (file_ids,),
            )


class SqliteJobQueue:
    """A durable at-least-once queue in SQLite with visibility timeouts, like SQS."""

    def __init__(
        self, db: SqliteDatabase, visibility_timeout_s: float = 300.0, poll_s: float = 0.02
    ) -> None:
        self.db = db
        self.visibility_timeout_s = visibility_timeout_s
        self.poll_s = poll_s
        self._arrived = threading.Condition()

    def send(self, request_id: str) -> None:
        self.db.group_write(
            lambda con: con.execute(
                "INSERT INTO queue (request_id, visible_at) VALUES (?, ?) "
                "ON CONFLICT (request_id) DO NOTHING",
                (request_id, time.time()),
            ),
            one_statement=True,
        )
        with self._arrived:
            self._arrived.notify()

    def receive(self, max_messages: int = 1, wait_s: float = 0.0) -> list[QueueMessage]:
        deadline = time.monotonic() + wait_s
        while True:
            messages = self._claim(max_messages)
            remaining = deadline - time.monotonic()
            if messages or remaining <= 0:
                return messages
            with self._arrived:  # woken by send() in this process; polls for other processes
                self._arrived.wait(min(remaining, self.poll_s))

    def _claim(self, max_messages: int) -> list[QueueMessage]:
        now = time.time()
        visible = self.db.run(
            lambda con: con.execute("SELECT 1 FROM queue WHERE visible_at <= ? LIMIT 1", (now,))
        ).fetchone()
        if visible is None:  # a WAL read takes no lock: cheap to poll, never blocks the API
            return []
        receipt = uuid.uuid4().hex
        with self.db.transaction() as con:
            rows = con.execute(
                """
                UPDATE queue SET visible_at = ?, receipt = ?, receive_count = receive_count + 1
                WHERE request_id IN (
                    SELECT request_id FROM queue WHERE visible_at <= ?
                    ORDER BY visible_at LIMIT ?)
                RETURNING request_id, receipt, receive_count
                """,
                (now + self.visibility_timeout_s, receipt, now, max_messages),
            ).fetchall()
        return [QueueMessage(r["request_id"], r["receipt"], r["receive_count"]) for r in rows]

    def ack(self, message: QueueMessage) -> None:
        with self.db.transaction() as con:
            con.execute(
                "DELETE FROM queue WHERE request_id = ? AND receipt = ?",
                (message.request_id, message.receipt),
            )

    def retry_later(self, message: QueueMessage, delay_s: float) -> None:
        with self.db.transaction() as con:
            con.execute(
                "UPDATE queue SET visible_at = ? WHERE request_id = ? AND receipt = ?",
                (time.time() + delay_s, message.request_id, message.receipt),
            )

    def depth(self) -> int:
        return int(self.db.run(lambda con: con.execute("SELECT COUNT(*) FROM queue").fetchone()[0]))

    def recover(self) -> int:
        """After a crash nobody holds the in-flight messages: release them now."""
        with self.db.transaction() as con:
            return con.execute("UPDATE queue SET visible_at = ?", (time.time(),)).rowcount
