"""Who hears of what: the recipients of an event, each passing the same visibility policy
as a read would, and a notification prepared for delivery with everything it needs.

Recipients are chosen inside the operation's unit of work (``Session.record``), so the
outbox row commits with the change; ``delivery`` checks them again when it delivers.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import attrs

from ticketkit.domain.events import Event, TicketAssigned
from ticketkit.domain.model import Comment, Ticket, TicketType
from ticketkit.domain.notifications import Notification
from ticketkit.policy.rules import Access


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


__all__ = ["Prepared", "may_receive", "recipients"]
