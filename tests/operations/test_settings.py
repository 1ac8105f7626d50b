"""Settings (issue 18, point 7): the tenant's values, organisations' overrides inherited
down the parent tree, who may change and read them, and refused values writing nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta

import attrs
import pytest

from tests.support.snapshot import snapshot
from tests.support.world import World, build_world
from ticketkit.application import UNSET, HelpDesk, SettingView
from ticketkit.clock import ManualClock
from ticketkit.domain import Organisation, Person, Project, Role
from ticketkit.domain.settings import SETTINGS, ChildSharing, Setting, SettingValue
from ticketkit.errors import NotFound, PermissionDenied, ValidationError
from ticketkit.ports import Storage

EXPIRY = "invitations.expiry"
#: A setting for the whole tenant only, registered by the tests (ticketkit's own are all
#: overridable for now).
LOCKED = Setting(
    name="tests.locked",
    type=bool,
    default=False,
    doc="A setting organisations may not override.",
    overridable=False,
)


@attrs.frozen
class Tree:
    """Acme (the world's) > Acme EU > Acme Berlin, with a guest and a project in Berlin."""

    w: World
    eu: Organisation
    berlin: Organisation
    berliner: Person
    berlin_project: Project


@pytest.fixture
def tree(storage: Storage, clock: ManualClock) -> Tree:
    desk = HelpDesk(storage, clock=clock, settings=SETTINGS.with_settings(LOCKED))
    w = build_world(desk, clock)
    a = w.admin.actor
    eu = desk.create_organisation(a, name="Acme EU", parent_id=w.acme.id)
    berlin = desk.create_organisation(a, name="Acme Berlin", parent_id=eu.id)
    berliner = desk.add_person(
        a, organisation_id=berlin.id, name="Bea", email="bea@x.example", role=Role.GUEST
    )
    project = desk.create_project(a, organisation_id=berlin.id, name="Berlin Support")
    return Tree(w, eu, berlin, berliner, project)


def effective(t: Tree, person: Person, name: str = EXPIRY) -> object:
    return t.w.desk.effective_setting(person.actor, name)


def test_a_value_set_on_the_top_organisation_reaches_three_levels_down(tree: Tree) -> None:
    desk, admin = tree.w.desk, tree.w.admin.actor
    assert effective(tree, tree.berliner) == timedelta(days=7), "the default"
    desk.set_setting(admin, EXPIRY, timedelta(days=3))
    assert effective(tree, tree.berliner) == timedelta(days=3), "the tenant's value"
    desk.set_setting(admin, EXPIRY, 3600, organisation_id=tree.w.acme.id)
    assert effective(tree, tree.berliner) == timedelta(hours=1)
    assert effective(tree, tree.w.acme_guest) == timedelta(hours=1)
    assert effective(tree, tree.w.globex_guest) == timedelta(days=3)
    assert effective(tree, tree.w.agent) == timedelta(days=3), "the provider's people too"


def test_a_child_s_own_override_beats_its_parent_s(tree: Tree) -> None:
    desk, admin = tree.w.desk, tree.w.admin.actor
    desk.set_setting(admin, "sharing.child_organisations", "read", organisation_id=tree.w.acme.id)
    desk.set_setting(
        admin, "sharing.child_organisations", ChildSharing.OFF, organisation_id=tree.eu.id
    )
    name = "sharing.child_organisations"
    assert effective(tree, tree.w.acme_guest, name) is ChildSharing.READ
    assert effective(tree, tree.berliner, name) is ChildSharing.OFF
    desk.set_setting(admin, name, "read_write", organisation_id=tree.berlin.id)
    assert effective(tree, tree.berliner, name) is ChildSharing.READ_WRITE


def test_clearing_an_override_falls_back_to_the_parent_then_the_tenant_then_the_default(
    tree: Tree,
) -> None:
    desk, admin = tree.w.desk, tree.w.admin.actor
    name = "branding.display_name"
    desk.set_setting(admin, name, "Acme Hosting")
    desk.set_setting(admin, name, "Acme Group", organisation_id=tree.w.acme.id)
    desk.set_setting(admin, name, "Acme Berlin", organisation_id=tree.berlin.id)
    assert effective(tree, tree.berliner, name) == "Acme Berlin"
    view = desk.clear_setting(admin, name, organisation_id=tree.berlin.id)
    assert (view.override, view.effective) == (UNSET, "Acme Group")
    assert effective(tree, tree.berliner, name) == "Acme Group"
    desk.clear_setting(admin, name, organisation_id=tree.w.acme.id)
    assert effective(tree, tree.berliner, name) == "Acme Hosting"
    desk.clear_setting(admin, name)
    assert effective(tree, tree.berliner, name) == ""
    # Clearing what is not set changes nothing.
    assert desk.clear_setting(admin, name).tenant_value is UNSET


def test_a_setting_organisations_may_not_override_ignores_them(
    tree: Tree, storage: Storage
) -> None:
    desk, admin = tree.w.desk, tree.w.admin.actor
    with pytest.raises(ValidationError) as caught:
        desk.set_setting(admin, LOCKED.name, True, organisation_id=tree.w.acme.id)
    assert "organisation_id" in caught.value.fields
    desk.set_setting(admin, LOCKED.name, True)
    # An override stored while the setting still allowed one counts for nothing.
    with storage.unit_of_work(admin.tenant_id) as uow:
        uow.settings.set(
            SettingValue(
                tenant_id=admin.tenant_id,
                name=LOCKED.name,
                organisation_id=tree.berlin.id,
                value=False,
                updated_at=tree.w.clock.now(),
                updated_by=admin.person_id,
            )
        )
        uow.commit()
    assert effective(tree, tree.berliner, LOCKED.name) is True
    (view,) = [
        v
        for v in desk.list_settings(admin, organisation_id=tree.berlin.id)
        if v.name == LOCKED.name
    ]
    assert (view.tenant_value, view.override, view.effective) == (True, UNSET, True)


def test_the_value_for_a_ticket_follows_its_project_s_organisation(tree: Tree) -> None:
    desk, w = tree.w.desk, tree.w
    desk.set_setting(w.admin.actor, "sla.guests_see_clocks", True, organisation_id=tree.eu.id)
    in_berlin = desk.create_ticket(
        tree.berliner.actor,
        project_id=tree.berlin_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )
    at_acme = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )
    name = "sla.guests_see_clocks"
    assert desk.effective_setting(w.agent.actor, name, ticket_id=in_berlin.id) is True
    assert desk.effective_setting(w.agent.actor, name, ticket_id=at_acme.id) is False
    assert desk.effective_setting(tree.berliner.actor, name, ticket_id=in_berlin.id) is True
    # A ticket one may not read is not found, as everywhere.
    with pytest.raises(NotFound):
        desk.effective_setting(w.globex_guest.actor, name, ticket_id=in_berlin.id)
    with pytest.raises(NotFound):
        desk.effective_setting(w.agent.actor, name, ticket_id=uuid.uuid4())


