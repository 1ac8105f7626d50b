"""The SQL storage adapter: the ports implemented with SQLAlchemy Core on SQLite or PostgreSQL.

A unit of work keeps an identity map of the rows it read or wrote and buffers the rows it
adds, writing them with one statement per table at commit and before any query that reads
that table. On psycopg a commit sends those statements and the COMMIT together in one
pipeline. Rows are translated to and from the domain's attrs classes explicitly.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Generic, NoReturn, TypeVar, cast
from uuid import UUID

import attrs
import cattrs
from sqlalchemy import (
    ColumnElement,
    Connection,
    Dialect,
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
from sqlalchemy.exc import DBAPIError, IntegrityError

from ticketkit.adapters.sqlalchemy import schema
from ticketkit.adapters.sqlalchemy.compile import column, compile_predicate
from ticketkit.adapters.sqlalchemy.engine import SQLITE_BEGIN, is_in_memory
from ticketkit.domain.events import Event
from ticketkit.domain.fields import FieldSpec
from ticketkit.domain.model import (
    Comment,
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    Project,
    Role,
    Tenant,
    Ticket,
    TicketType,
    Visibility,
)
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.domain.workflow import StatusCategory, Workflow
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
    decode_fields,
    encode_fields,
    event_data,
    event_from_dict,
    generate_event_data,
    make_converter,
)

T = TypeVar("T")
RowDict = dict[str, Any]


class _Ordinals:
    """Process-wide increasing stamps (nanosecond clock, never repeating) for insertion order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def take(self, count: int) -> int:
        """Reserve ``count`` consecutive stamps and return the first."""
        with self._lock:
            first = max(time.time_ns(), self._last + 1)
            self._last = first + count - 1
            return first


_ORDINALS = _Ordinals()


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


class _BulkInsert:
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


class _Mapping(Generic[T]):
    """How one entity kind travels between its attrs class and its table, with the
    statements built once so SQLAlchemy's compiled cache serves every execution."""

    def __init__(
        self,
        kind: str,
        table: Table,
        to_row: Callable[[cattrs.Converter, T], RowDict],
        from_row: Callable[[cattrs.Converter, Row[Any]], T],
        order: tuple[UnaryExpression[Any], ...],
    ) -> None:
        self.kind = kind
        self.table = table
        self.to_row = to_row
        self.from_row = from_row
        #: Listing order: insertion order for the entities that record one.
        self.order = order
        self.ordered = "ordinal" in table.c
        self.by_id = select(table).where(
            table.c.tenant_id == bindparam("tenant"), table.c.id == bindparam("ident")
        )
        self.update = table.update().where(
            table.c.tenant_id == bindparam("w_tenant"), table.c.id == bindparam("w_id")
        )
        self._bulk: weakref.WeakKeyDictionary[Dialect, _BulkInsert] = weakref.WeakKeyDictionary()

    def bulk_insert(self, dialect: Dialect) -> _BulkInsert:
        found = self._bulk.get(dialect)
        if found is None:
            found = self._bulk[dialect] = _BulkInsert(self.table, dialect)
        return found


# -- rows <-> domain objects -----------------------------------------------------------------


def _organisation_row(conv: cattrs.Converter, o: Organisation) -> RowDict:
    return {
        "tenant_id": o.tenant_id,
        "id": o.id,
        "name": o.name,
        "kind": o.kind.value,
        "parent_id": o.parent_id,
        "created_at": o.created_at,
    }


def _organisation(conv: cattrs.Converter, r: Row[Any]) -> Organisation:
    return Organisation(
        tenant_id=r.tenant_id,
        id=r.id,
        name=r.name,
        kind=OrganisationKind(r.kind),
        parent_id=r.parent_id,
        created_at=r.created_at,
    )


def _person_row(conv: cattrs.Converter, p: Person) -> RowDict:
    return {
        "tenant_id": p.tenant_id,
        "id": p.id,
        "organisation_id": p.organisation_id,
        "name": p.name,
        "email": p.email,
        "role": p.role.value,
        "active": p.active,
        "created_at": p.created_at,
    }


