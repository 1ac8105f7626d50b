"""Customer admins (issue 18, point 2) manage their own organisation's contacts only: add,
invite, deactivate, and change between guest and customer admin; they see their
organisation's tickets. Acting on anyone else is refused and writes nothing."""

from __future__ import annotations

import pytest

from tests.support.mailer import Mailer
from tests.support.snapshot import snapshot
from tests.support.world import World, build_world
from ticketkit import (
    HelpDesk,
    ManualClock,
    NotFound,
    PermissionDenied,
    Role,
    ValidationError,
)
from ticketkit.hooks import Plugins
from ticketkit.ports import Storage


@pytest.fixture
def mailer() -> Mailer:
    return Mailer()


@pytest.fixture
def world(storage: Storage, clock: ManualClock, mailer: Mailer) -> World:
    return build_world(HelpDesk(storage, clock=clock, plugins=Plugins.create([mailer])), clock)


def test_a_customer_admin_runs_her_organisations_contacts(world: World, mailer: Mailer) -> None:
    desk, boss = world.desk, world.acme_admin.actor
    pat = desk.add_person(
        boss, organisation_id=world.acme.id, name="Pat", email="pat@acme.example", role="guest"
    )
    sent = desk.invite_guest(boss, pat.id)
    assert sent.delivered_to and mailer.sent[-1].person_id == pat.id
    actor = desk.redeem_invitation(world.provider.tenant_id, mailer.sent[-1].token)
    assert actor == pat.actor
    promoted = desk.change_contact_role(boss, pat.id, "customer_admin")
    assert promoted.role is Role.CUSTOMER_ADMIN
    assert desk.get_person(boss, pat.id).role is Role.CUSTOMER_ADMIN
    assert desk.change_contact_role(boss, pat.id, Role.GUEST).role is Role.GUEST
    desk.deactivate_person(boss, pat.id)
    with pytest.raises(NotFound):
        desk.list_tickets(pat.actor)


def test_a_customer_admin_sees_her_organisations_tickets(world: World) -> None:
    desk = world.desk
    mine = desk.create_ticket(
        world.acme_guest.actor,
        project_id=world.acme_project.id,
        type_id=world.incident.id,
        title="Printer",
        fields={"sla_level": "Gold"},
    )
    desk.create_ticket(
        world.globex_guest.actor,
        project_id=world.globex_project.id,
        type_id=world.incident.id,
        title="Not hers",
        fields={"sla_level": "Gold"},
    )
    assert [t.id for t in desk.list_tickets(world.acme_admin.actor).items] == [mine.id]


def test_a_customer_admin_acting_beyond_her_contacts_is_refused_and_writes_nothing(
    world: World, storage: Storage
) -> None:
    desk, boss = world.desk, world.acme_admin.actor
    before = snapshot(storage, world.provider.tenant_id)
    with pytest.raises(NotFound):  # another organisation's contact: not even visible
        desk.deactivate_person(boss, world.globex_guest.id)
    with pytest.raises(NotFound):
        desk.invite_guest(boss, world.globex_guest.id)
    with pytest.raises(NotFound):
        desk.change_contact_role(boss, world.globex_guest.id, "customer_admin")
    for staff in (world.agent, world.admin):  # visible (their names are on tickets), not hers
        with pytest.raises(PermissionDenied):
            desk.deactivate_person(boss, staff.id)
        with pytest.raises(PermissionDenied):
            desk.change_contact_role(boss, staff.id, "guest")
    with pytest.raises(PermissionDenied):
        desk.add_person(
            boss,
            organisation_id=world.globex.id,
            name="Sneaky",
            email="sneaky@globex.example",
            role="guest",
        )
    with pytest.raises(ValidationError) as staff_role:
        desk.add_person(
            boss, organisation_id=world.acme.id, name="Al", email="al@acme.example", role="agent"
        )
    assert set(staff_role.value.fields) == {"role"}
    with pytest.raises(ValidationError) as to_staff:
        desk.change_contact_role(boss, world.acme_guest.id, "admin")
    assert set(to_staff.value.fields) == {"role"}
    with pytest.raises(ValidationError) as herself:
        desk.change_contact_role(boss, world.acme_admin.id, "guest")
    assert set(herself.value.fields) == {"person_id"}
    for someone in (world.acme_guest, world.agent):  # guests and agents manage no contacts
        with pytest.raises(PermissionDenied):
            desk.deactivate_person(someone.actor, world.acme_guest.id)
        with pytest.raises(PermissionDenied):
            desk.invite_guest(someone.actor, world.acme_guest.id)
    assert snapshot(storage, world.provider.tenant_id) == before


def test_admins_change_any_contacts_role_but_not_staff_roles(world: World) -> None:
    desk = world.desk
    assert desk.change_contact_role(world.admin.actor, world.globex_guest.id, "customer_admin")
    with pytest.raises(PermissionDenied):
        desk.change_contact_role(world.admin.actor, world.agent.id, "guest")


def test_each_organisation_has_its_own_customer_admin(storage: Storage, clock: ManualClock) -> None:
    desk = HelpDesk(storage, clock=clock)
    a, b = build_world(desk, clock), build_world(desk, clock, name="Other Hosting")
    with pytest.raises(NotFound):  # another tenant's person
        desk.deactivate_person(a.acme_admin.actor, b.acme_guest.id)
