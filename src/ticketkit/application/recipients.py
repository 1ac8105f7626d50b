"""Who hears of what: the recipients of an event, each passing the same visibility policy
as a read would, and a notification prepared for delivery with everything it needs.

Recipients are chosen inside the operation's unit of work (``Session.record``), so the
outbox row commits with the change. ``delivery`` has each checked again here against the
state at that later time: when it delivers (``recheck``) and when it retries a row
(``reload``), so every step a notification takes goes through the same read policy.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TypeVar
from uuid import UUID

import attrs

from ticketkit.application.views import as_seen
from ticketkit.clock import Clock
from ticketkit.domain.events import CommentAdded, Event, TicketAssigned
from ticketkit.domain.model import Comment, Person, Ticket, TicketType
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.policy.rules import Access, Policy
from ticketkit.ports.repositories import Storage, UnitOfWork


def may_receive(recipient: Access, ticket: Ticket, event: Event) -> bool:
    """The notification rule *is* the read rule: the ticket and the event must be visible."""
    return recipient.reads("tickets", ticket) and recipient.reads("events", event)


def recipients(
    ticket: Ticket,
    event: Event,
    *,
    followers: Iterable[UUID] = (),
    group_members: Iterable[UUID] = (),
) -> list[UUID]:
    """Who may hear of ``event``: requester and assignee (old and new, for an assignment),
    the ticket's ``followers``, and ``group_members`` (``Session.record`` passes the members
    of the ticket's group for the event that brought an unassigned ticket to it: a new
    ticket, or one moved to the group); never its actor. Each must still pass
    ``may_receive``."""
    candidates = [ticket.requester_id, ticket.assignee_id]
    if isinstance(event, TicketAssigned):
        candidates += [event.old_assignee_id, event.new_assignee_id]
    candidates += followers
    candidates += group_members
    seen: set[UUID] = {event.actor_id}
    found = []
    for person_id in candidates:
        if person_id is not None and person_id not in seen:
            seen.add(person_id)
            found.append(person_id)
    return found


@attrs.frozen(kw_only=True)
class Prepared:
    """A notification with everything needed to deliver it, as checked in its transaction."""

    notification: Notification
    recipient: Access
    event: Event
    ticket: Ticket
    ticket_type: TicketType
    comment: Comment | None


_T = TypeVar("_T")


def by_tenant(items: Iterable[_T], tenant_of: Callable[[_T], UUID]) -> dict[UUID, list[_T]]:
    """``items`` grouped by tenant, each group in the items' order."""
    groups: dict[UUID, list[_T]] = {}
    for item in items:
        groups.setdefault(tenant_of(item), []).append(item)
    return groups


def recheck(
    prepared: list[Prepared], now: datetime, *, storage: Storage, policy: Policy
) -> tuple[list[Prepared], list[Notification]]:
    """Check every recipient again against the state at delivery, not only when the
    notification was written: someone deactivated or moved out of access since (a
    follower, say) gets nothing, and the row is marked dropped. One read per tenant.
    Returns the deliveries that may go, in order, each with its recipient's current
    access, and the dropped rows."""
    current: dict[UUID, Access | None] = {}
    for tenant_id, items in by_tenant(prepared, lambda p: p.notification.tenant_id).items():
        with storage.unit_of_work(tenant_id, read_only=True) as uow:
            found = uow.access.people({item.notification.recipient_id for item in items})
            for item in items:
                ident = item.notification.recipient_id
                if ident not in current:
                    current[ident] = _access_now(policy, item.recipient, found.get(ident), uow, now)
    ready: list[Prepared] = []
    dropped: list[Notification] = []
    for item in prepared:
        access = current[item.notification.recipient_id]
        if (
            access is None
            or not may_receive(access, item.ticket, item.event)
            or (item.comment is not None and not access.reads("comments", item.comment))
        ):
            dropped.append(
                attrs.evolve(item.notification, status=DeliveryStatus.DROPPED, updated_at=now)
            )
        else:
            ready.append(attrs.evolve(item, recipient=access))
    return ready, dropped


def _access_now(
    policy: Policy, then: Access, person: Person | None, uow: UnitOfWork, now: datetime
) -> Access | None:
    """``person``'s access now, or None when gone or deactivated. When it resolves to
    what it was when the notification was written (the same person and viewer), that
    ``Access`` serves again, with the rules it has built already."""
    if person is None or not person.active:
        return None
    viewer = policy.viewer(person, uow.access, now)
    if person == then.person and viewer == then.viewer:
        return then
    return Access(policy, person, viewer)


def reload(
    uow: UnitOfWork,
    note: Notification,
    people: dict[UUID, Access | None],
    *,
    policy: Policy,
    clock: Clock,
) -> Prepared | None:
    """Rebuild a delivery from storage (``Dispatcher.retry``), or None when the recipient
    may no longer see it; ``people`` keeps each recipient's access for the call."""
    if note.recipient_id not in people:
        person = uow.access.people([note.recipient_id]).get(note.recipient_id)
        people[note.recipient_id] = (
            policy.access(person, uow.access, clock.now())
            if person is not None and person.active
            else None
        )
    recipient = people[note.recipient_id]
    event = uow.events.get(note.event_id)
    ticket = uow.tickets.get(note.ticket_id)
    if recipient is None or event is None or ticket is None:
        return None
    if not may_receive(recipient, ticket, event):
        return None
    visible = uow.events.for_ticket(ticket.id, recipient.events)
    event = as_seen(event, sum(1 for e in visible if e.seq <= event.seq), recipient)
    ticket_type = uow.ticket_types.get(ticket.type_id)
    comment = None
    if isinstance(event, CommentAdded):
        comment = uow.comments.get(event.comment_id)
        if comment is None or not recipient.reads("comments", comment):
            return None
    if ticket_type is None:
        return None
    return Prepared(
        notification=note,
        recipient=recipient,
        event=event,
        ticket=ticket,
        ticket_type=ticket_type,
        comment=comment,
    )


__all__ = ["Prepared", "by_tenant", "may_receive", "recheck", "recipients", "reload"]