def _person(conv: cattrs.Converter, r: Row[Any]) -> Person:
    return Person(
        tenant_id=r.tenant_id,
        id=r.id,
        organisation_id=r.organisation_id,
        name=r.name,
        email=r.email,
        role=Role(r.role),
        active=bool(r.active),
        created_at=r.created_at,
    )


def _project_row(conv: cattrs.Converter, p: Project) -> RowDict:
    return {
        "tenant_id": p.tenant_id,
        "id": p.id,
        "organisation_id": p.organisation_id,
        "name": p.name,
        "created_at": p.created_at,
    }


def _project(conv: cattrs.Converter, r: Row[Any]) -> Project:
    return Project(
        tenant_id=r.tenant_id,
        id=r.id,
        organisation_id=r.organisation_id,
        name=r.name,
        created_at=r.created_at,
    )


def _ticket_type_row(conv: cattrs.Converter, t: TicketType) -> RowDict:
    return {
        "tenant_id": t.tenant_id,
        "id": t.id,
        "name": t.name,
        "fields": conv.unstructure(t.fields, unstructure_as=tuple[FieldSpec, ...]),
        "description_template": t.description_template,
        "workflow": conv.unstructure(t.workflow, unstructure_as=Workflow),
        "created_at": t.created_at,
    }


def _ticket_type(conv: cattrs.Converter, r: Row[Any]) -> TicketType:
    return TicketType(
        tenant_id=r.tenant_id,
        id=r.id,
        name=r.name,
        fields=conv.structure(r.fields, tuple[FieldSpec, ...]),
        description_template=r.description_template,
        workflow=conv.structure(r.workflow, Workflow),
        created_at=r.created_at,
    )


def _encode_tally(tally: dict[tuple[Visibility, UUID], int]) -> list[list[object]]:
    return sorted([vis.value, str(org), n] for (vis, org), n in tally.items())


_VISIBILITIES = {v.value: v for v in Visibility}
_CATEGORIES = {c.value: c for c in StatusCategory}
_PRIORITIES = {p.value: p for p in Priority}


def _decode_tally(raw: list[list[Any]]) -> dict[tuple[Visibility, UUID], int]:
    return {(_VISIBILITIES[vis], schema.parse_uuid(org)): int(n) for vis, org, n in raw}


def _ticket_row(conv: cattrs.Converter, t: Ticket) -> RowDict:
    return {
        "tenant_id": t.tenant_id,
        "id": t.id,
        "number": t.number,
        "project_id": t.project_id,
        "type_id": t.type_id,
        "title": t.title,
        "description": t.description,
        "fields": encode_fields(t.fields),
        "status": t.status,
        "status_category": t.status_category.value,
        "priority": t.priority.value,
        "requester_id": t.requester_id,
        "assignee_id": t.assignee_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "public_updated_at": t.public_updated_at,
        "version": t.version,
        "event_seq": t.event_seq,
        "comment_tally": _encode_tally(t.comment_tally),
    }


_TICKET_COLUMNS = [
    "tenant_id",
    "id",
    "number",
    "project_id",
    "type_id",
    "title",
    "description",
    "fields",
    "status",
    "status_category",
    "priority",
    "requester_id",
    "assignee_id",
    "created_at",
    "updated_at",
    "public_updated_at",
    "version",
    "event_seq",
    "comment_tally",
]
# Tickets are read by position (the hottest read: every listing). A column added to the table
# must be added here too; this keeps the two from drifting apart silently.
if [c.key for c in schema.tickets.c] != _TICKET_COLUMNS:  # pragma: no cover
    raise RuntimeError("the tickets table's columns changed: update _TICKET_COLUMNS and _ticket")


