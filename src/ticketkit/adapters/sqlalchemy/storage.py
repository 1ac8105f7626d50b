"""The SQL storage adapter: the ports implemented with SQLAlchemy Core on SQLite or PostgreSQL.

A unit of work keeps an identity map of the rows it read or wrote and buffers the rows it
adds, writing them with one statement per table at commit and before any query that reads
that table. On psycopg a commit sends those statements and the COMMIT together in one
pipeline. Rows are translated to and from the domain's attrs classes explicitly.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar, cast
from uuid import UUID

import attrs
import cattrs
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    Row,
    Select,
    Table,
    UnaryExpression,
    and_,
    any_,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from ticketkit.adapters.sqlalchemy import bulk, tables
from ticketkit.adapters.sqlalchemy.compile import column, compile_predicate
from ticketkit.adapters.sqlalchemy.connection import Connector, lost_to_a_concurrent_writer
from ticketkit.adapters.sqlalchemy.engine import SQLITE_BEGIN
from ticketkit.adapters.sqlalchemy.mapping import (
    COMMENTS,
    EVENTS,
    FLUSH_ORDER,
    NOTIFICATIONS,
    ORGANISATIONS,
    PERSONS,
    PROJECTS,
    TICKET_TYPES,
    TICKETS,
    TableMapping,
)
from ticketkit.adapters.sqlalchemy.types import Id
from ticketkit.domain.events import Event
from ticketkit.domain.model import (
    Comment,
    Organisation,
    Person,
    Project,
    Tenant,
    Ticket,
    TicketType,
)
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.errors import Conflict
from ticketkit.policy.predicates import Predicate
from ticketkit.ports.repositories import (
    AccessReader,
    CommentRepository,
    EventRepository,
    NotificationOutbox,
    OrderBy,
    Repository,
    Storage,
    TicketRepository,
    UnitOfWork,
)
from ticketkit.serialization import (
    generate_event_data,
    make_converter,
)

T = TypeVar("T")


_t = tables.tickets
_c = tables.ticket_counters

_UPDATE_TICKET = _t.update().where(
    _t.c.tenant_id == bindparam("w_tenant"),
    _t.c.id == bindparam("w_id"),
    _t.c.version == bindparam("w_version"),
)
_TAKE_NUMBER = (
    _c.update()
    .where(_c.c.tenant_id == bindparam("w_tenant"))
    .values(last_number=_c.c.last_number + 1)
    .returning(_c.c.last_number)
)
_SET_COUNTER = _c.update().where(_c.c.tenant_id == bindparam("w_tenant"))
_INSERT_COUNTER = _c.insert()
_GET_TENANT = select(tables.tenants).where(tables.tenants.c.tenant_id == bindparam("tenant"))


class _Prefixed:
    """A row's columns under a label prefix, read by their plain names (so a joined row
    goes through the same row mapping as a row of its own table)."""

    __slots__ = ("_prefix", "_row")

    def __init__(self, row: Row[Any], prefix: str) -> None:
        self._row, self._prefix = row, prefix

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, self._prefix + name)


def _persons_with_projects(*, array: bool) -> Select[Any]:
    """People with their organisation's projects (one row per project, or one with NULLs),
    only the columns the row mappings read. With ``array`` (PostgreSQL) the ids go as one
    ``= ANY(array)`` parameter: the statement is then the same for any number of ids, where
    an expanding ``IN`` is rendered anew on every execution."""
    people, projects = tables.persons, tables.projects
    ids = (
        people.c.id == any_(bindparam("idents", type_=ARRAY(Id())))
        if array
        else people.c.id.in_(bindparam("idents", expanding=True))
    )
    return (
        select(
            *(c for c in people.c if c.key != "ordinal"),
            *(c.label(f"project_{c.key}") for c in projects.c if c.key != "ordinal"),
        )
        .select_from(
            people.outerjoin(
                projects,
                and_(
                    projects.c.tenant_id == people.c.tenant_id,
                    projects.c.organisation_id == people.c.organisation_id,
                ),
            )
        )
        .where(people.c.tenant_id == bindparam("tenant"), ids)
    )


_PERSONS_WITH_PROJECTS = _persons_with_projects(array=False)
_PERSONS_WITH_PROJECTS_ANY = _persons_with_projects(array=True)
_PROJECT_IDS = select(tables.projects.c.id).where(
    tables.projects.c.tenant_id == bindparam("tenant"),
    tables.projects.c.organisation_id.in_(bindparam("orgs", expanding=True)),
)
_TENANT_IDS = select(tables.tenants.c.tenant_id).order_by(
    tables.tenants.c.created_at, tables.tenants.c.tenant_id
)


@attrs.define
class _Counter:
    """Ticket numbers taken in this transaction: ``value`` is the last one handed out,
    ``stored`` what the counter row holds (None while the row itself is still buffered)."""

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

    def unit_of_work(self, tenant_id: UUID, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self, tenant_id, read_only=read_only)

    def tenant_ids(self) -> list[UUID]:
        with self.engine.connect() as conn:
            conn.execution_options(**{SQLITE_BEGIN: "deferred"})
            return list(conn.execute(_TENANT_IDS).scalars())


class _Staged(Generic[T]):
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


class _Directory(Repository[T]):
    """Organisations, persons, projects and ticket types: the unit of work's generic paths."""

    def __init__(self, uow: SqlUnitOfWork, mapping: TableMapping[T]) -> None:
        self._uow = uow
        self._mapping = mapping

    def add(self, item: T) -> None:
        self._uow._stage(self._mapping, item)

    def get(self, ident: UUID) -> T | None:
        return self._uow._get(self._mapping, ident)

    def save(self, item: T) -> None:
        self._uow._save(self._mapping, item)

    def list(self, where: Predicate) -> list[T]:
        return self._uow._select(self._mapping, where)


