"""The directory operations (organisations, people, projects, ticket types) behave the same on
every storage backend: only admins change the directory, bad input is named and writes
nothing, and who may act follows the directory at once, inside a batch too."""

from __future__ import annotations

import uuid
from operator import attrgetter
from typing import Any

import pytest

from tests.support.snapshot import snapshot
from tests.support.world import World, build_world
from ticketkit import Actor, FieldKind, FieldSpec, ManualClock, OrganisationKind, Role
from ticketkit.application import HelpDesk, PersonView
from ticketkit.domain import Person
from ticketkit.errors import NotFound, PermissionDenied, ValidationError
from ticketkit.ports import Storage


@pytest.fixture
def world(storage: Storage, clock: ManualClock) -> World:
    return build_world(HelpDesk(storage, clock=clock), clock)


@pytest.fixture
def other(world: World, storage: Storage) -> World:
    """A second tenant in the same storage."""
    return build_world(HelpDesk(storage, clock=world.clock), world.clock, name="Other")


VALID_ARGS: dict[str, dict[str, object]] = {
    "create_organisation": {"name": "Initech", "kind": OrganisationKind.CUSTOMER},
    "add_person": {
        "organisation_id": attrgetter("acme.id"),
        "name": "Pat",
        "email": "pat@x.example",
        "role": Role.GUEST,
    },
    "create_project": {"organisation_id": attrgetter("acme.id"), "name": "Acme Billing"},
    "create_ticket_type": {"name": "Question"},
    "deactivate_person": {"person_id": attrgetter("acme_guest.id")},
}
OPERATIONS = list(VALID_ARGS)


def call(w: World, operation: str, actor: object = None, **overrides: object) -> Any:
    """Run a directory operation with valid arguments changed by ``overrides``; a callable
    value (``attrgetter``) is resolved against the world."""
    args = {**VALID_ARGS[operation], **overrides}
    resolved = {k: v(w) if callable(v) else v for k, v in args.items()}
    return getattr(w.desk, operation)(w.admin.actor if actor is None else actor, **resolved)


def tenant(w: World) -> uuid.UUID:
    return w.provider.tenant_id


SPEC = FieldSpec(name="product", label="Product", kind=FieldKind.TEXT)


# -- permissions ------------------------------------------------------------------------------


@pytest.mark.parametrize("operation", OPERATIONS)
def test_an_admin_may_run_every_directory_operation(world: World, operation: str) -> None:
    assert call(world, operation) is not None


#: Arguments that would be refused for a reason of their own, had permission not come first.
BAD_FOR_ANYONE: dict[str, dict[str, object]] = {
    "create_organisation": {"name": ""},
    "add_person": {"organisation_id": uuid.uuid4()},
    "create_project": {"organisation_id": uuid.uuid4()},
    "create_ticket_type": {"name": ""},
    "deactivate_person": {"person_id": uuid.uuid4()},
}


#: What a customer admin may do for her own organisation's contacts too.
CONTACT_OPERATIONS = {"add_person", "deactivate_person"}


@pytest.mark.parametrize("operation", OPERATIONS)
def test_only_admins_manage_the_directory_and_a_refusal_writes_nothing(
    world: World, storage: Storage, operation: str
) -> None:
    before = snapshot(storage, tenant(world))
    refused = [world.agent, world.light_agent, world.acme_admin, world.acme_guest]
    if operation in CONTACT_OPERATIONS:
        refused.remove(
            world.acme_admin
        )  # her own contacts: tests/operations/test_customer_admins.py
    for who in refused:
        with pytest.raises(PermissionDenied):
            call(world, operation, who.actor)
        # Permission is decided before the input is looked at: no probing of ids or rules.
        with pytest.raises(PermissionDenied):
            call(world, operation, who.actor, **BAD_FOR_ANYONE[operation])
    assert snapshot(storage, tenant(world)) == before
    assert world.desk.get_person(world.admin.actor, world.acme_guest.id).active


