"""Bulk writes: a unit of work's new rows go to the database a table at a time.

What the parts buy (figures in docs/performance.md and docs/storage.md):

- **Generated row encoders.** One straight-line function per table and dialect turns a
  row dict into driver parameters, each value through its column's bind processor; a
  loop over the columns, run for every row, was a sixth of the cost of writing a batch,
  and SQLAlchemy's own per-row parameter assembly costs more than the driver's insert.
- **COPY.** From 64 new rows of a table on PostgreSQL: about a third of the cost per row
  of a pipelined INSERT (batches of 1,000 tickets went from 760-775 to 970-1,240/s).
- **The pipelined commit.** On psycopg every buffered INSERT and the COMMIT go in one
  pipeline, one round trip (a unit of work per ticket went from 11 to 7 round trips).

Errors keep one meaning on every path: a duplicate key is a ``Conflict`` naming the row
(or the ticket number), any other failure is SQLAlchemy's error, and nothing is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn
from uuid import UUID

import cattrs
from sqlalchemy import Connection, Dialect, Table, UniqueConstraint, bindparam
from sqlalchemy.exc import DBAPIError, IntegrityError

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.domain.model import Tenant
from ticketkit.errors import Conflict

if TYPE_CHECKING:
    from ticketkit.adapters.sqlalchemy.mapping import TableMapping

RowDict = dict[str, Any]


#: Up to this many rows go as one multi-row INSERT on PostgreSQL; more go by executemany,
#: whose single-row statement the driver prepares once (a long VALUES list is planned anew).
_MULTI_ROW_LIMIT = 8
#: From this many rows on, PostgreSQL receives a table's new rows by COPY.
_COPY_MIN_ROWS = 64


def _row_encoder(
    steps: Sequence[tuple[str, Callable[[Any], Any] | None]], *, positional: bool
) -> Callable[[RowDict], Any]:
    """One generated function turning a row dict into driver parameters: a tuple or a dict,
    each value through its column's bind processor (``steps``: key and processor, called
    as ``p{i}(value)``). Generated because a loop over columns, run for every row of every
    bulk insert, was a sixth of the cost of writing a batch."""
    namespace: dict[str, Any] = {}
    parts = []
    for i, (key, processor) in enumerate(steps):
        value = f"r[{key!r}]"
        if processor is not None:
            namespace[f"p{i}"] = processor
            value = f"p{i}({value})"
        parts.append(value if positional else f"{key!r}: {value}")
    body = f"({', '.join(parts)},)" if positional else "{" + ", ".join(parts) + "}"
    exec(f"def encode(r):\n    return {body}\n", namespace)
    encode: Callable[[RowDict], Any] = namespace["encode"]
    return encode


class BulkInsert:
    """One table's INSERT compiled once for a dialect and run with the driver's executemany,
    or on PostgreSQL, for a few rows, as one multi-row statement.

    Values still pass through the column types' own bind processors; what is skipped is
    SQLAlchemy's per-row parameter assembly, which costs more than the driver's insert.
    """

    def __init__(self, table: Table, dialect: Dialect) -> None:
        keys = [c.key for c in table.c]
        compiled = table.insert().compile(dialect=dialect, column_keys=keys)
        self.sql = compiled.string
        self.positional = compiled.positional
        order = list(compiled.positiontup or ()) if compiled.positional else keys
        processors = {c.key: c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.c}
        self._steps = [(key, processors[key]) for key in order]
        self._encode = _row_encoder(self._steps, positional=bool(compiled.positional))
        self._table = table
        self._dialect = dialect
        # In a pipeline every statement is a message (and a wake-up of the server) of its
        # own: a few rows travel cheaper as one statement than as one execution each.
        self._multi_row = dialect.name == "postgresql" and not compiled.positional
        self._multi_sql: dict[int, str] = {}
        #: PostgreSQL's bulk path: COPY in text form, values in column order, dumped by the
        #: driver (psycopg), after the same bind processors as an INSERT's.
        self.copy_sql: str | None = None
        if dialect.name == "postgresql":
            prep = dialect.identifier_preparer
            names = ", ".join(prep.quote(c.name) for c in table.c)
            self.copy_sql = f"COPY {prep.format_table(table)} ({names}) FROM STDIN"
            self._encode_tuple = _row_encoder(
                [(c.key, processors[c.key]) for c in table.c], positional=True
            )

    def params(self, rows: list[RowDict]) -> list[Any]:
        """Driver-ready parameters: tuples for positional paramstyles, dicts otherwise."""
        encode = self._encode
        return [encode(r) for r in rows]

    def copies(self, count: int) -> bool:
        """Whether ``count`` new rows go by COPY (PostgreSQL, many rows) instead of INSERT."""
        return self.copy_sql is not None and count >= _COPY_MIN_ROWS

    def copy_rows(self, rows: list[RowDict]) -> list[tuple[Any, ...]]:
        """Values for ``copy_sql``: one tuple per row, in the table's column order."""
        encode = self._encode_tuple
        return [encode(r) for r in rows]

    def statement(self, rows: list[RowDict]) -> tuple[str, Any]:
        """The SQL and driver-ready parameters that insert ``rows``."""
        if not self._multi_row or len(rows) > _MULTI_ROW_LIMIT:
            return self.sql, self.params(rows)
        sql = self._multi_sql.get(len(rows))
        if sql is None:
            sql = self._multi_sql[len(rows)] = self._positional_multi_row(len(rows))
        encode = self._encode_tuple
        # Positional: one flat tuple, which the driver takes as it is (named parameters
        # cost a dict per statement here and a reordering pass in psycopg).
        return sql, tuple(value for row in rows for value in encode(row))

    def _positional_multi_row(self, count: int) -> str:
        """An INSERT of ``count`` rows compiled by SQLAlchemy (with its casts), its named
        placeholders turned into ``%s`` in row-major, column order."""
        columns = self._table.c
        keys = [c.key for c in columns]
        values = [
            {k: bindparam(f"r{i}c{j}", type_=columns[k].type) for j, k in enumerate(keys)}
            for i in range(count)
        ]
        sql = self._table.insert().values(values).compile(dialect=self._dialect).string
        expected = [f"r{i}c{j}" for i in range(count) for j in range(len(keys))]
        if _NAMED.findall(sql) != expected:  # pragma: no cover - a SQLAlchemy change
            raise RuntimeError(f"unexpected placeholder order in {sql!r}")
        return _NAMED.sub("%s", sql)


