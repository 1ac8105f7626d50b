"""One call's world: the unit of work, the acting person and their access, ``now``, new ids,
and the caches that live exactly as long as the call.

``HelpDesk`` lives as long as the application and holds what never changes with the call
(``Services``: policy, clock, id making). A ``Session`` lives for one operation, or for one
``Batch``: the operations of the capability modules are functions of a session and their
arguments, and every step they share (``require``, ``visible_ticket``, ``record``, …) is
here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from uuid import UUID

import attrs

from ticketkit.application import validation as check
from ticketkit.application.recipients import Prepared, may_receive, recipients
from ticketkit.application.sla_clocks import ClockKeeper
from ticketkit.application.views import TicketView, as_seen, project_ticket
from ticketkit.clock import Clock
from ticketkit.domain.events import CommentAdded, Event, GroupAssigned, TicketCreated
from ticketkit.domain.model import (
    SYSTEM_ACTOR_ID,
    Actor,
    Comment,
    Group,
    Person,
    Stamp,
    Ticket,
    TicketType,
)
from ticketkit.domain.notifications import Notification
from ticketkit.domain.settings import SETTINGS, SettingRegistry
from ticketkit.errors import NotFound, PermissionDenied
from ticketkit.policy.rules import Access, Action, Policy
from ticketkit.ports.repositories import UnitOfWork


@attrs.frozen(kw_only=True)
class Services:
    """What every session takes from the application: long-lived and never changing."""

    policy: Policy
    clock: Clock
    new_id: Callable[[], UUID]
    #: The settings the help desk knows (``ticketkit.domain.settings.SETTINGS``).
    settings: SettingRegistry = SETTINGS


def check_actor(actor: object) -> Actor:
    """The acting person, or a ``ValidationError`` naming ``actor`` for anything that is
    not an ``Actor`` of two UUIDs."""
    return check.actor(actor)


class Session:
    """One operation's (or one batch's) unit of work, acting person, time and caches.

    ``act_as`` makes another person the acting one (a batch reuses its session for each
    operation): their access is resolved from the unit of work's current state, the
    time is taken anew, and everything cached stays valid for the same transaction.
    """

    def __init__(
        self,
        services: Services,
        uow: UnitOfWork,
        actor: Actor,
        *,
        people: Iterable[UUID | None] = (),
    ) -> None:
        self._setup(services, uow)
        self.act_as(actor, people=people)

    @classmethod
    def for_system(cls, services: Services, uow: UnitOfWork) -> Session:
        """A session of ticketkit's own work (the SLA sweep): no acting person, ``now``
        taken once, and its changes stamped by ``SYSTEM_ACTOR_ID`` for the provider."""
        session = cls.__new__(cls)
        session._setup(services, uow)
        session.now = services.clock.now()
        return session

    def _setup(self, services: Services, uow: UnitOfWork) -> None:
        self.services = services
        self.policy = services.policy
        self.uow = uow
        #: Notifications written in this unit of work, delivered once it commits.
        self.prepared: list[Prepared] = []
        # People by the id's integer (cheaper to hash than a UUID): their access, or None
        # for someone unknown or inactive. Cleared when the directory changes.
        self._people: dict[int, Access | None] = {}
        self._types: dict[UUID, TicketType] = {}
        # Groups read in this call by id (None: no such group); cleared with the people.
        self._groups: dict[UUID, Group | None] = {}
        self._clock_keeper: ClockKeeper | None = None

    def system_stamp(self) -> Stamp:
        """The stamp of ticketkit's own work: ``SYSTEM_ACTOR_ID``, for the provider."""
        providers = self.clock_keeper.providers()
        return Stamp(
            actor_id=SYSTEM_ACTOR_ID,
            organisation_id=min(providers) if providers else SYSTEM_ACTOR_ID,
            at=self.now,
            new_id=self.services.new_id,
        )

    def act_as(self, actor: Actor, *, people: Iterable[UUID | None] = ()) -> Session:
        """Make ``actor`` the acting person from now on (``NotFound`` when they are not an
        active person of this unit of work's tenant); ``people`` whom the operation will
        look up are loaded in the same read."""
        check_actor(actor)
        if actor.tenant_id != self.uow.tenant_id:
            raise NotFound("Person", actor.person_id)
        # Access is judged at this instant (a grant's expiry against it).
        self.now: datetime = self.services.clock.now()
        self.prefetch((actor.person_id, *people))
        found = self.access(actor.person_id)
        if found is None:
            raise NotFound("Person", actor.person_id)
        self.actor: Access = found
        self.person: Person = found.person
        self.stamp = Stamp(
            actor_id=self.person.id,
            organisation_id=self.person.organisation_id,
            at=self.now,
            new_id=self.services.new_id,
        )
        return self

    @property
    def clock_keeper(self) -> ClockKeeper:
        """This unit of work's SLA clock keeper (policies and calendars read once)."""
        if self._clock_keeper is None:
            self._clock_keeper = ClockKeeper(self.uow)
        return self._clock_keeper

    def keep_clocks(self, ticket: Ticket, events: Sequence[Event], ticket_type: TicketType) -> None:
        """Bring the ticket's SLA clocks up to date with this change's ``events``; called
        before the ticket is written, which then carries its SLA due time."""
        self.clock_keeper.observe(ticket, events, ticket_type)

    def stamp_on(self, project_id: UUID) -> Stamp:
        """The acting person's stamp for work on ``project_id``'s tickets: as the member of
        the organisation she holds the project through (her own, or a further
        membership's), so her work there is that organisation's."""
        held = self.actor.viewer.held_on(project_id)
        if held is None or held.organisation_id == self.stamp.organisation_id:
            return self.stamp
        return attrs.evolve(self.stamp, organisation_id=held.organisation_id)

    @property
    def tenant_id(self) -> UUID:
        return self.uow.tenant_id

    def new_id(self) -> UUID:
        return self.services.new_id()

    # -- people ----------------------------------------------------------------------------

    def prefetch(self, person_ids: Iterable[UUID | None]) -> None:
        """Resolve the people not resolved yet with one read, so the ``access`` calls that
        follow cost no round trip each."""
        missing = {
            p.int: p for p in person_ids if isinstance(p, UUID) and p.int not in self._people
        }
        if len(missing) > 1:
            self._remember(missing.values())

    def access(self, person_id: UUID) -> Access | None:
        """An active person of this tenant and what they may do, or None."""
        if not isinstance(person_id, UUID):
            return None
        key = person_id.int
        if key not in self._people:
            self._remember([person_id])
        return self._people[key]

    def directory_changed(self) -> None:
        """Forget resolved access: people, organisations, projects or groups changed in this
        call."""
        self._people.clear()
        self._groups.clear()
        if self._clock_keeper is not None:
            self._clock_keeper.forget()

    def _remember(self, person_ids: Iterable[UUID]) -> None:
        wanted = list(person_ids)
        found = self.uow.access.people(wanted)
        for ident in wanted:
            person = found.get(ident)
            self._people[ident.int] = (
                self.policy.access(person, self.uow.access, self.now)
                if person is not None and person.active
                else None
            )

    # -- shared steps ----------------------------------------------------------------------

    def require(
        self, action: Action, field: str | None = None, *, project_id: UUID | None = None
    ) -> None:
        """``PermissionDenied`` unless the acting person may do ``action`` (on the tickets
        of ``project_id``, when given: a project held through a grant, within its scope)."""
        if not self.actor.may(action, project_id):
            raise PermissionDenied(action.value.replace("_", " "), field)

    def visible_ticket(self, ticket_id: UUID, *, for_update: bool = False) -> Ticket:
        """The ticket, if the acting person may read it; ``NotFound`` alike when it does not
        exist and when they may not see it (an id that is no UUID: ``ValidationError``).
        ``for_update`` locks it for this call's change, so concurrent changes queue instead
        of conflicting."""
        check.require_ident(ticket_id, "ticket_id")
        ticket = self.uow.tickets.get(ticket_id, for_update=for_update)
        if ticket is None or not self.actor.reads("tickets", ticket):
            raise NotFound("Ticket", ticket_id)
        return ticket

    def group(self, group_id: UUID) -> Group | None:
        """A group of this tenant by id, or None (read once per call)."""
        if not isinstance(group_id, UUID):
            return None
        if group_id not in self._groups:
            self._groups[group_id] = self.uow.groups.get(group_id)
        return self._groups[group_id]

    def serving_groups(self, project_id: UUID) -> list[Group]:
        """The groups serving ``project_id``, oldest first (remembered for this call)."""
        found = self.uow.groups.serving(project_id)
        for group in found:
            self._groups[group.id] = group
        return found

    def ticket_type(self, type_id: UUID) -> TicketType:
        """A ticket type of this tenant (read once per session)."""
        found = self._types.get(type_id)
        if found is None:
            loaded = self.uow.ticket_types.get(type_id) if isinstance(type_id, UUID) else None
            if loaded is None:
                raise NotFound("TicketType", type_id)
            found = self._types[type_id] = loaded
        return found

    def view(self, ticket: Ticket, ticket_type: TicketType | None = None) -> TicketView:
        """``ticket`` as the acting person may see it."""
        return project_ticket(ticket, ticket_type or self.ticket_type(ticket.type_id), self.actor)

    def record(
        self,
        ticket: Ticket,
        events: Sequence[Event],
        ticket_type: TicketType,
        comment: Comment | None = None,
        *,
        followers: Sequence[UUID] | None = None,
        also: Mapping[UUID, Sequence[UUID]] | None = None,
    ) -> None:
        """Append ``events`` to the history and write the notifications they cause to the
        outbox, in this unit of work; each recipient passes the policy as a read would.
        ``also`` names, by event id, who else hears of that event (an SLA escalation's).

        ``followers`` are the ticket's followers after the change (read here when not
        given). The members of the ticket's group hear of the event that brought it to the
        group while nobody is assigned: its creation, or its move to the group."""
        if followers is None:
            followers = self.uow.followers.of(ticket.id)
        announce = next((e for e in events if isinstance(e, TicketCreated | GroupAssigned)), None)
        members: Sequence[UUID] = ()
        if announce is not None and ticket.group_id is not None and ticket.assignee_id is None:
            serving = self.group(ticket.group_id)
            members = sorted(serving.member_ids) if serving is not None else ()
        extra = also or {}
        more = [p for people in extra.values() for p in people]
        self.prefetch((ticket.requester_id, ticket.assignee_id, *followers, *members, *more))
        # The tally as each event left it, for the event's position among those a
        # recipient may see (their timeline's numbering, not the ticket's).
        tally = dict(ticket.event_tally)
        for event in events:
            tally[(event.visibility, event.organisation_id)] -= 1
        for event in events:
            self.uow.record(event)
            group = (event.visibility, event.organisation_id)
            tally[group] += 1
            told = [*(members if event is announce else ()), *extra.get(event.id, ())]
            for person_id in recipients(ticket, event, followers=followers, group_members=told):
                access = self.access(person_id)
                if access is None or not may_receive(access, ticket, event):
                    continue
                note = Notification(
                    tenant_id=ticket.tenant_id,
                    id=self.new_id(),
                    event_id=event.id,
                    ticket_id=ticket.id,
                    recipient_id=person_id,
                    created_at=self.now,
                    updated_at=self.now,
                )
                self.uow.outbox.add(note)
                # ``ticket`` is this operation's own copy and is not changed after this.
                self.prepared.append(
                    Prepared(
                        notification=note,
                        recipient=access,
                        event=as_seen(event, access.count_events(tally), access),
                        ticket=ticket,
                        ticket_type=ticket_type,
                        comment=comment if isinstance(event, CommentAdded) else None,
                    )
                )