def test_staff_read_anyone_s_value_and_a_guest_only_her_own(tree: Tree) -> None:
    desk, w = tree.w.desk, tree.w
    desk.set_setting(w.admin.actor, EXPIRY, 600, organisation_id=tree.berlin.id)
    assert desk.effective_setting(w.agent.actor, EXPIRY, person_id=tree.berliner.id) == (
        timedelta(minutes=10)
    )
    assert desk.effective_setting(tree.berliner.actor, EXPIRY, person_id=tree.berliner.id) == (
        timedelta(minutes=10)
    )
    for other in (w.acme_guest.id, w.agent.id, uuid.uuid4()):
        with pytest.raises(PermissionDenied):
            desk.effective_setting(tree.berliner.actor, EXPIRY, person_id=other)
    with pytest.raises(NotFound):
        desk.effective_setting(w.agent.actor, EXPIRY, person_id=uuid.uuid4())


def test_only_admins_change_or_list_settings(tree: Tree) -> None:
    desk, w = tree.w.desk, tree.w
    for person in (w.agent, w.light_agent, w.acme_admin, w.acme_guest):
        with pytest.raises(PermissionDenied):
            desk.set_setting(person.actor, EXPIRY, 600)
        with pytest.raises(PermissionDenied):
            desk.clear_setting(person.actor, EXPIRY)
        with pytest.raises(PermissionDenied):
            desk.list_settings(person.actor)


