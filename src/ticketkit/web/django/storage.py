"""ticketkit's SQL storage on Django's own database connection, inside Django's transaction.

Each unit of work runs in ``transaction.atomic(using=..., savepoint=True)`` on the
connection Django holds for the current thread: in a request under ``ATOMIC_REQUESTS`` its
writes commit or roll back with the ORM's. What that takes:

- an SQLAlchemy dialect per backend that leaves BEGIN, COMMIT, ROLLBACK and closing to
  Django and skips SQLAlchemy's on-connect setup (on SQLite it would replace Django's
  ``REGEXP`` function), and checks before each statement that Django's transaction is not
  marked broken;
- a ``creator`` that hands over Django's current connection, with ``NullPool``;
- what Django installs on its connections undone for ticketkit's statements only: on
  PostgreSQL its cursors load ``jsonb`` as text and ``timestamptz`` in Django's own way, so
  ticketkit's cursors get psycopg's loaders back; on SQLite Django's converters turn
  ``DATETIME`` columns into naive datetimes, which ticketkit's time type takes as UTC;
- notifications, signals, invitation and grant-offer links and the cache of committed
  ticket types wait for Django's commit (``transaction.on_commit``): a rolled-back
  request sends nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any
from uuid import UUID

import cattrs
from django.core.exceptions import ImproperlyConfigured
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.transaction import TransactionManagementError
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.postgresql.psycopg import (
    PGDialect_psycopg,
    PGExecutionContext_psycopg,
)
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.pool import NullPool

from ticketkit.adapters.sqlalchemy.connection import Connector
from ticketkit.adapters.sqlalchemy.engine import json_dumps, json_loads
from ticketkit.adapters.sqlalchemy.repositories import CommittedTypes
from ticketkit.adapters.sqlalchemy.types import _SQLiteUTCText, as_utc
from ticketkit.adapters.sqlalchemy.unit_of_work import SqlStorage, SqlUnitOfWork
from ticketkit.domain.model import TicketType
from ticketkit.errors import StorageError, TicketkitError

#: The SQLAlchemy driver name of the dialects below (``sqlite+ticketkit_django://``).
DRIVER = "ticketkit_django"


class BrokenTransaction(TransactionManagementError):  # type: ignore[misc]  # django is untyped
    """Django's transaction is marked for rollback (an error inside the same ``atomic``
    block): ticketkit runs no SQL in it, as Django's ORM would not."""


class DjangoStorageError(StorageError, DatabaseError):  # type: ignore[misc]  # django is untyped
    """The database failed a ticketkit unit of work run on Django's connection: one of
    ticketkit's statements, or Django's own for it (connecting, a savepoint, the COMMIT).

    A ``StorageError`` (what every ticketkit host catches) that is also a
    ``django.db.DatabaseError`` (what Django code catches); the driver's or Django's error
    is its ``__cause__``. Nothing of the unit of work is written: its savepoint was rolled
    back, and after a failed statement of ticketkit's the transaction goes on usable.
    """


def refuse_if_broken(alias: str) -> None:
    """Raise ``BrokenTransaction`` if Django's transaction on ``alias`` must roll back."""
    connection = connections[alias]
    if connection.needs_rollback:
        raise BrokenTransaction(
            "ticketkit cannot run here: an earlier error in this atomic block marked "
            f"the transaction on database {alias!r} for rollback; leave the block first, or "
            "wrap the statement that failed in an atomic block of its own"
        ) from connection.rollback_exc


class _DjangoTransactions:
    """What both dialects share: transactions and connections are Django's."""

    django_alias: str = DEFAULT_DB_ALIAS

    def on_connect(self) -> Any:
        return None

    def do_begin(self, dbapi_connection: Any) -> None:
        """Nothing: BEGIN is Django's."""

    def do_commit(self, dbapi_connection: Any) -> None:
        """Nothing: COMMIT is Django's."""

    def do_rollback(self, dbapi_connection: Any) -> None:
        """Nothing: ROLLBACK is Django's."""

    def do_close(self, dbapi_connection: Any) -> None:
        """Nothing: closing the connection is Django's."""

    def do_terminate(self, dbapi_connection: Any) -> None:
        """Nothing: ending the connection is Django's."""

    def do_execute(self, cursor: Any, statement: str, parameters: Any, context: Any = None) -> None:
        refuse_if_broken(self.django_alias)
        super().do_execute(cursor, statement, parameters, context)  # type: ignore[misc]

    def do_executemany(
        self, cursor: Any, statement: str, parameters: Any, context: Any = None
    ) -> None:
        refuse_if_broken(self.django_alias)
        super().do_executemany(cursor, statement, parameters, context)  # type: ignore[misc]

    def do_execute_no_params(self, cursor: Any, statement: str, context: Any = None) -> None:
        refuse_if_broken(self.django_alias)
        super().do_execute_no_params(cursor, statement, context)  # type: ignore[misc]


