"""The SQL repositories: each port of a unit of work, answered through its identity map,
its buffers and its connection.

``Access`` is the ``AccessReader``: the people and facts the policy reads to resolve what
someone may see, loaded together in one round trip where the database can answer.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

import attrs
from sqlalchemy import (
    Row,
    Select,
    UnaryExpression,
    and_,
    any_,
    bindparam,
    delete,
    func,
    insert,
    select,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.sql.base import ReadOnlyColumnCollection

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.adapters.sqlalchemy.compile import column
from ticketkit.adapters.sqlalchemy.mapping import (
    _ORDINALS,
    COMMENTS,
    EVENTS,
    NOTIFICATIONS,
    PERSONS,
    PROJECTS,
    TICKET_TYPES,
    TICKETS,
    TableMapping,
)
from ticketkit.adapters.sqlalchemy.types import Id
from ticketkit.domain.events import Event
from ticketkit.domain.model import Comment, Group, Person, Ticket, TicketType
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.errors import Conflict
from ticketkit.policy.predicates import And, Eq, In, Predicate, all_of
from ticketkit.ports.repositories import (
    AccessReader,
    CommentRepository,
    EventRepository,
    FollowerRepository,
    GroupRepository,
    NotificationOutbox,
    OrderBy,
    Repository,
    TicketRepository,
)

if TYPE_CHECKING:
    from ticketkit.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork, Staged

T = TypeVar("T")

_t = tables.tickets
_UPDATE_TICKET = _t.update().where(
    _t.c.tenant_id == bindparam("w_tenant"),
    _t.c.id == bindparam("w_id"),
    _t.c.version == bindparam("w_version"),
)


class Directory(Repository[T]):
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


class CommittedTypes:
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


class TicketTypes(Directory[TicketType]):
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


_g, _gm, _gp, _tf = (
    tables.groups,
    tables.group_members,
    tables.group_projects,
    tables.ticket_followers,
)


#: Statements read on every ticket opened or changed, built once (building one costs more
#: than SQLite takes to run it).
_FOLLOWERS_OF = (
    select(_tf.c.person_id)
    .where(_tf.c.tenant_id == bindparam("tenant"), _tf.c.ticket_id == bindparam("ticket"))
    .order_by(_tf.c.ordinal)
)
_GROUPS_SERVING = (
    select(_g)
    .where(
        _g.c.tenant_id == bindparam("tenant"),
        _g.c.id.in_(
            select(_gp.c.group_id).where(
                _gp.c.tenant_id == bindparam("tenant"), _gp.c.project_id == bindparam("project")
            )
        ),
    )
    .order_by(_g.c.ordinal)
)


class Groups(GroupRepository):
    """Agent groups: a row each, members and served projects as rows of their own. Written
    at once (a group changes rarely), so reads need no flush of buffered rows."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow
        #: The groups serving each project, as read in this unit of work (a batch opening
        #: many tickets reads them once per project); any group written here clears it.
        self._serving: dict[UUID, builtins.list[Group]] = {}

    def forget(self) -> None:
        """Drop what this unit of work remembers (it committed or rolled back)."""
        self._serving.clear()

    def add(self, item: Group) -> None:
        uow = self._uow
        uow._check_tenant(item)
        self._serving.clear()
        if self.get(item.id) is not None:
            raise Conflict("Group", item.id)
        conn = uow._connector.writer()
        row = {"tenant_id": item.tenant_id, "id": item.id, "name": item.name}
        conn.execute(
            insert(_g), {**row, "created_at": item.created_at, "ordinal": _ORDINALS.take(1)}
        )
        self._write_links(item)

    def save(self, item: Group) -> None:
        uow = self._uow
        uow._check_tenant(item)
        self._serving.clear()
        conn = uow._connector.writer()
        where = and_(_g.c.tenant_id == item.tenant_id, _g.c.id == item.id)
        if conn.execute(_g.update().where(where).values(name=item.name)).rowcount != 1:
            raise Conflict("Group", item.id)
        for table in (_gm, _gp):
            conn.execute(
                delete(table).where(
                    table.c.tenant_id == item.tenant_id, table.c.group_id == item.id
                )
            )
        self._write_links(item)

    def _write_links(self, item: Group) -> None:
        conn = self._uow._connector.writer()
        key = {"tenant_id": item.tenant_id, "group_id": item.id}
        if item.member_ids:
            conn.execute(insert(_gm), [{**key, "person_id": p} for p in sorted(item.member_ids)])
        if item.project_ids:
            conn.execute(insert(_gp), [{**key, "project_id": p} for p in sorted(item.project_ids)])

    def get(self, ident: UUID) -> Group | None:
        found = self._load(_g.c.id == ident)
        return found[0] if found else None

    def list(self, where: Predicate) -> list[Group]:
        return self._load(self._uow._where(_g, where))

    def serving(self, project_id: UUID) -> builtins.list[Group]:
        found = self._serving.get(project_id)
        if found is None:
            uow = self._uow
            rows = (
                uow._connector.reader()
                .execute(_GROUPS_SERVING, {"tenant": uow.tenant_id, "project": project_id})
                .all()
            )
            found = self._serving[project_id] = sorted(
                self._linked(rows), key=lambda g: (g.created_at, g.id)
            )
        return list(found)

    def _load(self, *where: Any) -> builtins.list[Group]:
        """The groups matching ``where`` with their members and projects: three reads."""
        uow = self._uow
        conn = uow._connector.reader()
        rows = conn.execute(
            select(_g).where(_g.c.tenant_id == uow.tenant_id, *where).order_by(_g.c.ordinal)
        ).all()
        return self._linked(rows)

    def _linked(self, rows: Sequence[Row[Any]]) -> builtins.list[Group]:
        """The groups of ``rows`` with their members and projects (two more reads)."""
        if not rows:
            return []
        uow = self._uow
        conn = uow._connector.reader()
        ids = [r.id for r in rows]
        links: dict[str, dict[UUID, set[UUID]]] = {}
        for table, col in ((_gm, "person_id"), (_gp, "project_id")):
            by_group: dict[UUID, set[UUID]] = {}
            stmt = select(table.c.group_id, table.c[col]).where(
                table.c.tenant_id == uow.tenant_id, table.c.group_id.in_(ids)
            )
            for group_id, other in conn.execute(stmt).all():
                by_group.setdefault(group_id, set()).add(other)
            links[col] = by_group
        return [
            Group(
                tenant_id=r.tenant_id,
                id=r.id,
                name=r.name,
                member_ids=frozenset(links["person_id"].get(r.id, ())),
                project_ids=frozenset(links["project_id"].get(r.id, ())),
                created_at=r.created_at,
            )
            for r in rows
        ]


