"""The in-memory storage adapter: real semantics (isolation, versions, gap-free numbers),
no persistence. Fast enough for unit tests of every business rule."""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import attrs

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
from ticketkit.policy.predicates import Predicate, evaluate
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

T = TypeVar("T")


@attrs.define
class _TenantData:
    tenant: Tenant | None = None
    organisations: dict[UUID, Organisation] = attrs.Factory(dict)
    persons: dict[UUID, Person] = attrs.Factory(dict)
    projects: dict[UUID, Project] = attrs.Factory(dict)
    ticket_types: dict[UUID, TicketType] = attrs.Factory(dict)
    tickets: dict[UUID, Ticket] = attrs.Factory(dict)
    comments: dict[UUID, Comment] = attrs.Factory(dict)
    comments_by_ticket: dict[UUID, list[UUID]] = attrs.Factory(dict)
    events: dict[UUID, Event] = attrs.Factory(dict)
    events_by_ticket: dict[UUID, list[UUID]] = attrs.Factory(dict)
    outbox: dict[UUID, Notification] = attrs.Factory(dict)
    last_number: int = 0


class MemoryStorage(Storage):
    """All tenants' data in dictionaries, guarded by one lock at commit."""

    def __init__(self) -> None:
        self._data: dict[UUID, _TenantData] = {}
        self._lock = threading.RLock()

    def unit_of_work(self, tenant_id: UUID, *, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, tenant_id, read_only=read_only)

    def tenant_ids(self) -> list[UUID]:
        with self._lock:
            return [k for k, v in self._data.items() if v.tenant is not None]

    def _tenant(self, tenant_id: UUID) -> _TenantData:
        with self._lock:
            return self._data.setdefault(tenant_id, _TenantData())


class _Staged(Generic[T]):
    """Committed items overlaid with this unit of work's own additions."""

    def __init__(self, committed: Callable[[], dict[UUID, T]]) -> None:
        self._committed = committed
        self.added: dict[UUID, T] = {}

    def get(self, ident: UUID) -> T | None:
        if ident in self.added:
            return self.added[ident]
        return self._committed().get(ident)

    def values(self) -> Iterable[T]:
        """Every item as this unit of work sees it: a saved item replaces its committed one."""
        added = self.added
        yield from (item for ident, item in self._committed().items() if ident not in added)
        yield from added.values()


class _DirectoryRepo(Repository[T]):
    def __init__(self, uow: MemoryUnitOfWork, attr: str) -> None:
        self._uow = uow
        self._staged: _Staged[T] = _Staged(lambda: getattr(uow._data, attr))

    def add(self, item: T) -> None:
        self._uow._check_tenant(item)
        ident: UUID = item.id  # type: ignore[attr-defined]
        if self._staged.get(ident) is not None:
            raise Conflict(type(item).__name__, ident)
        self._staged.added[ident] = item

    def get(self, ident: UUID) -> T | None:
        return self._staged.get(ident)

    def save(self, item: T) -> None:
        self._uow._check_tenant(item)
        ident: UUID = item.id  # type: ignore[attr-defined]
        if self._staged.get(ident) is None:
            raise Conflict(type(item).__name__, ident)
        self._staged.added[ident] = item

    def list(self, where: Predicate) -> list[T]:
        return [i for i in self._staged.values() if evaluate(where, i)]


def _sort_key(order: Sequence[OrderBy]) -> Callable[[Ticket], Any]:
    def key(t: Ticket) -> tuple[Any, ...]:
        return tuple(
            _Desc(getattr(t, o.attr)) if o.descending else getattr(t, o.attr) for o in order
        )

    return key


@attrs.frozen
class _Desc:
    value: Any

    def __lt__(self, other: _Desc) -> bool:
        return bool(self.value > other.value)