class _Tickets(TicketRepository):
    """Tickets: buffered adds, updates checked against the stored version at once."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def next_number(self) -> int:
        return self._uow._next_number()

    def add(self, ticket: Ticket) -> None:
        self._uow._stage(TICKETS, ticket.copy())

    def get(self, ident: UUID) -> Ticket | None:
        found = self._uow._get(TICKETS, ident)
        return found.copy() if found is not None else None

    def update(self, ticket: Ticket, *, expected_version: int) -> None:
        uow = self._uow
        uow._check_tenant(ticket)
        staged: _Staged[Ticket] = uow._staged[TICKETS.kind]
        buffered = staged.added.get(ticket.id)
        if buffered is not None:
            if buffered.version != expected_version:
                raise Conflict("Ticket", ticket.id, expected_version)
            staged.added[ticket.id] = ticket.copy()
            return
        params = TICKETS.to_row(uow._conv, ticket)
        del params["tenant_id"], params["id"]
        params.update(w_tenant=uow.tenant_id, w_id=ticket.id, w_version=expected_version)
        if uow._connector.writer().execute(_UPDATE_TICKET, params).rowcount != 1:
            raise Conflict("Ticket", ticket.id, expected_version)
        staged.known[ticket.id] = ticket.copy()

    def query(self, where: Predicate, order: Sequence[OrderBy], limit: int) -> list[Ticket]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        return self._uow._select(TICKETS, where, order=_ticket_order(order), limit=limit)

    def count(self, where: Predicate) -> int:
        uow = self._uow
        uow._flush(TICKETS)
        stmt = select(func.count()).select_from(_t).where(uow._where(_t, where))
        return int(uow._connector.reader().execute(stmt).scalar_one())


def _ticket_order(order: Sequence[OrderBy]) -> list[UnaryExpression[Any]]:
    """ORDER BY for ``order``, ties broken by ticket number (creation order, as in memory).

    NULLs sort as if greater than every value, the same way on SQLite and PostgreSQL.
    """
    clauses: list[UnaryExpression[Any]] = []
    for o in order:
        col = column(_t, o.attr)
        clause = col.desc() if o.descending else col.asc()
        if col.nullable:
            clause = clause.nulls_first() if o.descending else clause.nulls_last()
        clauses.append(clause)
        if o.attr in ("id", "number"):
            return clauses
    clauses.append(_t.c.number.asc())
    return clauses


class _Comments(CommentRepository):
    """Comments, listed in the order they were written."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def add(self, comment: Comment) -> None:
        self._uow._stage(COMMENTS, comment)

    def get(self, ident: UUID) -> Comment | None:
        return self._uow._get(COMMENTS, ident)

    def for_ticket(self, ticket_id: UUID, where: Predicate) -> list[Comment]:
        return self._uow._select(COMMENTS, where, tables.comments.c.ticket_id == ticket_id)

    def count_by_ticket(self, ticket_ids: Iterable[UUID], where: Predicate) -> dict[UUID, int]:
        ids = list(ticket_ids)
        if not ids:
            return {}
        uow = self._uow
        uow._flush(COMMENTS)
        c = tables.comments
        stmt = (
            select(c.c.ticket_id, func.count())
            .where(uow._where(c, where), c.c.ticket_id.in_(ids))
            .group_by(c.c.ticket_id)
        )
        return {tid: int(n) for tid, n in uow._connector.reader().execute(stmt)}


