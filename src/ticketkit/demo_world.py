"""The seed-000 world without the story: the provider, its agents, GlobalTech with guest
Sandra Winkler, and the "Server Crash" ticket type. The demo plays the story on it; the
example portals (``examples/``) start from ``portal_world``, which adds what their screens
show: seed 000's SLA policies (``seed_000_slas``), an agent group, a second customer with
tickets of its own, a ticket Sandra reported earlier, branding per customer, a customer
admin, and a grant to a technical supporter.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from ticketkit.application import HelpDesk
from ticketkit.domain import (
    Actor,
    FieldKind,
    FieldSpec,
    Group,
    Organisation,
    OrganisationKind,
    Person,
    Project,
    Role,
    Status,
    StatusCategory,
    TicketType,
    Workflow,
)
from ticketkit.domain.sla import SlaPolicy

SERVER_CRASH_TEMPLATE = (
    "Was ist passiert?\n\nSeit wann?\n\nWelche Fehlermeldung erscheint?\n\n"
    "Was wurde bereits versucht?\n"
)


def server_crash_workflow() -> Workflow:
    """New → Root-cause analysis → Solved → Closed, as in the seed."""
    return Workflow.linear(
        (
            Status(key="new", label="Neu", category=StatusCategory.NEW),
            Status(
                key="root_cause_analysis", label="Ursachenanalyse", category=StatusCategory.OPEN
            ),
            Status(key="solved", label="Gelöst", category=StatusCategory.SOLVED),
            Status(key="closed", label="Geschlossen", category=StatusCategory.CLOSED),
        ),
        extra=(("solved", "root_cause_analysis"),),
    )


@attrs.frozen(kw_only=True)
class Seed000:
    """Who and what seed 000 starts with."""

    admin: Person
    tom: Person
    max: Person
    globaltech: Organisation
    project: Project
    sandra: Person
    server_crash: TicketType


def seed_000(desk: HelpDesk) -> Seed000:
    """A new tenant with seed 000's people, customer, project and ticket type."""
    boot = desk.bootstrap_tenant(
        name="Leadtime Demo",
        provider_name="Leadtime Hosting",
        admin_name="Anna Admin",
        admin_email="anna@leadtime.example",
    )
    admin = boot.admin.actor

    def staff(name: str, email: str) -> Person:
        return desk.add_person(
            admin, organisation_id=boot.provider.id, name=name, email=email, role=Role.AGENT
        )

    tom = staff("Tom Berger", "tom@leadtime.example")
    max_ = staff("Max Keller", "max@leadtime.example")
    globaltech = desk.create_organisation(
        admin, name="GlobalTech Solutions", kind=OrganisationKind.CUSTOMER
    )
    project = desk.create_project(admin, organisation_id=globaltech.id, name="GlobalTech Support")
    sandra = desk.add_person(
        admin,
        organisation_id=globaltech.id,
        name="Sandra Winkler",
        email="sandra.winkler@globaltech.example",
        role=Role.GUEST,
    )
    server_crash = desk.create_ticket_type(
        admin,
        name="Server Crash",
        description_template=SERVER_CRASH_TEMPLATE,
        workflow=server_crash_workflow(),
        fields=(
            FieldSpec(
                name="sla_level",
                label="SLA-Level",
                kind=FieldKind.SINGLE_CHOICE,
                required=True,
                choices=("Gold", "Silver", "Bronze"),
            ),
            FieldSpec(
                name="affected_systems",
                label="Betroffene Systeme",
                kind=FieldKind.MULTIPLE_CHOICE,
                required=True,
                choices=("Hauptdatenbank", "API-Gateway", "Webserver", "Mailserver"),
            ),
        ),
    )
    return Seed000(
        admin=boot.admin,
        tom=tom,
        max=max_,
        globaltech=globaltech,
        project=project,
        sandra=sandra,
        server_crash=server_crash,
    )


