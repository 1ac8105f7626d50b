"""The ticket domain: values, aggregates, fields, workflows and history events."""

from ticketkit.domain.events import (
    Change,
    CommentAdded,
    Event,
    StatusChanged,
    TicketAssigned,
    TicketChanged,
    TicketCreated,
)
from ticketkit.domain.fields import FieldKind, FieldSpec
from ticketkit.domain.model import (
    Actor,
    Comment,
    FieldValue,
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    Project,
    Role,
    Tenant,
    Ticket,
    TicketType,
    Visibility,
)
from ticketkit.domain.workflow import Status, StatusCategory, Workflow, default_workflow

__all__ = [
    "Actor",
    "Change",
    "Comment",
    "CommentAdded",
    "Event",
    "FieldKind",
    "FieldSpec",
    "FieldValue",
    "Organisation",
    "OrganisationKind",
    "Person",
    "Priority",
    "Project",
    "Role",
    "Status",
    "StatusCategory",
    "StatusChanged",
    "Tenant",
    "Ticket",
    "TicketAssigned",
    "TicketChanged",
    "TicketCreated",
    "TicketType",
    "Visibility",
    "Workflow",
    "default_workflow",
]
