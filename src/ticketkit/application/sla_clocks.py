"""Keeping each ticket's SLA clocks in step with its history, in the unit of work that
changes the ticket: the policy is chosen again, the new events are folded into the stored
clocks (or the whole history replayed, when the policy or calendar changed), and the
instants a sweep and the lists need are stored beside them.

``ClockKeeper`` reads the tenant's policies and calendars once per unit of work, together
(one statement on SQL, which decodes each stored definition once per process). What else
it reads, it reads only when asked: an organisation's kind when a public comment's side is
(by key, once per organisation), the ticket's organisation chain when a policy condition
or a calendar looks at organisations. A tenant without policies costs one read per change
and stores nothing; a change that moves no clock (an internal note) writes none.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from uuid import UUID

from ticketkit.domain.calendars import Calendar
from ticketkit.domain.events import Event, TicketCreated
from ticketkit.domain.model import OrganisationKind, Ticket, TicketType
from ticketkit.domain.sla import (
    Attribute,
    ClockRules,
    ClockState,
    PolicySubject,
    SlaPolicy,
    apply,
    facts_from_events,
    next_due_at,
    next_firing_at,
    replay,
    select_policy,
)
from ticketkit.domain.sla.records import SlaCalendar, TicketClocks
from ticketkit.domain.workflow import StatusCategory
from ticketkit.policy.predicates import TRUE, Eq
from ticketkit.ports.repositories import UnitOfWork

#: The calendar of a policy when neither it, the ticket's organisations nor the tenant
#: name one: around the clock, so business time is real time.
AROUND_THE_CLOCK = Calendar.always("UTC")


class ClockKeeper:
    """The SLA side of one unit of work's ticket changes (see the module docstring)."""

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self._policies: list[SlaPolicy] | None = None
        self._calendars: dict[UUID, SlaCalendar] | None = None
        self._providers: frozenset[UUID] | None = None
        self._chains: dict[UUID, tuple[UUID, ...]] = {}
        self._sides = _Providers(uow)

    def forget(self) -> None:
        """Read policies, calendars and organisations afresh (they changed in this unit)."""
        self._policies = self._calendars = self._providers = None
        self._chains.clear()
        self._sides = _Providers(self.uow)

    # -- what the tenant configured, read once -----------------------------------------------

    def policies(self) -> list[SlaPolicy]:
        if self._policies is None:
            self._configure()
        assert self._policies is not None
        return self._policies

    def calendars(self) -> dict[UUID, SlaCalendar]:
        if self._calendars is None:
            self._configure()
        assert self._calendars is not None
        return self._calendars

    def _configure(self) -> None:
        """Policies and calendars, read together: every change needs both."""
        policies, calendars = self.uow.sla_configuration()
        self._policies = policies
        self._calendars = {c.id: c for c in calendars}

    def providers(self) -> frozenset[UUID]:
        if self._providers is None:
            found = self.uow.organisations.list(Eq("kind", OrganisationKind.PROVIDER))
            self._providers = frozenset(o.id for o in found)
        return self._providers

    def chain(self, project_id: UUID) -> tuple[UUID, ...]:
        """The organisation owning the project, then its parents (read once per project)."""
        chain = self._chains.get(project_id)
        if chain is None:
            project = self.uow.projects.get(project_id)
            owner = project.organisation_id if project is not None else None
            chain = tuple(self.uow.access.chain_of(owner)) if owner is not None else ()
            self._chains[project_id] = chain
        return chain

    def subject(self, ticket: Ticket) -> PolicySubject:
        """What policy conditions read of ``ticket``: its organisations only when a
        condition looks at them."""
        looked_at = any(
            c.attribute == Attribute.ORGANISATION for p in self.policies() for c in p.conditions
        )
        return PolicySubject(
            priority=ticket.priority,
            organisation_ids=self.chain(ticket.project_id) if looked_at else (),
            type_id=ticket.type_id,
            project_id=ticket.project_id,
            fields=ticket.fields,
        )

    def calendar_for(self, policy: SlaPolicy, project_id: UUID) -> SlaCalendar | None:
        """The policy's own calendar; else the nearest organisation's, up the chain of the
        organisation owning the project; else the tenant's default; else None (around the
        clock)."""
        calendars = self.calendars()
        if policy.calendar_id is not None and policy.calendar_id in calendars:
            return calendars[policy.calendar_id]
        owned = {c.organisation_id: c for c in calendars.values() if c.organisation_id}
        for organisation_id in self.chain(project_id) if owned else ():
            if organisation_id in owned:
                return owned[organisation_id]
        return next((c for c in calendars.values() if c.is_default), None)

    # -- keeping clocks -------------------------------------------------------------------

    def observe(self, ticket: Ticket, events: Sequence[Event], ticket_type: TicketType) -> None:
        """Bring the ticket's clocks up to date with ``events`` (this change's, not yet
        stored) and set ``ticket.sla_due_at``; called before the ticket is written."""
        if not self.policies():
            return
        created = any(isinstance(e, TicketCreated) for e in events)
        stored = None if created else self.uow.clocks.get(ticket.id)
        self.refresh(ticket, ticket_type, stored, events, history=events if created else None)

    def refresh(
        self,
        ticket: Ticket,
        ticket_type: TicketType,
        stored: TicketClocks | None,
        events: Sequence[Event] = (),
        *,
        history: Sequence[Event] | None = None,
    ) -> TicketClocks | None:
        """Choose the policy again and store the clocks: ``events`` folded into ``stored``
        when policy and calendar are unchanged, else the whole history replayed (read from
        storage, plus ``events``, unless ``history`` is given). Returns the stored clocks."""
        subject = self.subject(ticket)
        policy = select_policy(self.policies(), subject)
        if policy is None:
            if stored is not None:
                self.uow.clocks.remove(ticket.id)
            ticket.sla_due_at = None
            return None
        calendar = self.calendar_for(policy, ticket.project_id)
        calendar_id = calendar.id if calendar else None

        def category_of(status: str) -> StatusCategory:
            found = ticket_type.workflow.status(status)
            return found.category if found is not None else StatusCategory.OPEN

        rules = ClockRules.of(policy, calendar.calendar if calendar else AROUND_THE_CLOCK)
        state: ClockState | None
        if (
            stored is not None
            and not stored.stale
            and stored.policy_id == policy.id
            and stored.calendar_id == calendar_id
        ):
            facts = list(
                facts_from_events(
                    events, provider_organisations=self._sides, category_of=category_of
                )
            )
            if not facts:
                # Nothing new on the same rules (an internal note, an assignment): the
                # stored due times are what computing them again would give.
                ticket.sla_due_at = stored.next_due_at
                return stored
            state = stored.state
            for fact in facts:
                state = apply(state, fact, rules)
        else:
            if history is None:
                history = [*self.uow.events.for_ticket(ticket.id, TRUE), *events]
            state = replay(
                facts_from_events(
                    history, provider_organisations=self._sides, category_of=category_of
                ),
                rules,
            )
        if state is None:  # a history without its opening: nothing to measure
            ticket.sla_due_at = None
            return None
        fired = stored.fired if stored is not None else frozenset()
        clocks = TicketClocks(
            tenant_id=ticket.tenant_id,
            ticket_id=ticket.id,
            policy_id=policy.id,
            calendar_id=calendar_id,
            state=state,
            fired=fired,
            next_firing_at=next_firing_at(state, rules, fired),
            next_due_at=next_due_at(state, rules),
        )
        if clocks != stored:  # a public comment already answered moves nothing, say
            self.uow.clocks.put(clocks)
        ticket.sla_due_at = clocks.next_due_at
        return clocks

    def rules_for(self, clocks: TicketClocks) -> ClockRules | None:
        """The rules ``clocks`` were computed on, while policy and calendar still exist."""
        policy = next((p for p in self.policies() if p.id == clocks.policy_id), None)
        if policy is None:
            return None
        calendar = AROUND_THE_CLOCK
        if clocks.calendar_id is not None:
            found = self.calendars().get(clocks.calendar_id)
            if found is None:
                return None
            calendar = found.calendar
        return ClockRules.of(policy, calendar)


class _Providers(Container[UUID]):
    """Which organisations are providers, looked up one at a time when a public comment's
    side is asked (by key, or from the unit of work's identity map): a change without a
    public comment reads none, and one with a comment reads its author's organisation."""

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow
        self._known: dict[object, bool] = {}

    def __contains__(self, organisation_id: object) -> bool:
        known = self._known.get(organisation_id)
        if known is None:
            found = (
                self._uow.organisations.get(organisation_id)
                if isinstance(organisation_id, UUID)
                else None
            )
            known = found is not None and found.kind is OrganisationKind.PROVIDER
            self._known[organisation_id] = known
        return known