# -- bad input --------------------------------------------------------------------------------

BAD_NAMES = [("empty", ""), ("blank", "  \t"), ("too long", "x" * 201), ("NUL", "a\x00b")]
Case = tuple[str, str, dict[str, object], str]
NAME_CASES: list[Case] = [
    (f"{op} {label} name", op, {"name": value}, "name")
    for op in ("create_organisation", "add_person", "create_project", "create_ticket_type")
    for label, value in BAD_NAMES
]
BAD_INPUT: list[Case] = [
    *NAME_CASES,
    ("unknown kind", "create_organisation", {"kind": "planet"}, "kind"),
    ("provider kind as text", "create_organisation", {"kind": "provider"}, "kind"),
    ("provider kind", "create_organisation", {"kind": OrganisationKind.PROVIDER}, "kind"),
    ("no @ in e-mail", "add_person", {"email": "pat.example"}, "email"),
    ("two @ in e-mail", "add_person", {"email": "pat@@x.example"}, "email"),
    ("space in e-mail", "add_person", {"email": "pat smith@x.example"}, "email"),
    ("over-long e-mail", "add_person", {"email": "p" * 250 + "@x.example"}, "email"),
    ("e-mail not text", "add_person", {"email": 42}, "email"),
    ("unknown role", "add_person", {"role": "boss"}, "role"),
    ("agent in a customer", "add_person", {"role": "agent"}, "role"),
    ("admin in a customer", "add_person", {"role": Role.ADMIN}, "role"),
    (
        "guest in the provider",
        "add_person",
        {"organisation_id": attrgetter("provider.id"), "role": "guest"},
        "role",
    ),
    (
        "customer admin in the provider",
        "add_person",
        {"organisation_id": attrgetter("provider.id"), "role": Role.CUSTOMER_ADMIN},
        "role",
    ),
    (
        "over-long template",
        "create_ticket_type",
        {"description_template": "x" * 65_537},
        "description_template",
    ),
    (
        "NUL in template",
        "create_ticket_type",
        {"description_template": "a\x00"},
        "description_template",
    ),
    ("fields not FieldSpec", "create_ticket_type", {"fields": [{"name": "product"}]}, "fields"),
    (
        "template not text",
        "create_ticket_type",
        {"description_template": 7},
        "description_template",
    ),
    (
        "template bytes",
        "create_ticket_type",
        {"description_template": b"Hi"},
        "description_template",
    ),
    ("fields not a list", "create_ticket_type", {"fields": 7}, "fields"),
    ("e-mail of another person", "add_person", {"email": "alice@x.example"}, "email"),
    ("e-mail of another person, other case", "add_person", {"email": "Gina@X.Example"}, "email"),
    ("duplicate field names", "create_ticket_type", {"fields": [SPEC, SPEC]}, "fields"),
]


@pytest.mark.parametrize(
    ("operation", "overrides", "field"), [pytest.param(*c[1:], id=c[0]) for c in BAD_INPUT]
)
def test_bad_input_names_the_field_and_writes_nothing(
    world: World, storage: Storage, operation: str, overrides: dict[str, object], field: str
) -> None:
    before = snapshot(storage, tenant(world))
    with pytest.raises(ValidationError) as info:
        call(world, operation, **overrides)
    assert set(info.value.fields) == {field}, info.value
    assert snapshot(storage, tenant(world)) == before


ALL_AT_ONCE = [
    ("create_organisation", {"name": "", "kind": "planet"}, {"name", "kind"}),
    ("add_person", {"name": " ", "email": "nope", "role": "boss"}, {"name", "email", "role"}),
    (
        "create_ticket_type",
        {"name": "", "description_template": "\x00", "fields": ["product"]},
        {"name", "description_template", "fields"},
    ),
    (
        "create_ticket_type",
        {"name": "", "description_template": 7, "fields": [SPEC, SPEC]},
        {"name", "description_template", "fields"},
    ),
]


