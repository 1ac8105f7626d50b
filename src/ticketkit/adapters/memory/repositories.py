"""The in-memory repositories: committed items overlaid with a unit of work's own, and the
predicates evaluated in Python exactly as the SQL adapter compiles them."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar
from uuid import UUID

import attrs

from ticketkit.domain.events import Event
from ticketkit.domain.grants import Grant, GrantState, GrantTerms
from ticketkit.domain.invitations import Closed, Invitation
from ticketkit.domain.memberships import Membership
from ticketkit.domain.model import Comment, Group, Person, Project, Ticket
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.domain.settings import SettingValue
from ticketkit.errors import Conflict
from ticketkit.policy.predicates import Eq, Predicate, compile_check
from ticketkit.ports.repositories import (
    AccessReader,
    CommentRepository,
    EventRepository,
    FollowerRepository,
    GrantRepository,
    GroupRepository,
    InvitationRepository,
    MembershipRepository,
    NotificationOutbox,
    OrderBy,
    ProjectRepository,
    Repository,
    SettingRepository,
    TicketRepository,
)

if TYPE_CHECKING:
    from ticketkit.adapters.memory.unit_of_work import MemoryUnitOfWork

T = TypeVar("T")


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


class Directory(Repository[T]):
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
        check = compile_check(where)
        return [i for i in self._staged.values() if check(i)]


class Projects(Directory[Project], ProjectRepository):
    """Projects, numbered per tenant."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow, "projects")

    def next_number(self) -> int:
        return max((p.number for p in self._staged.values()), default=0) + 1

    def check(self, committed: dict[UUID, Project]) -> None:
        """Before commit applies anything: a number another unit of work committed
        meanwhile is a ``Conflict`` (as SQL's unique constraint)."""
        taken = {p.number: p.id for p in committed.values()}
        for project in self._staged.added.values():
            if taken.setdefault(project.number, project.id) != project.id:
                raise Conflict("Project", project.id)


class Grants(Directory[Grant], GrantRepository):
    """Grants; a decision is checked at commit against the committed state it expected."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow, "grants")
        #: The state each decided grant was expected to be in when committed.
        self.expected: dict[UUID, GrantState] = {}

    def decide(self, grant: Grant, *, expected: GrantState) -> None:
        self._uow._check_tenant(grant)
        current = self._staged.get(grant.id)
        if current is None or current.state is not expected:
            raise Conflict("Grant", grant.id)
        self.expected.setdefault(grant.id, expected)
        self._staged.added[grant.id] = grant

    def check(self, committed: dict[UUID, Grant]) -> None:
        """Before commit applies anything: a grant another unit of work moved meanwhile is
        a ``Conflict``."""
        for ident, state in self.expected.items():
            stored = committed.get(ident)
            if stored is not None and stored.state is not state:
                raise Conflict("Grant", ident)


class Groups(Directory[Group], GroupRepository):
    """Agent groups, their members and served projects kept on the group value itself."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow, "groups")

    def serving(self, project_id: UUID) -> list[Group]:
        found = [g for g in self._staged.values() if project_id in g.project_ids]
        return sorted(found, key=lambda g: (g.created_at, g.id))


