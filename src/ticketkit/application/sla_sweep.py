"""The SLA sweep: announce each warning and breach once, run escalation rules, and replay
clocks whose policy or calendar changed (``docs/sla.md``).

A sweep reads only what is due, by a range read on the clocks' ``next_firing_at`` index,
in batches of one unit of work each. Every ticket it works on is held for update and
tickets another unit of work holds are skipped, so sweeps run side by side from several
workers; the unique firing key is the last guard: a level is recorded, in the history
and in the outbox, at most once.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import attrs

from ticketkit.application.retries import retried
from ticketkit.application.session import Services, Session
from ticketkit.domain.events import Change, Event
from ticketkit.domain.model import Ticket
from ticketkit.domain.sla import (
    ActionKind,
    EscalationRule,
    Level,
    SlaPolicy,
    due_firings,
    next_firing_at,
)
from ticketkit.domain.sla.records import ActionState, DeferredAction, TicketClocks
from ticketkit.domain.values import Priority, Visibility
from ticketkit.ports.repositories import Storage, UnitOfWork

#: How many times in all a sweep batch runs while it loses races to concurrent writers.
ATTEMPTS = 5

#: Priorities from lowest to highest: an escalation raises, never lowers.
_RANK = {p: i for i, p in enumerate(Priority)}


@attrs.frozen(kw_only=True)
class SweepReport:
    """What one sweep did, summed over its tenants."""

    #: Tickets whose clocks were due and looked at.
    tickets: int = 0
    warnings: int = 0
    breaches: int = 0
    #: Clocks replayed because their policy or calendar changed (or were dropped).
    replayed: int = 0
    #: Escalation actions carried out now, and those waiting for business hours.
    actions: int = 0
    deferred: int = 0

    def __add__(self, other: SweepReport) -> SweepReport:
        return SweepReport(
            **{
                a.name: getattr(self, a.name) + getattr(other, a.name)
                for a in attrs.fields(SweepReport)
            }
        )


#: What the sweep hands each committed unit of work's notifications to.
AfterCommit = Callable[[UnitOfWork, Session], None]


def sweep_tenant(
    services: Services,
    storage: Storage,
    tenant_id: UUID,
    *,
    batch: int,
    after_commit: AfterCommit,
    progress: Callable[[SweepReport], None] | None = None,
) -> SweepReport:
    """Sweep one tenant until nothing is due: clocks first, then waiting actions. Each
    batch is one unit of work; a batch that lost a race is run again on its own, so what
    earlier batches committed stays counted."""
    total = SweepReport()
    while True:
        done = retried(
            lambda: _sweep_clocks(services, storage, tenant_id, batch, after_commit), ATTEMPTS
        )
        total += done
        if progress is not None and done.tickets:
            progress(done)
        if done.tickets < batch:
            break
    while True:
        taken, carried_out = retried(
            lambda: _run_waiting_actions(services, storage, tenant_id, batch, after_commit),
            ATTEMPTS,
        )
        total += SweepReport(actions=carried_out)
        if taken < batch:
            break
    return total


def _sweep_clocks(
    services: Services, storage: Storage, tenant_id: UUID, batch: int, after_commit: AfterCommit
) -> SweepReport:
    with storage.unit_of_work(tenant_id) as uow:
        s = Session.for_system(services, uow)
        report = SweepReport()
        for clocks in uow.clocks.due(s.now, batch):
            report += _sweep_ticket(s, clocks)
        uow.commit()
        after_commit(uow, s)
    return report


def _sweep_ticket(s: Session, clocks: TicketClocks) -> SweepReport:
    ticket = s.uow.tickets.get(clocks.ticket_id, for_update=True)
    if ticket is None:  # pragma: no cover - clocks go with their ticket
        s.uow.clocks.remove(clocks.ticket_id)
        return SweepReport(tickets=1)
    ticket_type = s.ticket_type(ticket.type_id)
    keeper = s.clock_keeper
    base, due_at = ticket.version, ticket.sla_due_at
    replayed = 0
    rules = keeper.rules_for(clocks)
    if clocks.stale or rules is None:
        refreshed = keeper.refresh(ticket, ticket_type, clocks)
        replayed = 1
        if refreshed is None or (rules := keeper.rules_for(refreshed)) is None:
            if ticket.sla_due_at != due_at:
                s.uow.tickets.update(ticket, expected_version=base)
            return SweepReport(tickets=1, replayed=1)
        clocks = refreshed
    policy = _policy(s, clocks.policy_id)
    assert policy is not None  # rules_for found it
    events: list[Event] = []
    also: dict[UUID, list[UUID]] = {}
    report = SweepReport(tickets=1, replayed=replayed)
    fired = set(clocks.fired)
    stamp = s.system_stamp()
    deferred: list[DeferredAction] = []
    for firing in due_firings(clocks.state, s.now, rules, clocks.fired):
        fired.add(firing.key)
        if not s.uow.clocks.record_firing(ticket.id, firing.key, firing.at):
            continue  # announced by another sweep already
        events.append(
            ticket.reach_sla_level(
                policy_id=policy.id,
                metric=firing.metric.value,
                cycle=firing.cycle,
                level=firing.level.value,
                percent=firing.percent,
                reached_at=firing.at,
                by=stamp,
            )
        )
        is_breach = firing.level is Level.BREACH
        report += SweepReport(breaches=int(is_breach), warnings=int(not is_breach))
        for rule in policy.escalations:
            if not rule.applies(firing.metric, firing.level, firing.percent):
                continue
            calendar = rules.calendar
            if rule.business_hours_only and not calendar.is_open(s.now):
                deferred.append(
                    DeferredAction(
                        tenant_id=ticket.tenant_id,
                        id=s.new_id(),
                        ticket_id=ticket.id,
                        firing_key=firing.key,
                        rule=rule,
                        run_at=calendar.next_opening(s.now),
                    )
                )
                report += SweepReport(deferred=1)
            else:
                events += _act(s, ticket, rule, firing.key, also)
                report += SweepReport(actions=1)
    for action in deferred:
        s.uow.sla_actions.add(action)
    raised = [e for e in events if _changes_priority(e)]
    if raised:
        # a raised priority changes the targets: fold it in like any ticket change
        s.uow.clocks.put(attrs.evolve(clocks, fired=frozenset(fired)))
        s.keep_clocks(ticket, raised, ticket_type)
    else:
        kept = attrs.evolve(
            clocks,
            fired=frozenset(fired),
            next_firing_at=next_firing_at(clocks.state, rules, fired),
        )
        s.uow.clocks.put(kept)
        ticket.sla_due_at = kept.next_due_at
    if events:
        ticket.new_version(events, s.now)
    if events or ticket.sla_due_at != due_at:
        s.uow.tickets.update(ticket, expected_version=base)
    if events:
        s.record(ticket, events, ticket_type, also=also)
    return report


def _still_running(clocks: TicketClocks, firing_key: str) -> bool:
    """Whether the metric cycle a firing key names (``<metric>:<cycle>:...``) runs."""
    metric, cycle = firing_key.split(":")[:2]
    return any(
        c.metric.value == metric and str(c.cycle) == cycle and c.running
        for c in clocks.state.clocks
    )


def _changes_priority(event: Event) -> bool:
    changes = getattr(event, "changes", ())
    return any(c.field == "priority" for c in changes)


def _policy(s: Session, policy_id: UUID) -> SlaPolicy | None:
    return next((p for p in s.clock_keeper.policies() if p.id == policy_id), None)


def _act(
    s: Session,
    ticket: Ticket,
    rule: EscalationRule,
    firing_key: str,
    also: dict[UUID, list[UUID]],
) -> list[Event]:
    """Carry out ``rule``'s action on ``ticket`` now, as ticketkit itself; the events it
    records (``also``: whom each tells)."""
    stamp = s.system_stamp()
    if rule.action is ActionKind.NOTIFY:
        event = ticket.escalate(
            firing_key, person_id=rule.person_id, group_id=rule.group_id, by=stamp
        )
        if rule.person_id is not None:
            also[event.id] = [rule.person_id]
        else:
            group = s.group(rule.group_id) if rule.group_id else None
            also[event.id] = sorted(group.member_ids) if group is not None else []
        return [event]
    if rule.action is ActionKind.REASSIGN:
        if rule.person_id is not None:
            if rule.person_id == ticket.assignee_id or s.access(rule.person_id) is None:
                return []
            return [ticket.assign(rule.person_id, by=stamp)]
        if rule.group_id is None or rule.group_id == ticket.group_id or not s.group(rule.group_id):
            return []
        events: list[Event] = [ticket.assign_group(rule.group_id, by=stamp)]
        if ticket.assignee_id is not None:
            events.append(ticket.assign(None, by=stamp))
        return events
    wanted = rule.priority
    if wanted is None or _RANK[wanted] <= _RANK[ticket.priority]:
        return []
    change = Change(field="priority", old=ticket.priority, new=wanted)
    return [ticket.edit([change], Visibility.PUBLIC, by=stamp)]


def _run_waiting_actions(
    services: Services, storage: Storage, tenant_id: UUID, batch: int, after_commit: AfterCommit
) -> tuple[int, int]:
    """Carry out the escalation actions whose business hours have come: how many were
    taken, and how many of them carried out (the others dropped)."""
    with storage.unit_of_work(tenant_id) as uow:
        s = Session.for_system(services, uow)
        taken = done = 0
        for action in uow.sla_actions.due(s.now, batch):
            taken += 1
            ticket = uow.tickets.get(action.ticket_id, for_update=True)
            clocks = uow.clocks.get(action.ticket_id)
            if ticket is None or clocks is None or not _still_running(clocks, action.firing_key):
                # the SLA was removed, or the clock was met or paused meanwhile
                uow.sla_actions.finish(action.id, ActionState.DROPPED)
                continue
            if not uow.sla_actions.finish(action.id, ActionState.DONE):
                continue  # carried out by another sweep
            done += 1
            ticket_type = s.ticket_type(ticket.type_id)
            base = ticket.version
            also: dict[UUID, list[UUID]] = {}
            events = _act(s, ticket, action.rule, action.firing_key, also)
            if events:
                ticket.new_version(events, s.now)
                s.keep_clocks(ticket, [e for e in events if _changes_priority(e)], ticket_type)
                s.uow.tickets.update(ticket, expected_version=base)
                s.record(ticket, events, ticket_type, also=also)
        uow.commit()
        after_commit(uow, s)
    return taken, done
