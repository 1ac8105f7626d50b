"""The ticket domain: plain attrs classes with their invariants, no storage, no framework.

Entities that change over time (``Ticket``) are mutable ``attrs.define`` aggregates with a
``version`` for optimistic locking; everything else is a frozen value.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Final, TypedDict
from uuid import UUID

import attrs

from ticketkit.domain.events import (
    Change,
    CommentAdded,
    Event,
    FollowerAdded,
    FollowerRemoved,
    GroupAssigned,
    SlaEscalated,
    SlaLevelReached,
    StatusChanged,
    TicketAssigned,
    TicketChanged,
    TicketCreated,
    TicketMoved,
)
from ticketkit.domain.fields import FieldSpec
from ticketkit.domain.values import FieldValue, OrganisationKind, Priority, Role, Visibility
from ticketkit.domain.workflow import Status, StatusCategory, Workflow
from ticketkit.errors import ValidationError

__all__ = [
    "Actor",
    "Comment",
    "FieldValue",
    "Group",
    "Organisation",
    "OrganisationKind",
    "Person",
    "Priority",
    "Project",
    "Role",
    "Stamp",
    "Tenant",
    "Ticket",
    "TicketType",
    "Visibility",
]


def _aware(instance: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    """Refuse a naive datetime: domain times are instants, compared across time zones."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError.single(attribute.name, "datetimes must be timezone-aware")


def optional_aware(
    instance: object, attribute: attrs.Attribute[datetime | None], value: datetime | None
) -> None:
    """``_aware`` for an optional instant: None passes."""
    if value is not None:
        _aware(instance, attribute, value)  # type: ignore[arg-type]


@attrs.frozen(kw_only=True)
class Tenant:
    """One provider's whole help desk; nothing ever crosses a tenant."""

    id: UUID
    name: str
    created_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class Organisation:
    """The provider, a customer, a partner or a vendor inside a tenant."""

    tenant_id: UUID
    id: UUID
    name: str
    kind: OrganisationKind
    parent_id: UUID | None = None
    created_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class Person:
    """A member of one organisation with one role."""

    tenant_id: UUID
    id: UUID
    organisation_id: UUID
    name: str
    email: str
    role: Role
    active: bool = True
    created_at: datetime = attrs.field(validator=_aware)

    @property
    def actor(self) -> Actor:
        """The reference to pass as the acting person of an operation."""
        return Actor(tenant_id=self.tenant_id, person_id=self.id)


@attrs.frozen(kw_only=True)
class Actor:
    """Who is acting: only ids. Role and access are loaded fresh on every call."""

    tenant_id: UUID
    person_id: UUID


@attrs.frozen(kw_only=True)
class Project:
    """A queue of tickets owned by one organisation; ``number`` counts 1, 2, 3 … per tenant
    (a supporter asks for access to a project by it). The provider's agents serve it,
    unless it is the organisation's ``own_desk``: then the organisation's own agents do
    (seed 002, Taskfire), and a ticket is escalated to the provider by moving it to a
    project the provider serves."""

    tenant_id: UUID
    id: UUID
    organisation_id: UUID
    name: str
    number: int
    created_at: datetime = attrs.field(validator=_aware)
    own_desk: bool = False


@attrs.frozen(kw_only=True)
class Group:
    """A team of agents (people who may be assigned) that serves projects: a new ticket of
    a served project goes to the group, and its members hear of it. The provider's group
    (``organisation_id`` None) has staff and serves projects the provider serves; a
    customer's own group has its agents and serves its own-desk projects."""

    tenant_id: UUID
    id: UUID
    name: str
    member_ids: frozenset[UUID] = frozenset()
    project_ids: frozenset[UUID] = frozenset()
    created_at: datetime = attrs.field(validator=_aware)
    organisation_id: UUID | None = None


