"""The SQL repositories of agent groups and ticket followers: written at once (they change
rarely), read once per unit of work (every ticket opened or changed asks for them).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import (
    Row,
    and_,
    bindparam,
    delete,
    insert,
    select,
)

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.adapters.sqlalchemy.mapping import (
    _ORDINALS,
)
from ticketkit.domain.model import Group
from ticketkit.errors import Conflict
from ticketkit.policy.predicates import Predicate
from ticketkit.ports.repositories import (
    FollowerRepository,
    GroupRepository,
)

if TYPE_CHECKING:
    from ticketkit.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork


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
        row = {
            "tenant_id": item.tenant_id,
            "id": item.id,
            "name": item.name,
            "organisation_id": item.organisation_id,
        }
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
                organisation_id=r.organisation_id,
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


__all__ = ["Followers", "Groups"]
