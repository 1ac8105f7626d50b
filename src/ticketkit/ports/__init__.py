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

__all__ = [
    "AccessReader",
    "CommentRepository",
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
    "Storage",
    "TicketRepository",
    "UnitOfWork",
]
