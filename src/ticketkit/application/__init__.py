"""The application layer: the ``HelpDesk`` façade, one module per capability, the per-call
``Session`` they run in, and the projections they hand back."""

from ticketkit.application.delivery import DeliveryMode
from ticketkit.application.descriptions import DESCRIPTION_TEMPLATES
from ticketkit.application.desk import Batch, HelpDesk
from ticketkit.application.directory import Bootstrap, SeatReport
from ticketkit.application.grants import GrantOfferMessage, GrantOfferSent, GrantOverview
from ticketkit.application.invitations import InvitationMessage, InvitationSent, InvitationView
from ticketkit.application.json_data import make_view_converter, to_json_data
from ticketkit.application.memberships import MembershipView
from ticketkit.application.views import (
    UNSET,
    CommentDraft,
    Description,
    NotificationMessage,
    Page,
    PersonView,
    SettingView,
    TicketActions,
    TicketSort,
    TicketTypeView,
    TicketView,
    TimelineEntry,
    Unset,
)

__all__ = [
    "DESCRIPTION_TEMPLATES",
    "UNSET",
    "Batch",
    "Bootstrap",
    "CommentDraft",
    "DeliveryMode",
    "Description",
    "GrantOfferMessage",
    "GrantOfferSent",
    "GrantOverview",
    "HelpDesk",
    "InvitationMessage",
    "InvitationSent",
    "InvitationView",
    "MembershipView",
    "NotificationMessage",
    "Page",
    "PersonView",
    "SeatReport",
    "SettingView",
    "TicketActions",
    "TicketSort",
    "TicketTypeView",
    "TicketView",
    "TimelineEntry",
    "Unset",
    "make_view_converter",
    "to_json_data",
]
