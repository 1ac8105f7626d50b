"""The operations of tickets: open, read, list, change, assign, move between desks,
comment, and their history (``application/tickets.py``, ``desks.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

from ticketkit.application import desks, tickets
from ticketkit.application.operations.base import READ, TICKET_UPDATE, Run, Runner
from ticketkit.application.tickets import TicketUpdate
from ticketkit.application.views import (
    UNSET,
    CommentDraft,
    Page,
    TicketActions,
    TicketSort,
    TicketView,
    TimelineEntry,
    Unset,
)
from ticketkit.domain.model import Actor, Comment, Priority, Visibility


class TicketOperations(Runner):
    """Tickets: open, read, list, change, assign, move, comment, and their history."""

    def create_ticket(
        self,
        actor: Actor,
        *,
        project_id: UUID,
        type_id: UUID,
        title: str,
        description: str | None = None,
        fields: Mapping[str, object] | None = None,
        priority: Priority | str = Priority.NORMAL,
        requester_id: UUID | None = None,
        assignee_id: UUID | None = None,
        channel: str = "api",
        group_id: UUID | Unset | None = UNSET,
    ) -> TicketView:
        """Open a ticket of a type in a project. ``description`` defaults to the type's
        template; ``requester_id`` (someone else), ``assignee_id`` and ``group_id`` are for
        staff. Without ``group_id`` it goes to the oldest group serving the project."""
        return self._run(
            actor,
            Run(write=True, people=(requester_id, assignee_id)),
            tickets.create_ticket,
            project_id=project_id,
            type_id=type_id,
            title=title,
            description=description,
            fields=fields,
            priority=priority,
            requester_id=requester_id,
            assignee_id=assignee_id,
            channel=channel,
            group_id=group_id,
        )

    def get_ticket(self, actor: Actor, ticket_id: UUID) -> TicketView:
        """One ticket as the person may see it; NotFound also when they may not."""
        return self._run(actor, READ, tickets.get_ticket, ticket_id)

    def get_ticket_by_number(self, actor: Actor, project_id: UUID, number: int) -> TicketView:
        """The ticket numbered ``number`` in the project ("#42" in links and mails; numbers
        count per project) as the person may see it; NotFound also when they may not."""
        return self._run(actor, READ, tickets.get_ticket_by_number, project_id, number)

    def list_tickets(
        self,
        actor: Actor,
        *,
        status: str | Iterable[str] | None = None,
        category: str | Iterable[str] | None = None,
        project_id: UUID | None = None,
        assignee_id: UUID | Unset | None = UNSET,
        requester_id: UUID | None = None,
        type_id: UUID | None = None,
        sort: TicketSort | str = TicketSort.NEWEST,
        limit: int = 25,
        cursor: str | None = None,
        group_id: UUID | Unset | None = UNSET,
        sla_due_before: datetime | None = None,
    ) -> Page:
        """The tickets the person may see, filtered and sorted, one keyset page at a time.

        ``assignee_id=None`` lists unassigned tickets, ``group_id=None`` those of no group
        (staff only); ``sla_due_before`` those whose earliest SLA clock breaches by then,
        and ``sort="sla_due"`` the tickets with a running SLA clock, due first on top
        (staff only). Filtering or sorting on what the person may not see is refused
        rather than silently ignored.
        """
        return self._run(
            actor,
            READ,
            tickets.list_tickets,
            status=status,
            category=category,
            project_id=project_id,
            assignee_id=assignee_id,
            requester_id=requester_id,
            type_id=type_id,
            sort=sort,
            limit=limit,
            cursor=cursor,
            group_id=group_id,
            sla_due_before=sla_due_before,
        )

    def update_ticket(
        self,
        actor: Actor,
        ticket_id: UUID,
        *,
        title: str | None = None,
        description: str | None = None,
        priority: Priority | str | None = None,
        fields: Mapping[str, object] | None = None,
        assignee_id: UUID | Unset | None = UNSET,
        status: str | None = None,
        comment: CommentDraft | None = None,
        expected_version: int | None = None,
        group_id: UUID | Unset | None = UNSET,
    ) -> TicketView:
        """Change several things at once, atomically ("update", "update and close").

        Each part needs its own permission; ``None`` (and ``UNSET`` for the assignee) leaves
        a part as it is. With ``expected_version`` a ticket changed by someone else since it
        was read raises ``Conflict`` instead of overwriting.
        """
        return self._run(
            actor,
            TICKET_UPDATE,
            tickets.update_ticket,
            ticket_id,
            TicketUpdate(
                title=title,
                description=description,
                priority=priority,
                fields=fields,
                assignee_id=assignee_id,
                status=status,
                comment=comment,
                expected_version=expected_version,
                group_id=group_id,
            ),
        )

    def assign(
        self,
        actor: Actor,
        ticket_id: UUID,
        assignee_id: UUID | Unset | None = UNSET,
        *,
        group_id: UUID | Unset | None = UNSET,
        comment: CommentDraft | None = None,
        expected_version: int | None = None,
    ) -> TicketView:
        """Give the ticket to an agent (or nobody), to an agent group (or none), or to an
        agent of a group (who must be a member), optionally with a comment."""
        return self._run(
            actor,
            TICKET_UPDATE,
            tickets.update_ticket,
            ticket_id,
            TicketUpdate(
                assignee_id=assignee_id,
                group_id=group_id,
                comment=comment,
                expected_version=expected_version,
            ),
        )

    def move_ticket(
        self,
        actor: Actor,
        ticket_id: UUID,
        project_id: UUID,
        *,
        expected_version: int | None = None,
    ) -> TicketView:
        """Move a ticket to another project of its organisation and to the desk serving it:
        escalate it from a customer's own desk to the provider, or transfer it back."""
        return self._run(
            actor,
            TICKET_UPDATE,
            desks.move_ticket,
            ticket_id,
            project_id,
            expected_version=expected_version,
        )

    def change_status(
        self,
        actor: Actor,
        ticket_id: UUID,
        status: str,
        *,
        comment: CommentDraft | None = None,
        expected_version: int | None = None,
    ) -> TicketView:
        """Move the ticket along its workflow, optionally with a comment in the same step."""
        return self._run(
            actor,
            TICKET_UPDATE,
            tickets.change_status,
            ticket_id,
            status,
            comment=comment,
            expected_version=expected_version,
        )

    def add_comment(
        self,
        actor: Actor,
        ticket_id: UUID,
        body: str,
        *,
        visibility: Visibility | str,
        channel: str = "api",
        expected_version: int | None = None,
    ) -> Comment:
        """Write a public reply or an internal note; returns the stored comment."""
        return self._run(
            actor,
            TICKET_UPDATE,
            tickets.add_comment,
            ticket_id,
            body,
            visibility=visibility,
            channel=channel,
            expected_version=expected_version,
        )

    def ticket_actions(self, actor: Actor, ticket_id: UUID) -> TicketActions:
        """What the actor may do to the ticket now: comment (publicly, internally), move it
        to which statuses, assign it, update which fields. For a UI's buttons."""
        return self._run(actor, READ, tickets.ticket_actions, ticket_id)

    def timeline(self, actor: Actor, ticket_id: UUID) -> list[TimelineEntry]:
        """The ticket's history as this person may see it, oldest first."""
        return self._run(actor, READ, tickets.timeline, ticket_id)


__all__ = ["TicketOperations"]
