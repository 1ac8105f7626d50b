"""What operations take and hand back: projections built from what the policy allows,
drafts, sort orders, and the ``UNSET`` marker.

A ``TicketView`` is never a filtered copy of the full ticket made after the fact; it is
assembled field by field from the viewer's permissions, so a new internal attribute stays
hidden unless a rule lets it through.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, Literal, TypeVar
from uuid import UUID

import attrs

from ticketkit.domain.events import Event, TicketCreated
from ticketkit.domain.fields import FieldSpec
from ticketkit.domain.model import (
    Comment,
    FieldValue,
    Person,
    Priority,
    Role,
    Ticket,
    TicketType,
    Visibility,
)
from ticketkit.domain.workflow import Status, StatusCategory
from ticketkit.policy.rules import Access


class Unset(enum.Enum):
    """The type of ``UNSET``: a keyword argument that was not given, where None is a
    meaningful value (``assignee_id=None`` means "nobody")."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final[Literal[Unset.UNSET]] = Unset.UNSET


@attrs.frozen(kw_only=True)
class TicketView:
    """A ticket as one person may see it.

    For customers ``assignee_id`` and ``group_id`` are None, internal fields are absent,
    ``updated_at`` moves only on public changes and ``comment_count`` counts the comments
    they can read.
    ``version`` counts the history events this person may read: it moves only on changes
    they can see, and it is what they pass back as ``expected_version``.
    """

    id: UUID
    number: int
    project_id: UUID
    type_id: UUID
    title: str
    description: str
    fields: Mapping[str, FieldValue]
    status: str
    status_label: str
    status_category: StatusCategory
    priority: Priority
    requester_id: UUID
    assignee_id: UUID | None
    created_at: datetime
    updated_at: datetime
    version: int
    comment_count: int
    #: The agent group the ticket is with, for those who may see the assignee.
    group_id: UUID | None = None
    #: When its earliest running SLA clock breaches (past: it has), for those who see
    #: internal work; ``ticket_sla`` and ``sla_summaries`` say which clock and how much is left.
    sla_due_at: datetime | None = None


def project_ticket(ticket: Ticket, ticket_type: TicketType, viewer: Access) -> TicketView:
    """Build the view of ``ticket`` for ``viewer``: assignment and internal fields only for
    those who may see them there, and counts (comments, version) of what they may read."""
    internal = viewer.sees_internal_on(ticket.project_id)
    if internal:
        fields = dict(ticket.fields)
    else:
        public = {f.name for f in ticket_type.fields if not f.internal}
        fields = {k: v for k, v in ticket.fields.items() if k in public}
    status = ticket_type.workflow.status(ticket.status)
    return TicketView(
        id=ticket.id,
        number=ticket.number,
        project_id=ticket.project_id,
        type_id=ticket.type_id,
        title=ticket.title,
        description=ticket.description,
        fields=fields,
        status=ticket.status,
        status_label=status.label if status else ticket.status,
        status_category=ticket.status_category,
        priority=ticket.priority,
        requester_id=ticket.requester_id,
        assignee_id=ticket.assignee_id if internal else None,
        group_id=ticket.group_id if internal else None,
        sla_due_at=ticket.sla_due_at if internal else None,
        created_at=ticket.created_at,
        updated_at=ticket.updated_at if internal else ticket.public_updated_at,
        version=viewer.count_events(ticket.event_tally),
        comment_count=viewer.count_comments(ticket.comment_tally),
    )


@attrs.frozen(kw_only=True)
class TicketTypeView:
    """A ticket type as one person may use it: to build a form, and to show statuses.
    ``fields`` are those the person may see (a guest: the public ones), in order."""

    id: UUID
    name: str
    description_template: str
    fields: tuple[FieldSpec, ...]
    statuses: tuple[Status, ...]
    initial_status: str
    #: The organisation whose own type it is (None: the provider's, for everyone).
    organisation_id: UUID | None = None
    #: Whether the organisations below its own may use it too.
    shared: bool = False
    #: Whether its tickets stay inside its organisation (and the provider).
    confidential: bool = False


def project_ticket_type(
    ticket_type: TicketType, viewer: Access, project_id: UUID | None = None
) -> TicketTypeView:
    """``ticket_type`` for ``viewer``: internal fields only for those who may see them (on
    ``project_id``'s tickets, when given; else anywhere)."""
    internal = (
        viewer.sees_internal_on(project_id)
        if project_id is not None
        else viewer.policy.may_see_internal(viewer.viewer)
    )
    return TicketTypeView(
        id=ticket_type.id,
        name=ticket_type.name,
        description_template=ticket_type.description_template,
        fields=tuple(f for f in ticket_type.fields if internal or not f.internal),
        statuses=ticket_type.workflow.statuses,
        initial_status=ticket_type.workflow.initial,
        organisation_id=ticket_type.organisation_id,
        shared=ticket_type.shared,
        confidential=ticket_type.confidential,
    )


