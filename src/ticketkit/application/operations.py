"""Every operation a host calls, in one place: ``Operations`` names, for each, how it runs
(``Run``: read or write, retried or not, whom to load with the actor) and which capability
module's function does the work. ``HelpDesk`` and ``Batch`` (``desk.py``) differ only in
how they run it: a session and commit per call, or one session for the whole batch.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Concatenate, ParamSpec, TypeVar
from uuid import UUID

import attrs

from ticketkit.application import (
    desks,
    directory,
    grants,
    groups,
    invitations,
    memberships,
    settings,
    tickets,
)
from ticketkit.application.grants import GrantOverview
from ticketkit.application.invitations import InvitationView
from ticketkit.application.memberships import MembershipView
from ticketkit.application.session import Session
from ticketkit.application.tickets import TicketUpdate
from ticketkit.application.views import (
    UNSET,
    CommentDraft,
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
from ticketkit.domain.fields import FieldSpec
from ticketkit.domain.grants import Grant, GrantScope
from ticketkit.domain.memberships import Membership
from ticketkit.domain.model import (
    Actor,
    Comment,
    Group,
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    Project,
    Role,
    TicketType,
    Visibility,
)
from ticketkit.domain.settings import SettingInput
from ticketkit.domain.workflow import Workflow

P = ParamSpec("P")
T = TypeVar("T")


@attrs.frozen
class Run:
    """How an operation runs: reading or writing; whether a write that lost a race to a
    concurrent one is run again; and which people to load with the actor in one read."""

    write: bool
    #: A write that lost a race in storage runs again, whole, up to three times: it reads
    #: afresh and checks again, ``expected_version`` included, against the person's own
    #: version, so only a change they can see is a conflict of theirs.
    retry: bool = False
    people: tuple[UUID | None, ...] = ()


READ = Run(write=False)
WRITE = Run(write=True)
#: Changes to a ticket, which concurrent writers race for.
UPDATE = Run(write=True, retry=True)


class Operations(abc.ABC):
    """The operations a host calls, each delegating to its capability module."""

    @abc.abstractmethod
    def _run(
        self,
        actor: Actor,
        how: Run,
        operation: Callable[Concatenate[Session, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``operation`` in a session acting as ``actor``."""

    # -- directory ---------------------------------------------------------------------------

    def create_organisation(
        self,
        actor: Actor,
        *,
        name: str,
        kind: OrganisationKind | str = OrganisationKind.CUSTOMER,
        parent_id: UUID | None = None,
    ) -> Organisation:
        """Add a customer, partner or vendor organisation (admins only)."""
        return self._run(
            actor,
            WRITE,
            directory.create_organisation,
            name=name,
            kind=kind,
            parent_id=parent_id,
        )

    def add_person(
        self, actor: Actor, *, organisation_id: UUID, name: str, email: str, role: Role | str
    ) -> Person:
        """Add a person to an organisation: admins anyone (staff roles belong to the
        provider), customer admins a guest or customer admin of their own organisation."""
        return self._run(
            actor,
            # Run again after losing a race for the e-mail address (the unique index's
            # Conflict): the second run's check then names ``email``.
            UPDATE,
            directory.add_person,
            organisation_id=organisation_id,
            name=name,
            email=email,
            role=role,
        )

    def deactivate_person(self, actor: Actor, person_id: UUID) -> Person:
        """Take away a person's access at once (admins: anyone; customer admins: their own
        organisation's contacts); their history stays, their invitations are withdrawn."""
        return self._run(actor, WRITE, directory.deactivate_person, person_id)

    def change_contact_role(self, actor: Actor, person_id: UUID, role: Role | str) -> Person:
        """Make a contact a guest or a customer admin (admins; customer admins for their
        own organisation's contacts, not themselves)."""
        return self._run(actor, WRITE, directory.change_contact_role, person_id, role)

    def create_project(
        self, actor: Actor, *, organisation_id: UUID, name: str, own_desk: bool = False
    ) -> Project:
        """Add a project (a ticket queue) owned by an organisation (admins only), served by
        the provider or by the organisation's ``own_desk``."""
        # Two projects made at once may take the same number: the later one runs again.
        return self._run(
            actor,
            UPDATE,
            directory.create_project,
            organisation_id=organisation_id,
            name=name,
            own_desk=own_desk,
        )

    def create_ticket_type(
        self,
        actor: Actor,
        *,
        name: str,
        fields: Iterable[FieldSpec] = (),
        description_template: str = "",
        workflow: Workflow | None = None,
        organisation_id: UUID | None = None,
        shared: bool = False,
        confidential: bool = False,
    ) -> TicketType:
        """Define a kind of ticket: custom fields, description template, workflow; the
        provider's for everyone, or one organisation's own, ``shared`` down its tree or
        ``confidential`` to it (admins only)."""
        return self._run(
            actor,
            WRITE,
            directory.create_ticket_type,
            name=name,
            fields=fields,
            description_template=description_template,
            workflow=workflow,
            organisation_id=organisation_id,
            shared=shared,
            confidential=confidential,
        )

    # -- memberships -------------------------------------------------------------------------

    def add_membership(
        self, actor: Actor, person_id: UUID, organisation_id: UUID, role: Role | str = Role.GUEST
    ) -> Membership:
        """Make a contact a member of a further customer or partner organisation, with a
        guest or customer admin role there (admins only)."""
        return self._run(
            actor, UPDATE, memberships.add_membership, person_id, organisation_id, role
        )

    def end_membership(self, actor: Actor, person_id: UUID, organisation_id: UUID) -> Membership:
        """End a membership (admins, the organisation's customer admins, the member)."""
        return self._run(actor, WRITE, memberships.end_membership, person_id, organisation_id)

    def change_membership_role(
        self, actor: Actor, person_id: UUID, organisation_id: UUID, role: Role | str
    ) -> Membership:
        """Make a member a guest or a customer admin of the membership's organisation."""
        return self._run(
            actor, WRITE, memberships.change_membership_role, person_id, organisation_id, role
        )

    def list_memberships(
        self,
        actor: Actor,
        *,
        person_id: UUID | None = None,
        organisation_id: UUID | None = None,
    ) -> list[MembershipView]:
        """Memberships in force of a person (oneself by default) or of an organisation."""
        return self._run(
            actor,
            READ,
            memberships.list_memberships,
            person_id=person_id,
            organisation_id=organisation_id,
        )

    def get_person(self, actor: Actor, person_id: UUID) -> PersonView:
        """A person of the tenant as the actor may see them; customers see only people of
        their own organisation and staff (whose names, not e-mails, are on their tickets)."""
        return self._run(actor, READ, directory.get_person, person_id)

    def seat_report(self, actor: Actor) -> directory.SeatReport:
        """Active people by role, and how many are billable seats (staff) and free (guests,
        customer admins); admins only."""
        return self._run(actor, READ, directory.seat_report)

    def list_people(
        self,
        actor: Actor,
        *,
        organisation_id: UUID | None = None,
        email: str | None = None,
        assignable: bool = False,
        limit: int = directory.MAX_PEOPLE,
    ) -> list[PersonView]:
        """People the actor may look up, by name: an organisation's members, the person
        with an e-mail address, or those who may be assigned tickets."""
        return self._run(
            actor,
            READ,
            directory.list_people,
            organisation_id=organisation_id,
            email=email,
            assignable=assignable,
            limit=limit,
        )

    def list_ticket_types(self, actor: Actor) -> list[TicketTypeView]:
        """The tenant's ticket types by name, each with the fields the actor may see."""
        return self._run(actor, READ, directory.list_ticket_types)

    def get_organisation(self, actor: Actor, organisation_id: UUID) -> Organisation:
        """An organisation the actor may look up (staff: any of the tenant; customers:
        their own)."""
        return self._run(actor, READ, directory.get_organisation, organisation_id)

    def list_organisations(self, actor: Actor) -> list[Organisation]:
        """The organisations the actor may look up, by name."""
        return self._run(actor, READ, directory.list_organisations)

    def list_projects(self, actor: Actor) -> list[Project]:
        """The projects the person may see and create tickets in, by name."""
        return self._run(actor, READ, directory.list_projects)

    def get_project_by_number(self, actor: Actor, number: int) -> Project:
        """The project numbered ``number`` in the tenant, if the actor may see it."""
        return self._run(actor, READ, directory.get_project_by_number, number)

    def list_invitations(self, actor: Actor, organisation_id: UUID) -> list[InvitationView]:
        """The invitations of an organisation's people and how each stands (open,
        expired, used, superseded, withdrawn), newest first: staff, and the organisation's
        customer admins. Never a token."""
        return self._run(actor, READ, invitations.list_invitations, organisation_id)

    # -- delegation grants -------------------------------------------------------------------

    def offer_grant(
        self,
        actor: Actor,
        project_id: UUID,
        *,
        grantee_person_id: UUID | None = None,
        grantee_organisation_id: UUID | None = None,
        scope: Iterable[GrantScope | str],
        expires_at: datetime | None = None,
    ) -> Grant:
        """Offer a project to a technical supporter (a person or an organisation), within
        ``scope`` and until ``expires_at``: customer admins of its owner, admins."""
        return self._run(
            actor,
            WRITE,
            grants.offer_grant,
            project_id,
            grantee_person_id=grantee_person_id,
            grantee_organisation_id=grantee_organisation_id,
            scope=scope,
            expires_at=expires_at,
        )

    def accept_grant(self, actor: Actor, grant_id: UUID) -> Grant:
        """Accept a grant offered to oneself or (customer admins) one's organisation."""
        return self._run(actor, UPDATE, grants.accept_grant, grant_id)

    def accept_grant_by_token(self, actor: Actor, token: str) -> Grant:
        """Accept an offer by the token of its link (``HelpDesk.send_grant_offer``): the
        grantee herself, or a customer admin of the grantee organisation."""
        return self._run(actor, UPDATE, grants.accept_grant_by_token, token)

    def request_grant(
        self,
        actor: Actor,
        project_number: int,
        scope: Iterable[GrantScope | str],
        *,
        expires_at: datetime | None = None,
    ) -> Grant:
        """Ask for access to another organisation's project by its number, for one's own
        organisation (customer admins)."""
        return self._run(
            actor, WRITE, grants.request_grant, project_number, scope, expires_at=expires_at
        )

    def accept_grant_request(self, actor: Actor, grant_id: UUID) -> Grant:
        """Accept a supporter's request: customer admins of the project's owner, admins."""
        return self._run(actor, UPDATE, grants.accept_grant_request, grant_id)

    def decline_grant_request(self, actor: Actor, grant_id: UUID) -> Grant:
        """Decline a supporter's request: customer admins of the project's owner, admins."""
        return self._run(actor, UPDATE, grants.decline_grant_request, grant_id)

    def revoke_grant(self, actor: Actor, grant_id: UUID) -> Grant:
        """End a grant: the owner side at any time, or the grantee giving it up."""
        return self._run(actor, UPDATE, grants.revoke_grant, grant_id)

    def list_grants(self, actor: Actor) -> GrantOverview:
        """Open requests waiting for the actor, grants of her organisation's projects, and
        the projects she supports now."""
        return self._run(actor, READ, grants.list_grants)

    # -- groups and followers ----------------------------------------------------------------

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

    # -- settings ----------------------------------------------------------------------------

    def set_setting(
        self,
        actor: Actor,
        name: str,
        value: SettingInput,
        *,
        organisation_id: UUID | None = None,
    ) -> SettingView:
        """Set a setting for the tenant, or override it for an organisation and those below
        it (admins only); ``value`` typed or in its JSON form (seconds for a duration)."""
        return self._run(
            actor, UPDATE, settings.set_setting, name, value, organisation_id=organisation_id
        )

    def clear_setting(
        self, actor: Actor, name: str, *, organisation_id: UUID | None = None
    ) -> SettingView:
        """Remove the tenant's value or an organisation's override (admins only)."""
        return self._run(
            actor, UPDATE, settings.clear_setting, name, organisation_id=organisation_id
        )

    def effective_setting(
        self,
        actor: Actor,
        name: str,
        *,
        person_id: UUID | None = None,
        ticket_id: UUID | None = None,
    ) -> Any:
        """The value of a setting that counts for the actor, another person (staff only) or
        a ticket they may read: the nearest override up the organisation's parents, else
        the tenant's value, else the default."""
        return self._run(
            actor, READ, settings.effective_setting, name, person_id=person_id, ticket_id=ticket_id
        )

    def list_settings(
        self, actor: Actor, *, organisation_id: UUID | None = None
    ) -> list[SettingView]:
        """Every setting with its default, the tenant's value, the organisation's override
        and the value that counts there: a settings page (admins only)."""
        return self._run(actor, READ, settings.list_settings, organisation_id=organisation_id)

    # -- tickets -----------------------------------------------------------------------------

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
    ) -> Page:
        """The tickets the person may see, filtered and sorted, one keyset page at a time.

        ``assignee_id=None`` lists unassigned tickets, ``group_id=None`` those of no group
        (staff only); filtering or sorting on what the person may not see is refused
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
            UPDATE,
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
            UPDATE,
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
            UPDATE,
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
            UPDATE,
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
            UPDATE,
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


__all__ = ["READ", "UPDATE", "WRITE", "Operations", "Run"]