def _ticket(conv: cattrs.Converter, r: Row[Any]) -> Ticket:
    (
        tenant_id,
        ident,
        number,
        project_id,
        type_id,
        title,
        description,
        fields,
        status,
        status_category,
        priority,
        requester_id,
        assignee_id,
        created_at,
        updated_at,
        public_updated_at,
        version,
        event_seq,
        comment_tally,
    ) = cast(tuple[Any, ...], r)
    return Ticket(
        tenant_id=tenant_id,
        id=ident,
        number=number,
        project_id=project_id,
        type_id=type_id,
        title=title,
        description=description,
        fields=decode_fields(fields),
        status=status,
        status_category=_CATEGORIES[status_category],
        priority=_PRIORITIES[priority],
        requester_id=requester_id,
        assignee_id=assignee_id,
        created_at=created_at,
        updated_at=updated_at,
        public_updated_at=public_updated_at,
        version=version,
        event_seq=event_seq,
        comment_tally=_decode_tally(comment_tally),
    )


def _comment_row(conv: cattrs.Converter, c: Comment) -> RowDict:
    return {
        "tenant_id": c.tenant_id,
        "id": c.id,
        "ticket_id": c.ticket_id,
        "author_id": c.author_id,
        "organisation_id": c.organisation_id,
        "body": c.body,
        "visibility": c.visibility.value,
        "channel": c.channel,
        "created_at": c.created_at,
    }


def _comment(conv: cattrs.Converter, r: Row[Any]) -> Comment:
    return Comment(
        tenant_id=r.tenant_id,
        id=r.id,
        ticket_id=r.ticket_id,
        author_id=r.author_id,
        organisation_id=r.organisation_id,
        body=r.body,
        visibility=Visibility(r.visibility),
        channel=r.channel,
        created_at=r.created_at,
    )


#: Event attributes stored in their own columns; everything else goes to ``data``.
_EVENT_COLUMNS = (
    "tenant_id",
    "id",
    "ticket_id",
    "seq",
    "at",
    "actor_id",
    "organisation_id",
    "visibility",
)


def _event_row(conv: cattrs.Converter, e: Event) -> RowDict:
    return {
        "tenant_id": e.tenant_id,
        "id": e.id,
        "ticket_id": e.ticket_id,
        "seq": e.seq,
        "kind": e.kind,
        "at": e.at,
        "actor_id": e.actor_id,
        "organisation_id": e.organisation_id,
        "visibility": e.visibility.value,
        "data": event_data(conv, e),
    }


def _event(conv: cattrs.Converter, r: Row[Any]) -> Event:
    body = dict(r.data)
    for key in _EVENT_COLUMNS:
        body[key] = getattr(r, key)
    body["kind"] = r.kind
    return event_from_dict(conv, body)


def _notification_row(conv: cattrs.Converter, n: Notification) -> RowDict:
    return {
        "tenant_id": n.tenant_id,
        "id": n.id,
        "event_id": n.event_id,
        "ticket_id": n.ticket_id,
        "recipient_id": n.recipient_id,
        "created_at": n.created_at,
        "status": n.status.value,
        "attempts": n.attempts,
        "last_error": n.last_error,
        "delivered_to": list(n.delivered_to),
        "updated_at": n.updated_at,
    }


def _notification(conv: cattrs.Converter, r: Row[Any]) -> Notification:
    return Notification(
        tenant_id=r.tenant_id,
        id=r.id,
        event_id=r.event_id,
        ticket_id=r.ticket_id,
        recipient_id=r.recipient_id,
        created_at=r.created_at,
        status=DeliveryStatus(r.status),
        attempts=r.attempts,
        last_error=r.last_error,
        delivered_to=tuple(r.delivered_to),
        updated_at=r.updated_at,
    )


def _by_ordinal(table: Table) -> tuple[UnaryExpression[Any], ...]:
    return (table.c.ordinal.asc(),)