class Followers(FollowerRepository):
    """Ticket followers, written at once (with the ticket's own update in the same
    transaction)."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow
        #: Followers per ticket as this unit of work knows them: read once, kept up to date
        #: by its own adds and removes, and none for a ticket it opened (an operation
        #: records who hears of it on every change, so this saves a read per change).
        self._known: dict[UUID, builtins.list[UUID]] = {}

    def forget(self) -> None:
        """Drop what this unit of work remembers (it committed or rolled back)."""
        self._known.clear()

    def opened(self, ticket_id: UUID) -> None:
        """``ticket_id`` is new in this unit of work: nobody follows it yet."""
        self._known[ticket_id] = []

    def of(self, ticket_id: UUID) -> list[UUID]:
        found = self._known.get(ticket_id)
        if found is None:
            uow = self._uow
            params = {"tenant": uow.tenant_id, "ticket": ticket_id}
            found = self._known[ticket_id] = list(
                uow._connector.reader().execute(_FOLLOWERS_OF, params).scalars()
            )
        return list(found)

    def add(self, ticket_id: UUID, person_id: UUID, *, at: datetime) -> None:
        uow = self._uow
        uow._check_tenant(uow)
        if person_id in self.of(ticket_id):
            raise Conflict("Follower", person_id)
        row = {
            "tenant_id": uow.tenant_id,
            "ticket_id": ticket_id,
            "person_id": person_id,
            "created_at": at,
            "ordinal": _ORDINALS.take(1),
        }
        uow._connector.writer().execute(insert(_tf), row)
        self._known.setdefault(ticket_id, []).append(person_id)

    def remove(self, ticket_id: UUID, person_id: UUID) -> None:
        uow = self._uow
        uow._check_tenant(uow)
        stmt = delete(_tf).where(
            _tf.c.tenant_id == uow.tenant_id,
            _tf.c.ticket_id == ticket_id,
            _tf.c.person_id == person_id,
        )
        if uow._connector.writer().execute(stmt).rowcount != 1:
            raise Conflict("Follower", person_id)
        if ticket_id in self._known:
            self._known[ticket_id] = [p for p in self._known[ticket_id] if p != person_id]


class Tickets(TicketRepository):
    """Tickets: buffered adds, updates checked against the stored version at once."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def next_number(self, project_id: UUID) -> int:
        return self._uow._next_number(project_id)

    def add(self, ticket: Ticket) -> None:
        self._uow._stage(TICKETS, ticket)
        self._uow._followers.opened(ticket.id)

    def get(self, ident: UUID, *, for_update: bool = False) -> Ticket | None:
        uow = self._uow
        found = uow._get_for_update(ident) if for_update else uow._get(TICKETS, ident)
        return found.copy() if found is not None else None

    def update(self, ticket: Ticket, *, expected_version: int) -> None:
        uow = self._uow
        uow._check_tenant(ticket)
        staged: Staged[Ticket] = uow._staged[TICKETS.kind]
        buffered = staged.added.get(ticket.id)
        if buffered is not None:
            if buffered.version != expected_version:
                raise Conflict("Ticket", ticket.id, expected_version)
            staged.added[ticket.id] = ticket
            return
        params = TICKETS.to_row(uow._conv, ticket)
        del params["tenant_id"], params["id"]
        params.update(w_tenant=uow.tenant_id, w_id=ticket.id, w_version=expected_version)
        if uow._connector.writer().execute(_UPDATE_TICKET, params).rowcount != 1:
            raise Conflict("Ticket", ticket.id, expected_version)
        staged.known[ticket.id] = ticket

    def query(self, where: Predicate, order: Sequence[OrderBy], limit: int) -> list[Ticket]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        uow = self._uow
        split = _split(where) if order else None
        if split is None:
            return uow._select(TICKETS, where, order=_ticket_order(order), limit=limit)
        # One index range per value, read in its index's order; the page is the first
        # ``limit`` rows of them all. SQLite merges the ranges (MERGE (UNION ALL)) and stops
        # at the limit. PostgreSQL plans no merge for a UNION ALL: there each range is cut
        # at ``limit`` first, and only those few rows are sorted.
        rest, attr, values = split
        uow._flush(TICKETS)
        cut = uow._connector.engine.dialect.name == "postgresql"
        arms: list[Select[Any]] = []
        for value in sorted(values, key=str):
            arm = select(_t).where(uow._where(_t, all_of(rest, Eq(attr, value))))
            if cut:
                arm = select(arm.order_by(*_ticket_order(order)).limit(limit).subquery())
            arms.append(arm)
        merged = union_all(*arms).subquery()
        stmt = select(merged).order_by(*_ticket_order(order, merged.c)).limit(limit)
        conv = uow._conv
        rows = uow._connector.reader().execute(stmt).all()
        return [TICKETS.from_row(conv, row) for row in rows]

    def count(self, where: Predicate) -> int:
        uow = self._uow
        uow._flush(TICKETS)
        stmt = select(func.count()).select_from(_t).where(uow._where(_t, where))
        return int(uow._connector.reader().execute(stmt).scalar_one())


