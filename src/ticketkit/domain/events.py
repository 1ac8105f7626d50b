"""The append-only history: one event per change, each with actor, time and visibility.

Events are past tense and frozen. An operation that touches public and internal data
emits separate events, so no public event ever carries internal text.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar
from uuid import UUID

import attrs

from ticketkit.domain.values import FieldValue, Priority, Visibility
from ticketkit.domain.workflow import StatusCategory


@attrs.frozen(kw_only=True)
class Event:
    """What every history entry has. ``organisation_id`` is the actor's organisation:
    an ``INTERNAL`` event is visible only inside it."""

    kind: ClassVar[str] = "event"

    tenant_id: UUID
    id: UUID
    ticket_id: UUID
    seq: int
    at: datetime
    actor_id: UUID
    organisation_id: UUID
    visibility: Visibility


@attrs.frozen(kw_only=True)
class TicketCreated(Event):
    kind: ClassVar[str] = "ticket_created"

    number: int
    title: str
    description: str
    project_id: UUID
    type_id: UUID
    requester_id: UUID
    status: str
    priority: Priority
    #: Only the public field values; internal ones follow in an internal ``TicketChanged``.
    fields: Mapping[str, FieldValue] = attrs.field(factory=dict)
    #: The delegation grant the requester read the project through, if she did (a technical
    #: supporter's ticket); shown to staff and the supporter's organisation only.
    grant_id: UUID | None = None


@attrs.frozen(kw_only=True)
class Change:
    """One attribute or custom field going from ``old`` to ``new``."""

    field: str
    old: FieldValue | None
    new: FieldValue | None


@attrs.frozen(kw_only=True)
class TicketChanged(Event):
    kind: ClassVar[str] = "ticket_changed"

    changes: tuple[Change, ...]


@attrs.frozen(kw_only=True)
class TicketAssigned(Event):
    kind: ClassVar[str] = "ticket_assigned"

    old_assignee_id: UUID | None
    new_assignee_id: UUID | None


@attrs.frozen(kw_only=True)
class StatusChanged(Event):
    kind: ClassVar[str] = "status_changed"

    old_status: str
    new_status: str
    new_category: StatusCategory


@attrs.frozen(kw_only=True)
class CommentAdded(Event):
    kind: ClassVar[str] = "comment_added"

    comment_id: UUID
    channel: str


@attrs.frozen(kw_only=True)
class GroupAssigned(Event):
    """The ticket went to another agent group (or to none); internal, like assignment."""

    kind: ClassVar[str] = "group_assigned"

    old_group_id: UUID | None
    new_group_id: UUID | None


@attrs.frozen(kw_only=True)
class TicketMoved(Event):
    """The ticket moved to another project of its organisation, and with it to the desk
    that serves that project: escalated from a customer's own desk to the provider, or
    transferred back (seed 002). Public: the requester sees who works her ticket now. It
    keeps its history and takes the next number of the new project."""

    kind: ClassVar[str] = "ticket_moved"

    old_project_id: UUID
    new_project_id: UUID
    old_number: int
    new_number: int


@attrs.frozen(kw_only=True)
class FollowerAdded(Event):
    """Someone follows the ticket from now on: public for a customer follower, internal
    for a staff follower (customers never learn which agents watch a ticket)."""

    kind: ClassVar[str] = "follower_added"

    person_id: UUID


@attrs.frozen(kw_only=True)
class FollowerRemoved(Event):
    """Someone stopped following the ticket; visible as their ``FollowerAdded`` was."""

    kind: ClassVar[str] = "follower_removed"

    person_id: UUID


@attrs.frozen(kw_only=True)
class SlaLevelReached(Event):
    """An SLA clock reached a warning level or breached (``docs/sla.md``): recorded once per
    ticket and ``key`` by the SLA sweep, internal to the provider. ``reached_at`` is the
    exact instant; the event's own ``at`` is when the sweep recorded it."""

    kind: ClassVar[str] = "sla_level_reached"

    policy_id: UUID
    metric: str
    cycle: int
    level: str
    percent: int | None
    reached_at: datetime

    @property
    def key(self) -> str:
        """``<metric>:<cycle>:<level>[:<percent>]``, unique per ticket."""
        tail = f":{self.percent}" if self.percent is not None else ""
        return f"{self.metric}:{self.cycle}:{self.level}{tail}"


@attrs.frozen(kw_only=True)
class SlaEscalated(Event):
    """An SLA escalation rule told people of a warning or breach (``firing_key``): a person,
    or the members of a group. Internal; the people told are notified of this event."""

    kind: ClassVar[str] = "sla_escalated"

    firing_key: str
    person_id: UUID | None = None
    group_id: UUID | None = None


EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls
    for cls in (
        TicketCreated,
        TicketChanged,
        TicketAssigned,
        StatusChanged,
        CommentAdded,
        GroupAssigned,
        TicketMoved,
        FollowerAdded,
        FollowerRemoved,
        SlaLevelReached,
        SlaEscalated,
    )
}
