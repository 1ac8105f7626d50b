"""A small tenant with one person of every role, built through the public API."""

from __future__ import annotations

from datetime import timedelta

import attrs

from ticketkit.application import HelpDesk
from ticketkit.clock import ManualClock
from ticketkit.domain import (
    FieldKind,
    FieldSpec,
    Organisation,
    OrganisationKind,
    Person,
    Project,
    Role,
    TicketType,
)
from ticketkit.domain.sla import SlaPolicy


@attrs.frozen(kw_only=True)
class World:
    desk: HelpDesk
    clock: ManualClock
    provider: Organisation
    admin: Person
    agent: Person
    agent2: Person
    light_agent: Person
    acme: Organisation
    acme_guest: Person
    acme_admin: Person
    acme_project: Project
    globex: Organisation
    globex_guest: Person
    globex_project: Project
    internal_project: Project
    incident: TicketType
    #: Acme's parent organisation, only in a world built with ``acme_parent``.
    holding: Organisation | None = None

    @property
    def everyone(self) -> tuple[Person, ...]:
        return (
            self.admin,
            self.agent,
            self.agent2,
            self.light_agent,
            self.acme_guest,
            self.acme_admin,
            self.globex_guest,
        )


INCIDENT_FIELDS = (
    FieldSpec(
        name="sla_level",
        label="SLA level",
        kind=FieldKind.SINGLE_CHOICE,
        required=True,
        choices=("Gold", "Silver", "Bronze"),
    ),
    FieldSpec(
        name="systems",
        label="Affected systems",
        kind=FieldKind.MULTIPLE_CHOICE,
        choices=("db", "api", "web"),
    ),
    FieldSpec(name="servers", label="Servers down", kind=FieldKind.NUMBER),
    FieldSpec(name="since", label="Down since", kind=FieldKind.DATE),
    FieldSpec(name="notes", label="Notes", kind=FieldKind.TEXT, max_length=100),
    FieldSpec(name="cost_centre", label="Cost centre", kind=FieldKind.TEXT, internal=True),
)


def build_world(
    desk: HelpDesk, clock: ManualClock, name: str = "Acme Hosting", *, acme_parent: bool = False
) -> World:
    """The tenant; with ``acme_parent`` Acme is a child of an organisation "Holding" made
    first (whose sharing with its children is left to the caller)."""
    boot = desk.bootstrap_tenant(
        name=name, provider_name=name, admin_name="Ada Admin", admin_email="ada@provider.example"
    )
    a = boot.admin.actor

    def person(org: Organisation, who: str, role: Role) -> Person:
        return desk.add_person(
            a, organisation_id=org.id, name=who, email=f"{who.lower()}@x.example", role=role
        )

    holding = (
        desk.create_organisation(a, name="Holding", kind=OrganisationKind.CUSTOMER)
        if acme_parent
        else None
    )
    acme = desk.create_organisation(
        a,
        name="Acme Corp",
        kind=OrganisationKind.CUSTOMER,
        parent_id=holding.id if holding is not None else None,
    )
    globex = desk.create_organisation(a, name="Globex", kind=OrganisationKind.CUSTOMER)
    world = World(
        desk=desk,
        clock=clock,
        provider=boot.provider,
        admin=boot.admin,
        agent=person(boot.provider, "Alice", Role.AGENT),
        agent2=person(boot.provider, "Bob", Role.AGENT),
        light_agent=person(boot.provider, "Lena", Role.LIGHT_AGENT),
        acme=acme,
        acme_guest=person(acme, "Gina", Role.GUEST),
        acme_admin=person(acme, "Carl", Role.CUSTOMER_ADMIN),
        acme_project=desk.create_project(a, organisation_id=acme.id, name="Acme Support"),
        globex=globex,
        globex_guest=person(globex, "Gus", Role.GUEST),
        globex_project=desk.create_project(a, organisation_id=globex.id, name="Globex Support"),
        internal_project=desk.create_project(a, organisation_id=boot.provider.id, name="Ops"),
        incident=desk.create_ticket_type(
            a, name="Incident", fields=INCIDENT_FIELDS, description_template="What happened?"
        ),
        holding=holding,
    )
    clock.advance(timedelta(minutes=1))
    return world


def gold_within_an_hour(w: World) -> SlaPolicy:
    """An SLA policy for the tickets of level Gold: first response within an hour (around
    the clock, as the world has no calendar), warned at half of it."""
    return w.desk.create_sla_policy(
        w.admin.actor,
        name="Gold",
        conditions=[{"attribute": "fields.sla_level", "values": ["Gold"]}],
        targets={"normal": {"first_response": timedelta(hours=1)}},
        warnings=(50,),
    )