class _DjangoDateTimeText(_SQLiteUTCText):
    """ticketkit's UTC time text on Django's SQLite connections, which parse ``DATETIME``
    columns themselves (``detect_types``) into naive datetimes: those are UTC already."""

    def result_processor(self, dialect: Any, coltype: object) -> Any:
        parse = super().result_processor(dialect, coltype)

        def process(value: Any) -> Any:
            if value is None or type(value) is str:
                return parse(value)
            return as_utc(value)

        return process


class DjangoSQLiteDialect(_DjangoTransactions, SQLiteDialect_pysqlite):
    """pysqlite on Django's connection."""

    supports_statement_cache = True
    colspecs = {**SQLiteDialect_pysqlite.colspecs, _SQLiteUTCText: _DjangoDateTimeText}


class _DjangoPostgresContext(PGExecutionContext_psycopg):
    def create_default_cursor(self) -> Any:
        # A plain psycopg cursor (Django's connections make client-side binding cursors)
        # with psycopg's own loaders for what Django loads its way.
        import psycopg  # noqa: PLC0415 - psycopg is only there with PostgreSQL

        raw: Any = self._dbapi_connection.driver_connection
        cursor = psycopg.Cursor(raw)
        adapters = cursor.adapters
        for oid, loader in self.dialect.ticketkit_loaders:  # type: ignore[attr-defined]
            adapters.register_loader(oid, loader)
        return cursor


class DjangoPostgresDialect(_DjangoTransactions, PGDialect_psycopg):
    """psycopg 3 on Django's connection."""

    supports_statement_cache = True
    execution_ctx_cls = _DjangoPostgresContext

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)  # type: ignore[no-untyped-call]
        from psycopg.postgres import types  # noqa: PLC0415
        from psycopg.pq import Format  # noqa: PLC0415

        # This dialect's own adapters (JSON parsed with ticketkit's json_loads, psycopg's
        # timestamptz): what a connection SQLAlchemy opened itself would load with.
        mine = self._psycopg_adapters_map
        assert mine is not None
        self.ticketkit_loaders = [
            (oid, mine.get_loader(oid, Format.TEXT))
            for oid in (types["json"].oid, types["jsonb"].oid, types["timestamptz"].oid)
        ]


_ENGINES: dict[tuple[str, str], Engine] = {}
_ENGINES_LOCK = threading.Lock()


def _current_connection(alias: str) -> Any:
    """Django's connection of this thread on ``alias``, connected: the DB-API object."""
    connection = connections[alias]
    connection.ensure_connection()
    return connection.connection


def engine_for(alias: str = DEFAULT_DB_ALIAS) -> Engine:
    """The SQLAlchemy engine that runs on Django's connection ``alias`` (one per alias; it
    opens nothing until used, and then hands over the current thread's connection)."""
    try:
        vendor = connections[alias].vendor
    except Exception as exc:
        raise ImproperlyConfigured(f"ticketkit: no usable database {alias!r}: {exc}") from exc
    key = (alias, vendor)
    engine = _ENGINES.get(key)
    if engine is not None:
        return engine
    with _ENGINES_LOCK:
        engine = _ENGINES.get(key)
        if engine is None:
            engine = _ENGINES[key] = _create_engine(alias, vendor)
    return engine


def _create_engine(alias: str, vendor: str) -> Engine:
    if vendor == "sqlite":
        name = "sqlite"
        registry.register(f"sqlite.{DRIVER}", __name__, "DjangoSQLiteDialect")
    elif vendor == "postgresql":
        name = "postgresql"
        registry.register(f"postgresql.{DRIVER}", __name__, "DjangoPostgresDialect")
    else:
        raise ImproperlyConfigured(
            f"ticketkit runs on SQLite or PostgreSQL; database {alias!r} is {vendor}"
        )
    engine = create_engine(
        f"{name}+{DRIVER}://",
        creator=partial(_current_connection, alias),
        poolclass=NullPool,
        json_serializer=json_dumps,
        json_deserializer=json_loads,
        # Parameters are user data (names, e-mails, text): not for logs and tracebacks.
        hide_parameters=True,
    )
    engine.dialect.django_alias = alias  # type: ignore[attr-defined]
    return engine


