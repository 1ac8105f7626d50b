"""The SQL repositories of the directory: organisations, persons, projects, ticket types
and memberships, on the unit of work's generic paths (``Directory``), and the grants of
projects, decided by a compare-and-set. Ticket types committed once are answered from the
storage's cache (``CommittedTypes``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeVar
from uuid import UUID

from sqlalchemy import bindparam, func, select

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.adapters.sqlalchemy.mapping import (
    GRANTS,
    MEMBERSHIPS,
    PROJECTS,
    TICKET_TYPES,
    TableMapping,
)
from ticketkit.domain.grants import Grant, GrantState
from ticketkit.domain.memberships import Membership
from ticketkit.domain.model import Project, TicketType
from ticketkit.errors import Conflict
from ticketkit.policy.predicates import Predicate
from ticketkit.ports.repositories import (
    GrantRepository,
    MembershipRepository,
    ProjectRepository,
    Repository,
)

if TYPE_CHECKING:
    from ticketkit.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork

T = TypeVar("T")


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


_p = tables.projects
_LAST_PROJECT_NUMBER = select(func.coalesce(func.max(_p.c.number), 0)).where(
    _p.c.tenant_id == bindparam("tenant")
)


class Projects(Directory[Project], ProjectRepository):
    """Projects, numbered per tenant: the next number is one more than the highest written
    (the unit of work's own projects flushed first); the unique ``(tenant_id, number)``
    turns a number two transactions took at once into ``Conflict`` for the later one."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        super().__init__(uow, PROJECTS)

    def next_number(self) -> int:
        uow = self._uow
        uow._flush(PROJECTS)
        found = uow._connector.writer().execute(_LAST_PROJECT_NUMBER, {"tenant": uow.tenant_id})
        return int(found.scalar_one()) + 1


_g = tables.grants
_DECIDE = (
    _g.update()
    .where(
        _g.c.tenant_id == bindparam("w_tenant"),
        _g.c.id == bindparam("w_id"),
        _g.c.state == bindparam("w_expected"),
    )
    .values(
        state=bindparam("state"),
        decided_by=bindparam("decided_by"),
        decided_at=bindparam("decided_at"),
    )
)


class Grants(Directory[Grant], GrantRepository):
    """Grants: a decision is one conditional ``UPDATE`` (a compare-and-set on the state), so
    PostgreSQL's second writer waits for the first and then matches no row, and SQLite has
    one writer at a time."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        super().__init__(uow, GRANTS)

    def decide(self, grant: Grant, *, expected: GrantState) -> None:
        uow = self._uow
        uow._check_tenant(grant)
        uow._flush(GRANTS)  # the grant may be new in this unit of work
        params = {
            "w_tenant": uow.tenant_id,
            "w_id": grant.id,
            "w_expected": expected.value,
            "state": grant.state.value,
            "decided_by": grant.decided_by,
            "decided_at": grant.decided_at,
        }
        if uow._connector.writer().execute(_DECIDE, params).rowcount != 1:
            raise Conflict("Grant", grant.id)
        uow._staged[GRANTS.kind].known[grant.id] = grant
        uow._access.grants.clear()


class Memberships(Directory[Membership], MembershipRepository):
    """Memberships; a partial unique index keeps one in force per person and organisation
    (two units of work adding the same: the later one to commit gets ``Conflict``)."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        super().__init__(uow, MEMBERSHIPS)


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


__all__ = [
    "CommittedTypes",
    "Directory",
    "Grants",
    "Memberships",
    "Projects",
    "TicketTypes",
]