@attrs.frozen(kw_only=True)
class TicketActions:
    """What one person may do to one ticket now, for a UI to draw its buttons: the same
    permission checks the operations make, answered ahead."""

    comment_public: bool
    comment_internal: bool
    #: Statuses the ticket may move to now, by this person (empty: no status change).
    statuses: tuple[str, ...]
    assign: bool
    #: What ``update_ticket`` accepts from this person: ``title``, ``description``,
    #: ``priority`` and ``fields.<name>``.
    fields: tuple[str, ...]
    #: Whether ``add_follower`` takes someone from this person: staff add staff; the
    #: requester, or a customer who follows, adds colleagues of her organisation.
    add_followers: bool = False


@attrs.frozen(kw_only=True)
class PersonView:
    """A person as someone else may see them. Customers see the names of the staff on their
    tickets, not the staff directory's e-mail addresses: ``email`` is None then."""

    id: UUID
    organisation_id: UUID
    name: str
    role: Role
    active: bool
    email: str | None


def project_person(person: Person, viewer: Access) -> PersonView:
    """``person`` for ``viewer``: e-mail addresses for staff, and within one's
    organisations."""
    shown = viewer.viewer.is_staff or person.organisation_id in viewer.viewer.organisation_ids
    return PersonView(
        id=person.id,
        organisation_id=person.organisation_id,
        name=person.name,
        role=person.role,
        active=person.active,
        email=person.email if shown else None,
    )


@attrs.frozen(kw_only=True)
class SettingView:
    """One setting as a settings page shows it, for the tenant or for one organisation:
    what it is, its default, the tenant's value and the organisation's own override
    (``UNSET`` where none is stored: None is a value some settings take), and the value
    that counts there. Values are typed (a ``timedelta``, a ``ChildSharing``)."""

    name: str
    #: The value type as the docs name it: ``bool``, ``text``, ``duration``, or an
    #: enumeration's values (``off | read | read_write``).
    type: str
    doc: str
    overridable: bool
    default: Any
    tenant_value: Any = UNSET
    #: The organisation the page is for (None: the tenant's page).
    organisation_id: UUID | None = None
    override: Any = UNSET
    #: The organisation's nearest override up its parents, else the tenant's value, else
    #: the default.
    effective: Any


E = TypeVar("E", bound=Event)


def as_seen(event: E, position: int, reader: Access) -> E:
    """``event`` numbered by its ``position`` among the events of its ticket that one person
    may see: the ticket's own numbering would show gaps where hidden events stand.

    The grant a ticket was opened under (``TicketCreated.grant_id``) is for staff, who see
    who the technical supporter is, and for the supporter's own organisation; the
    project's owner and anyone else see None."""
    if event.seq != position:
        event = attrs.evolve(event, seq=position)
    if (
        isinstance(event, TicketCreated)
        and event.grant_id is not None
        and not reader.viewer.is_staff
        and event.organisation_id not in reader.viewer.organisation_ids
    ):
        event = attrs.evolve(event, grant_id=None)
    return event


@attrs.frozen(kw_only=True)
class Description:
    """One history event as a line of text for one reader, and what a host needs to say
    it in its own language: a stable message ``key`` and its ``params`` (names, labels).

    Names are those of people the reader may look up; a name they may not is None in
    ``params`` and "someone" in ``text``. See ``docs/ui-reads.md`` for every key.
    """

    key: str
    params: Mapping[str, str | int | None]
    #: The English line, e.g. "Tom Berger changed the status from Neu to Gelöst".
    text: str

    def __str__(self) -> str:
        return self.text


@attrs.frozen(kw_only=True)
class TimelineEntry:
    """One history event; ``comment`` is filled for ``CommentAdded``. ``event.seq`` is the
    event's position among those the reader may see (1, 2, 3, …, no gaps).
    ``description`` says what happened in one line, with names the reader may see."""

    event: Event
    comment: Comment | None = None
    description: Description


@attrs.frozen(kw_only=True)
class Page:
    """One page of a keyset-paginated listing; pass ``next_cursor`` to get the next."""

    items: tuple[TicketView, ...]
    next_cursor: str | None


class TicketSort(enum.StrEnum):
    NEWEST = "newest"
    OLDEST = "oldest"
    RECENTLY_UPDATED = "recently_updated"
    LEAST_RECENTLY_UPDATED = "least_recently_updated"
    #: Earliest SLA due time first; only tickets with a running SLA clock, for those who
    #: see internal work.
    SLA_DUE = "sla_due"


@attrs.frozen(kw_only=True)
class CommentDraft:
    """A comment to add as part of another operation ("update and close").

    ``visibility`` has no default on purpose: whether text reaches the customer is always
    an explicit choice.
    """

    body: str
    visibility: Visibility
    channel: str = "api"


@attrs.frozen(kw_only=True)
class NotificationMessage:
    """What a notifier plugin receives: one recipient, one event, both already cleared by
    the policy for that recipient. ``notification_id`` is stable across retries."""

    tenant_id: UUID
    #: The idempotency key: the same on every delivery of this notification (delivery is
    #: at least once), unique to it; a plugin skips keys it has handled.
    notification_id: UUID
    recipient: Person
    event: Event
    ticket: TicketView
    comment: Comment | None = None