class _Tickets(TicketRepository):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self.added: dict[UUID, Ticket] = {}
        self.updated: dict[UUID, tuple[Ticket, int]] = {}
        self.numbers_taken = 0

    def next_number(self) -> int:
        if self._uow.read_only:
            raise RuntimeError("this unit of work is read-only")
        self.numbers_taken += 1
        return self._uow._data.last_number + self.numbers_taken

    def add(self, ticket: Ticket) -> None:
        self._uow._check_tenant(ticket)
        if ticket.id in self.added or ticket.id in self._uow._data.tickets:
            raise Conflict("Ticket", ticket.id)
        self.added[ticket.id] = ticket.copy()

    def _current(self, ident: UUID) -> Ticket | None:
        if ident in self.added:
            return self.added[ident]
        if ident in self.updated:
            return self.updated[ident][0]
        return self._uow._data.tickets.get(ident)

    def get(self, ident: UUID) -> Ticket | None:
        found = self._current(ident)
        return found.copy() if found is not None else None

    def update(self, ticket: Ticket, *, expected_version: int) -> None:
        self._uow._check_tenant(ticket)
        current = self._current(ticket.id)
        if current is None or current.version != expected_version:
            raise Conflict("Ticket", ticket.id, expected_version)
        if ticket.id in self.added:
            self.added[ticket.id] = ticket.copy()
            return
        base = self.updated[ticket.id][1] if ticket.id in self.updated else expected_version
        self.updated[ticket.id] = (ticket.copy(), base)

    def _all(self) -> Iterable[Ticket]:
        for ident, t in self._uow._data.tickets.items():
            yield self.updated[ident][0] if ident in self.updated else t
        yield from self.added.values()

    def query(self, where: Predicate, order: Sequence[OrderBy], limit: int) -> list[Ticket]:
        found = [t for t in self._all() if evaluate(where, t)]
        found.sort(key=_sort_key(order))
        return [t.copy() for t in found[:limit]]

    def count(self, where: Predicate) -> int:
        return sum(1 for t in self._all() if evaluate(where, t))


class _Comments(CommentRepository):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self.added: dict[UUID, Comment] = {}

    def add(self, comment: Comment) -> None:
        self._uow._check_tenant(comment)
        self.added[comment.id] = comment

    def get(self, ident: UUID) -> Comment | None:
        return self.added.get(ident) or self._uow._data.comments.get(ident)

    def _of(self, ticket_id: UUID) -> list[Comment]:
        data = self._uow._data
        found = [data.comments[i] for i in data.comments_by_ticket.get(ticket_id, ())]
        found.extend(c for c in self.added.values() if c.ticket_id == ticket_id)
        return found

    def for_ticket(self, ticket_id: UUID, where: Predicate) -> list[Comment]:
        return [c for c in self._of(ticket_id) if evaluate(where, c)]

    def count_by_ticket(self, ticket_ids: Iterable[UUID], where: Predicate) -> dict[UUID, int]:
        out: dict[UUID, int] = {}
        for tid in ticket_ids:
            n = sum(1 for c in self._of(tid) if evaluate(where, c))
            if n:
                out[tid] = n
        return out


class _Events(EventRepository):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self.added: dict[UUID, Event] = {}

    def add(self, event: Event) -> None:
        self._uow._check_tenant(event)
        self.added[event.id] = event

    def get(self, ident: UUID) -> Event | None:
        return self.added.get(ident) or self._uow._data.events.get(ident)

    def for_ticket(self, ticket_id: UUID, where: Predicate) -> list[Event]:
        data = self._uow._data
        found = [data.events[i] for i in data.events_by_ticket.get(ticket_id, ())]
        found.extend(e for e in self.added.values() if e.ticket_id == ticket_id)
        return sorted((e for e in found if evaluate(where, e)), key=lambda e: e.seq)


class _Outbox(NotificationOutbox):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self.changed: dict[UUID, Notification] = {}
        #: Acknowledgements of stored rows, applied at commit only if the row is still
        #: pending then (as the SQL adapter's conditional UPDATE does).
        self.acked: dict[UUID, tuple[tuple[str, ...], datetime]] = {}

    def add(self, notification: Notification) -> None:
        self._uow._check_tenant(notification)
        self.changed[notification.id] = notification

    def _view(self, ident: UUID, stored: Notification) -> Notification:
        ack = self.acked.get(ident)
        if ack is not None and stored.status is DeliveryStatus.PENDING:
            return stored.delivered(*ack)
        return stored

    def get(self, ident: UUID) -> Notification | None:
        found = self.changed.get(ident)
        if found is not None:
            return found
        stored = self._uow._data.outbox.get(ident)
        return None if stored is None else self._view(ident, stored)

    def list(self, where: Predicate, limit: int) -> list[Notification]:
        merged = {i: self._view(i, n) for i, n in self._uow._data.outbox.items()}
        merged.update(self.changed)
        found = [n for n in merged.values() if evaluate(where, n)]
        found.sort(key=lambda n: (n.created_at, n.id))
        return found[:limit]

    def save(self, notification: Notification) -> None:
        if self.get(notification.id) is None:
            raise Conflict("Notification", notification.id)
        self._uow._check_tenant(notification)
        self.changed[notification.id] = notification
        self.acked.pop(notification.id, None)

    def acknowledge(
        self, ids: Collection[UUID], *, delivered_to: tuple[str, ...], at: datetime
    ) -> int:
        if self._uow.read_only:
            raise RuntimeError("this unit of work is read-only")
        done = 0
        for ident in ids:
            note = self.changed.get(ident)
            if note is not None:
                if note.status is DeliveryStatus.PENDING:
                    self.changed[ident] = note.delivered(delivered_to, at)
                    done += 1
                continue
            stored = self._uow._data.outbox.get(ident)
            if stored is not None and self._view(ident, stored).status is DeliveryStatus.PENDING:
                self.acked[ident] = (delivered_to, at)
                done += 1
        return done

    def apply(self, outbox: dict[UUID, Notification]) -> None:
        """Write this unit of work's outbox changes into ``outbox`` (under the store lock)."""
        for ident, (delivered_to, at) in self.acked.items():
            stored = outbox.get(ident)
            if stored is not None and stored.status is DeliveryStatus.PENDING:
                outbox[ident] = stored.delivered(delivered_to, at)
        outbox.update(self.changed)