@attrs.frozen(kw_only=True)
class TicketType:
    """A kind of ticket: its custom fields, description template and status workflow.

    A type is the provider's, for every organisation (``organisation_id`` None), or one
    organisation's own: used in its projects, and in those of the organisations below it
    when ``shared`` down the tree. A ``confidential`` type is its organisation's alone:
    never shared, and its tickets are read only inside that organisation (and by the
    provider's staff), even by a parent organisation that sees the rest of its projects.
    """

    tenant_id: UUID
    id: UUID
    name: str
    fields: tuple[FieldSpec, ...] = attrs.field(default=())
    description_template: str = ""
    workflow: Workflow
    created_at: datetime = attrs.field(validator=_aware)
    organisation_id: UUID | None = None
    shared: bool = False
    confidential: bool = False

    def __attrs_post_init__(self) -> None:
        if self.confidential and self.organisation_id is None:
            raise ValidationError.single(
                "confidential", "only an organisation's own type can be confidential"
            )
        if self.confidential and self.shared:
            raise ValidationError.single("shared", "a confidential type is never shared")

    @fields.validator
    def _unique_field_names(self, attribute: object, value: tuple[FieldSpec, ...]) -> None:
        """Refuse two fields of one name: values are stored and looked up by name."""
        names = [f.name for f in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValidationError.single("fields", f"duplicate field names {dupes}")

    def field(self, name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None


#: The actor of what ticketkit does by itself (the SLA sweep's warnings, breaches and
#: escalations), acting for the provider organisation: no person has this id.
SYSTEM_ACTOR_ID: Final = UUID(int=0)


@attrs.frozen(kw_only=True)
class Stamp:
    """Who acts, when, and how new ids are made: what every event of one operation shares."""

    actor_id: UUID
    organisation_id: UUID
    at: datetime
    new_id: Callable[[], UUID] = attrs.field(eq=False, repr=False)


class _EventHeader(TypedDict):
    """The attributes every ``Event`` has, typed, so a transition's event is checked whole."""

    tenant_id: UUID
    id: UUID
    ticket_id: UUID
    seq: int
    at: datetime
    actor_id: UUID
    organisation_id: UUID
    visibility: Visibility


@attrs.define(kw_only=True)
class Ticket:
    """The aggregate: one request, its custom field values, status and assignment.

    Its transitions (``open``, ``edit``, ``assign``, ``move_to``, ``add_comment``) apply a
    change and return the history event that records it; the application layer has checked
    permissions and input before calling them. ``public_updated_at`` moves only on changes
    a customer may see, so a guest's "last updated" never reveals internal activity.
    """

    tenant_id: UUID
    id: UUID
    number: int
    project_id: UUID
    type_id: UUID
    title: str
    description: str
    fields: dict[str, FieldValue] = attrs.field(factory=dict)
    status: str
    status_category: StatusCategory
    priority: Priority = Priority.NORMAL
    requester_id: UUID
    assignee_id: UUID | None = None
    created_at: datetime = attrs.field(validator=_aware)
    updated_at: datetime = attrs.field(validator=_aware)
    public_updated_at: datetime = attrs.field(validator=_aware)
    version: int = 1
    event_seq: int = 0
    #: How many comments the ticket has per (visibility, author organisation): an index
    #: that lets the policy count the comments a viewer may read without a query.
    comment_tally: dict[tuple[Visibility, UUID], int] = attrs.field(factory=dict)
    #: How many history events the ticket has per (visibility, actor organisation). A
    #: person's version of the ticket, and an event's position in their timeline, count
    #: only the events they may see (``version`` counts all, for optimistic locking).
    event_tally: dict[tuple[Visibility, UUID], int] = attrs.field(factory=dict)
    #: The agent group the ticket is with (internal, like the assignee).
    group_id: UUID | None = None
    #: When the earliest running SLA clock breaches (past: it has); None without one. Kept
    #: by the SLA capability beside the clocks, so lists sort and filter by it (internal).
    sla_due_at: datetime | None = None

    @classmethod
    def open(
        cls,
        *,
        by: Stamp,
        tenant_id: UUID,
        number: int,
        project_id: UUID,
        ticket_type: TicketType,
        title: str,
        description: str,
        fields: Mapping[str, FieldValue],
        priority: Priority,
        requester_id: UUID,
        assignee_id: UUID | None = None,
        group_id: UUID | None = None,
        routed_by: Stamp | None = None,
        grant_id: UUID | None = None,
    ) -> tuple[Ticket, list[Event]]:
        """A new ticket in the type's initial status, and the events that record it: the
        public ``TicketCreated``, then internal events for internal fields, group and
        assignment. ``routed_by`` stamps the group's assignment when the provider makes
        it for a customer (an internal event is visible inside its stamp's organisation)."""
        status = ticket_type.workflow.status(ticket_type.workflow.initial)
        assert status is not None  # a Workflow's initial status is one of its statuses
        ticket = cls(
            tenant_id=tenant_id,
            id=by.new_id(),
            number=number,
            project_id=project_id,
            type_id=ticket_type.id,
            title=title,
            description=description,
            fields=dict(fields),
            status=status.key,
            status_category=status.category,
            priority=priority,
            requester_id=requester_id,
            created_at=by.at,
            updated_at=by.at,
            public_updated_at=by.at,
        )
        internal = {f.name for f in ticket_type.fields if f.internal}
        events: list[Event] = [
            TicketCreated(
                **ticket._header(by, Visibility.PUBLIC),
                number=number,
                title=title,
                description=description,
                project_id=project_id,
                type_id=ticket_type.id,
                requester_id=requester_id,
                status=status.key,
                priority=priority,
                fields={k: v for k, v in ticket.fields.items() if k not in internal},
                grant_id=grant_id,
            )
        ]
        hidden = [
            Change(field=f"fields.{k}", old=None, new=v)
            for k, v in sorted(ticket.fields.items())
            if k in internal
        ]
        if hidden:
            events.append(ticket._changed(hidden, Visibility.INTERNAL, by))
        if group_id is not None:
            events.append(ticket.assign_group(group_id, by=routed_by or by))
        if assignee_id is not None:
            events.append(ticket.assign(assignee_id, by=by))
        return ticket, events

    def edit(self, changes: Sequence[Change], visibility: Visibility, *, by: Stamp) -> Event:
        """Apply ``changes`` to the title, description, priority or custom fields
        (``fields.<name>``; a ``new`` of None clears the field) and record them."""
        for change in changes:
            name = change.field
            if name.startswith("fields."):
                key = name.removeprefix("fields.")
                if change.new is None:
                    self.fields.pop(key, None)
                else:
                    self.fields[key] = change.new
            elif name == "priority":
                self.priority = Priority(str(change.new))
            elif name in ("title", "description") and isinstance(change.new, str):
                setattr(self, name, change.new)
            else:
                raise ValidationError.single(name, "cannot be changed this way")
        return self._changed(changes, visibility, by)

    def assign(self, assignee_id: UUID | None, *, by: Stamp) -> TicketAssigned:
        """Give the ticket to ``assignee_id`` (None: nobody); assignment is internal."""
        event = TicketAssigned(
            **self._header(by, Visibility.INTERNAL),
            old_assignee_id=self.assignee_id,
            new_assignee_id=assignee_id,
        )
        self.assignee_id = assignee_id
        return event

    def move(self, project_id: UUID, number: int, *, by: Stamp) -> TicketMoved:
        """Move to ``project_id`` as its ticket ``number`` and record the public move."""
        event = TicketMoved(
            **self._header(by, Visibility.PUBLIC),
            old_project_id=self.project_id,
            new_project_id=project_id,
            old_number=self.number,
            new_number=number,
        )
        self.project_id, self.number = project_id, number
        return event

    def assign_group(self, group_id: UUID | None, *, by: Stamp) -> GroupAssigned:
        """Give the ticket to the agent group ``group_id`` (None: no group); internal."""
        event = GroupAssigned(
            **self._header(by, Visibility.INTERNAL),
            old_group_id=self.group_id,
            new_group_id=group_id,
        )
        self.group_id = group_id
        return event

    def follow(self, person_id: UUID, visibility: Visibility, *, by: Stamp) -> FollowerAdded:
        """Record that ``person_id`` follows the ticket (the follower list is stored beside
        the ticket); ``visibility`` is the follower's: internal for staff."""
        return FollowerAdded(**self._header(by, visibility), person_id=person_id)

    def unfollow(self, person_id: UUID, visibility: Visibility, *, by: Stamp) -> FollowerRemoved:
        """Record that ``person_id`` no longer follows the ticket."""
        return FollowerRemoved(**self._header(by, visibility), person_id=person_id)

    def move_to(self, status: Status, *, by: Stamp) -> StatusChanged:
        """Move to ``status`` (the workflow allowed it) and record the public change."""
        event = StatusChanged(
            **self._header(by, Visibility.PUBLIC),
            old_status=self.status,
            new_status=status.key,
            new_category=status.category,
        )
        self.status, self.status_category = status.key, status.category
        return event

    def add_comment(
        self, body: str, visibility: Visibility, channel: str, *, by: Stamp
    ) -> tuple[Comment, CommentAdded]:
        """Write a comment as ``by``'s author, count it in the tally, and record it with the
        comment's own visibility."""
        comment = Comment(
            tenant_id=self.tenant_id,
            id=by.new_id(),
            ticket_id=self.id,
            author_id=by.actor_id,
            organisation_id=by.organisation_id,
            body=body,
            visibility=visibility,
            channel=channel,
            created_at=by.at,
        )
        key = (visibility, by.organisation_id)
        self.comment_tally[key] = self.comment_tally.get(key, 0) + 1
        event = CommentAdded(
            **self._header(by, visibility),
            comment_id=comment.id,
            channel=channel,
        )
        return comment, event

    def reach_sla_level(
        self,
        *,
        policy_id: UUID,
        metric: str,
        cycle: int,
        level: str,
        percent: int | None,
        reached_at: datetime,
        by: Stamp,
    ) -> SlaLevelReached:
        """Record that an SLA clock reached a warning level or breached; internal."""
        return SlaLevelReached(
            **self._header(by, Visibility.INTERNAL),
            policy_id=policy_id,
            metric=metric,
            cycle=cycle,
            level=level,
            percent=percent,
            reached_at=reached_at,
        )

    def escalate(
        self, firing_key: str, *, person_id: UUID | None, group_id: UUID | None, by: Stamp
    ) -> SlaEscalated:
        """Record that an SLA escalation rule told a person or a group; internal."""
        return SlaEscalated(
            **self._header(by, Visibility.INTERNAL),
            firing_key=firing_key,
            person_id=person_id,
            group_id=group_id,
        )

    def new_version(self, events: Iterable[Event], at: datetime) -> None:
        """Close one operation's changes: one version more, ``updated_at`` moves, and
        ``public_updated_at`` too when any of ``events`` is public."""
        self.version += 1
        self.updated_at = at
        if any(e.visibility is Visibility.PUBLIC for e in events):
            self.public_updated_at = at

    def copy(self) -> Ticket:
        """An independent copy (its containers too): what an adapter hands out on a read,
        so a caller's changes reach storage only through ``update``."""
        made = copy.copy(self)
        made.fields = dict(self.fields)
        made.comment_tally = dict(self.comment_tally)
        made.event_tally = dict(self.event_tally)
        return made

    def _header(self, by: Stamp, visibility: Visibility) -> _EventHeader:
        """What every event of this ticket starts with; numbers the event."""
        self.event_seq += 1
        group = (visibility, by.organisation_id)
        self.event_tally[group] = self.event_tally.get(group, 0) + 1
        return _EventHeader(
            tenant_id=self.tenant_id,
            id=by.new_id(),
            ticket_id=self.id,
            seq=self.event_seq,
            at=by.at,
            actor_id=by.actor_id,
            organisation_id=by.organisation_id,
            visibility=visibility,
        )

    def _changed(
        self, changes: Sequence[Change], visibility: Visibility, by: Stamp
    ) -> TicketChanged:
        return TicketChanged(
            **self._header(by, visibility),
            changes=tuple(changes),
        )


@attrs.frozen(kw_only=True)
class Comment:
    """A public reply or an internal note, never edited after it is written."""

    tenant_id: UUID
    id: UUID
    ticket_id: UUID
    author_id: UUID
    #: The author's organisation when writing; ``INTERNAL`` comments are visible only there.
    organisation_id: UUID
    body: str
    visibility: Visibility
    channel: str = "api"
    created_at: datetime = attrs.field(validator=_aware)
