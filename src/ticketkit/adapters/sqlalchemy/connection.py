"""A unit of work's connection and transactions, and SQLite's one writer at a time.

SQLite lets one connection write at a time; a unit of work that waited for the write
lock held by another unit of work of its own thread would wait on itself until the busy
timeout. So each thread notes the SQLite databases it holds (the write lock, or the only
connection of an in-memory database), and a second claim fails at once.

Writers of one process also queue on a lock of their own per engine before SQLite's:
SQLite's busy handler polls, sleeping up to 100 ms between tries, so two threads taking
turns at the write lock (an operation and the delivery thread's acknowledgements) would
each wait far longer than the other holds it. The lock hands over at once. Writers in other
processes still meet at SQLite's lock, under ``busy_timeout``.
"""

from __future__ import annotations

import threading
import weakref

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from ticketkit.adapters.sqlalchemy.engine import BUSY_TIMEOUT_MS, SQLITE_BEGIN, is_in_memory
from ticketkit.errors import StorageError


class Connector:
    """The connection of one unit of work: opened on first use in a transaction that may
    read (and on PostgreSQL write), or in none for a read-only unit of work; ended by
    ``end``, after which the unit of work may open the next one. Closed for good by
    setting ``closed``."""

    __slots__ = (
        "_connection",
        "_holding",
        "_single_connection",
        "_sqlite_key",
        "_writing",
        "closed",
        "engine",
        "read_only",
    )

    #: Whether ``end`` commits and rolls back itself. False for a connector whose
    #: transaction a host framework owns: ticketkit then sends no COMMIT of its own.
    owns_transaction = True

    def __init__(self, engine: Engine, *, read_only: bool) -> None:
        self.engine = engine
        self.read_only = read_only
        self.closed = False
        self._connection: Connection | None = None
        sqlite = engine.dialect.name == "sqlite"
        self._sqlite_key = id(engine) if sqlite else None
        self._single_connection = sqlite and is_in_memory(engine)
        self._writing = False
        self._holding = False

    def reader(self) -> Connection:
        """The connection, opened on first use: in a transaction that may read, or for a
        read-only unit of work in none (each statement reads what is committed)."""
        if self._connection is None:
            if self.closed:
                raise RuntimeError("unit of work is closed")
            self._connection = self._begin(write=self._sqlite_key is None and not self.read_only)
        return self._connection

    def writer(self) -> Connection:
        """The connection, in a transaction that may write.

        On SQLite a unit of work reads in a deferred transaction until it first writes, then
        ends it and takes the write lock with ``BEGIN IMMEDIATE``: reads before the first
        write see committed data as PostgreSQL's READ COMMITTED would, and stale ones are
        caught by the version checks of the writes. One that writes (or locks) before it
        reads begins with ``BEGIN IMMEDIATE`` at once.
        """
        self.refuse_if_read_only()
        if self._connection is None and not self.closed:
            # Nothing read yet (a change that starts by locking its ticket): no deferred
            # transaction to end first.
            self._connection = self._begin(write=True)
            return self._connection
        conn = self.reader()
        if self._writing:
            return conn
        self._claim()
        conn.commit()
        conn.execution_options(**{SQLITE_BEGIN: "immediate"})
        conn.begin()
        self._writing = True
        return conn

    def refuse_if_read_only(self) -> None:
        """Every write passes here first."""
        if self.read_only:
            raise RuntimeError("this unit of work is read-only")

    def _begin(self, *, write: bool) -> Connection:
        if self.read_only and not self._single_connection:
            # Nothing to commit or roll back: each statement runs on its own, which saves
            # BEGIN and ROLLBACK (and reads like READ COMMITTED does, on both databases).
            if self._sqlite_key is None:
                return self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            return self.engine.connect().execution_options(**{SQLITE_BEGIN: "none"})
        if write or self._single_connection:
            self._claim()
        try:
            conn = self.engine.connect()
            try:
                conn.execution_options(**{SQLITE_BEGIN: "immediate" if write else "deferred"})
                conn.begin()
            except BaseException:
                conn.close()
                raise
        except BaseException:
            self._release()
            raise
        self._writing = write
        return conn

    def _claim(self) -> None:
        """Note that this thread holds the SQLite database exclusively (its write lock, or the
        one connection of an in-memory database); a second claim would wait on itself."""
        key = self._sqlite_key
        if key is None or self._holding:
            return
        held = _sqlite_holds()
        if key in held:
            raise RuntimeError(
                "another unit of work of this thread holds this SQLite database (its write "
                "lock, or the only connection of an in-memory one); commit or close it first"
            )
        if not _writer_lock(self.engine).acquire(timeout=BUSY_TIMEOUT_MS / 1000):
            raise StorageError(
                f"the database stayed locked by another writer for {BUSY_TIMEOUT_MS // 1000} s;"
                " nothing was written"
            )
        held.add(key)
        self._holding = True

    def _release(self) -> None:
        """Give up this unit of work's SQLite hold, if it has one."""
        if self._holding and self._sqlite_key is not None:
            _sqlite_holds().discard(self._sqlite_key)
            _writer_lock(self.engine).release()
        self._holding = False

    def end(self, *, commit: bool) -> None:
        """Commit or roll back, and give the connection (and any SQLite hold) back; the next
        use opens a new transaction."""
        conn, self._connection = self._connection, None
        self._writing = False
        if conn is None:
            self._release()
            return
        try:
            if commit:
                conn.commit()
            else:
                conn.rollback()
        except BaseException:
            # A failed COMMIT leaves SQLite's transaction open (deferred foreign keys), and
            # the pool would hand the connection out again mid-transaction: drop it instead.
            conn.invalidate()
            raise
        finally:
            conn.close()
            self._release()


_THREAD = threading.local()
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()
_WRITERS_LOCK = threading.Lock()


def _writer_lock(engine: Engine) -> threading.Lock:
    """The lock this process's writers of ``engine``'s SQLite database queue on."""
    lock = _WRITERS.get(engine)
    if lock is None:
        with _WRITERS_LOCK:
            lock = _WRITERS.setdefault(engine, threading.Lock())
    return lock


def _sqlite_holds() -> set[int]:
    """The SQLite engines (by id) that a unit of work of this thread holds exclusively."""
    held: set[int] | None = getattr(_THREAD, "sqlite_engines", None)
    if held is None:
        held = _THREAD.sqlite_engines = set()
    return held


#: SQLSTATEs of a transaction PostgreSQL rolled back because of a concurrent one:
#: serialization_failure and deadlock_detected.
_LOST_RACE = frozenset({"40001", "40P01"})


def lost_to_a_concurrent_writer(exc: BaseException) -> bool:
    """Whether PostgreSQL rolled the transaction back for a concurrent one (a deadlock
    victim, a serialization failure): as safe to retry as a stale version."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(orig, "sqlstate", None) in _LOST_RACE


__all__ = ["Connector", "lost_to_a_concurrent_writer"]