class _Access(AccessReader):
    """People and the projects of their organisations, from this unit of work's view."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def people(self, idents: Iterable[UUID]) -> dict[UUID, Person]:
        return self._uow.persons.get_many(idents)

    def project_ids_of(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]:
        orgs = set(organisation_ids)
        return frozenset(
            p.id
            for p in self._uow.projects._staged.values()  # type: ignore[attr-defined]
            if p.organisation_id in orgs
        )


class MemoryUnitOfWork(UnitOfWork):
    def __init__(self, storage: MemoryStorage, tenant_id: UUID, *, read_only: bool) -> None:
        super().__init__()
        self.tenant_id = tenant_id
        self.read_only = read_only
        self._storage = storage
        self._data = storage._tenant(tenant_id)
        self._new_tenant: Tenant | None = None
        self._closed = False
        self._reset()

    def _reset(self) -> None:
        self.organisations = _DirectoryRepo[Organisation](self, "organisations")
        self.persons = _DirectoryRepo[Person](self, "persons")
        self.projects = _DirectoryRepo[Project](self, "projects")
        self.ticket_types = _DirectoryRepo[TicketType](self, "ticket_types")
        self.tickets = self._tickets = _Tickets(self)
        self.comments = self._comments = _Comments(self)
        self.events = self._events = _Events(self)
        self.outbox = self._outbox = _Outbox(self)
        self.access = _Access(self)
        self._new_tenant = None

    def _check_tenant(self, item: object) -> None:
        """Every write passes here: refuse it in a read-only unit of work or another tenant."""
        if self.read_only:
            raise RuntimeError("this unit of work is read-only")
        if getattr(item, "tenant_id", None) != self.tenant_id:
            raise ValueError("tenant_id: does not match the unit of work's tenant")

    def get_tenant(self) -> Tenant | None:
        return self._new_tenant or self._data.tenant

    def add_tenant(self, tenant: Tenant) -> None:
        if self.read_only:
            raise RuntimeError("this unit of work is read-only")
        if tenant.id != self.tenant_id:
            raise ValueError("tenant_id: does not match the unit of work's tenant")
        if self.get_tenant() is not None:
            raise Conflict("Tenant", tenant.id)
        self._new_tenant = tenant

    def commit(self) -> None:
        if self._closed:
            raise RuntimeError("unit of work is closed")
        data = self._data
        with self._storage._lock:
            for ident, (_ticket, base) in self._tickets.updated.items():
                stored = data.tickets.get(ident)
                if stored is None or stored.version != base:
                    raise Conflict("Ticket", ident, base)
            # Another unit of work may have taken the same numbers meanwhile: renumbering
            # silently would change what the caller was told, so that is a conflict too.
            for t in self._tickets.added.values():
                if t.number <= data.last_number:
                    raise Conflict("TicketNumber", t.number)
            if self._new_tenant is not None:
                if data.tenant is not None:
                    raise Conflict("Tenant", self.tenant_id)
                data.tenant = self._new_tenant
            for repo_name in ("organisations", "persons", "projects", "ticket_types"):
                repo = getattr(self, repo_name)
                getattr(data, repo_name).update(repo._staged.added)
            data.last_number += self._tickets.numbers_taken
            for ident, (ticket, _base) in self._tickets.updated.items():
                data.tickets[ident] = ticket
            data.tickets.update(self._tickets.added)
            for c in self._comments.added.values():
                data.comments[c.id] = c
                data.comments_by_ticket.setdefault(c.ticket_id, []).append(c.id)
            for e in self._events.added.values():
                data.events[e.id] = e
                data.events_by_ticket.setdefault(e.ticket_id, []).append(e.id)
            self._outbox.apply(data.outbox)
        self._reset()

    def rollback(self) -> None:
        self._reset()
        self.new_events.clear()

    def close(self) -> None:
        if not self._closed:
            self.rollback()
            self._closed = True