@pytest.mark.parametrize(
    ("operation", "overrides", "fields"), ALL_AT_ONCE, ids=[c[0] for c in ALL_AT_ONCE]
)
def test_every_bad_field_is_reported_at_once(
    world: World, storage: Storage, operation: str, overrides: dict[str, object], fields: set[str]
) -> None:
    before = snapshot(storage, tenant(world))
    with pytest.raises(ValidationError) as info:
        call(world, operation, **overrides)
    assert set(info.value.fields) == fields
    assert snapshot(storage, tenant(world)) == before


def test_enum_values_are_accepted_as_text_and_names_are_trimmed(world: World) -> None:
    partner = call(world, "create_organisation", name="  Partner Co ", kind="partner")
    assert partner.kind is OrganisationKind.PARTNER and partner.name == "Partner Co"
    child = call(world, "create_organisation", name="Acme EU", parent_id=world.acme.id)
    assert child.parent_id == world.acme.id and child.kind is OrganisationKind.CUSTOMER
    agent = call(world, "add_person", organisation_id=world.provider.id, role="agent")
    assert agent.role is Role.AGENT
    boss = call(
        world,
        "add_person",
        organisation_id=partner.id,
        email="boss@x.example",
        role="customer_admin",
    )
    assert boss.role is Role.CUSTOMER_ADMIN
    project = call(world, "create_project", name="p" * 200)  # the longest name there may be
    assert project.name == "p" * 200
    # The new agent acts at once, and sees the new project.
    assert project.id in {p.id for p in world.desk.list_projects(agent.actor)}


def test_an_e_mail_address_belongs_to_one_person_of_a_tenant(
    world: World, other: World, storage: Storage
) -> None:
    """Compared case-insensitively, deactivated people included (their history names
    them); another tenant may have the same address; a batch sees its own new people."""
    call(world, "deactivate_person", person_id=world.globex_guest.id)
    before = snapshot(storage, tenant(world))
    with pytest.raises(ValidationError) as info:
        call(world, "add_person", email="GUS@x.example")
    assert set(info.value.fields) == {"email"}
    assert snapshot(storage, tenant(world)) == before
    assert call(other, "add_person", email="pat@x.example").email == "pat@x.example"
    with world.desk.batch(world.admin.actor) as batch:
        batch.add_person(
            world.admin.actor,
            organisation_id=world.acme.id,
            name="A",
            email="a@x.example",
            role="guest",
        )
        with pytest.raises(ValidationError, match="email"):
            batch.add_person(
                world.admin.actor,
                organisation_id=world.acme.id,
                name="B",
                email="A@x.example",
                role="guest",
            )
    found = world.desk.list_people(world.admin.actor, email="a@x.example")
    assert [p.name for p in found] == ["A"]