@pytest.mark.parametrize(
    ("name", "value", "field"),
    [
        ("sla.guests_see_clocks", "true", "value"),
        ("sla.guests_see_clocks", 1, "value"),
        (EXPIRY, timedelta(seconds=-60), "value"),
        (EXPIRY, 30, "value"),
        (EXPIRY, timedelta(days=91), "value"),
        (EXPIRY, "P1D", "value"),
        ("sharing.child_organisations", "write", "value"),
        ("branding.display_name", "x" * 201, "value"),
        ("branding.display_name", "a\x00b", "value"),
        ("branding.display_name", "\ud800", "value"),
        ("branding.logo_url", "http://acme.example/logo.png", "value"),
        ("branding.logo_url", "https://" + "a" * 2000 + ".example", "value"),
        ("branding.logo_url", "javascript:alert(1)", "value"),
        ("branding.primary_colour", "red", "value"),
        ("branding.accent_colour", "#12345", "value"),
        ("no.such_setting", 1, "name"),
    ],
)
def test_a_wrong_value_is_refused_naming_it_and_nothing_is_written(
    tree: Tree, storage: Storage, name: str, value: object, field: str
) -> None:
    desk, admin = tree.w.desk, tree.w.admin.actor
    before = snapshot(storage, admin.tenant_id)
    for organisation_id in (None, tree.berlin.id):
        with pytest.raises(ValidationError) as caught:
            desk.set_setting(admin, name, value, organisation_id=organisation_id)
        assert field in caught.value.fields, caught.value
    assert snapshot(storage, admin.tenant_id) == before


def test_an_unknown_or_foreign_organisation_is_not_found_and_nothing_is_written(
    tree: Tree, storage: Storage, clock: ManualClock
) -> None:
    desk, admin = tree.w.desk, tree.w.admin.actor
    other = build_world(desk, clock, name="Other Hosting")
    before = snapshot(storage, admin.tenant_id)
    for organisation_id in (uuid.uuid4(), other.acme.id):
        with pytest.raises(NotFound):
            desk.set_setting(admin, EXPIRY, 600, organisation_id=organisation_id)
        with pytest.raises(NotFound):
            desk.clear_setting(admin, EXPIRY, organisation_id=organisation_id)
        with pytest.raises(NotFound):
            desk.list_settings(admin, organisation_id=organisation_id)
    assert snapshot(storage, admin.tenant_id) == before
    # Nor does one tenant's value reach the other.
    desk.set_setting(admin, EXPIRY, 600)
    assert desk.effective_setting(other.acme_guest.actor, EXPIRY) == timedelta(days=7)


def test_the_settings_page_shows_default_tenant_value_own_override_and_effective_value(
    tree: Tree,
) -> None:
    desk, admin = tree.w.desk, tree.w.admin.actor
    desk.set_setting(admin, "branding.primary_colour", "#112233")
    desk.set_setting(
        admin, "branding.logo_url", "https://acme.example/logo.svg", organisation_id=tree.w.acme.id
    )
    desk.set_setting(admin, "branding.logo_url", None, organisation_id=tree.berlin.id)
    page = {v.name: v for v in desk.list_settings(admin, organisation_id=tree.eu.id)}
    assert list(page) == [*(s.name for s in SETTINGS), LOCKED.name]
    assert page["branding.primary_colour"] == SettingView(
        name="branding.primary_colour",
        type="text",
        doc=SETTINGS.get("branding.primary_colour").doc,  # type: ignore[union-attr]
        overridable=True,
        default="#1f4e79",
        tenant_value="#112233",
        organisation_id=tree.eu.id,
        override=UNSET,
        effective="#112233",
    )
    logo = page["branding.logo_url"]
    assert (logo.override, logo.effective) == (UNSET, "https://acme.example/logo.svg")
    berlin = {v.name: v for v in desk.list_settings(admin, organisation_id=tree.berlin.id)}
    assert (berlin["branding.logo_url"].override, berlin["branding.logo_url"].effective) == (
        None,
        None,
    ), "None is a value of its own: no logo, where the parent has one"
    tenant_page = {v.name: v for v in desk.list_settings(admin)}
    assert tenant_page["branding.logo_url"].effective is None
    assert tenant_page[EXPIRY].effective == timedelta(days=7)
    assert tenant_page[EXPIRY].tenant_value is UNSET
    assert tenant_page[EXPIRY].type == "duration"
    assert tenant_page["sharing.child_organisations"].type == "off | read | read_write"


def test_a_duration_is_given_as_a_timedelta_or_seconds_and_read_as_a_timedelta(
    tree: Tree,
) -> None:
    desk, admin = tree.w.desk, tree.w.admin.actor
    assert desk.set_setting(admin, EXPIRY, 90.5).tenant_value == timedelta(seconds=90.5)
    assert desk.set_setting(admin, EXPIRY, timedelta(days=90)).effective == timedelta(days=90)
    assert desk.effective_setting(tree.berliner.actor, EXPIRY) == timedelta(days=90)