#: A named placeholder of the multi-row INSERTs (pyformat, as psycopg takes them).
_NAMED = re.compile(r"%\((r\d+c\d+)\)s")

#: The tenant's own row, written first in a unit of work that creates the tenant.
INSERT_TENANT = tables.tenants.insert()

_UNIQUE_SQLITE = frozenset({"SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"})
_PG_KEY = re.compile(r"\)=\((?P<values>.*)\) already exists")
#: The constraint that keeps ticket numbers unique per tenant: a clash on it is a
#: ``Conflict("TicketNumber")``, not one of the ticket's id.
_NUMBER_UNIQUE = str(
    next(c.name for c in tables.tickets.constraints if isinstance(c, UniqueConstraint))
)


def supports_pipeline(dialect: Dialect) -> bool:
    """Whether the driver is psycopg with libpq's pipeline mode (libpq 14 and later)."""
    if dialect.driver != "psycopg":
        return False
    pipeline: Any = getattr(dialect.loaded_dbapi, "Pipeline", None)
    return pipeline is not None and bool(pipeline.is_supported())


def insert(conn: Connection, mapping: TableMapping[Any], rows: list[RowDict]) -> None:
    """Insert ``rows`` into ``mapping``'s table: by COPY when many go to PostgreSQL,
    otherwise by one statement (executemany or one multi-row INSERT)."""
    bulk = mapping.bulk_insert(conn.dialect)
    if bulk.copies(len(rows)):
        copy(conn, mapping, rows)
        return
    sql, params = bulk.statement(rows)
    changes_before = _sqlite_changes(conn)
    try:
        conn.exec_driver_sql(sql, params)
    except IntegrityError as exc:
        conflict = _conflict(exc, mapping, rows, conn, changes_before)
        if conflict is None:
            raise
        raise conflict from exc


def copy(conn: Connection, mapping: TableMapping[Any], rows: list[RowDict]) -> None:
    """Insert ``rows`` by PostgreSQL's COPY, raising what an INSERT would have raised.
    The rows are encoded first, so that a bad value fails before anything is sent."""
    bulk = mapping.bulk_insert(conn.dialect)
    sql = bulk.copy_sql
    if sql is None:
        raise RuntimeError(f"{conn.dialect.name} has no COPY")
    values = bulk.copy_rows(rows)
    raw: Any = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copying:
            write = copying.write_row
            for row in values:
                write(row)
    except conn.dialect.loaded_dbapi.Error as exc:
        _raise_driver_error(exc, conn, {}, tenant=None, failed=(mapping, sql, None))


