"""Storage ports: the repositories and the unit of work that every adapter implements.

A unit of work is bound to one tenant; every repository it hands out reads and writes that
tenant only, so no call can reach across tenants by passing a foreign id.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Generic, Self, TypeVar
from uuid import UUID

import attrs

from ticketkit.domain.events import Event
from ticketkit.domain.grants import Grant, GrantState, GrantTerms
from ticketkit.domain.invitations import Closed, Invitation
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
from ticketkit.domain.settings import SETTINGS, ChildSharing, SettingValue, resolve
from ticketkit.domain.sla.policies import SlaPolicy
from ticketkit.domain.sla.records import SlaCalendar
from ticketkit.errors import TicketkitError
from ticketkit.policy.predicates import Eq, Predicate, all_of, one_of
from ticketkit.ports.sla import (
    CalendarRepository,
    DeferredActionRepository,
    SlaPolicyRepository,
    TicketClockRepository,
)

T = TypeVar("T")

#: The setting by which a parent organisation's people see its children's projects.
CHILD_SHARING = "sharing.child_organisations"
#: The most levels walked up or down the organisation tree (it is built parent first, so
#: it has no cycle; this only bounds a damaged one).
MAX_TREE_DEPTH = 100


@attrs.frozen
class OrderBy:
    """One sort key: a ticket attribute and its direction."""

    attr: str
    descending: bool = False


class Repository(abc.ABC, Generic[T]):
    """Directory entities: add once, read by id or predicate."""

    @abc.abstractmethod
    def add(self, item: T) -> None: ...

    @abc.abstractmethod
    def get(self, ident: UUID) -> T | None: ...

    def get_many(self, idents: Iterable[UUID]) -> dict[UUID, T]:
        """The items of ``idents`` that exist, by id: what ``get`` answers for each, in as
        few round trips as the adapter can (an operation that will read several people
        asks for them up front)."""
        found = {}
        for ident in idents:
            item = self.get(ident) if isinstance(ident, UUID) else None
            if item is not None:
                found[ident] = item
        return found

    @abc.abstractmethod
    def save(self, item: T) -> None:
        """Replace a stored item (directory changes such as deactivating a person)."""

    @abc.abstractmethod
    def list(self, where: Predicate) -> list[T]: ...


class ProjectRepository(Repository[Project]):
    """Projects, which count 1, 2, 3 … per tenant."""

    @abc.abstractmethod
    def next_number(self) -> int:
        """The number the next project of the tenant gets: one more than the highest taken,
        gap-free for committed units of work (two units of work taking the same number
        concurrently: the later one to commit gets ``Conflict``)."""

    def by_number(self, number: int) -> Project | None:
        """The project of this tenant numbered ``number``, or None."""
        found = self.list(Eq("number", number))
        return found[0] if found else None


class GrantRepository(Repository[Grant]):
    """Delegation grants. A grant's state moves by compare-and-set, so that of an accept and
    a revoke racing for one grant exactly one wins, on every backend."""

    @abc.abstractmethod
    def decide(self, grant: Grant, *, expected: GrantState) -> None:
        """Store ``grant`` (its new state and who decided it) if the stored one is still in
        state ``expected``; ``Conflict`` (now or at commit) when someone else moved it."""


class TicketRepository(abc.ABC):
    """Tickets, the one mutable aggregate. What ``get`` and ``query`` hand out is the
    caller's own copy, to change and pass to ``update``; a ticket passed to ``add`` or
    ``update`` belongs to the unit of work from then on, and the caller only reads it.

    So a ticket is copied once per read, not on every write too; and an operation that
    changes its copy and then fails leaves nothing changed behind.
    """

    @abc.abstractmethod
    def next_number(self, project_id: UUID) -> int:
        """The next ticket number in the project; gap-free for committed units of work.

        Numbers count per project, not per tenant: a customer who sees one project learns
        nothing from its numbers about tickets opened in projects she may not see."""

    @abc.abstractmethod
    def add(self, ticket: Ticket) -> None:
        """Stage a new ticket; the unit of work keeps ``ticket`` itself."""

    @abc.abstractmethod
    def get(self, ident: UUID, *, for_update: bool = False) -> Ticket | None:
        """A copy of the ticket as this unit of work sees it, or None.

        With ``for_update`` the ticket is read afresh and stays locked until the unit of
        work ends: a concurrent change to it waits instead of conflicting with this one
        (a row lock on PostgreSQL, the write lock on SQLite, one writer per tenant in
        memory).
        """

    @abc.abstractmethod
    def update(self, ticket: Ticket, *, expected_version: int) -> None:
        """Store ``ticket`` (kept as it is) if the stored version is still ``expected_version``.

        Raises ``Conflict`` (now or at commit) when someone else wrote in between.
        """

    @abc.abstractmethod
    def query(self, where: Predicate, order: Sequence[OrderBy], limit: int) -> list[Ticket]: ...

    @abc.abstractmethod
    def count(self, where: Predicate) -> int: ...


class GroupRepository(Repository[Group]):
    """Agent groups with their members and served projects (stored as relations: a
    ``save`` replaces both sets). ``list`` filters on the group's own attributes."""

    @abc.abstractmethod
    def serving(self, project_id: UUID) -> list[Group]:
        """The groups serving ``project_id``, oldest first (by creation time, then id)."""