class _Events(EventRepository):
    """History events: common attributes in columns, the rest of each event as JSON."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def add(self, event: Event) -> None:
        self._uow._stage(EVENTS, event)

    def get(self, ident: UUID) -> Event | None:
        return self._uow._get(EVENTS, ident)

    def for_ticket(self, ticket_id: UUID, where: Predicate) -> list[Event]:
        return self._uow._select(EVENTS, where, tables.events.c.ticket_id == ticket_id)


_n = tables.notifications
_ACK_CHUNK = 1_000
_ACKNOWLEDGE = (
    _n.update()
    .where(
        _n.c.tenant_id == bindparam("tenant"),
        _n.c.id.in_(bindparam("ids", expanding=True)),
        _n.c.status == DeliveryStatus.PENDING.value,
    )
    .values(
        status=DeliveryStatus.DELIVERED.value,
        attempts=_n.c.attempts + 1,
        last_error=None,
        delivered_to=bindparam("delivered_to", type_=_n.c.delivered_to.type),
        updated_at=bindparam("at", type_=_n.c.updated_at.type),
    )
)


class _Outbox(NotificationOutbox):
    """The notification outbox; delivery outcomes are buffered like adds."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def add(self, notification: Notification) -> None:
        self._uow._stage(NOTIFICATIONS, notification)

    def get(self, ident: UUID) -> Notification | None:
        return self._uow._get(NOTIFICATIONS, ident)

    def list(self, where: Predicate, limit: int) -> list[Notification]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        return self._uow._select(NOTIFICATIONS, where, limit=limit)

    def save(self, notification: Notification) -> None:
        self._uow._save(NOTIFICATIONS, notification)

    def acknowledge(
        self, ids: Collection[UUID], *, delivered_to: tuple[str, ...], at: datetime
    ) -> int:
        uow = self._uow
        buffered: dict[UUID, Notification] = uow._staged[NOTIFICATIONS.kind].added
        done = 0
        stored: list[UUID] = []
        for ident in ids:
            note = buffered.get(ident)
            if note is None:
                stored.append(ident)
            elif note.status is DeliveryStatus.PENDING:
                buffered[ident] = note.delivered(delivered_to, at)
                done += 1
        if stored:
            uow._flush(NOTIFICATIONS)  # buffered saves of these rows are written first
            conn = uow._connector.writer()
            values = {"delivered_to": list(delivered_to), "at": at, "tenant": uow.tenant_id}
            for first in range(0, len(stored), _ACK_CHUNK):
                chunk = stored[first : first + _ACK_CHUNK]
                done += conn.execute(_ACKNOWLEDGE, {**values, "ids": chunk}).rowcount
            known = uow._staged[NOTIFICATIONS.kind].known
            for ident in stored:  # rows read earlier in this unit of work are stale now
                known.pop(ident, None)
        return done