def commit_pipelined(
    conn: Connection,
    conv: cattrs.Converter,
    added: Sequence[tuple[TableMapping[Any], dict[UUID, Any]]],
    *,
    tenant: Tenant | None,
    write_counter: Callable[[Connection], None],
) -> bool:
    """Insert the new ``tenant``, every table's ``added`` items (in that order), write the
    counter and COMMIT, all in one psycopg pipeline: one round trip where writing table by
    table costs one (or more) per table.

    Returns False, having written nothing, on an AUTOCOMMIT connection. Raises what the
    table-by-table flush would have raised; the transaction is then left to roll back.
    """
    raw: Any = conn.connection.driver_connection
    if raw.autocommit:
        return False
    errors = (DBAPIError, conn.dialect.loaded_dbapi.Error)
    # Many rows go first, by COPY (which a pipeline cannot carry): a third of the cost
    # of a pipelined INSERT per row. Foreign keys wait for the COMMIT anyway.
    copied = set()
    for mapping, items in added:
        if mapping.bulk_insert(conn.dialect).copies(len(items)):
            copy(conn, mapping, mapping.rows(conv, items))
            copied.add(mapping.kind)
    inserts: dict[str, tuple[TableMapping[Any], str, Any]] = {}
    failure: Exception | None = None
    try:
        with raw.pipeline():
            try:
                if tenant is not None:
                    conn.execute(INSERT_TENANT, tenant_row(tenant))
                for mapping, items in added:
                    if items and mapping.kind not in copied:
                        bulk = mapping.bulk_insert(conn.dialect)
                        sql, params = bulk.statement(mapping.rows(conv, items))
                        inserts[mapping.table.name] = (mapping, sql, params)
                        conn.exec_driver_sql(sql, params)
                write_counter(conn)
                # Queued like the writes: a failing write aborts the rest of the
                # pipeline, this COMMIT with it, and leaves the transaction to roll back.
                raw.execute(b"COMMIT", prepare=False)
            except errors as exc:
                # Caught here, so that leaving the pipeline reports the statements it
                # skipped (caught below) instead of logging a warning about them.
                failure = exc
    except errors as exc:
        failure = failure or exc
    if failure is not None:
        _raise_driver_error(failure, conn, inserts, tenant=tenant)
    return True


def tenant_row(tenant: Tenant) -> RowDict:
    """The row of the tenants table."""
    return {"tenant_id": tenant.id, "name": tenant.name, "created_at": tenant.created_at}


def _raise_driver_error(
    exc: Exception,
    conn: Connection,
    inserts: dict[str, tuple[TableMapping[Any], str, Any]],
    *,
    tenant: Tenant | None,
    failed: tuple[TableMapping[Any], str, Any] | None = None,
) -> NoReturn:
    """Raise what the statement-by-statement flush would have raised for ``exc`` (from a
    pipeline, or from the statement ``failed``, a COPY): a ``Conflict`` for a duplicate
    key or the new ``tenant``, otherwise SQLAlchemy's error.

    The driver may report a failure at any later statement of the pipeline or when it
    ends, so there the failing table is taken from the error's diagnostics.
    """
    dbapi: Any = conn.dialect.loaded_dbapi
    orig: Any = exc.orig if isinstance(exc, DBAPIError) else exc
    if not isinstance(orig, dbapi.Error):
        raise exc
    # Only a duplicate key fails its own INSERT (foreign keys are checked at COMMIT).
    unique = getattr(orig, "sqlstate", None) == "23505"
    found = failed or (inserts.get(orig.diag.table_name or "") if unique else None)
    mapping, sql, params = found if found is not None else (None, None, None)
    if isinstance(exc, DBAPIError) and (sql is None or exc.statement == sql):
        error: Exception = exc
    else:
        error = DBAPIError.instance(
            sql,
            params,
            orig,
            dbapi.Error,
            hide_parameters=conn.engine.hide_parameters,
            dialect=conn.dialect,
            ismulti=isinstance(params, list),
        )
    if isinstance(error, IntegrityError):
        if orig.diag.table_name == tables.tenants.name and tenant is not None:
            raise Conflict("Tenant", tenant.id) from error
        conflict = _conflict(error, mapping, [], conn, None) if mapping else None
        if conflict is not None:
            raise conflict from error
    if error is exc:
        raise exc
    raise error from orig


def _sqlite_changes(conn: Connection) -> int | None:
    if conn.dialect.name != "sqlite":
        return None
    raw: Any = conn.connection.driver_connection
    return int(raw.total_changes)


def _uuid_or_none(text: str | None) -> UUID | None:
    """The id a duplicate key names; None for a key of another column (an e-mail)."""
    try:
        return UUID(text) if text is not None else None
    except ValueError:
        return None


def _conflict(
    exc: IntegrityError,
    mapping: TableMapping[Any],
    rows: list[RowDict],
    conn: Connection,
    changes_before: int | None,
) -> Conflict | None:
    """The ``Conflict`` a duplicate key stands for, naming the clashing row; None otherwise."""
    orig: Any = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":
        number_clash = getattr(orig.diag, "constraint_name", None) == _NUMBER_UNIQUE
        found = _PG_KEY.search(getattr(orig.diag, "message_detail", None) or "")
        last = found.group("values").split(", ")[-1] if found else None
        if number_clash:
            return Conflict("TicketNumber", int(last) if last is not None else None)
        return Conflict(mapping.kind, _uuid_or_none(last))
    if getattr(orig, "sqlite_errorname", None) in _UNIQUE_SQLITE:
        # executemany stops at the failing row: the rows before it are the changes made.
        failed: RowDict | None = None
        if changes_before is not None:
            index = (_sqlite_changes(conn) or 0) - changes_before
            failed = rows[index] if 0 <= index < len(rows) else None
        if ".number" in str(orig):
            return Conflict("TicketNumber", failed["number"] if failed else None)
        return Conflict(mapping.kind, failed["id"] if failed else None)
    return None


__all__ = [
    "INSERT_TENANT",
    "BulkInsert",
    "RowDict",
    "commit_pipelined",
    "copy",
    "insert",
    "supports_pipeline",
    "tenant_row",
]
