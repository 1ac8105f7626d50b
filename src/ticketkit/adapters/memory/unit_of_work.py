"""The in-memory unit of work: a tenant's committed data in dictionaries, and each unit
of work's own changes over it until commit applies them under the store's lock."""

from __future__ import annotations

import threading
from uuid import UUID

import attrs

from ticketkit.adapters.memory.repositories import (
    Access,
    Comments,
    Directory,
    Events,
    Followers,
    Grants,
    Groups,
    Invitations,
    Memberships,
    Outbox,
    Projects,
    SettingKey,
    Settings,
    Tickets,
)
from ticketkit.adapters.memory.sla import Sla, SlaData
from ticketkit.domain.events import Event
from ticketkit.domain.grants import Grant
from ticketkit.domain.invitations import Invitation
from ticketkit.domain.memberships import Membership
from ticketkit.domain.model import (
    Comment,
    Group,
    Organisation,
    Person,
    Project,
    Tenant,
    Ticket,
    TicketType,
)
from ticketkit.domain.notifications import Notification
from ticketkit.domain.settings import SettingValue
from ticketkit.errors import Conflict
from ticketkit.ports.repositories import Storage, UnitOfWork


@attrs.define
class TenantData:
    """One tenant's committed data."""

    tenant: Tenant | None = None
    organisations: dict[UUID, Organisation] = attrs.Factory(dict)
    persons: dict[UUID, Person] = attrs.Factory(dict)
    memberships: dict[UUID, Membership] = attrs.Factory(dict)
    projects: dict[UUID, Project] = attrs.Factory(dict)
    ticket_types: dict[UUID, TicketType] = attrs.Factory(dict)
    groups: dict[UUID, Group] = attrs.Factory(dict)
    #: Followers of each ticket, in the order they started following.
    followers: dict[UUID, list[UUID]] = attrs.Factory(dict)
    #: Setting values by organisation (None: the tenant's) and name.
    settings: dict[SettingKey, SettingValue] = attrs.Factory(dict)
    tickets: dict[UUID, Ticket] = attrs.Factory(dict)
    comments: dict[UUID, Comment] = attrs.Factory(dict)
    comments_by_ticket: dict[UUID, list[UUID]] = attrs.Factory(dict)
    events: dict[UUID, Event] = attrs.Factory(dict)
    events_by_ticket: dict[UUID, list[UUID]] = attrs.Factory(dict)
    outbox: dict[UUID, Notification] = attrs.Factory(dict)
    invitations: dict[UUID, Invitation] = attrs.Factory(dict)
    grants: dict[UUID, Grant] = attrs.Factory(dict)
    sla: SlaData = attrs.Factory(SlaData)
    #: The last ticket number taken in each project.
    last_numbers: dict[UUID, int] = attrs.Factory(dict)
    #: Held by the one unit of work that reads tickets to change them (``for_update``).
    writer: threading.Lock = attrs.Factory(threading.Lock)
    writer_thread: int | None = None


#: Seconds a unit of work waits to become its tenant's writer before it gives up.
WRITER_TIMEOUT = 30.0


class MemoryStorage(Storage):
    """All tenants' data in dictionaries, guarded by one lock at commit."""

    def __init__(self) -> None:
        self._data: dict[UUID, TenantData] = {}
        self._lock = threading.RLock()

    def unit_of_work(self, tenant_id: UUID, *, read_only: bool = False) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, tenant_id, read_only=read_only)

    def tenant_ids(self) -> list[UUID]:
        with self._lock:
            return [k for k, v in self._data.items() if v.tenant is not None]

    def _tenant(self, tenant_id: UUID) -> TenantData:
        with self._lock:
            return self._data.setdefault(tenant_id, TenantData())


