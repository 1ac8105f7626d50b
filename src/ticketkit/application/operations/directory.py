"""The directory's operations: organisations, people, projects, ticket types, and the
memberships and invitations of people (``application/directory.py``, ``memberships.py``,
``invitations.py``)."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

from ticketkit.application import directory, invitations, memberships
from ticketkit.application.invitations import InvitationView
from ticketkit.application.memberships import MembershipView
from ticketkit.application.operations.base import READ, UPDATE, WRITE, Runner
from ticketkit.application.views import PersonView, TicketTypeView
from ticketkit.domain.fields import FieldSpec
from ticketkit.domain.memberships import Membership
from ticketkit.domain.model import (
    Actor,
    Organisation,
    OrganisationKind,
    Person,
    Project,
    Role,
    TicketType,
)
from ticketkit.domain.workflow import Workflow


class DirectoryOperations(Runner):
    """Organisations, people, projects and ticket types; memberships; invitations."""

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


__all__ = ["DirectoryOperations"]