ORGANISATIONS = _Mapping(
    "Organisation",
    schema.organisations,
    _organisation_row,
    _organisation,
    _by_ordinal(schema.organisations),
)
PERSONS = _Mapping("Person", schema.persons, _person_row, _person, _by_ordinal(schema.persons))
PROJECTS = _Mapping(
    "Project", schema.projects, _project_row, _project, _by_ordinal(schema.projects)
)
TICKET_TYPES = _Mapping(
    "TicketType",
    schema.ticket_types,
    _ticket_type_row,
    _ticket_type,
    _by_ordinal(schema.ticket_types),
)
TICKETS = _Mapping("Ticket", schema.tickets, _ticket_row, _ticket, (schema.tickets.c.number.asc(),))
COMMENTS = _Mapping(
    "Comment", schema.comments, _comment_row, _comment, _by_ordinal(schema.comments)
)
EVENTS = _Mapping(
    "Event",
    schema.events,
    _event_row,
    _event,
    (schema.events.c.seq.asc(), schema.events.c.ordinal.asc()),
)
NOTIFICATIONS = _Mapping(
    "Notification",
    schema.notifications,
    _notification_row,
    _notification,
    (schema.notifications.c.created_at.asc(), schema.notifications.c.id.asc()),
)

#: Flush order: referenced tables before the tables that refer to them.
_FLUSH_ORDER: tuple[_Mapping[Any], ...] = (
    ORGANISATIONS,
    PERSONS,
    PROJECTS,
    TICKET_TYPES,
    TICKETS,
    COMMENTS,
    EVENTS,
    NOTIFICATIONS,
)