#: Columns whose "one of several values" filter a ticket list splits into one index range
#: per value (a customer's projects, the unsolved categories, a few statuses or assignees):
#: no index yields the rows of several values in one sort order, so the database would
#: otherwise read and sort every matching ticket to find the first page.
_SPLIT_COLUMNS = ("project_id", "status_category", "status", "assignee_id")
#: More values than this are read as one range and sorted.
_MAX_SPLIT = 32


def _split(where: Predicate) -> tuple[Predicate, str, frozenset[object]] | None:
    """The first ``In`` of ``_SPLIT_COLUMNS`` among the conjuncts of ``where``, and the
    rest of ``where``; None when there is none to split."""
    parts = where.parts if isinstance(where, And) else (where,)
    for attr in _SPLIT_COLUMNS:
        for i, part in enumerate(parts):
            if isinstance(part, In) and part.attr == attr and len(part.values) <= _MAX_SPLIT:
                return all_of(*parts[:i], *parts[i + 1 :]), attr, part.values
    return None


def _ticket_order(
    order: Sequence[OrderBy], source: ReadOnlyColumnCollection[str, Any] = _t.c
) -> list[UnaryExpression[Any]]:
    """ORDER BY for ``order`` over ``source`` (the tickets' columns, or a union's), ties
    broken by id (as every list index ends).

    NULLs sort as if greater than every value, the same way on SQLite and PostgreSQL.
    """
    clauses: list[UnaryExpression[Any]] = []
    for o in order:
        column(_t, o.attr)  # refuses names the tickets cannot be sorted by
        col = source[o.attr]
        clause = col.desc() if o.descending else col.asc()
        if col.nullable:
            clause = clause.nulls_first() if o.descending else clause.nulls_last()
        clauses.append(clause)
        if o.attr == "id":
            return clauses
    clauses.append(source["id"].asc())
    return clauses


