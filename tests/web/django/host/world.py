"""Seed 000's people on the desk under test: Leadtime's admin and agent Max, GlobalTech
with its project and guest Sandra, and Acme, another customer with a ticket of its own."""

from __future__ import annotations

from uuid import UUID

import attrs

from ticketkit import FieldKind, FieldSpec, HelpDesk, OrganisationKind, Role
from ticketkit.domain.model import Actor


@attrs.frozen(kw_only=True)
class World:
    desk: HelpDesk
    tenant_id: UUID
    admin: Actor
    max: Actor
    sandra: Actor
    globaltech_id: UUID
    project_id: UUID
    type_id: UUID
    acme_ticket_id: UUID
    acme_project_id: UUID


def build_world(desk: HelpDesk) -> World:
    boot = desk.bootstrap_tenant(
        name="Leadtime",
        provider_name="Leadtime Hosting",
        admin_name="Anna Admin",
        admin_email="anna@leadtime.example",
    )
    admin = boot.admin.actor
    max_ = desk.add_person(
        admin,
        organisation_id=boot.provider.id,
        name="Max Keller",
        email="max@leadtime.example",
        role=Role.AGENT,
    )
    globaltech = desk.create_organisation(
        admin, name="GlobalTech Solutions", kind=OrganisationKind.CUSTOMER
    )
    project = desk.create_project(admin, organisation_id=globaltech.id, name="GlobalTech Support")
    sandra = desk.add_person(
        admin,
        organisation_id=globaltech.id,
        name="Sandra Winkler",
        email="sandra@globaltech.example",
        role=Role.GUEST,
    )
    crash = desk.create_ticket_type(
        admin,
        name="Server Crash",
        fields=(
            FieldSpec(
                name="sla_level",
                label="SLA level",
                kind=FieldKind.SINGLE_CHOICE,
                required=True,
                choices=("Gold", "Silver", "Bronze"),
            ),
            FieldSpec(
                name="affected_systems",
                label="Affected systems",
                kind=FieldKind.MULTIPLE_CHOICE,
                choices=("Database", "API gateway", "Web server"),
            ),
        ),
    )
    acme = desk.create_organisation(admin, name="Acme", kind=OrganisationKind.CUSTOMER)
    acme_project = desk.create_project(admin, organisation_id=acme.id, name="Acme Support")
    acme_guest = desk.add_person(
        admin, organisation_id=acme.id, name="Ali", email="ali@acme.example", role=Role.GUEST
    )
    acme_ticket = desk.create_ticket(
        acme_guest.actor,
        project_id=acme_project.id,
        type_id=crash.id,
        title="Acme's own trouble",
        fields={"sla_level": "Silver"},
    )
    return World(
        desk=desk,
        tenant_id=boot.tenant.id,
        admin=admin,
        max=max_.actor,
        sandra=sandra.actor,
        globaltech_id=globaltech.id,
        project_id=project.id,
        type_id=crash.id,
        acme_ticket_id=acme_ticket.id,
        acme_project_id=acme_project.id,
    )