class _Access(AccessReader):
    """People loaded with their organisations' projects in one round trip."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def people(self, idents: Iterable[UUID]) -> dict[UUID, Person]:
        return self._uow._people(idents)

    def project_ids_of(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]:
        return self._uow._project_ids_of(organisation_ids)


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
        self._connector = Connector(storage.engine, read_only=read_only)
        self._conv = storage.converter
        dialect = storage.engine.dialect
        self._pipelined = bulk.supports_pipeline(dialect)
        self._array_params = dialect.name == "postgresql"
        self._staged: dict[str, _Staged[Any]] = {m.kind: _Staged() for m in FLUSH_ORDER}
        self._project_ids: dict[frozenset[UUID], frozenset[UUID]] = {}
        self._new_tenant: Tenant | None = None
        self._counter: _Counter | None = None
        self.organisations = _Directory[Organisation](self, ORGANISATIONS)
        self.persons = _Directory[Person](self, PERSONS)
        self.projects = _Directory[Project](self, PROJECTS)
        self.ticket_types = _Directory[TicketType](self, TICKET_TYPES)
        self.tickets = _Tickets(self)
        self.comments = _Comments(self)
        self.events = _Events(self)
        self.outbox = _Outbox(self)
        self.access = _Access(self)

    def _discard_buffers(self) -> None:
        for staged in self._staged.values():
            staged.clear()
        self._project_ids.clear()
        self._new_tenant = None
        self._counter = None

    def commit(self) -> None:
        if self._connector.closed:
            raise RuntimeError("unit of work is closed")
        try:
            if not self._commit_pipelined():
                self._flush_all()
            self._connector.end(commit=True)
        except BaseException:
            self.rollback()
            raise
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

    def conflict_for(self, exc: BaseException) -> Conflict | None:
        # PostgreSQL chose this transaction as a deadlock victim (or a serializable one
        # failed): the same outcome as a stale version, and as safe to retry.
        if lost_to_a_concurrent_writer(exc):
            return Conflict("Transaction", self.tenant_id)
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
        staged: _Staged[T] = self._staged[mapping.kind]
        if staged.find(ident) is not None:
            raise Conflict(mapping.kind, ident)
        staged.added[ident] = item
        if mapping is PROJECTS:
            self._project_ids.clear()

    def _save(self, mapping: TableMapping[T], item: T) -> None:
        """Replace an item; one that exists nowhere is a Conflict (at the latest when the
        buffered update is written)."""
        self._check_tenant(item)
        ident: UUID = item.id  # type: ignore[attr-defined]
        staged: _Staged[T] = self._staged[mapping.kind]
        if ident in staged.added:
            staged.added[ident] = item
        else:
            staged.changed[ident] = item
        if mapping is PROJECTS:
            self._project_ids.clear()

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
        counter = self._counter
        return counter is not None and counter.value != counter.stored

    def _write_counter(self, conn: Connection) -> None:
        """Write back the ticket numbers taken in this transaction after the first one."""
        counter = self._counter
        if counter is not None and counter.value != counter.stored:
            row = {"last_number": counter.value}
            if counter.stored is None:
                conn.execute(_INSERT_COUNTER, {**row, "tenant_id": self.tenant_id})
            else:
                conn.execute(_SET_COUNTER, {**row, "w_tenant": self.tenant_id})
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
        staged: _Staged[T] = self._staged[mapping.kind]
        found = staged.find(ident)
        if found is not None:
            return found
        params = {"tenant": self.tenant_id, "ident": ident}
        row = self._connector.reader().execute(mapping.by_id, params).first()
        if row is None:
            return None
        item = staged.known[ident] = mapping.from_row(self._conv, row)
        return item

    def _people(self, idents: Iterable[UUID]) -> dict[UUID, Person]:
        staged: _Staged[Person] = self._staged[PERSONS.kind]
        found: dict[UUID, Person] = {}
        missing: list[UUID] = []
        for ident in idents:
            if not isinstance(ident, UUID):
                continue
            item = staged.find(ident)
            if item is not None:
                found[ident] = item
            elif ident not in missing:
                missing.append(ident)
        if missing and self._projects_settled():
            found.update(self._load_persons(missing))
            return found
        for ident in missing:
            person = self._get(PERSONS, ident)
            if person is not None:
                found[ident] = person
        return found

    def _projects_settled(self) -> bool:
        """Whether the database holds this unit of work's projects as it sees them: only
        then may people be loaded with their organisations' projects (which feed the
        policy's project ids; a project added or moved here but not yet written must not
        be answered from the database)."""
        staged = self._staged[PROJECTS.kind]
        return not staged.added and not staged.changed

    def _load_persons(self, idents: list[UUID]) -> dict[UUID, Person]:
        """Load people together with their organisations' projects, which the policy asks
        for next whenever it resolves a customer's access and an operation reads next (the
        project a ticket is opened in): one round trip for all of them."""
        params = {"tenant": self.tenant_id, "idents": idents}
        stmt = _PERSONS_WITH_PROJECTS_ANY if self._array_params else _PERSONS_WITH_PROJECTS
        rows = self._connector.reader().execute(stmt, params).all()
        people = self._staged[PERSONS.kind].known
        projects = self._staged[PROJECTS.kind].known
        by_org: dict[UUID, set[UUID]] = {}
        found: dict[UUID, Person] = {}
        for row in rows:
            person = found.get(row.id)
            if person is None:
                person = found[row.id] = people[row.id] = PERSONS.from_row(self._conv, row)
            ids = by_org.setdefault(person.organisation_id, set())
            if row.project_id is not None:
                ids.add(row.project_id)
                if row.project_id not in projects:
                    # _project reads its row by attribute name, which _Prefixed provides.
                    joined = cast(Row[Any], _Prefixed(row, "project_"))
                    projects[row.project_id] = PROJECTS.from_row(self._conv, joined)
        for org, ids in by_org.items():
            self._project_ids.setdefault(frozenset({org}), frozenset(ids))
        return found

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

    # -- tenant, numbers, directory --------------------------------------------------------

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
        if self._counter is None:
            self._counter = _Counter(value=0, stored=None)

    def _next_number(self) -> int:
        counter = self._counter
        if counter is not None:
            counter.value += 1
            return counter.value
        # The first number of a transaction locks the counter row until commit (PostgreSQL);
        # later ones are counted here and written back when the transaction is flushed.
        conn = self._connector.writer()
        taken = conn.execute(_TAKE_NUMBER, {"w_tenant": self.tenant_id}).scalar_one_or_none()
        if taken is None:
            try:
                conn.execute(_INSERT_COUNTER, {"tenant_id": self.tenant_id, "last_number": 1})
            except IntegrityError as exc:
                self.rollback()
                raise Conflict("TicketNumber", self.tenant_id) from exc
            taken = 1
        self._counter = _Counter(value=taken, stored=taken)
        return int(taken)

    def _project_ids_of(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]:
        orgs = frozenset(organisation_ids)
        if not orgs:
            return frozenset()
        cached = self._project_ids.get(orgs)
        if cached is not None:
            return cached
        self._flush(PROJECTS)
        params = {"tenant": self.tenant_id, "orgs": list(orgs)}
        found = frozenset(self._connector.reader().execute(_PROJECT_IDS, params).scalars())
        self._project_ids[orgs] = found
        return found


__all__ = ["SqlStorage", "SqlUnitOfWork"]