class FollowerRepository(abc.ABC):
    """Who follows which ticket: a relation beside the ticket, changed only together with
    the ticket's own update (its ``FollowerAdded``/``FollowerRemoved`` event)."""

    @abc.abstractmethod
    def of(self, ticket_id: UUID) -> list[UUID]:
        """The followers of ``ticket_id``, in the order they started following."""

    @abc.abstractmethod
    def add(self, ticket_id: UUID, person_id: UUID, *, at: datetime) -> None:
        """Make ``person_id`` a follower of ``ticket_id`` (``Conflict`` if they are one)."""

    @abc.abstractmethod
    def remove(self, ticket_id: UUID, person_id: UUID) -> None:
        """Stop ``person_id`` following ``ticket_id`` (``Conflict`` if they did not)."""


class InvitationRepository(abc.ABC):
    """Magic-link invitations, written at once. Closing is a compare-and-set, so that of
    two redemptions of one token exactly one wins, on every backend."""

    @abc.abstractmethod
    def get(self, ident: UUID) -> Invitation | None: ...

    @abc.abstractmethod
    def of_person(self, person_id: UUID) -> list[Invitation]:
        """Every invitation of ``person_id``, oldest first."""

    @abc.abstractmethod
    def of_organisation(self, organisation_id: UUID) -> list[Invitation]:
        """Every invitation of the people whose organisation is ``organisation_id``,
        newest first."""

    @abc.abstractmethod
    def add(self, invitation: Invitation) -> None: ...

    @abc.abstractmethod
    def close(self, ident: UUID, reason: Closed, *, at: datetime) -> bool:
        """Close ``ident`` if it is open at ``at`` (not closed, not expired); whether this
        call closed it. A concurrent unit of work closing it too loses: here (False) or at
        its commit (``Conflict``)."""

    @abc.abstractmethod
    def close_open(self, person_id: UUID, reason: Closed, *, at: datetime) -> int:
        """Close every open invitation of ``person_id``; how many were open."""


class SettingRepository(abc.ABC):
    """Stored setting values in their JSON form: the tenant's value of a setting and the
    overrides organisations set, at most one of each per setting and organisation. Writes
    take effect at once within the unit of work and last if it commits."""

    @abc.abstractmethod
    def tenant_value(self, name: str) -> SettingValue | None:
        """The tenant's value of the setting ``name``, or None when it has none."""

    @abc.abstractmethod
    def overrides(
        self, name: str, organisation_ids: Iterable[UUID] | None = None
    ) -> dict[UUID, SettingValue]:
        """The overrides of the setting ``name`` by organisation id: those of
        ``organisation_ids`` only, when given, else every organisation's."""

    def all_values(self, name: str) -> tuple[SettingValue | None, dict[UUID, SettingValue]]:
        """The tenant's value of ``name`` and every organisation's override of it, in as
        few round trips as the adapter can (resolving a viewer reads both)."""
        return self.tenant_value(name), self.overrides(name)

    @abc.abstractmethod
    def set(self, value: SettingValue) -> None:
        """Store ``value`` as the tenant's value (``organisation_id`` None) or as that
        organisation's override, replacing what was stored there."""

    @abc.abstractmethod
    def clear(self, name: str, organisation_id: UUID | None = None) -> bool:
        """Remove the tenant's value of ``name`` (or the organisation's override); whether
        there was one."""


class CommentRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, comment: Comment) -> None: ...

    @abc.abstractmethod
    def get(self, ident: UUID) -> Comment | None: ...

    @abc.abstractmethod
    def for_ticket(self, ticket_id: UUID, where: Predicate) -> list[Comment]:
        """The ticket's comments matching ``where``, oldest first."""

    @abc.abstractmethod
    def count_by_ticket(self, ticket_ids: Iterable[UUID], where: Predicate) -> dict[UUID, int]:
        """How many comments matching ``where`` each ticket has (absent means none)."""


class EventRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, event: Event) -> None: ...

    @abc.abstractmethod
    def get(self, ident: UUID) -> Event | None: ...

    @abc.abstractmethod
    def for_ticket(self, ticket_id: UUID, where: Predicate) -> list[Event]:
        """The ticket's events matching ``where``, in order (by ``seq``)."""


class NotificationOutbox(abc.ABC):
    @abc.abstractmethod
    def add(self, notification: Notification) -> None: ...

    @abc.abstractmethod
    def get(self, ident: UUID) -> Notification | None: ...

    @abc.abstractmethod
    def claim(self, where: Predicate, limit: int, *, at: datetime) -> list[Notification]:
        """Take up to ``limit`` notifications matching ``where``, oldest first, for delivery:
        each is saved as pending since ``at`` (a lease: a retry leaves young pending rows
        alone), and rows another unit of work is claiming are skipped or waited for, so two
        dispatchers never take the same row. The claim holds once this unit commits."""

    @abc.abstractmethod
    def list(self, where: Predicate, limit: int) -> list[Notification]:
        """Notifications matching ``where``, oldest first."""

    @abc.abstractmethod
    def save(self, notification: Notification) -> None:
        """Record a delivery outcome (status, attempts, error)."""

    @abc.abstractmethod
    def acknowledge(
        self, ids: Collection[UUID], *, delivered_to: tuple[str, ...], at: datetime
    ) -> int:
        """Mark the still *pending* notifications among ``ids`` delivered to ``delivered_to``
        (one more attempt, no error) in one set-based write; return how many were pending.

        Rows another process has already settled are left alone, so a late acknowledgement
        never overwrites a retry's outcome."""


class MembershipRepository(Repository[Membership]):
    """People's memberships of organisations other than their own; ``save`` ends one."""

    def of_person(self, person_id: UUID) -> list[Membership]:
        """The person's memberships in force, oldest first."""
        found = self.list(all_of(Eq("person_id", person_id), Eq("ended_at", None)))
        return sorted(found, key=lambda m: (m.created_at, m.id))


class AccessReader(abc.ABC):
    """The reads the policy needs to resolve what people may see: the people themselves and
    the facts their access depends on: their organisations' projects, their further
    memberships, their grants, the organisation tree and its sharing setting, and which
    ticket types are confidential.

    An explicit port, so an adapter can answer several in one round trip. The facts with a
    default here are answered from the unit of work's repositories (``uow``).
    """

    uow: UnitOfWork

    @abc.abstractmethod
    def people(self, idents: Iterable[UUID]) -> dict[UUID, Person]:
        """The people of ``idents`` that exist, by id (as ``persons.get`` answers each),
        loaded together with what resolving their access reads next."""

    @abc.abstractmethod
    def project_ids_of(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]:
        """Ids of the projects owned by these organisations."""

    @abc.abstractmethod
    def active_grants(self, person_id: UUID, organisation_ids: Iterable[UUID]) -> list[GrantTerms]:
        """The terms of the grants in state active to the person or to one of her
        organisations, expired ones included (the policy judges expiry with the clock):
        one read."""

    def memberships_of(self, person_id: UUID) -> list[Membership]:
        """The person's memberships in force of organisations other than her own."""
        return self.uow.memberships.of_person(person_id)

    def child_sharing(self, organisation_ids: Iterable[UUID]) -> dict[UUID, ChildSharing]:
        """The value of ``sharing.child_organisations`` that counts for each of these
        organisations, where it is not off (its nearest override up its parents, else the
        tenant's, else the default: off)."""
        setting = SETTINGS.get(CHILD_SHARING)
        assert setting is not None
        stored, by_organisation = self.uow.settings.all_values(CHILD_SHARING)
        tenant = setting.load(stored.value) if stored is not None else None
        overrides = {org: setting.load(v.value) for org, v in by_organisation.items()}
        if not overrides and tenant in (None, ChildSharing.OFF):
            return {}  # off everywhere: no organisation's parents need reading
        found: dict[UUID, ChildSharing] = {}
        for org in organisation_ids:
            chain = self.chain_of(org)
            value = resolve(setting, chain, overrides, tenant, tenant_set=stored is not None)
            if value is not ChildSharing.OFF:
                found[org] = value
        return found

    def chain_of(self, organisation_id: UUID) -> list[UUID]:
        """The organisation and its parents, nearest first (an unknown one: empty)."""
        chain: list[UUID] = []
        found = self.uow.organisations.get(organisation_id)
        while found is not None and found.id not in chain and len(chain) < MAX_TREE_DEPTH:
            chain.append(found.id)
            found = self.uow.organisations.get(found.parent_id) if found.parent_id else None
        return chain

    def descendants_of(self, organisation_id: UUID) -> frozenset[UUID]:
        """The organisations below ``organisation_id``: its children, theirs, and so on
        (one read per level)."""
        found: set[UUID] = set()
        level = {organisation_id}
        for _ in range(MAX_TREE_DEPTH):
            below = {o.id for o in self.uow.organisations.list(one_of("parent_id", level))}
            level = below - found - {organisation_id}
            if not level:
                break
            found |= level
        return frozenset(found)

    def own_desk_projects(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]:
        """The projects of these organisations that their own desks serve."""
        ids = self.project_ids_of(organisation_ids)
        return frozenset(p.id for p in self.uow.projects.get_many(ids).values() if p.own_desk)

    def confidential_types(self) -> dict[UUID, UUID]:
        """The tenant's confidential ticket types: type id → the organisation owning it."""
        return {
            t.id: t.organisation_id
            for t in self.uow.ticket_types.list(Eq("confidential", True))
            if t.organisation_id is not None
        }


