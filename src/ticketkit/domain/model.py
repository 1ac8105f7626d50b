"""The ticket domain: plain attrs classes with their invariants, no storage, no framework.

Entities that change over time (``Ticket``) are mutable ``attrs.define`` aggregates with a
``version`` for optimistic locking; everything else is a frozen value.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from ticketkit.domain.fields import FieldSpec
from ticketkit.domain.workflow import StatusCategory, Workflow
from ticketkit.errors import ValidationError

#: A custom field value: text or single choice (str), number (Decimal), date,
#: or multiple choice (tuple of str).
FieldValue = str | Decimal | date | tuple[str, ...]


def _aware(instance: object, attribute: attrs.Attribute[datetime], value: datetime) -> None:
    """Refuse a naive datetime: domain times are instants, compared across time zones."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError.single(attribute.name, "datetimes must be timezone-aware")


class OrganisationKind(enum.StrEnum):
    """What an organisation is to the tenant's provider."""

    PROVIDER = "provider"
    CUSTOMER = "customer"
    PARTNER = "partner"
    VENDOR = "vendor"


class Role(enum.StrEnum):
    """What a person may do; the policy maps roles to permissions."""

    ADMIN = "admin"
    AGENT = "agent"
    LIGHT_AGENT = "light_agent"
    CUSTOMER_ADMIN = "customer_admin"
    GUEST = "guest"

    @property
    def is_staff(self) -> bool:
        """Staff work for the provider and read every ticket of the tenant."""
        return self in (Role.ADMIN, Role.AGENT, Role.LIGHT_AGENT)


class Priority(enum.StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Visibility(enum.StrEnum):
    """Who may read a comment or an event.

    ``INTERNAL`` means internal to the *author's organisation*, not "staff only": a customer's
    own help desk can keep notes from the provider the same way the provider keeps them from
    the customer.
    """

    PUBLIC = "public"
    INTERNAL = "internal"


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
    """A queue of tickets owned by one organisation."""

    tenant_id: UUID
    id: UUID
    organisation_id: UUID
    name: str
    created_at: datetime = attrs.field(validator=_aware)


@attrs.frozen(kw_only=True)
class TicketType:
    """A kind of ticket: its custom fields, description template and status workflow."""

    tenant_id: UUID
    id: UUID
    name: str
    fields: tuple[FieldSpec, ...] = attrs.field(default=())
    description_template: str = ""
    workflow: Workflow
    created_at: datetime = attrs.field(validator=_aware)

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


@attrs.define(kw_only=True)
class Ticket:
    """The aggregate: one request, its custom field values, status and assignment.

    ``public_updated_at`` moves only on changes a customer may see, so a guest's
    "last updated" never reveals internal activity.
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

    def next_seq(self) -> int:
        """Number the next history event of this ticket."""
        self.event_seq += 1
        return self.event_seq

    def tally_comment(self, comment: Comment) -> None:
        key = (comment.visibility, comment.organisation_id)
        self.comment_tally[key] = self.comment_tally.get(key, 0) + 1

    def copy(self) -> Ticket:
        """An independent copy (the mutable containers are copied too).

        Copies slot by slot instead of through ``__init__``: the source already passed the
        validators, and adapters copy tickets on every read and write.
        """
        return _copy_ticket(self)


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


def _ticket_copier(containers: frozenset[str]) -> Callable[[Ticket], Ticket]:
    """One generated function copying a ticket slot by slot (``containers`` get a shallow
    copy of their own). Straight-line code through the slots' descriptors takes half the
    time of a loop over the field names."""
    namespace: dict[str, Any] = {"new": object.__new__, "cls": Ticket}
    lines = ["def copy(self):", "    made = new(cls)"]
    for i, name in enumerate(attrs.fields_dict(Ticket)):
        namespace[f"set{i}"] = Ticket.__dict__[name].__set__
        value = f"self.{name}"
        lines.append(f"    set{i}(made, {f'dict({value})' if name in containers else value})")
    exec("\n".join([*lines, "    return made"]), namespace)
    copy: Callable[[Ticket], Ticket] = namespace["copy"]
    return copy


_copy_ticket = _ticket_copier(frozenset({"fields", "comment_tally"}))