class Followers(FollowerRepository):
    """Followers per ticket: this unit of work's changed lists over the committed ones."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self.changed: dict[UUID, list[UUID]] = {}

    def of(self, ticket_id: UUID) -> list[UUID]:
        found = self.changed.get(ticket_id)
        if found is None:
            found = self._uow._data.followers.get(ticket_id, [])
        return list(found)

    def add(self, ticket_id: UUID, person_id: UUID, *, at: datetime) -> None:
        self._uow._check_tenant(self._uow)
        current = self.of(ticket_id)
        if person_id in current:
            raise Conflict("Follower", person_id)
        self.changed[ticket_id] = [*current, person_id]

    def remove(self, ticket_id: UUID, person_id: UUID) -> None:
        self._uow._check_tenant(self._uow)
        current = self.of(ticket_id)
        if person_id not in current:
            raise Conflict("Follower", person_id)
        self.changed[ticket_id] = [p for p in current if p != person_id]


class Invitations(InvitationRepository):
    """Invitations: this unit of work's additions and closings over the committed ones.
    Commit closes only what is still open then, or fails with ``Conflict``."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self.added: dict[UUID, Invitation] = {}
        #: Closings: what was open when read, and the closed form.
        self.closed: dict[UUID, Invitation] = {}

    def get(self, ident: UUID) -> Invitation | None:
        return (
            self.closed.get(ident)
            or self.added.get(ident)
            or self._uow._data.invitations.get(ident)
        )

    def of_person(self, person_id: UUID) -> list[Invitation]:
        found = {i.id: i for i in self._uow._data.invitations.values() if i.person_id == person_id}
        found.update({i.id: i for i in self.added.values() if i.person_id == person_id})
        found.update({i.id: i for i in self.closed.values() if i.person_id == person_id})
        return sorted(found.values(), key=lambda i: (i.created_at, i.id))

    def of_organisation(self, organisation_id: UUID) -> list[Invitation]:
        members = self._uow.persons.list(Eq("organisation_id", organisation_id))
        found = [i for p in members for i in self.of_person(p.id)]
        return sorted(found, key=lambda i: (i.created_at, i.id), reverse=True)

    def add(self, invitation: Invitation) -> None:
        self._uow._check_tenant(invitation)
        if self.get(invitation.id) is not None:
            raise Conflict("Invitation", invitation.id)
        self.added[invitation.id] = invitation

    def close(self, ident: UUID, reason: Closed, *, at: datetime) -> bool:
        self._uow._check_tenant(self._uow)
        found = self.get(ident)
        if found is None or not found.open_at(at):
            return False
        closed = attrs.evolve(found, closed=reason, closed_at=at)
        if ident in self.added:
            self.added[ident] = closed
        else:
            self.closed[ident] = closed
        return True

    def close_open(self, person_id: UUID, reason: Closed, *, at: datetime) -> int:
        return sum(
            self.close(i.id, reason, at=at) for i in self.of_person(person_id) if i.closed is None
        )

    def check(self, committed: dict[UUID, Invitation]) -> None:
        """Before commit applies anything (under the store's lock): closing an invitation
        that another unit of work closed first is a ``Conflict``."""
        for ident in self.closed:
            stored = committed.get(ident)
            if stored is None or stored.closed is not None:
                raise Conflict("Invitation", ident)

    def apply(self, committed: dict[UUID, Invitation]) -> None:
        committed.update(self.added)
        committed.update(self.closed)


#: A stored setting value's key: its organisation (None for the tenant's) and its name.
SettingKey = tuple[UUID | None, str]


