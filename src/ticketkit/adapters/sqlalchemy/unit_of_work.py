"""The SQL unit of work: one transaction on one tenant, and the storage that hands it out.

A unit of work keeps an identity map of the rows it read or wrote and buffers the rows it
adds, writing them with one statement per table at commit and before any query that reads
that table (see ``bulk`` for how they travel). It holds its ``Connector`` for the
connection and its repositories (``repositories``), which call back into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar
from uuid import UUID

import attrs
import cattrs
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Table,
    UnaryExpression,
    and_,
    bindparam,
    select,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ticketkit.adapters.sqlalchemy import bulk, tables
from ticketkit.adapters.sqlalchemy.access import Access
from ticketkit.adapters.sqlalchemy.compile import compile_predicate
from ticketkit.adapters.sqlalchemy.connection import Connector, lost_to_a_concurrent_writer
from ticketkit.adapters.sqlalchemy.engine import SQLITE_BEGIN
from ticketkit.adapters.sqlalchemy.groups import Followers, Groups
from ticketkit.adapters.sqlalchemy.invitations import Invitations
from ticketkit.adapters.sqlalchemy.mapping import (
    FLUSH_ORDER,
    ORGANISATIONS,
    PERSONS,
    PROJECTS,
    TICKET_TYPES,
    TICKETS,
    TableMapping,
)
from ticketkit.adapters.sqlalchemy.repositories import (
    Comments,
    CommittedTypes,
    Directory,
    Events,
    Grants,
    Memberships,
    Outbox,
    Projects,
    Tickets,
    TicketTypes,
)
from ticketkit.adapters.sqlalchemy.settings import Settings
from ticketkit.adapters.sqlalchemy.sla import Actions, Calendars, Clocks, Policies
from ticketkit.domain.model import Organisation, Person, Tenant, Ticket
from ticketkit.domain.sla.policies import SlaPolicy
from ticketkit.domain.sla.records import SlaCalendar
from ticketkit.errors import Conflict, StorageError, TicketkitError
from ticketkit.policy.predicates import Predicate
from ticketkit.ports.repositories import Storage, UnitOfWork
from ticketkit.serialization import generate_event_data, make_converter

T = TypeVar("T")

_c = tables.ticket_counters
_TAKE_NUMBER = (
    _c.update()
    .where(_c.c.tenant_id == bindparam("w_tenant"), _c.c.project_id == bindparam("w_project"))
    .values(last_number=_c.c.last_number + 1)
    .returning(_c.c.last_number)
)
_SET_COUNTER = _c.update().where(
    _c.c.tenant_id == bindparam("w_tenant"), _c.c.project_id == bindparam("w_project")
)
_INSERT_COUNTER = _c.insert()
#: A ticket read to be changed: locked until the transaction ends (SQLite has no row locks
#: and ignores FOR UPDATE; there the write lock, taken before the read, serialises writers).
_TICKET_FOR_UPDATE = (
    select(tables.tickets)
    .where(
        tables.tickets.c.tenant_id == bindparam("tenant"),
        tables.tickets.c.id == bindparam("ident"),
    )
    .with_for_update()
)
_GET_TENANT = select(tables.tenants).where(tables.tenants.c.tenant_id == bindparam("tenant"))
_TENANT_IDS = select(tables.tenants.c.tenant_id).order_by(
    tables.tenants.c.created_at, tables.tenants.c.tenant_id
)


@attrs.define
class _Counter:
    """Ticket numbers taken in one project in this transaction: ``value`` is the last one
    handed out, ``stored`` what the counter row holds (None while the row itself is still
    buffered)."""

    value: int
    stored: int | None


class SqlStorage(Storage):
    """A SQLite or PostgreSQL database migrated with ``upgrade``; one engine, many tenants.

    ``converter`` (cattrs) decides how event payloads, custom fields and ticket types are
    stored; pass your own (extend ``make_converter()``) to customise them. The storage's
    default converter is fixed once built: event payloads use functions generated from it.
    """

    def __init__(self, engine: Engine, *, converter: cattrs.Converter | None = None) -> None:
        self.engine = engine
        if converter is None:
            converter = make_converter()
            generate_event_data(converter)
        self.converter = converter
        self.ticket_types = CommittedTypes()

    def unit_of_work(self, tenant_id: UUID, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self, tenant_id, read_only=read_only)

    def connector(self, *, read_only: bool) -> Connector:
        """The connection and transaction of one unit of work. A storage inside a host
        framework that owns the transaction (``ticketkit.web.django``) hands out its own."""
        return Connector(self.engine, read_only=read_only)

    def tenant_ids(self) -> list[UUID]:
        with self.engine.connect() as conn:
            conn.execution_options(**{SQLITE_BEGIN: "deferred"})
            return list(conn.execute(_TENANT_IDS).scalars())


class Staged(Generic[T]):
    """One table's share of a transaction: rows to insert, rows to update, and rows already
    read or written (an identity map, so repeated reads by id cost no query)."""

    __slots__ = ("added", "changed", "known")

    def __init__(self) -> None:
        self.added: dict[UUID, T] = {}
        self.changed: dict[UUID, T] = {}
        self.known: dict[UUID, T] = {}

    def find(self, ident: UUID) -> T | None:
        for found in (self.added, self.changed, self.known):
            if ident in found:
                return found[ident]
        return None

    def clear(self) -> None:
        self.added.clear()
        self.changed.clear()
        self.known.clear()


class SqlUnitOfWork(UnitOfWork):
    """One database transaction on one tenant, opened on first use.

    Adds and saves are buffered and written with one statement per table; ticket updates
    are written at once, so a stale version raises ``Conflict`` at the call. A ``Conflict``
    found while writing buffered rows discards the whole transaction. After ``commit`` the
    unit of work may be used again for a next transaction.
    """

    def __init__(self, storage: SqlStorage, tenant_id: UUID, *, read_only: bool = False) -> None:
        super().__init__()
        self.tenant_id = tenant_id
        self.read_only = read_only
        self._connector = storage.connector(read_only=read_only)
        self._conv = storage.converter
        dialect = storage.engine.dialect
        # The pipelined commit sends its own COMMIT: only where ticketkit owns the transaction.
        self._pipelined = self._connector.owns_transaction and bulk.supports_pipeline(dialect)
        self._staged: dict[str, Staged[Any]] = {m.kind: Staged() for m in FLUSH_ORDER}
        self._new_tenant: Tenant | None = None
        self._counters: dict[UUID, _Counter] = {}
        #: Tickets read for update in this transaction: locked, and known as they are.
        self._locked: set[UUID] = set()
        self.organisations = Directory[Organisation](self, ORGANISATIONS)
        self.persons = Directory[Person](self, PERSONS)
        self.memberships = Memberships(self)
        self.projects = Projects(self)
        self.grants = Grants(self)
        self._committed_types = storage.ticket_types
        self.ticket_types = TicketTypes(self, TICKET_TYPES)
        self.groups = self._groups = Groups(self)
        self.tickets = Tickets(self)
        self.followers = self._followers = Followers(self)
        self.invitations = Invitations(self)
        self.settings = Settings(self)
        self.comments = Comments(self)
        self.events = Events(self)
        self.outbox = Outbox(self)
        self.access = self._access = Access(self, array_params=dialect.name == "postgresql")
        self.calendars = Calendars(self)
        self.sla_policies = self._policies = Policies(self)
        self.clocks = Clocks(self)
        self.sla_actions = Actions(self)

    def sla_configuration(self) -> tuple[list[SlaPolicy], list[SlaCalendar]]:
        return self._policies.configuration()

    def _discard_buffers(self) -> None:
        for staged in self._staged.values():
            staged.clear()
        self._access.forget()
        self._new_tenant = None
        self._counters.clear()
        self._locked.clear()
        self._followers.forget()
        self._groups.forget()

    def commit(self) -> None:
        if self._connector.closed:
            raise RuntimeError("unit of work is closed")
        new_types = list(self._staged[TICKET_TYPES.kind].added.values())
        try:
            if not self._commit_pipelined():
                self._flush_all()
            self._connector.end(commit=True)
        except BaseException:
            self.rollback()
            raise
        self._committed_types.put(new_types)
        self._discard_buffers()

    def rollback(self) -> None:
        try:
            self._connector.end(commit=False)
        finally:
            self._discard_buffers()
            self.new_events.clear()

    def close(self) -> None:
        if not self._connector.closed:
            self.rollback()
            self._connector.closed = True

    def error_for(self, exc: BaseException) -> TicketkitError | None:
        # PostgreSQL chose this transaction as a deadlock victim (or a serializable one
        # failed): the same outcome as a stale version, and as safe to retry.
        if lost_to_a_concurrent_writer(exc):
            return Conflict("Transaction", self.tenant_id)
        if isinstance(exc, SQLAlchemyError):
            # SQLAlchemy's message holds the statement and its parameters: user data.
            orig = getattr(exc, "orig", None)
            cause = type(orig if orig is not None else exc).__name__
            state = getattr(orig, "sqlstate", None)
            return StorageError(
                f"the database refused the operation ({cause}{f', {state}' if state else ''});"
                " nothing was written"
            )
        return None

    # -- buffering -------------------------------------------------------------------------

    def _check_tenant(self, item: object) -> None:
        """Every buffered write passes here."""
        self._connector.refuse_if_read_only()
        if getattr(item, "tenant_id", None) != self.tenant_id:
            raise ValueError("tenant_id: does not match the unit of work's tenant")

    def _stage(self, mapping: TableMapping[T], item: T) -> None:
        self._check_tenant(item)
        ident: UUID = item.id  # type: ignore[attr-defined]
        staged: Staged[T] = self._staged[mapping.kind]
        if staged.find(ident) is not None:
            raise Conflict(mapping.kind, ident)
        staged.added[ident] = item
        self._access.changed(mapping)
        if mapping is PROJECTS:
            # A project's number counter is made with it, so that taking a number is
            # always one UPDATE of a row that exists, which concurrent writers queue on.
            self._counters[ident] = _Counter(value=0, stored=None)

    def _save(self, mapping: TableMapping[T], item: T) -> None:
        """Replace an item; one that exists nowhere is a Conflict (at the latest when the
        buffered update is written)."""
        self._check_tenant(item)
        ident: UUID = item.id  # type: ignore[attr-defined]
        staged: Staged[T] = self._staged[mapping.kind]
        if ident in staged.added:
            staged.added[ident] = item
        else:
            staged.changed[ident] = item
        self._access.changed(mapping)

    def _flush(self, mapping: TableMapping[Any]) -> None:
        """Write ``mapping``'s buffered inserts, then its buffered updates, one executemany
        each; written items stay known to the identity map."""
        staged = self._staged[mapping.kind]
        if staged.added:
            self._insert(mapping, staged.added)
            staged.known.update(staged.added)
            staged.added.clear()
        if staged.changed:
            self._update(mapping, staged.changed)
            staged.known.update(staged.changed)
            staged.changed.clear()

    def _insert(self, mapping: TableMapping[Any], items: dict[UUID, Any]) -> None:
        """Write buffered new rows; any failure rolls the whole unit of work back (on
        PostgreSQL a failed statement has aborted the transaction anyway)."""
        conn = self._connector.writer()
        try:
            bulk.insert(conn, mapping, mapping.rows(self._conv, items))
        except BaseException:
            self.rollback()
            raise

    def _update(self, mapping: TableMapping[Any], items: dict[UUID, Any]) -> None:
        conv = self._conv
        rows = []
        for ident, item in items.items():
            row = mapping.to_row(conv, item)
            del row["tenant_id"], row["id"]
            row.update(w_tenant=self.tenant_id, w_id=ident)
            rows.append(row)
        conn = self._connector.writer()
        # One row goes as a plain execute: psycopg runs executemany as a pipeline, which
        # costs an extra round trip for a batch of one.
        if conn.execute(mapping.update, rows[0] if len(rows) == 1 else rows).rowcount == len(rows):
            return
        table = mapping.table
        ids = list(items)
        stmt = select(table.c.id).where(table.c.tenant_id == self.tenant_id, table.c.id.in_(ids))
        stored = set(conn.execute(stmt).scalars())
        missing = next((ident for ident in ids if ident not in stored), None)
        self.rollback()
        raise Conflict(mapping.kind, missing)

    def _flush_all(self) -> None:
        if self._new_tenant is not None:
            tenant = self._new_tenant
            try:
                self._connector.writer().execute(bulk.INSERT_TENANT, bulk.tenant_row(tenant))
            except IntegrityError as exc:
                self.rollback()
                raise Conflict("Tenant", tenant.id) from exc
            self._new_tenant = None
        for mapping in FLUSH_ORDER:
            self._flush(mapping)
        if self._counter_changed():
            self._write_counter(self._connector.writer())

    def _counter_changed(self) -> bool:
        return any(c.value != c.stored for c in self._counters.values())

    def _write_counter(self, conn: Connection) -> None:
        """Write back the ticket numbers taken in this transaction after each project's
        first one."""
        for project_id, counter in self._counters.items():
            if counter.value == counter.stored:
                continue
            row = {"last_number": counter.value}
            if counter.stored is None:
                conn.execute(
                    _INSERT_COUNTER, {**row, "tenant_id": self.tenant_id, "project_id": project_id}
                )
            else:
                conn.execute(
                    _SET_COUNTER, {**row, "w_tenant": self.tenant_id, "w_project": project_id}
                )
            counter.stored = counter.value

    def _commit_pipelined(self) -> bool:
        """Send every buffered write and the COMMIT in one psycopg pipeline (see
        ``bulk.commit_pipelined``).

        Returns False, having written nothing, on SQLite, without pipeline support or on an
        AUTOCOMMIT engine, when there is nothing to write, and when updates are buffered:
        their row counts must be checked before committing, and a pipeline reports them
        only after its COMMIT ran.
        """
        staged = self._staged
        if (
            not self._pipelined
            or any(staged[m.kind].changed for m in FLUSH_ORDER)
            or not (
                self._new_tenant is not None
                or self._counter_changed()
                or any(staged[m.kind].added for m in FLUSH_ORDER)
            )
        ):
            return False
        added = [(m, staged[m.kind].added) for m in FLUSH_ORDER]
        if not bulk.commit_pipelined(
            self._connector.writer(),
            self._conv,
            added,
            tenant=self._new_tenant,
            write_counter=self._write_counter,
        ):
            return False
        self._new_tenant = None
        for mapping in FLUSH_ORDER:
            found = staged[mapping.kind]
            found.known.update(found.added)
            found.added.clear()
        return True

    # -- reading ---------------------------------------------------------------------------

    def _where(self, table: Table, where: Predicate) -> ColumnElement[bool]:
        return and_(table.c.tenant_id == self.tenant_id, compile_predicate(where, table))

    def _get(self, mapping: TableMapping[T], ident: UUID) -> T | None:
        staged: Staged[T] = self._staged[mapping.kind]
        found = staged.find(ident)
        if found is not None:
            return found
        params = {"tenant": self.tenant_id, "ident": ident}
        row = self._connector.reader().execute(mapping.by_id, params).first()
        if row is None:
            return None
        item = staged.known[ident] = mapping.from_row(self._conv, row)
        return item

    def _get_for_update(self, ident: UUID) -> Ticket | None:
        """The ticket as stored, locked until this transaction ends: the row on PostgreSQL
        (``FOR UPDATE``), the database on SQLite (its write lock, taken first). A ticket
        added here and not yet written is this unit of work's alone already."""
        staged: Staged[Ticket] = self._staged[TICKETS.kind]
        if ident in staged.added:
            return staged.added[ident]
        if ident in self._locked:
            # Locked earlier in this transaction: what is known of it is what is stored,
            # or this unit of work's own change.
            return staged.find(ident)
        conn = self._connector.writer()
        params = {"tenant": self.tenant_id, "ident": ident}
        row = conn.execute(_TICKET_FOR_UPDATE, params).first()
        if row is None:
            return None
        ticket: Ticket = TICKETS.from_row(self._conv, row)
        staged.known[ident] = ticket
        self._locked.add(ident)
        return ticket

    def _select(
        self,
        mapping: TableMapping[T],
        where: Predicate,
        *extra: ColumnElement[bool],
        order: Sequence[UnaryExpression[Any]] | None = None,
        limit: int | None = None,
    ) -> list[T]:
        self._flush(mapping)
        table = mapping.table
        stmt = (
            select(table)
            .where(self._where(table, where), *extra)
            .order_by(*(order if order is not None else mapping.order))
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        conv, from_row = self._conv, mapping.from_row
        # all() fetches in one call; iterating would fetch row by row through the driver.
        return [from_row(conv, row) for row in self._connector.reader().execute(stmt).all()]

    # -- tenant and ticket numbers ---------------------------------------------------------

    def get_tenant(self) -> Tenant | None:
        if self._new_tenant is not None:
            return self._new_tenant
        row = self._connector.reader().execute(_GET_TENANT, {"tenant": self.tenant_id}).first()
        if row is None:
            return None
        return Tenant(id=row.tenant_id, name=row.name, created_at=row.created_at)

    def add_tenant(self, tenant: Tenant) -> None:
        self._connector.refuse_if_read_only()
        if tenant.id != self.tenant_id:
            raise ValueError("tenant_id: does not match the unit of work's tenant")
        if self.get_tenant() is not None:
            raise Conflict("Tenant", tenant.id)
        self._new_tenant = tenant

    def _next_number(self, project_id: UUID) -> int:
        counter = self._counters.get(project_id)
        if counter is not None:
            counter.value += 1
            return counter.value
        # A project's first number in a transaction locks its counter row until commit
        # (PostgreSQL); later ones are counted here and written back when flushed.
        conn = self._connector.writer()
        params = {"w_tenant": self.tenant_id, "w_project": project_id}
        taken = conn.execute(_TAKE_NUMBER, params).scalar_one_or_none()
        if taken is None:  # a project stored without its counter (by a host, say)
            try:
                conn.execute(
                    _INSERT_COUNTER,
                    {"tenant_id": self.tenant_id, "project_id": project_id, "last_number": 1},
                )
            except IntegrityError as exc:
                self.rollback()
                raise Conflict("TicketNumber", project_id) from exc
            taken = 1
        self._counters[project_id] = _Counter(value=taken, stored=taken)
        return int(taken)


__all__ = ["SqlStorage", "SqlUnitOfWork"]
