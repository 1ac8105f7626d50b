"""ticketkit: an embeddable, typed help-desk core.

The names a host app needs most are re-exported here; everything else lives in its layer
(``domain``, ``policy``, ``ports``, ``adapters``, ``application``, ``hooks``).
"""

from ticketkit.application import (
    UNSET,
    Batch,
    Bootstrap,
    CommentDraft,
    HelpDesk,
    NotificationMessage,
    Page,
    TicketSort,
    TicketView,
    TimelineEntry,
)
from ticketkit.clock import Clock, ManualClock, SystemClock
from ticketkit.domain import (
    Actor,
    FieldKind,
    FieldSpec,
    OrganisationKind,
    Priority,
    Role,
    Status,
    StatusCategory,
    Visibility,
    Workflow,
)
from ticketkit.errors import (
    Conflict,
    FieldError,
    NotFound,
    PermissionDenied,
    TicketkitError,
    ValidationError,
)
from ticketkit.hooks import Plugins, Signals, hookimpl

__all__ = [
    "UNSET",
    "Actor",
    "Batch",
    "Bootstrap",
    "Clock",
    "CommentDraft",
    "Conflict",
    "FieldError",
    "FieldKind",
    "FieldSpec",
    "HelpDesk",
    "ManualClock",
    "NotFound",
    "NotificationMessage",
    "OrganisationKind",
    "Page",
    "PermissionDenied",
    "Plugins",
    "Priority",
    "Role",
    "Signals",
    "Status",
    "StatusCategory",
    "SystemClock",
    "TicketSort",
    "TicketView",
    "TicketkitError",
    "TimelineEntry",
    "ValidationError",
    "Visibility",
    "Workflow",
    "hookimpl",
]
