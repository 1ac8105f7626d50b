"""The application layer: the ``HelpDesk`` entry object, its operations and projections."""

from ticketkit.application.desk import UNSET, Batch, Bootstrap, HelpDesk
from ticketkit.application.views import (
    CommentDraft,
    NotificationMessage,
    Page,
    TicketSort,
    TicketView,
    TimelineEntry,
)

__all__ = [
    "UNSET",
    "Batch",
    "Bootstrap",
    "CommentDraft",
    "HelpDesk",
    "NotificationMessage",
    "Page",
    "TicketSort",
    "TicketView",
    "TimelineEntry",
]