_t = schema.tickets
_c = schema.ticket_counters

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
_INSERT_TENANT = schema.tenants.insert()
_GET_TENANT = select(schema.tenants).where(schema.tenants.c.tenant_id == bindparam("tenant"))


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
    people, projects = schema.persons, schema.projects
    ids = (
        people.c.id == any_(bindparam("idents", type_=ARRAY(schema.Id())))
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
_PROJECT_IDS = select(schema.projects.c.id).where(
    schema.projects.c.tenant_id == bindparam("tenant"),
    schema.projects.c.organisation_id.in_(bindparam("orgs", expanding=True)),
)
_TENANT_IDS = select(schema.tenants.c.tenant_id).order_by(
    schema.tenants.c.created_at, schema.tenants.c.tenant_id
)

_UNIQUE_SQLITE = frozenset({"SQLITE_CONSTRAINT_PRIMARYKEY", "SQLITE_CONSTRAINT_UNIQUE"})
_PG_KEY = re.compile(r"\)=\((?P<values>.*)\) already exists")


def _tenant_row(tenant: Tenant) -> RowDict:
    return {"tenant_id": tenant.id, "name": tenant.name, "created_at": tenant.created_at}


def _supports_pipeline(dialect: Dialect) -> bool:
    """Whether the driver is psycopg with libpq's pipeline mode (libpq 14 and later)."""
    if dialect.driver != "psycopg":
        return False
    pipeline: Any = getattr(dialect.loaded_dbapi, "Pipeline", None)
    return pipeline is not None and bool(pipeline.is_supported())


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
        self.ticket_types = _CommittedTypes()

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

    def __init__(self, uow: SqlUnitOfWork, mapping: _Mapping[T]) -> None:
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


class _CommittedTypes:
    """Committed ticket types by (tenant, id), shared by the storage's units of work.

    Ticket types never change once created (no operation edits one), so a committed one
    can be answered without a query: every operation reads its ticket's type, and reading
    and structuring the row was a query and a tenth of a ticket's cost. Only rows read
    from the database or written by a unit of work that committed enter it.
    """

    _LIMIT = 4096

    def __init__(self) -> None:
        self._types: dict[tuple[UUID, UUID], TicketType] = {}

    def get(self, tenant_id: UUID, ident: UUID) -> TicketType | None:
        return self._types.get((tenant_id, ident))

    def put(self, types: Iterable[TicketType]) -> None:
        for found in types:
            if len(self._types) >= self._LIMIT:
                self._types.clear()
            self._types[(found.tenant_id, found.id)] = found

    def drop(self, tenant_id: UUID, ident: UUID) -> None:
        self._types.pop((tenant_id, ident), None)


class _TicketTypes(_Directory[TicketType]):
    """Ticket types: the unit of work's own first, then committed ones from the storage's
    cache, then the database."""

    def get(self, ident: UUID) -> TicketType | None:
        uow = self._uow
        found: TicketType | None = uow._staged[TICKET_TYPES.kind].find(ident)
        if found is None:
            found = uow._committed_types.get(uow.tenant_id, ident)
            if found is None:
                # Not staged here, so the row is a committed one.
                found = uow._get(TICKET_TYPES, ident)
                if found is not None:
                    uow._committed_types.put([found])
        return found

    def save(self, item: TicketType) -> None:
        self._uow._committed_types.drop(item.tenant_id, item.id)
        super().save(item)


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
        params = _ticket_row(uow._conv, ticket)
        del params["tenant_id"], params["id"]
        params.update(w_tenant=uow.tenant_id, w_id=ticket.id, w_version=expected_version)
        if uow._writer().execute(_UPDATE_TICKET, params).rowcount != 1:
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
        return int(uow._reader().execute(stmt).scalar_one())


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
        return self._uow._select(COMMENTS, where, schema.comments.c.ticket_id == ticket_id)

    def count_by_ticket(self, ticket_ids: Iterable[UUID], where: Predicate) -> dict[UUID, int]:
        ids = list(ticket_ids)
        if not ids:
            return {}
        uow = self._uow
        uow._flush(COMMENTS)
        c = schema.comments
        stmt = (
            select(c.c.ticket_id, func.count())
            .where(uow._where(c, where), c.c.ticket_id.in_(ids))
            .group_by(c.c.ticket_id)
        )
        return {tid: int(n) for tid, n in uow._reader().execute(stmt)}


class _Events(EventRepository):
    """History events: common attributes in columns, the rest of each event as JSON."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def add(self, event: Event) -> None:
        self._uow._stage(EVENTS, event)

    def get(self, ident: UUID) -> Event | None:
        return self._uow._get(EVENTS, ident)

    def for_ticket(self, ticket_id: UUID, where: Predicate) -> list[Event]:
        return self._uow._select(EVENTS, where, schema.events.c.ticket_id == ticket_id)


_n = schema.notifications
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
            conn = uow._writer()
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
        self._engine = storage.engine
        self._conv = storage.converter
        self._connection: Connection | None = None
        sqlite = self._engine.dialect.name == "sqlite"
        self._sqlite_key = id(self._engine) if sqlite else None
        self._single_connection = sqlite and is_in_memory(self._engine)
        self._pipelined = _supports_pipeline(self._engine.dialect)
        self._array_params = self._engine.dialect.name == "postgresql"
        self._writing = False
        self._holding = False
        self._closed = False
        self._staged: dict[str, _Staged[Any]] = {m.kind: _Staged() for m in _FLUSH_ORDER}
        self._project_ids: dict[frozenset[UUID], frozenset[UUID]] = {}
        self._new_tenant: Tenant | None = None
        self._counter: _Counter | None = None
        self.organisations = _Directory[Organisation](self, ORGANISATIONS)
        self.persons = _Directory[Person](self, PERSONS)
        self.projects = _Directory[Project](self, PROJECTS)
        self._committed_types = storage.ticket_types
        self.ticket_types = _TicketTypes(self, TICKET_TYPES)
        self.tickets = _Tickets(self)
        self.comments = _Comments(self)
        self.events = _Events(self)
        self.outbox = _Outbox(self)
        self.access = _Access(self)

    # -- connection and transaction --------------------------------------------------------

    def _reader(self) -> Connection:
        """The connection, in a transaction that may read (opened on first use)."""
        if self._connection is None:
            if self._closed:
                raise RuntimeError("unit of work is closed")
            self._connection = self._begin(write=self._sqlite_key is None and not self.read_only)
        return self._connection

    def _writer(self) -> Connection:
        """The connection, in a transaction that may write.

        On SQLite a unit of work reads in a deferred transaction until it first writes, then
        ends it and takes the write lock with ``BEGIN IMMEDIATE``: reads before the first
        write see committed data as PostgreSQL's READ COMMITTED would, and stale ones are
        caught by the version checks of the writes.
        """
        self._refuse_if_read_only()
        conn = self._reader()
        if self._writing:
            return conn
        self._claim()
        conn.commit()
        conn.execution_options(**{SQLITE_BEGIN: "immediate"})
        conn.begin()
        self._writing = True
        return conn

    def _refuse_if_read_only(self) -> None:
        if self.read_only:
            raise RuntimeError("this unit of work is read-only")

    def _begin(self, *, write: bool) -> Connection:
        if self.read_only and self._sqlite_key is None:
            # Nothing to commit or roll back: each statement runs on its own, which saves
            # the BEGIN and ROLLBACK round trips (and reads like READ COMMITTED does).
            return self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if write or self._single_connection:
            self._claim()
        try:
            conn = self._engine.connect()
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
        held.add(key)
        self._holding = True

    def _release(self) -> None:
        if self._holding and self._sqlite_key is not None:
            _sqlite_holds().discard(self._sqlite_key)
        self._holding = False

    def _end(self, *, commit: bool) -> None:
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

    def _discard_buffers(self) -> None:
        for staged in self._staged.values():
            staged.clear()
        self._project_ids.clear()
        self._new_tenant = None
        self._counter = None

    def commit(self) -> None:
        if self._closed:
            raise RuntimeError("unit of work is closed")
        new_types = list(self._staged[TICKET_TYPES.kind].added.values())
        try:
            if not self._commit_pipelined():
                self._flush_all()
            self._end(commit=True)
        except BaseException:
            self.rollback()
            raise
        self._committed_types.put(new_types)
        self._discard_buffers()

    def rollback(self) -> None:
        try:
            self._end(commit=False)
        finally:
            self._discard_buffers()
            self.new_events.clear()

    def close(self) -> None:
        if not self._closed:
            self.rollback()
            self._closed = True

    def conflict_for(self, exc: BaseException) -> Conflict | None:
        # PostgreSQL chose this transaction as a deadlock victim (or a serializable one
        # failed): the same outcome as a stale version, and as safe to retry.
        if _lost_to_a_concurrent_writer(exc):
            return Conflict("Transaction", self.tenant_id)
        return None

    # -- buffering -------------------------------------------------------------------------

    def _check_tenant(self, item: object) -> None:
        """Every buffered write passes here."""
        self._refuse_if_read_only()
        if getattr(item, "tenant_id", None) != self.tenant_id:
            raise ValueError("tenant_id: does not match the unit of work's tenant")

    def _stage(self, mapping: _Mapping[T], item: T) -> None:
        self._check_tenant(item)
        ident: UUID = item.id  # type: ignore[attr-defined]
        staged: _Staged[T] = self._staged[mapping.kind]
        if staged.find(ident) is not None:
            raise Conflict(mapping.kind, ident)
        staged.added[ident] = item
        if mapping is PROJECTS:
            self._project_ids.clear()

    def _save(self, mapping: _Mapping[T], item: T) -> None:
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

    def _flush(self, mapping: _Mapping[Any]) -> None:
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

    def _rows(self, mapping: _Mapping[Any], items: dict[UUID, Any]) -> list[RowDict]:
        conv = self._conv
        rows = [mapping.to_row(conv, item) for item in items.values()]
        if mapping.ordered:
            first = _ORDINALS.take(len(rows))
            for offset, row in enumerate(rows):
                row["ordinal"] = first + offset
        return rows

    def _copy(self, conn: Connection, mapping: _Mapping[Any], items: dict[UUID, Any]) -> None:
        """Insert ``items`` by PostgreSQL's COPY, raising what an INSERT would have raised.
        The rows are encoded first, so that a bad value fails before anything is sent."""
        bulk = mapping.bulk_insert(conn.dialect)
        sql = bulk.copy_sql
        if sql is None:
            raise RuntimeError(f"{conn.dialect.name} has no COPY")
        rows = bulk.copy_rows(self._rows(mapping, items))
        raw: Any = conn.connection.driver_connection
        try:
            with raw.cursor() as cursor, cursor.copy(sql) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        except conn.dialect.loaded_dbapi.Error as exc:
            self._raise_driver_error(exc, conn, {}, failed=(mapping, sql, None))

    def _insert(self, mapping: _Mapping[Any], items: dict[UUID, Any]) -> None:
        """Write buffered new rows; any failure rolls the whole unit of work back (on
        PostgreSQL a failed statement has aborted the transaction anyway)."""
        conn = self._writer()
        bulk = mapping.bulk_insert(conn.dialect)
        try:
            if bulk.copies(len(items)):
                self._copy(conn, mapping, items)
                return
            rows = self._rows(mapping, items)
            sql, params = bulk.statement(rows)
            changes_before = _sqlite_changes(conn)
            try:
                conn.exec_driver_sql(sql, params)
            except IntegrityError as exc:
                conflict = _conflict(exc, mapping, rows, conn, changes_before)
                if conflict is None:
                    raise
                raise conflict from exc
        except BaseException:
            self.rollback()
            raise

    def _update(self, mapping: _Mapping[Any], items: dict[UUID, Any]) -> None:
        conv = self._conv
        rows = []
        for ident, item in items.items():
            row = mapping.to_row(conv, item)
            del row["tenant_id"], row["id"]
            row.update(w_tenant=self.tenant_id, w_id=ident)
            rows.append(row)
        conn = self._writer()
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
                self._writer().execute(_INSERT_TENANT, _tenant_row(tenant))
            except IntegrityError as exc:
                self.rollback()
                raise Conflict("Tenant", tenant.id) from exc
            self._new_tenant = None
        for mapping in _FLUSH_ORDER:
            self._flush(mapping)
        if self._counter_changed():
            self._write_counter(self._writer())

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
        """Send every buffered write and the COMMIT in one psycopg pipeline: one round trip
        where writing table by table costs one (or more) per table.

        Returns False, having written nothing, on SQLite, without pipeline support or on an
        AUTOCOMMIT engine, when there is nothing to write, and when updates are buffered:
        their row counts must be checked before committing, and a pipeline reports them
        only after its COMMIT ran.
        """
        staged = self._staged
        if (
            not self._pipelined
            or any(staged[m.kind].changed for m in _FLUSH_ORDER)
            or not (
                self._new_tenant is not None
                or self._counter_changed()
                or any(staged[m.kind].added for m in _FLUSH_ORDER)
            )
        ):
            return False
        conn = self._writer()
        raw: Any = conn.connection.driver_connection
        if raw.autocommit:
            return False
        errors = (DBAPIError, conn.dialect.loaded_dbapi.Error)
        # Many rows go first, by COPY (which a pipeline cannot carry): a third of the cost
        # of a pipelined INSERT per row. Foreign keys wait for the COMMIT anyway.
        copied = set()
        for mapping in _FLUSH_ORDER:
            added = staged[mapping.kind].added
            if mapping.bulk_insert(conn.dialect).copies(len(added)):
                self._copy(conn, mapping, added)
                copied.add(mapping.kind)
        inserts: dict[str, tuple[_Mapping[Any], str, Any]] = {}
        failure: Exception | None = None
        try:
            with raw.pipeline():
                try:
                    if self._new_tenant is not None:
                        conn.execute(_INSERT_TENANT, _tenant_row(self._new_tenant))
                    for mapping in _FLUSH_ORDER:
                        added = staged[mapping.kind].added
                        if added and mapping.kind not in copied:
                            bulk = mapping.bulk_insert(conn.dialect)
                            sql, params = bulk.statement(self._rows(mapping, added))
                            inserts[mapping.table.name] = (mapping, sql, params)
                            conn.exec_driver_sql(sql, params)
                    self._write_counter(conn)
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
            self._raise_driver_error(failure, conn, inserts)
        self._new_tenant = None
        for mapping in _FLUSH_ORDER:
            found = staged[mapping.kind]
            found.known.update(found.added)
            found.added.clear()
        return True

    def _raise_driver_error(
        self,
        exc: Exception,
        conn: Connection,
        inserts: dict[str, tuple[_Mapping[Any], str, Any]],
        *,
        failed: tuple[_Mapping[Any], str, Any] | None = None,
    ) -> NoReturn:
        """Raise what the statement-by-statement flush would have raised for ``exc`` (from a
        pipeline, or from the statement ``failed``, a COPY): a ``Conflict`` for a duplicate
        key or tenant, otherwise SQLAlchemy's error.

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
                hide_parameters=self._engine.hide_parameters,
                dialect=conn.dialect,
                ismulti=isinstance(params, list),
            )
        if isinstance(error, IntegrityError):
            if orig.diag.table_name == schema.tenants.name and self._new_tenant is not None:
                raise Conflict("Tenant", self._new_tenant.id) from error
            conflict = _conflict(error, mapping, [], conn, None) if mapping else None
            if conflict is not None:
                raise conflict from error
        if error is exc:
            raise exc
        raise error from orig

    # -- reading ---------------------------------------------------------------------------

    def _where(self, table: Table, where: Predicate) -> ColumnElement[bool]:
        return and_(table.c.tenant_id == self.tenant_id, compile_predicate(where, table))

    def _get(self, mapping: _Mapping[T], ident: UUID) -> T | None:
        staged: _Staged[T] = self._staged[mapping.kind]
        found = staged.find(ident)
        if found is not None:
            return found
        params = {"tenant": self.tenant_id, "ident": ident}
        row = self._reader().execute(mapping.by_id, params).first()
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
        rows = self._reader().execute(stmt, params).all()
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
        mapping: _Mapping[T],
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
        return [from_row(conv, row) for row in self._reader().execute(stmt).all()]

    # -- tenant, numbers, directory --------------------------------------------------------

    def get_tenant(self) -> Tenant | None:
        if self._new_tenant is not None:
            return self._new_tenant
        row = self._reader().execute(_GET_TENANT, {"tenant": self.tenant_id}).first()
        if row is None:
            return None
        return Tenant(id=row.tenant_id, name=row.name, created_at=row.created_at)

    def add_tenant(self, tenant: Tenant) -> None:
        self._refuse_if_read_only()
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
        conn = self._writer()
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
        found = frozenset(self._reader().execute(_PROJECT_IDS, params).scalars())
        self._project_ids[orgs] = found
        return found