class MemoryUnitOfWork(UnitOfWork):
    """One unit of work on one tenant: its changes stay its own until commit checks them
    against the committed data (versions, numbers) and applies them under the store's lock."""

    def __init__(self, storage: MemoryStorage, tenant_id: UUID, *, read_only: bool) -> None:
        super().__init__()
        self.tenant_id = tenant_id
        self.read_only = read_only
        self._storage = storage
        self._data = storage._tenant(tenant_id)
        self._new_tenant: Tenant | None = None
        self._closed = False
        self._writing = False
        self._reset()

    def _reset(self) -> None:
        self.organisations = Directory[Organisation](self, "organisations")
        self.persons = self._persons = Directory[Person](self, "persons")
        self.memberships = self._memberships = Memberships(self)
        self.projects = self._projects = Projects(self)
        self.grants = self._grants = Grants(self)
        self.ticket_types = Directory[TicketType](self, "ticket_types")
        self.groups = Groups(self)
        self.followers = self._followers = Followers(self)
        self.invitations = self._invitations = Invitations(self)
        self.settings = self._settings = Settings(self)
        self.tickets = self._tickets = Tickets(self)
        self.comments = self._comments = Comments(self)
        self.events = self._events = Events(self)
        self.outbox = self._outbox = Outbox(self)
        self.access = Access(self)
        self._sla = sla = Sla(self)
        self.calendars = sla.calendars
        self.sla_policies = sla.policies
        self.clocks = sla.clocks
        self.sla_actions = sla.actions
        self._new_tenant = None
        self._release_writer()

    def _hold_writer(self) -> None:
        """Become the tenant's one writer until this unit of work ends (``for_update``)."""
        if self._writing:
            return
        data = self._data
        if data.writer_thread == threading.get_ident():
            raise RuntimeError(
                "another unit of work of this thread changes tickets of this tenant; "
                "commit or close it first"
            )
        if not data.writer.acquire(timeout=WRITER_TIMEOUT):
            raise Conflict("Tenant", self.tenant_id)
        data.writer_thread = threading.get_ident()
        self._writing = True

    def _release_writer(self) -> None:
        if self._writing:
            self._writing = False
            self._data.writer_thread = None
            self._data.writer.release()

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

    def _check_emails(self) -> None:
        """One person per e-mail address in a tenant, as SQL's unique index keeps it: a
        person staged with an address another one committed meanwhile is a ``Conflict``."""
        staged = self._persons._staged.added
        if not staged:
            return
        taken = {p.email: p.id for p in self._data.persons.values()}
        for person in staged.values():
            if taken.setdefault(person.email, person.id) != person.id:
                raise Conflict("Person", person.id)

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
                if t.number <= data.last_numbers.get(t.project_id, 0):
                    raise Conflict("TicketNumber", t.number)
            self._check_emails()
            self._invitations.check(data.invitations)
            self._projects.check(data.projects)
            self._grants.check(data.grants)
            self._memberships.check(data.memberships)
            self._sla.check(data.sla)
            if self._new_tenant is not None:
                if data.tenant is not None:
                    raise Conflict("Tenant", self.tenant_id)
                data.tenant = self._new_tenant
            for repo_name in (
                "organisations",
                "persons",
                "memberships",
                "projects",
                "grants",
                "ticket_types",
                "groups",
            ):
                repo = getattr(self, repo_name)
                getattr(data, repo_name).update(repo._staged.added)
            for project_id, taken in self._tickets.numbers_taken.items():
                data.last_numbers[project_id] = data.last_numbers.get(project_id, 0) + taken
            for ident, (ticket, _base) in self._tickets.updated.items():
                data.tickets[ident] = ticket
            data.tickets.update(self._tickets.added)
            data.followers.update(self._followers.changed)
            for key, value in self._settings.changed.items():
                if value is None:
                    data.settings.pop(key, None)
                else:
                    data.settings[key] = value
            for c in self._comments.added.values():
                data.comments[c.id] = c
                data.comments_by_ticket.setdefault(c.ticket_id, []).append(c.id)
            for e in self._events.added.values():
                data.events[e.id] = e
                data.events_by_ticket.setdefault(e.ticket_id, []).append(e.id)
            self._outbox.apply(data.outbox)
            self._invitations.apply(data.invitations)
            self._sla.apply(data.sla)
        self._reset()

    def rollback(self) -> None:
        self._reset()
        self.new_events.clear()

    def close(self) -> None:
        if not self._closed:
            self.rollback()
            self._closed = True


__all__ = ["MemoryStorage", "MemoryUnitOfWork"]