def test_two_admins_adding_one_address_at_once_get_one_person_and_one_clear_error(
    world: World, storage: Storage
) -> None:
    """The loser of the race for an address (the unique index's Conflict in SQL, the
    commit's check in memory) runs again and is then told ``email``, not ``Conflict``."""
    import threading

    results: list[object] = []
    start = threading.Barrier(2)

    def add(name: str) -> None:
        start.wait()
        try:
            results.append(call(world, "add_person", name=name, email="race@x.example"))
        except Exception as error:
            results.append(error)

    threads = [threading.Thread(target=add, args=(n,)) for n in ("One", "Two")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    added = [r for r in results if isinstance(r, Person)]
    refused = [r for r in results if isinstance(r, ValidationError)]
    assert len(added) == 1 and len(refused) == 1, results
    assert set(refused[0].fields) == {"email"}


def test_a_name_s_length_counts_after_trimming(world: World) -> None:
    project = call(world, "create_project", name="  " + "p" * 200 + " ")
    assert project.name == "p" * 200


def test_add_person_lower_cases_the_email(world: World) -> None:
    person = call(world, "add_person", email="Pat.Smith@Example.COM")
    assert person.email == "pat.smith@example.com"
    assert world.desk.get_person(world.agent.actor, person.id).email == "pat.smith@example.com"


def test_unknown_or_other_tenant_ids_are_not_found_and_write_nothing(
    world: World, other: World, storage: Storage
) -> None:
    before, before_other = snapshot(storage, tenant(world)), snapshot(storage, tenant(other))
    cases = [
        ("create_organisation", "parent_id", other.acme.id),
        ("add_person", "organisation_id", other.acme.id),
        ("create_project", "organisation_id", other.acme.id),
        ("deactivate_person", "person_id", other.agent.id),
    ]
    for operation, key, foreign_id in cases:
        for ident in (uuid.uuid4(), foreign_id):
            with pytest.raises(NotFound) as info:
                call(world, operation, **{key: ident})
            assert info.value.ident == ident, operation
    assert snapshot(storage, tenant(world)) == before
    assert snapshot(storage, tenant(other)) == before_other
    assert other.desk.get_person(other.admin.actor, other.agent.id).active


def test_bootstrap_tenant_validates_its_four_fields(storage: Storage, clock: ManualClock) -> None:
    desk = HelpDesk(storage, clock=clock)
    tenants = set(storage.tenant_ids())
    with pytest.raises(ValidationError) as info:
        desk.bootstrap_tenant(name="", provider_name="\x00", admin_name="a" * 201, admin_email="x")
    assert set(info.value.fields) == {"name", "provider_name", "admin_name", "admin_email"}
    assert set(storage.tenant_ids()) == tenants
    boot = desk.bootstrap_tenant(
        name=" Hosting ", provider_name="Hosting Ltd", admin_name="Ada", admin_email="Ada@H.Example"
    )
    assert (boot.tenant.name, boot.admin.email) == ("Hosting", "ada@h.example")
    assert boot.admin.role is Role.ADMIN and boot.provider.kind is OrganisationKind.PROVIDER
    first = desk.create_organisation(boot.admin.actor, name="First customer")
    assert first.tenant_id == boot.tenant.id


# -- deactivation -----------------------------------------------------------------------------


def test_admins_cannot_deactivate_themselves(world: World, storage: Storage) -> None:
    before = snapshot(storage, tenant(world))
    with pytest.raises(ValidationError) as info:
        world.desk.deactivate_person(world.admin.actor, world.admin.id)
    assert set(info.value.fields) == {"person_id"}
    assert snapshot(storage, tenant(world)) == before
    assert world.desk.get_person(world.admin.actor, world.admin.id).active


def test_a_deactivated_person_cannot_act_any_more_at_once(world: World) -> None:
    held = world.agent.actor
    assert world.desk.list_projects(held)
    gone = world.desk.deactivate_person(world.admin.actor, world.agent.id)
    assert gone.active is False
    for attempt in (
        lambda: world.desk.list_projects(held),
        lambda: world.desk.get_person(held, world.admin.id),
    ):
        with pytest.raises(NotFound) as info:
            attempt()
        assert (info.value.kind, info.value.ident) == ("Person", world.agent.id)
    # Their history stays: staff still find the person, marked inactive.
    assert world.desk.get_person(world.admin.actor, world.agent.id).active is False


def test_a_deactivation_staged_in_a_batch_applies_at_once_in_that_batch(world: World) -> None:
    with world.desk.batch(world.admin.actor) as batch:
        assert batch.list_projects(world.agent.actor)  # the agent's access is now resolved
        batch.deactivate_person(world.admin.actor, world.agent.id)
        with pytest.raises(NotFound):
            batch.list_projects(world.agent.actor)
        with pytest.raises(NotFound):
            batch.get_person(world.agent.actor, world.admin.id)
    with pytest.raises(NotFound):
        world.desk.list_projects(world.agent.actor)


def test_a_person_added_in_a_batch_can_act_later_in_that_batch(world: World) -> None:
    with world.desk.batch(world.admin.actor) as batch:
        nina = batch.add_person(
            world.admin.actor,
            organisation_id=world.provider.id,
            name="Nina",
            email="nina@x.example",
            role="admin",
        )
        initech = batch.create_organisation(nina.actor, name="Initech")
    project = world.desk.create_project(nina.actor, organisation_id=initech.id, name="Initech")
    assert world.desk.get_person(world.agent.actor, nina.id).name == "Nina"
    assert project.organisation_id == initech.id


def test_a_project_created_in_a_batch_is_visible_to_the_customer_in_that_batch(
    world: World,
) -> None:
    guest = world.acme_guest.actor
    with world.desk.batch(world.admin.actor) as batch:
        assert [p.name for p in batch.list_projects(guest)] == ["Acme Support"]
        batch.create_project(world.admin.actor, organisation_id=world.acme.id, name="Billing")
        assert [p.name for p in batch.list_projects(guest)] == ["Acme Support", "Billing"]
        assert [p.name for p in batch.list_projects(world.globex_guest.actor)] == ["Globex Support"]
    assert [p.name for p in world.desk.list_projects(guest)] == ["Acme Support", "Billing"]


# -- reading ----------------------------------------------------------------------------------


def test_staff_see_everyone_and_customers_see_staff_and_their_own_organisation(
    world: World,
) -> None:
    def as_seen(person: Person, email: str | None) -> PersonView:
        return PersonView(
            id=person.id,
            organisation_id=person.organisation_id,
            name=person.name,
            role=person.role,
            active=person.active,
            email=email,
        )

    for staff in (world.admin, world.agent, world.light_agent):
        for person in world.everyone:
            assert world.desk.get_person(staff.actor, person.id) == as_seen(person, person.email)
    visible = (world.admin, world.agent, world.agent2, world.light_agent)
    for customer in (world.acme_guest, world.acme_admin):
        for person in visible:
            # Names of the staff on her tickets, not the staff directory's e-mails.
            assert world.desk.get_person(customer.actor, person.id) == as_seen(person, None)
        for person in (world.acme_guest, world.acme_admin):
            assert world.desk.get_person(customer.actor, person.id) == as_seen(person, person.email)
        with pytest.raises(NotFound):
            world.desk.get_person(customer.actor, world.globex_guest.id)


def test_another_organisations_person_is_not_found_exactly_like_an_unknown_id(
    world: World, other: World
) -> None:
    shapes = set()
    for ident in (world.globex_guest.id, uuid.uuid4(), other.acme_guest.id, other.admin.id):
        with pytest.raises(NotFound) as info:
            world.desk.get_person(world.acme_guest.actor, ident)
        assert type(info.value) is NotFound
        shapes.add(str(info.value).replace(str(ident), "<id>"))
    assert shapes == {"Person <id> not found"}


def test_projects_are_listed_by_name_and_customers_see_only_their_own(world: World) -> None:
    for name in ("Zulu", "Beta"):
        call(world, "create_project", name=name)
    everything = ["Acme Support", "Beta", "Globex Support", "Ops", "Zulu"]
    for staff in (world.admin, world.agent, world.light_agent):
        assert [p.name for p in world.desk.list_projects(staff.actor)] == everything
    for customer in (world.acme_guest, world.acme_admin):
        names = [p.name for p in world.desk.list_projects(customer.actor)]
        assert names == ["Acme Support", "Beta", "Zulu"]
    assert [p.name for p in world.desk.list_projects(world.globex_guest.actor)] == [
        "Globex Support"
    ]


def test_a_ticket_type_keeps_its_fields_and_template(world: World) -> None:
    other_spec = FieldSpec(name="version", label="Version", kind=FieldKind.NUMBER)
    kind = call(world, "create_ticket_type", fields=[SPEC, other_spec], description_template="Hi")
    assert [f.name for f in kind.fields] == ["product", "version"]
    ticket = world.desk.create_ticket(
        world.acme_guest.actor, project_id=world.acme_project.id, type_id=kind.id, title="Help"
    )
    assert ticket.description == "Hi"


# -- the acting person ------------------------------------------------------------------------


def test_the_acting_person_must_be_an_actor_everywhere(world: World, storage: Storage) -> None:
    before = snapshot(storage, tenant(world))
    text_ids = Actor(tenant_id=str(tenant(world)), person_id=str(world.admin.id))  # type: ignore[arg-type]
    for wrong in (world.admin, str(world.admin.id), world.admin.id, text_ids):
        with pytest.raises(ValidationError, match="actor"):
            world.desk.list_projects(wrong)  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="actor"):
            call(world, "create_organisation", wrong)
        with pytest.raises(ValidationError, match="actor"), world.desk.batch(wrong):  # type: ignore[arg-type]
            pass
        with world.desk.batch(world.admin.actor) as batch:
            with pytest.raises(ValidationError, match="actor"):  # the batch's first operation
                batch.create_project(wrong, organisation_id=world.acme.id, name="X")  # type: ignore[arg-type]
            assert batch.list_projects(world.admin.actor)
            with pytest.raises(ValidationError, match="actor"):  # a later one, in the session
                batch.create_organisation(wrong, name="X")  # type: ignore[arg-type]
    assert snapshot(storage, tenant(world)) == before


