"""How the SQLite database writes: group commit (:class:`GroupCommit`) and the
background checkpoints that keep the WAL bounded (:func:`checkpoint_while_open`).

Split from :mod:`.sqlite` (the database, job table and queue) to keep both readable;
see ADR 0007 for why each exists.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from wavekit.errors import BackendError

T = TypeVar("T")
log = logging.getLogger(__name__)


def checkpoint_while_open(
    database: weakref.ref[Any], path: Path, wal_limit_bytes: int, every_s: float
) -> None:
    """Copy the WAL back into the database file, off the request path, while the
    :class:`SqliteDatabase` lives, and keep the WAL file bounded.

    SQLite checkpoints in the COMMIT that crosses 1000 WAL pages, with two fsyncs: on a
    busy disk that stalled the API's event loop for tens of milliseconds. Connections
    here turn that off (``wal_autocheckpoint=0``); this thread runs a PASSIVE checkpoint
    (it never blocks readers or writers) twice a second on its own connection, so a
    COMMIT only appends to the WAL. See :func:`checkpoint_step` for the bound.
    """
    con: sqlite3.Connection | None = None
    while database() is not None:
        time.sleep(every_s)
        try:
            if con is None:
                con = sqlite3.connect(path, timeout=30, isolation_level=None)
            checkpoint_step(con, path, wal_limit_bytes)
        except sqlite3.Error:  # busy, or the file is gone: try again next time
            log.debug("sqlite checkpoint skipped", exc_info=True)
    if con is not None:
        con.close()


def checkpoint_step(con: sqlite3.Connection, path: Path, wal_limit_bytes: int) -> None:
    """One PASSIVE checkpoint; then, if the WAL file is past ``wal_limit_bytes``, a
    TRUNCATE checkpoint that empties it.

    SQLite starts the WAL over only when a writer finds every frame already copied back,
    and under continuous writes a PASSIVE checkpoint never catches up with the writers:
    the file grew without end (~160 MB in a minute of load). TRUNCATE waits for the
    writer of the moment, copies the few frames PASSIVE has not (it just ran), waits for
    readers to leave the WAL and truncates it; writers wait meanwhile (milliseconds),
    and only once per ``wal_limit_bytes`` of writes."""
    con.execute("PRAGMA wal_checkpoint(PASSIVE)")
    try:
        wal_bytes = Path(f"{path}-wal").stat().st_size
    except FileNotFoundError:
        return
    if wal_bytes > wal_limit_bytes:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class GroupCommit:
    """Group commit: concurrent writers share one transaction and one COMMIT.

    The API accepts jobs from many threads at once; a COMMIT each (and the WAL
    checkpoints they trigger) serialised them, and half the request time went there.
    Here each caller runs its statements inside the batch now open (under a SAVEPOINT,
    so a failing caller undoes only its own rows), then comes back to commit: the first
    member of the batch to come back commits for all of them while new callers wait to
    open the next batch. Nobody returns before the COMMIT holding their rows, and a
    failed COMMIT raises :class:`BackendError` in every member, so an answer sent after
    :meth:`run` returned is as durable as with a COMMIT per call.

    Callers on an event loop cannot wait in a thread: :meth:`run_deferred` runs their
    statements in the open batch and returns at once; the first of them in a batch
    schedules the COMMIT on the loop (``call_soon``: after every request the loop is
    running now has written), and each awaits that COMMIT before it answers. So a batch
    holds every POST of one loop iteration, and still nobody answers before its COMMIT.

    A batch holds the database's process-wide write lock from BEGIN to COMMIT, so the
    other writers of this process (:meth:`SqliteDatabase.transaction`) take turns with it.
    """

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], write_lock: threading.Lock
    ) -> None:
        self._connect = connect
        self._write_lock = write_lock
        self._con: sqlite3.Connection | None = None
        self._turn = threading.Condition()
        self._open: int | None = None  # number of the batch now taking writes
        self._opened = 0
        self._finished = 0  # every batch up to this number is committed or failed
        self._failures: dict[int, BackendError] = {}
        self._on_loop: dict[int, asyncio.Future[BackendError | None]] = {}

    def run(self, action: Callable[[sqlite3.Connection], T], *, savepoint: bool = True) -> T:
        with self._turn:
            batch, outcome = self._write(action, savepoint)
        with self._turn:
            while self._finished < batch:
                if self._open == batch:
                    self._commit(batch)
                else:
                    self._turn.wait()
            failure = self._failures.get(batch)
        if failure is not None:
            raise failure
        return member_result(outcome)

    def run_deferred(
        self,
        action: Callable[[sqlite3.Connection], T],
        *,
        savepoint: bool,
        waits: list[asyncio.Future[BackendError | None]],
    ) -> T:
        """Write in the open batch without waiting for its COMMIT, which the running
        event loop makes on its next turn; the future to await goes into ``waits``."""
        loop = asyncio.get_running_loop()
        with self._turn:
            batch, outcome = self._write(action, savepoint)
            committed = self._on_loop.get(batch)
            if committed is None:
                committed = self._on_loop[batch] = loop.create_future()
                loop.call_soon(self._commit_on_loop, batch)
        waits.append(committed)
        return member_result(outcome)

    def _commit_on_loop(self, batch: int) -> None:
        with self._turn:
            if self._finished < batch:  # not yet committed by a thread of the batch
                self._commit(batch)
            failure = self._failures.get(batch)
            committed = self._on_loop.pop(batch)
        if not committed.done():
            committed.set_result(failure)

    def _write(
        self, action: Callable[[sqlite3.Connection], T], savepoint: bool
    ) -> tuple[int, T | BaseException]:
        """Run ``action`` in the open batch (the caller holds ``_turn``); its outcome
        is its result or the exception it raised."""
        batch, con = self._join()
        outcome: T | BaseException
        try:
            outcome = in_savepoint(con, action) if savepoint else action(con)
        except BaseException as exc:
            outcome = exc
        return batch, outcome

    def _join(self) -> tuple[int, sqlite3.Connection]:
        """The open batch, opening one (BEGIN IMMEDIATE) if none is."""
        if self._con is None:
            self._con = self._connect()
        if self._open is None:
            self._write_lock.acquire()
            try:
                self._con.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                self._write_lock.release()
                raise BackendError(f"sqlite: {exc}") from exc
            self._opened += 1
            self._open = self._opened
        return self._open, self._con

    def _commit(self, batch: int) -> None:
        con = self._con
        assert con is not None
        try:
            con.execute("COMMIT")
        except sqlite3.Error as exc:
            if con.in_transaction:
                con.execute("ROLLBACK")
            self._failures[batch] = BackendError(f"sqlite: commit failed: {exc}")
            for old in [b for b in self._failures if b < batch - 1000]:
                del self._failures[old]  # long since reported to their callers
        finally:
            self._open = None
            self._finished = batch
            self._write_lock.release()
            self._turn.notify_all()


def in_savepoint(con: sqlite3.Connection, action: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``action`` in an open transaction so that its failure undoes only its rows."""
    try:
        con.execute("SAVEPOINT write")
        try:
            result = action(con)
        except BaseException:
            con.execute("ROLLBACK TO write")
            raise
        finally:
            con.execute("RELEASE write")
    except sqlite3.Error as exc:
        raise BackendError(f"sqlite: {exc}") from exc
    return result


def member_result(outcome: T | BaseException) -> T:
    """A member's own outcome, once its batch is committed: its result, or its error."""
    if isinstance(outcome, sqlite3.Error):
        raise BackendError(f"sqlite: {outcome}") from outcome
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


class Deferring:
    """The writes of one :meth:`SqliteDatabase.deferring` block, and what they await."""

    def __init__(self) -> None:
        self.waits: list[asyncio.Future[BackendError | None]] = []

    async def committed(self) -> None:
        for wait in self.waits:
            failure = await asyncio.shield(wait)  # one request cancelled: not the batch
            if failure is not None:
                raise failure