class Comments(CommentRepository):
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


class Events(EventRepository):
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


class Outbox(NotificationOutbox):
    """The notification outbox; delivery outcomes are buffered like adds."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def add(self, notification: Notification) -> None:
        self._uow._stage(NOTIFICATIONS, notification)

    def get(self, ident: UUID) -> Notification | None:
        return self._uow._get(NOTIFICATIONS, ident)

    def claim(self, where: Predicate, limit: int, *, at: datetime) -> list[Notification]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        uow = self._uow
        uow._flush(NOTIFICATIONS)
        # SQLite: the write lock first, so claims take turns. PostgreSQL: the rows stay
        # locked until commit, and a concurrent claim skips them.
        conn = uow._connector.writer()
        stmt = (
            select(_n)
            .where(uow._where(_n, where))
            .order_by(*NOTIFICATIONS.order)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = [
            attrs.evolve(
                NOTIFICATIONS.from_row(uow._conv, row),
                status=DeliveryStatus.PENDING,
                updated_at=at,
            )
            for row in conn.execute(stmt).all()
        ]
        for note in claimed:
            uow._save(NOTIFICATIONS, note)
        return claimed

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


class Access(AccessReader):
    """People loaded with their organisations' projects in one round trip, and the project
    ids of organisations, kept for the unit of work's transaction."""

    def __init__(self, uow: SqlUnitOfWork, *, array_params: bool) -> None:
        self._uow = uow
        #: On PostgreSQL the ids go as one array parameter (see ``_persons_with_projects``).
        self._array_params = array_params
        #: Project ids by organisations; the unit of work clears it whenever projects change.
        self.project_ids: dict[frozenset[UUID], frozenset[UUID]] = {}

    def people(self, idents: Iterable[UUID]) -> dict[UUID, Person]:
        uow = self._uow
        staged: Staged[Person] = uow._staged[PERSONS.kind]
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
            person = uow._get(PERSONS, ident)
            if person is not None:
                found[ident] = person
        return found

    def _projects_settled(self) -> bool:
        """Whether the database holds this unit of work's projects as it sees them: only
        then may people be loaded with their organisations' projects (which feed the
        policy's project ids; a project added or moved here but not yet written must not
        be answered from the database)."""
        staged = self._uow._staged[PROJECTS.kind]
        return not staged.added and not staged.changed

    def _load_persons(self, idents: list[UUID]) -> dict[UUID, Person]:
        """Load people together with their organisations' projects, which the policy asks
        for next whenever it resolves a customer's access and an operation reads next (the
        project a ticket is opened in): one round trip for all of them."""
        uow = self._uow
        params = {"tenant": uow.tenant_id, "idents": idents}
        stmt = _PERSONS_WITH_PROJECTS_ANY if self._array_params else _PERSONS_WITH_PROJECTS
        rows = uow._connector.reader().execute(stmt, params).all()
        people = uow._staged[PERSONS.kind].known
        projects = uow._staged[PROJECTS.kind].known
        by_org: dict[UUID, set[UUID]] = {}
        found: dict[UUID, Person] = {}
        for row in rows:
            person = found.get(row.id)
            if person is None:
                person = found[row.id] = people[row.id] = PERSONS.from_row(uow._conv, row)
            ids = by_org.setdefault(person.organisation_id, set())
            if row.project_id is not None:
                ids.add(row.project_id)
                if row.project_id not in projects:
                    # _project reads its row by attribute name, which _Prefixed provides.
                    joined = cast(Row[Any], _Prefixed(row, "project_"))
                    projects[row.project_id] = PROJECTS.from_row(uow._conv, joined)
        for org, ids in by_org.items():
            self.project_ids.setdefault(frozenset({org}), frozenset(ids))
        return found

    def project_ids_of(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]:
        orgs = frozenset(organisation_ids)
        if not orgs:
            return frozenset()
        cached = self.project_ids.get(orgs)
        if cached is not None:
            return cached
        uow = self._uow
        uow._flush(PROJECTS)
        params = {"tenant": uow.tenant_id, "orgs": list(orgs)}
        found = frozenset(uow._connector.reader().execute(_PROJECT_IDS, params).scalars())
        self.project_ids[orgs] = found
        return found


__all__ = [
    "Access",
    "Comments",
    "CommittedTypes",
    "Directory",
    "Events",
    "Followers",
    "Groups",
    "Outbox",
    "TicketTypes",
    "Tickets",
]
