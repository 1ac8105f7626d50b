"""Interfaces the core needs from the outside world; adapters implement them."""

from ticketkit.ports.repositories import (
    AccessReader,
    CommentRepository,
    EventRepository,
    FollowerRepository,
    GrantRepository,
    GroupRepository,
    InvitationRepository,
    MembershipRepository,
    NotificationOutbox,
    OrderBy,
    ProjectRepository,
    Repository,
    SettingRepository,
    Storage,
    TicketRepository,
    UnitOfWork,
)
from ticketkit.ports.sla import (
    CalendarRepository,
    DeferredActionRepository,
    SlaPolicyRepository,
    TicketClockRepository,
)

__all__ = [
    "AccessReader",
    "CalendarRepository",
    "CommentRepository",
    "DeferredActionRepository",
    "EventRepository",
    "FollowerRepository",
    "GrantRepository",
    "GroupRepository",
    "InvitationRepository",
    "MembershipRepository",
    "NotificationOutbox",
    "OrderBy",
    "ProjectRepository",
    "Repository",
    "SettingRepository",
    "SlaPolicyRepository",
    "Storage",
    "TicketClockRepository",
    "TicketRepository",
    "UnitOfWork",
]