#: Leadtime's office hours in Berlin, with Germany's public holidays (calendar storage form).
LEADTIME_OFFICE: dict[str, Any] = {
    "zone": "Europe/Berlin",
    "week": {day: ["08:00-18:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holiday_regions": [{"country": "DE"}],
}


def seed_000_slas(desk: HelpDesk, admin: Actor) -> list[SlaPolicy]:
    """Seed 000's service levels: the office calendar as the default, and a policy per
    SLA level a guest picks (Gold, Silver, Bronze), tried in that order."""
    desk.create_calendar(admin, name="Leadtime office", calendar=LEADTIME_OFFICE, is_default=True)
    hours = timedelta(hours=1)
    levels = {
        "Gold": {"first_response": 2 * hours, "next_reply": 4 * hours, "resolution": 8 * hours},
        "Silver": {"first_response": 4 * hours, "next_reply": 8 * hours, "resolution": 24 * hours},
        "Bronze": {"first_response": 8 * hours, "resolution": 40 * hours},
    }
    return [
        desk.create_sla_policy(
            admin,
            name=level,
            conditions=[{"attribute": "fields.sla_level", "values": [level]}],
            targets={
                "low": targets,
                "normal": targets,
                "high": {k: v / 2 for k, v in targets.items()},
                "urgent": {k: v / 4 for k, v in targets.items()},
            },
        )
        for level, targets in levels.items()
    ]


@attrs.frozen(kw_only=True)
class PortalWorld:
    """Seed 000's world as the example portals show it."""

    seed: Seed000
    second_level: Group
    klara: Person
    northwind: Organisation
    northwind_project: Project
    nina: Person
    request: TicketType
    supporter_organisation: Organisation
    #: Titles of the tickets seeded for each customer.
    globaltech_titles: tuple[str, ...]
    northwind_titles: tuple[str, ...]

    @property
    def tenant_id(self) -> UUID:
        return self.seed.admin.tenant_id


def portal_world(desk: HelpDesk, *, now: datetime) -> PortalWorld:
    """Seed 000's world plus what the example portals' screens show (see the module)."""
    seed = seed_000(desk)
    admin = seed.admin.actor
    seed_000_slas(desk, admin)
    group = desk.create_group(
        admin,
        name="Second-Level-Support",
        member_ids=[seed.tom.id, seed.max.id],
        project_ids=[seed.project.id],
    )
    klara = desk.add_person(
        admin,
        organisation_id=seed.globaltech.id,
        name="Klara Hoffmann",
        email="klara.hoffmann@globaltech.example",
        role=Role.CUSTOMER_ADMIN,
    )
    northwind = desk.create_organisation(admin, name="Northwind Traders")
    northwind_project = desk.create_project(
        admin, organisation_id=northwind.id, name="Northwind Support"
    )
    nina = desk.add_person(
        admin,
        organisation_id=northwind.id,
        name="Nina Nordmann",
        email="nina@northwind.example",
        role=Role.GUEST,
    )
    request = desk.create_ticket_type(admin, name="Anfrage")
    northwind_titles = ("VPN trennt sich stündlich", "Rechnung PDF nicht lesbar")
    for title in northwind_titles:
        desk.create_ticket(
            nina.actor, project_id=northwind_project.id, type_id=request.id, title=title
        )
    globaltech_titles = ("Postfach-Kontingent erhöhen",)
    desk.create_ticket(
        seed.sandra.actor,
        project_id=seed.project.id,
        type_id=request.id,
        title=globaltech_titles[0],
    )
    for org, name, primary, accent in (
        (seed.globaltech, "GlobalTech Service Desk", "#0b3d91", "#c2410c"),
        (northwind, "Northwind Help Center", "#14532d", "#9a3412"),
    ):
        desk.set_setting(admin, "branding.display_name", name, organisation_id=org.id)
        desk.set_setting(admin, "branding.primary_colour", primary, organisation_id=org.id)
        desk.set_setting(admin, "branding.accent_colour", accent, organisation_id=org.id)
    desk.set_setting(
        admin,
        "branding.logo_url",
        "https://globaltech.example/logo.svg",
        organisation_id=seed.globaltech.id,
    )
    agency = desk.create_organisation(admin, name="Webagentur Nord")
    paul = desk.add_person(
        admin,
        organisation_id=agency.id,
        name="Paul Becker",
        email="paul@webagentur-nord.example",
        role=Role.CUSTOMER_ADMIN,
    )
    grant = desk.offer_grant(
        klara.actor,
        seed.project.id,
        grantee_person_id=paul.id,
        scope=["read", "comment"],
        expires_at=now + timedelta(days=30),
    )
    desk.accept_grant(paul.actor, grant.id)
    return PortalWorld(
        seed=seed,
        second_level=group,
        klara=klara,
        northwind=northwind,
        northwind_project=northwind_project,
        nina=nina,
        request=request,
        supporter_organisation=agency,
        globaltech_titles=globaltech_titles,
        northwind_titles=northwind_titles,
    )


__all__ = ["SERVER_CRASH_TEMPLATE", "PortalWorld", "Seed000", "portal_world", "seed_000"]