def test_an_actor_of_another_tenant_is_not_found_here_and_in_a_batch(
    world: World, other: World, storage: Storage
) -> None:
    before, before_other = snapshot(storage, tenant(world)), snapshot(storage, tenant(other))
    impostors = [
        Actor(tenant_id=tenant(world), person_id=other.admin.id),
        Actor(tenant_id=uuid.uuid4(), person_id=world.admin.id),
    ]
    for impostor in impostors:
        with pytest.raises(NotFound):
            call(world, "create_organisation", impostor)
    with world.desk.batch(world.admin.actor) as batch:
        assert batch.list_projects(world.admin.actor)
        for impostor in (*impostors, other.admin.actor):
            with pytest.raises(NotFound):
                batch.create_organisation(impostor, name="Initech")
    assert snapshot(storage, tenant(world)) == before
    assert snapshot(storage, tenant(other)) == before_other


def test_guests_and_customer_admins_are_free_seats_and_staff_are_billable(
    world: World,
) -> None:
    desk = world.desk
    report = desk.seat_report(world.admin.actor)
    staff = [p for p in world.everyone if p.role.is_staff]
    assert report.billable == len(staff)
    assert report.free == len(world.everyone) - len(staff)
    assert report.by_role[Role.GUEST] == sum(p.role is Role.GUEST for p in world.everyone)
    desk.deactivate_person(world.admin.actor, world.agent2.id)
    desk.deactivate_person(world.admin.actor, world.globex_guest.id)
    after = desk.seat_report(world.admin.actor)
    assert (after.billable, after.free) == (report.billable - 1, report.free - 1)
    for who in (world.agent, world.acme_admin, world.acme_guest):
        with pytest.raises(PermissionDenied):
            desk.seat_report(who.actor)


def test_staff_look_up_every_organisation_and_customers_their_own(
    world: World, other: World
) -> None:
    desk = world.desk
    names = [o.name for o in desk.list_organisations(world.agent.actor)]
    assert names == sorted(names) and {"Acme Corp", "Globex"} <= set(names)
    assert [o.name for o in desk.list_organisations(world.acme_guest.actor)] == ["Acme Corp"]
    with pytest.raises(NotFound):
        desk.get_organisation(world.acme_guest.actor, world.globex.id)
    with pytest.raises(NotFound):
        desk.get_organisation(world.agent.actor, other.acme.id)  # another tenant's
    desk.add_membership(world.admin.actor, world.acme_guest.id, world.globex.id, "guest")
    assert [o.name for o in desk.list_organisations(world.acme_guest.actor)] == [
        "Acme Corp",
        "Globex",
    ]
    assert desk.get_organisation(world.acme_guest.actor, world.globex.id) == world.globex
