"""The reads a host UI needs, each through the policy (issue 17, point 5): the ticket types
a person may use, and what they may do to a ticket, answered as the operations decide."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.support.world import World, build_world
from ticketkit import CommentDraft, HelpDesk, NotFound, TicketkitError
from ticketkit.application import Batch, PersonView, TicketView
from ticketkit.clock import ManualClock
from ticketkit.domain import Actor, Person
from ticketkit.ports import Storage

VALUES: dict[str, object] = {
    "title": "Renamed",
    "description": "More detail",
    "priority": "urgent",
    "fields.sla_level": "Silver",
    "fields.systems": ["db"],
    "fields.servers": "2",
    "fields.since": "2026-05-01",
    "fields.notes": "rack 9",
    "fields.cost_centre": "CC-1",
}


@pytest.fixture
def world(storage: Storage, clock: ManualClock) -> World:
    return build_world(HelpDesk(storage, clock=clock), clock)


def guest_ticket(world: World) -> TicketView:
    return world.desk.create_ticket(
        world.acme_guest.actor,
        project_id=world.acme_project.id,
        type_id=world.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )


class _Undo(Exception):
    """Rolls a probing batch back."""


def succeeds(world: World, person: Person, call: Callable[[Batch, Actor], object]) -> bool:
    """Whether ``call`` succeeds for ``person`` (given the batch and their actor); nothing
    it does is kept."""
    outcome = False
    try:
        with world.desk.batch(person.actor) as batch:
            try:
                call(batch, person.actor)
            except TicketkitError:
                outcome = False
            else:
                outcome = True
            raise _Undo
    except _Undo:
        pass
    return outcome


def test_what_a_person_may_do_is_what_the_operations_let_them_do(world: World) -> None:
    t = guest_ticket(world)
    statuses = [s.key for s in world.incident.workflow.statuses]
    readers = [p for p in world.everyone if p is not world.globex_guest]
    for person in readers:
        me = person.actor
        can = world.desk.ticket_actions(me, t.id)
        name = person.name
        assert can.comment_public == succeeds(
            world, person, lambda b, me: b.add_comment(me, t.id, "x", visibility="public")
        ), name
        assert can.comment_internal == succeeds(
            world, person, lambda b, me: b.add_comment(me, t.id, "x", visibility="internal")
        ), name
        assert can.assign == succeeds(
            world, person, lambda b, me: b.assign(me, t.id, world.agent.id)
        ), name
        # Someone this person would add: staff add staff, customers a colleague.
        colleague = (
            world.agent2
            if person.role.is_staff
            else world.acme_admin
            if person is world.acme_guest
            else world.acme_guest
        )
        assert can.add_followers == succeeds(
            world, person, lambda b, me, who=colleague: b.add_follower(me, t.id, who.id)
        ), name
        for key in statuses:
            if key == t.status:
                continue
            moved = succeeds(world, person, lambda b, me, key=key: b.change_status(me, t.id, key))
            assert (key in can.statuses) == moved, (name, key)
        for field, value in VALUES.items():
            if field.startswith("fields."):
                change = {"fields": {field.removeprefix("fields."): value}}
            else:
                change = {field: value}
            updated = succeeds(
                world,
                person,
                lambda b, me, change=change: b.update_ticket(me, t.id, **change),  # type: ignore[arg-type]
            )
            assert (field in can.fields) == updated, (name, field)


def test_a_guest_may_comment_and_edit_public_fields_only(world: World) -> None:
    t = guest_ticket(world)
    can = world.desk.ticket_actions(world.acme_guest.actor, t.id)
    assert (can.comment_public, can.comment_internal, can.assign) == (True, False, False)
    assert can.statuses == ()
    assert "fields.cost_centre" not in can.fields and "fields.sla_level" in can.fields
    agent = world.desk.ticket_actions(world.agent.actor, t.id)
    assert agent.statuses == world.incident.workflow.targets("new")
    assert "fields.cost_centre" in agent.fields


def test_actions_on_a_ticket_one_may_not_see_are_not_found(world: World) -> None:
    t = guest_ticket(world)
    with pytest.raises(NotFound):
        world.desk.ticket_actions(world.globex_guest.actor, t.id)


def test_ticket_types_show_a_guest_their_public_fields_only(world: World) -> None:
    second = world.desk.create_ticket_type(world.admin.actor, name="Access request")
    guest = world.desk.list_ticket_types(world.acme_guest.actor)
    agent = world.desk.list_ticket_types(world.agent.actor)
    assert [t.name for t in guest] == [t.name for t in agent] == ["Access request", "Incident"]
    assert guest[0].id == second.id
    incident_for_guest, incident_for_agent = guest[1], agent[1]
    public = [f.name for f in world.incident.fields if not f.internal]
    assert [f.name for f in incident_for_guest.fields] == public
    assert [f.name for f in incident_for_agent.fields] == [f.name for f in world.incident.fields]
    assert incident_for_guest.description_template == "What happened?"
    assert incident_for_guest.initial_status == "new"
    assert [s.key for s in incident_for_guest.statuses] == [
        s.key for s in world.incident.workflow.statuses
    ]


def test_the_draft_a_ui_builds_from_the_actions_goes_through(world: World) -> None:
    t = guest_ticket(world)
    can = world.desk.ticket_actions(world.agent.actor, t.id)
    target = can.statuses[0]
    view = world.desk.change_status(
        world.agent.actor, t.id, target, comment=CommentDraft(body="On it", visibility="public")
    )
    assert view.status == target


def names(people: list[PersonView]) -> list[str]:
    return [p.name for p in people]


def test_people_are_listed_as_the_policy_lets_one_see_them(world: World) -> None:
    desk = world.desk
    staff = sorted(p.name for p in world.everyone if p.role.is_staff)
    acme = sorted([world.acme_guest.name, world.acme_admin.name])
    assert names(desk.list_people(world.agent.actor)) == sorted(p.name for p in world.everyone)
    assert names(desk.list_people(world.acme_guest.actor)) == sorted(staff + acme)
    assert names(desk.list_people(world.acme_guest.actor, organisation_id=world.acme.id)) == acme
    assert desk.list_people(world.acme_guest.actor, organisation_id=world.globex.id) == []
    assert names(desk.list_people(world.agent.actor, organisation_id=world.globex.id)) == [
        world.globex_guest.name
    ]
    # A guest sees staff names, and no staff e-mail, not even by searching for it.
    seen = desk.list_people(world.acme_guest.actor, organisation_id=world.provider.id)
    assert seen and all(p.email is None for p in seen)
    assert desk.list_people(world.acme_guest.actor, email=world.agent.email) == []
    found = desk.list_people(world.acme_guest.actor, email=world.acme_admin.email.upper())
    assert names(found) == [world.acme_admin.name] and found[0].email == world.acme_admin.email
    assert names(desk.list_people(world.agent.actor, email=world.globex_guest.email)) == [
        world.globex_guest.name
    ]


def test_assignable_people_are_the_active_agents_and_admins(world: World) -> None:
    desk = world.desk
    expected = sorted(p.name for p in (world.admin, world.agent, world.agent2))
    assert names(desk.list_people(world.agent.actor, assignable=True)) == expected
    desk.deactivate_person(world.admin.actor, world.agent2.id)
    assert world.agent2.name not in names(desk.list_people(world.agent.actor, assignable=True))


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"email": "no address"}, "email"),
        ({"email": "a\x00@x.example"}, "email"),
        ({"organisation_id": "acme"}, "organisation_id"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
    ],
)
def test_bad_people_queries_name_the_field(
    world: World, arguments: dict[str, object], field: str
) -> None:
    from ticketkit import ValidationError

    with pytest.raises(ValidationError) as caught:
        world.desk.list_people(world.agent.actor, **arguments)  # type: ignore[arg-type]
    assert field in caught.value.fields