class UnitOfWork(abc.ABC):
    """One transaction on one tenant. Rolls back unless ``commit`` was called."""

    tenant_id: UUID
    read_only: bool = False
    organisations: Repository[Organisation]
    persons: Repository[Person]
    memberships: MembershipRepository
    projects: ProjectRepository
    grants: GrantRepository
    ticket_types: Repository[TicketType]
    groups: GroupRepository
    tickets: TicketRepository
    followers: FollowerRepository
    invitations: InvitationRepository
    settings: SettingRepository
    comments: CommentRepository
    events: EventRepository
    outbox: NotificationOutbox
    access: AccessReader
    calendars: CalendarRepository
    sla_policies: SlaPolicyRepository
    clocks: TicketClockRepository
    sla_actions: DeferredActionRepository

    def __init__(self) -> None:
        self.new_events: list[Event] = []

    @abc.abstractmethod
    def get_tenant(self) -> Tenant | None: ...

    @abc.abstractmethod
    def add_tenant(self, tenant: Tenant) -> None: ...

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once what ``commit`` wrote is committed for good: here at once.
        A unit of work inside a transaction that a host framework owns (Django's) calls it
        when that transaction commits, and never if it rolls back."""
        callback()

    def sla_configuration(self) -> tuple[list[SlaPolicy], list[SlaCalendar]]:
        """The tenant's SLA policies (as ``sla_policies.all()``) and calendars (as
        ``calendars.all()``): what every ticket change reads. Two reads here; an adapter
        may answer in one."""
        return self.sla_policies.all(), self.calendars.all()

    def record(self, event: Event) -> None:
        """Append ``event`` to the history and remember it for dispatch after commit."""
        self.events.add(event)
        self.new_events.append(event)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
        error = self.error_for(exc) if exc is not None else None
        if error is not None:
            raise error from exc

    def error_for(self, exc: BaseException) -> TicketkitError | None:
        """What an error of the store itself means to the caller, raised in its place when
        the unit of work's ``with`` block ends: a ``Conflict`` for a transaction the database
        aborted for a concurrent one, a ``StorageError`` (naming no SQL and no values) for
        any other failure of the driver. None leaves ``exc`` as it is."""
        return None

    @abc.abstractmethod
    def close(self) -> None:
        """Roll back anything uncommitted and release the connection."""


class Storage(abc.ABC):
    """A backend: hands out units of work per tenant."""

    @abc.abstractmethod
    def unit_of_work(self, tenant_id: UUID, *, read_only: bool = False) -> UnitOfWork:
        """A unit of work on one tenant. A ``read_only`` one refuses writes, which lets an
        adapter skip transaction bookkeeping (on PostgreSQL: no BEGIN/ROLLBACK round trips;
        every statement sees the latest committed data, as under READ COMMITTED)."""

    @abc.abstractmethod
    def tenant_ids(self) -> list[UUID]:
        """Every tenant, for maintenance sweeps such as outbox delivery."""