class Settings(SettingRepository):
    """Setting values: this unit of work's changes (None: cleared) over the committed ones."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self.changed: dict[SettingKey, SettingValue | None] = {}

    def _get(self, key: SettingKey) -> SettingValue | None:
        if key in self.changed:
            return self.changed[key]
        return self._uow._data.settings.get(key)

    def tenant_value(self, name: str) -> SettingValue | None:
        return self._get((None, name))

    def overrides(
        self, name: str, organisation_ids: Iterable[UUID] | None = None
    ) -> dict[UUID, SettingValue]:
        if organisation_ids is not None:
            keys: Iterable[SettingKey] = [(o, name) for o in organisation_ids]
        else:
            keys = {*self._uow._data.settings, *self.changed}
        found = {}
        for key in keys:
            organisation_id = key[0]
            if organisation_id is not None and key[1] == name:
                value = self._get(key)
                if value is not None:
                    found[organisation_id] = value
        return found

    def set(self, value: SettingValue) -> None:
        self._uow._check_tenant(value)
        self.changed[(value.organisation_id, value.name)] = value

    def clear(self, name: str, organisation_id: UUID | None = None) -> bool:
        self._uow._check_tenant(self._uow)
        key = (organisation_id, name)
        found = self._get(key) is not None
        self.changed[key] = None
        return found


def _sort_key(order: Sequence[OrderBy]) -> Callable[[Ticket], Any]:
    """The sort key of ``order``, ties broken by id as the SQL adapter breaks them."""
    if not order or order[-1].attr != "id":
        order = [*order, OrderBy("id")]

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


class Tickets(TicketRepository):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self.added: dict[UUID, Ticket] = {}
        self.updated: dict[UUID, tuple[Ticket, int]] = {}
        #: Numbers handed out in this unit of work, per project.
        self.numbers_taken: dict[UUID, int] = {}

    def next_number(self, project_id: UUID) -> int:
        if self._uow.read_only:
            raise RuntimeError("this unit of work is read-only")
        taken = self.numbers_taken[project_id] = self.numbers_taken.get(project_id, 0) + 1
        return self._uow._data.last_numbers.get(project_id, 0) + taken

    def add(self, ticket: Ticket) -> None:
        self._uow._check_tenant(ticket)
        if ticket.id in self.added or ticket.id in self._uow._data.tickets:
            raise Conflict("Ticket", ticket.id)
        self.added[ticket.id] = ticket

    def _current(self, ident: UUID) -> Ticket | None:
        if ident in self.added:
            return self.added[ident]
        if ident in self.updated:
            return self.updated[ident][0]
        return self._uow._data.tickets.get(ident)

    def get(self, ident: UUID, *, for_update: bool = False) -> Ticket | None:
        if for_update:
            if self._uow.read_only:
                raise RuntimeError("this unit of work is read-only")
            self._uow._hold_writer()
        found = self._current(ident)
        return found.copy() if found is not None else None

    def update(self, ticket: Ticket, *, expected_version: int) -> None:
        self._uow._check_tenant(ticket)
        current = self._current(ticket.id)
        if current is None or current.version != expected_version:
            raise Conflict("Ticket", ticket.id, expected_version)
        if ticket.id in self.added:
            self.added[ticket.id] = ticket
            return
        base = self.updated[ticket.id][1] if ticket.id in self.updated else expected_version
        self.updated[ticket.id] = (ticket, base)

    def _all(self) -> Iterable[Ticket]:
        for ident, t in self._uow._data.tickets.items():
            yield self.updated[ident][0] if ident in self.updated else t
        yield from self.added.values()

    def query(self, where: Predicate, order: Sequence[OrderBy], limit: int) -> list[Ticket]:
        check = compile_check(where)
        found = [t for t in self._all() if check(t)]
        found.sort(key=_sort_key(order))
        return [t.copy() for t in found[:limit]]

    def count(self, where: Predicate) -> int:
        check = compile_check(where)
        return sum(1 for t in self._all() if check(t))


class Comments(CommentRepository):
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
        check = compile_check(where)
        return [c for c in self._of(ticket_id) if check(c)]

    def count_by_ticket(self, ticket_ids: Iterable[UUID], where: Predicate) -> dict[UUID, int]:
        out: dict[UUID, int] = {}
        check = compile_check(where)
        for tid in ticket_ids:
            n = sum(1 for c in self._of(tid) if check(c))
            if n:
                out[tid] = n
        return out


class Events(EventRepository):
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
        check = compile_check(where)
        return sorted((e for e in found if check(e)), key=lambda e: e.seq)


class Outbox(NotificationOutbox):
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

    def claim(self, where: Predicate, limit: int, *, at: datetime) -> list[Notification]:
        if self._uow.read_only:
            raise RuntimeError("this unit of work is read-only")
        self._uow._hold_writer()  # claims of one tenant take turns
        claimed = [
            attrs.evolve(n, status=DeliveryStatus.PENDING, updated_at=at)
            for n in self.list(where, limit)
        ]
        for note in claimed:
            self.save(note)
        return claimed

    def list(self, where: Predicate, limit: int) -> list[Notification]:
        merged = {i: self._view(i, n) for i, n in self._uow._data.outbox.items()}
        merged.update(self.changed)
        check = compile_check(where)
        found = [n for n in merged.values() if check(n)]
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


class Memberships(Directory[Membership], MembershipRepository):
    """Memberships; a person has one membership in force per organisation (checked at
    commit, as SQL's partial unique index does)."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow, "memberships")

    def check(self, committed: dict[UUID, Membership]) -> None:
        """Before commit applies anything: a membership in force staged for a person and
        organisation that another unit of work gave one meanwhile is a ``Conflict``."""
        held = {(m.person_id, m.organisation_id): m.id for m in committed.values() if m.active}
        for m in self._staged.added.values():
            key = (m.person_id, m.organisation_id)
            if m.active and held.setdefault(key, m.id) != m.id:
                raise Conflict("Membership", m.id)


class Access(AccessReader):
    """People and the facts of their access, from this unit of work's view."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = self.uow = uow

    def people(self, idents: Iterable[UUID]) -> dict[UUID, Person]:
        return self._uow.persons.get_many(idents)

    def project_ids_of(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]:
        orgs = set(organisation_ids)
        return frozenset(
            p.id
            for p in self._uow.projects._staged.values()  # type: ignore[attr-defined]
            if p.organisation_id in orgs
        )

    def active_grants(self, person_id: UUID, organisation_ids: Iterable[UUID]) -> list[GrantTerms]:
        orgs = set(organisation_ids)
        return [
            g.terms
            for g in self._uow.grants._staged.values()  # type: ignore[attr-defined]
            if g.state is GrantState.ACTIVE
            and (g.grantee_person_id == person_id or g.grantee_organisation_id in orgs)
        ]


__all__ = [
    "Access",
    "Comments",
    "Directory",
    "Events",
    "Followers",
    "Grants",
    "Groups",
    "Invitations",
    "Memberships",
    "Outbox",
    "Projects",
    "Settings",
    "Tickets",
]