class DjangoConnector(Connector):
    """A unit of work's connection: Django's, inside ``transaction.atomic(savepoint=True)``
    entered on first use and left by ``end`` (released to commit, rolled back to undo)."""

    __slots__ = ("_atomic", "alias")
    owns_transaction = False

    def __init__(self, engine: Engine, alias: str, *, read_only: bool) -> None:
        super().__init__(engine, read_only=read_only)
        self.alias = alias
        self._atomic: Any = None

    def reader(self) -> Connection:
        if self._connection is None:
            if self.closed:
                raise RuntimeError("unit of work is closed")
            refuse_if_broken(self.alias)
            atomic = transaction.atomic(using=self.alias, savepoint=True)
            atomic.__enter__()
            try:
                self._connection = self.engine.connect()
            except BaseException:
                transaction.set_rollback(True, using=self.alias)
                atomic.__exit__(None, None, None)
                raise
            self._atomic = atomic
        return self._connection

    def writer(self) -> Connection:
        self.refuse_if_read_only()
        return self.reader()

    def end(self, *, commit: bool) -> None:
        conn, self._connection = self._connection, None
        atomic, self._atomic = self._atomic, None
        if conn is None:
            return
        try:
            conn.close()
        finally:
            if not commit:
                transaction.set_rollback(True, using=self.alias)
            atomic.__exit__(None, None, None)


class DjangoTypes(CommittedTypes):
    """Committed ticket types, taken in only once Django's transaction commits: a type
    written or read inside a transaction that rolls back never enters."""

    def __init__(self, alias: str) -> None:
        super().__init__()
        self._alias = alias

    def put(self, types: Iterable[TicketType]) -> None:
        found = list(types)
        if found:
            transaction.on_commit(
                partial(CommittedTypes.put, self, found), using=self._alias, robust=True
            )


class DjangoUnitOfWork(SqlUnitOfWork):
    """A unit of work inside Django's transaction on ``storage.alias``."""

    def __init__(self, storage: DjangoStorage, tenant_id: UUID, *, read_only: bool = False) -> None:
        super().__init__(storage, tenant_id, read_only=read_only)
        self._alias = storage.alias

    def on_commit(self, callback: Callable[[], None]) -> None:
        # Robust: the change is committed by then; a failing receiver is logged by Django
        # instead of failing the request that committed.
        transaction.on_commit(callback, using=self._alias, robust=True)

    def error_for(self, exc: BaseException) -> TicketkitError | None:
        if isinstance(exc, TicketkitError | TransactionManagementError):
            return None  # ticketkit's own answer, or a transaction the host must end first
        if isinstance(exc, DatabaseError):
            # Django's statements for the unit of work: connecting, savepoints, COMMIT.
            return DjangoStorageError(
                f"the database refused the operation ({type(exc).__name__}); nothing was written"
            )
        error = super().error_for(exc)
        if type(error) is StorageError:
            return DjangoStorageError(str(error))
        return error


class DjangoStorage(SqlStorage):
    """ticketkit's SQL storage on Django's database ``alias`` (migrated by ``migrate``)."""

    def __init__(
        self, alias: str = DEFAULT_DB_ALIAS, *, converter: cattrs.Converter | None = None
    ) -> None:
        super().__init__(engine_for(alias), converter=converter)
        self.alias = alias
        self.ticket_types = DjangoTypes(alias)

    def unit_of_work(self, tenant_id: UUID, *, read_only: bool = False) -> DjangoUnitOfWork:
        return DjangoUnitOfWork(self, tenant_id, read_only=read_only)

    def connector(self, *, read_only: bool) -> Connector:
        return DjangoConnector(self.engine, self.alias, read_only=read_only)

    def tenant_ids(self) -> list[UUID]:
        refuse_if_broken(self.alias)
        with transaction.atomic(using=self.alias, savepoint=True):
            return super().tenant_ids()


__all__ = [
    "BrokenTransaction",
    "DjangoConnector",
    "DjangoStorage",
    "DjangoStorageError",
    "DjangoUnitOfWork",
    "engine_for",
    "refuse_if_broken",
]
