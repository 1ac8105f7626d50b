"""The operations of agent groups and ticket followers (``application/groups.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from ticketkit.application import groups
from ticketkit.application.operations.base import READ, WRITE, Run, Runner
from ticketkit.application.views import PersonView
from ticketkit.domain.model import Actor, Group


class GroupOperations(Runner):
    """Agent groups and the followers of a ticket."""

    def create_group(
        self,
        actor: Actor,
        *,
        name: str,
        member_ids: Iterable[UUID] = (),
        project_ids: Iterable[UUID] = (),
        organisation_id: UUID | None = None,
    ) -> Group:
        """Add an agent group with its members and the projects it serves (admins only):
        the provider's, or a customer's own desk's (``organisation_id``)."""
        return self._run(
            actor,
            WRITE,
            groups.create_group,
            name=name,
            member_ids=member_ids,
            project_ids=project_ids,
            organisation_id=organisation_id,
        )

    def update_group(
        self,
        actor: Actor,
        group_id: UUID,
        *,
        name: str | None = None,
        member_ids: Iterable[UUID] | None = None,
        project_ids: Iterable[UUID] | None = None,
    ) -> Group:
        """Rename a group or replace its members or served projects (admins only)."""
        return self._run(
            actor,
            WRITE,
            groups.update_group,
            group_id,
            name=name,
            member_ids=member_ids,
            project_ids=project_ids,
        )

    def get_group(self, actor: Actor, group_id: UUID) -> Group:
        """One agent group (staff only; NotFound for customers)."""
        return self._run(actor, READ, groups.get_group, group_id)

    def list_groups(
        self, actor: Actor, *, project_id: UUID | None = None, member_id: UUID | None = None
    ) -> list[Group]:
        """The agent groups (staff see all, customers none), by name, optionally only
        those serving a project or with a member."""
        return self._run(
            actor, READ, groups.list_groups, project_id=project_id, member_id=member_id
        )

    def list_followers(self, actor: Actor, ticket_id: UUID) -> list[PersonView]:
        """The ticket's followers the actor may know of (customers: no staff)."""
        return self._run(actor, READ, groups.list_followers, ticket_id)

    def add_follower(self, actor: Actor, ticket_id: UUID, person_id: UUID) -> list[PersonView]:
        """Let someone follow the ticket: staff add staff, a requester her colleagues."""
        return self._run(
            actor,
            Run(write=True, retry=True, people=(person_id,)),
            groups.add_follower,
            ticket_id,
            person_id,
        )

    def remove_follower(self, actor: Actor, ticket_id: UUID, person_id: UUID) -> list[PersonView]:
        """Stop someone following the ticket (anyone may stop following themselves)."""
        return self._run(
            actor,
            Run(write=True, retry=True, people=(person_id,)),
            groups.remove_follower,
            ticket_id,
            person_id,
        )


__all__ = ["GroupOperations"]
