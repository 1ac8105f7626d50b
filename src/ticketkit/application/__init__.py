"""The application layer: the ``HelpDesk`` façade, one module per capability, the per-call
``Session`` they run in, and the projections they hand back."""

from ticketkit.application.delivery import DeliveryMode
from ticketkit.application.desk import Batch, HelpDesk
from ticketkit.application.directory import Bootstrap
from ticketkit.application.views import (
    UNSET,
    CommentDraft,
    NotificationMessage,
    Page,
    PersonView,
    TicketActions,
    TicketSort,
    TicketTypeView,
    TicketView,
    TimelineEntry,
    Unset,
)

__all__ = [
    "UNSET",
    "Batch",
    "Bootstrap",
    "CommentDraft",
    "DeliveryMode",
    "HelpDesk",
    "NotificationMessage",
    "Page",
    "PersonView",
    "TicketActions",
    "TicketSort",
    "TicketTypeView",
    "TicketView",
    "TimelineEntry",
    "Unset",
]