_THREAD = threading.local()


def _sqlite_holds() -> set[int]:
    """The SQLite engines (by id) that a unit of work of this thread holds exclusively."""
    held: set[int] | None = getattr(_THREAD, "sqlite_engines", None)
    if held is None:
        held = _THREAD.sqlite_engines = set()
    return held


def _sqlite_changes(conn: Connection) -> int | None:
    if conn.dialect.name != "sqlite":
        return None
    raw: Any = conn.connection.driver_connection
    return int(raw.total_changes)


#: SQLSTATEs of a transaction PostgreSQL rolled back because of a concurrent one:
#: serialization_failure and deadlock_detected.
_LOST_RACE = frozenset({"40001", "40P01"})


def _lost_to_a_concurrent_writer(exc: BaseException) -> bool:
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    return getattr(orig, "sqlstate", None) in _LOST_RACE


def _conflict(
    exc: IntegrityError,
    mapping: _Mapping[Any],
    rows: list[RowDict],
    conn: Connection,
    changes_before: int | None,
) -> Conflict | None:
    """The ``Conflict`` a duplicate key stands for, naming the clashing row; None otherwise."""
    orig: Any = exc.orig
    if getattr(orig, "sqlstate", None) == "23505":
        number_clash = getattr(orig.diag, "constraint_name", None) == "uq_tickets_tenant_id_number"
        found = _PG_KEY.search(getattr(orig.diag, "message_detail", None) or "")
        last = found.group("values").split(", ")[-1] if found else None
        if number_clash:
            return Conflict("TicketNumber", int(last) if last is not None else None)
        return Conflict(mapping.kind, UUID(last) if last is not None else None)
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


__all__ = ["SqlStorage", "SqlUnitOfWork"]
