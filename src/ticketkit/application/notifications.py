"""Who hears of what, and getting it to them.

Recipients are chosen inside the unit of work (so the outbox row commits with the change)
and every recipient passes the same visibility policy as a read would. Delivery runs after
the commit, checks the policy again against current state, isolates plugin failures and
leaves failed rows for ``retry``.
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Iterator
from datetime import datetime
from uuid import UUID

import attrs

from ticketkit.application.views import NotificationMessage, project_ticket
from ticketkit.clock import Clock
from ticketkit.domain.events import CommentAdded, Event, TicketAssigned
from ticketkit.domain.model import Person, Ticket
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.hooks.plugins import Plugins
from ticketkit.hooks.signals import Signals
from ticketkit.policy.predicates import Eq, In, all_of, evaluate
from ticketkit.policy.rules import Policy, Viewer
from ticketkit.ports.repositories import Storage, UnitOfWork

log = logging.getLogger("ticketkit.notifications")


class RecipientResolver:
    """Picks the people to notify of an event: requester and assignee (old and new, for an
    assignment), never the actor, and only those the policy lets see the event."""

    def __init__(self, policy: Policy, new_id: Callable[[], UUID]) -> None:
        self._policy = policy
        self._new_id = new_id
        # Viewers are cached per unit of work only: access is decided from current state.
        self._viewers: weakref.WeakKeyDictionary[
            UnitOfWork, dict[UUID, tuple[Person, Viewer] | None]
        ] = weakref.WeakKeyDictionary()

    def forget(self) -> None:
        """Drop cached viewers (after the directory changed)."""
        self._viewers.clear()

    def _viewer(self, uow: UnitOfWork, person_id: UUID) -> tuple[Person, Viewer] | None:
        cache = self._viewers.setdefault(uow, {})
        if person_id not in cache:
            person = uow.persons.get(person_id)
            cache[person_id] = (
                (person, self._policy.viewer(person, uow))
                if person is not None and person.active
                else None
            )
        return cache[person_id]

    def for_event(
        self, uow: UnitOfWork, ticket: Ticket, event: Event, now: datetime
    ) -> Iterator[Notification]:
        candidates = [ticket.requester_id, ticket.assignee_id]
        if isinstance(event, TicketAssigned):
            candidates += [event.old_assignee_id, event.new_assignee_id]
        seen: set[UUID] = {event.actor_id}
        for person_id in candidates:
            if person_id is None or person_id in seen:
                continue
            seen.add(person_id)
            found = self._viewer(uow, person_id)
            if found is None:
                continue
            _, viewer = found
            if may_receive(self._policy, viewer, ticket, event):
                yield Notification(
                    tenant_id=ticket.tenant_id,
                    id=self._new_id(),
                    event_id=event.id,
                    ticket_id=ticket.id,
                    recipient_id=person_id,
                    created_at=now,
                    updated_at=now,
                )


def may_receive(policy: Policy, viewer: Viewer, ticket: Ticket, event: Event) -> bool:
    """The notification rule *is* the read rule: the ticket and the event must be visible."""
    return evaluate(policy.tickets(viewer), ticket) and evaluate(policy.events(viewer), event)


@attrs.define
class Dispatcher:
    """After a commit: fire signals, then deliver the new notifications."""

    storage: Storage
    policy: Policy
    clock: Clock
    plugins: Plugins
    signals: Signals
    sender: object
    max_attempts: int = 5

    def after_commit(self, uow: UnitOfWork) -> None:
        events, notes = list(uow.new_events), list(uow.new_notifications)
        uow.new_events.clear()
        uow.new_notifications.clear()
        for event in events:
            self.signals.send(self.signals.event_recorded, self.sender, event=event)
        if notes:
            by_id = {e.id: e for e in events}
            try:
                self._deliver(uow.tenant_id, notes, by_id)
            except Exception:
                # The change is committed and the outbox rows with it; retry() picks them up.
                log.exception("delivering %d notifications failed; left for retry", len(notes))

    def retry(self, tenant_id: UUID, *, limit: int) -> int:
        """Deliver notifications still pending or failed fewer than ``max_attempts`` times."""
        with self.storage.unit_of_work(tenant_id) as uow:
            due = uow.outbox.list(
                all_of(
                    Eq("tenant_id", tenant_id),
                    In("status", frozenset({DeliveryStatus.PENDING, DeliveryStatus.FAILED})),
                ),
                limit,
            )
        due = [n for n in due if n.attempts < self.max_attempts]
        if due:
            self._deliver(tenant_id, due, {})
        return len(due)

    def _deliver(
        self, tenant_id: UUID, notes: list[Notification], events: dict[UUID, Event]
    ) -> None:
        has_notifiers = bool(self.plugins.manager.hook.ticketkit_notify.get_hookimpls())
        with self.storage.unit_of_work(tenant_id) as uow:
            viewers: dict[UUID, tuple[Person, Viewer] | None] = {}
            for note in notes:
                outcome = self._deliver_one(uow, note, events, viewers, has_notifiers)
                uow.outbox.save(outcome)
            uow.commit()

    def _deliver_one(
        self,
        uow: UnitOfWork,
        note: Notification,
        events: dict[UUID, Event],
        viewers: dict[UUID, tuple[Person, Viewer] | None],
        has_notifiers: bool,
    ) -> Notification:
        now = self.clock.now()
        if note.recipient_id not in viewers:
            person = uow.persons.get(note.recipient_id)
            viewers[note.recipient_id] = (
                (person, self.policy.viewer(person, uow))
                if person is not None and person.active
                else None
            )
        found = viewers[note.recipient_id]
        event = events.get(note.event_id) or uow.events.get(note.event_id)
        ticket = uow.tickets.get(note.ticket_id)
        if found is None or event is None or ticket is None:
            return attrs.evolve(note, status=DeliveryStatus.DROPPED, updated_at=now)
        person, viewer = found
        # Access is checked again at delivery: it may have been revoked since the commit.
        if not may_receive(self.policy, viewer, ticket, event):
            return attrs.evolve(note, status=DeliveryStatus.DROPPED, updated_at=now)
        if not has_notifiers:
            return attrs.evolve(note, status=DeliveryStatus.DELIVERED, updated_at=now)
        ticket_type = uow.ticket_types.get(ticket.type_id)
        assert ticket_type is not None
        comment = None
        if isinstance(event, CommentAdded):
            comment = uow.comments.get(event.comment_id)
            if comment is None or not evaluate(self.policy.comments(viewer), comment):
                return attrs.evolve(note, status=DeliveryStatus.DROPPED, updated_at=now)
        counts = uow.comments.count_by_ticket([ticket.id], self.policy.comments(viewer))
        message = NotificationMessage(
            tenant_id=note.tenant_id,
            notification_id=note.id,
            recipient=person,
            event=event,
            ticket=project_ticket(
                ticket,
                ticket_type,
                internal=self.policy.may_see_internal(viewer),
                comment_count=counts.get(ticket.id, 0),
            ),
            comment=comment,
        )
        delivered, failures = self.plugins.notify(message, skip=note.delivered_to)
        delivered_to = (*note.delivered_to, *delivered)
        if failures:
            failed = attrs.evolve(
                note,
                delivered_to=delivered_to,
                status=DeliveryStatus.FAILED,
                attempts=note.attempts + 1,
                last_error="; ".join(f"{f.plugin}: {f.error}" for f in failures)[:2000],
                updated_at=now,
            )
            self.signals.send(
                self.signals.notification_failed, self.sender, notification=failed,
                failures=failures,
            )
            return failed
        return attrs.evolve(
            note,
            delivered_to=delivered_to,
            status=DeliveryStatus.DELIVERED,
            attempts=note.attempts + 1,
            last_error=None,
            updated_at=now,
        )
