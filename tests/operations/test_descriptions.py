"""Timeline descriptions (issue 17, point 5): one line per entry, with the names and labels
the reader may see, and a message key and parameters a host can translate."""

from __future__ import annotations

import string
from typing import ClassVar
from uuid import uuid4

import attrs
import pytest

from tests.support.world import World, build_world
from ticketkit import DESCRIPTION_TEMPLATES, CommentDraft, HelpDesk, TicketView
from ticketkit.application.descriptions import SOMEONE, describe
from ticketkit.clock import ManualClock
from ticketkit.domain import Event
from ticketkit.ports import Storage


@pytest.fixture
def world(storage: Storage, clock: ManualClock) -> World:
    return build_world(HelpDesk(storage, clock=clock), clock)


def worked_ticket(w: World) -> TicketView:
    """A guest's ticket worked on by the agents: every kind of event, public and internal."""
    desk, alice = w.desk, w.agent.actor
    t = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Mail is down",
        fields={"sla_level": "Gold"},
    )
    desk.update_ticket(
        alice, t.id, title="Mail server down", fields={"sla_level": "Silver", "cost_centre": "C7"}
    )
    desk.assign(alice, t.id, w.agent2.id, comment=CommentDraft(body="yours", visibility="internal"))
    desk.change_status(alice, t.id, "open")
    desk.add_comment(w.agent2.actor, t.id, "Looking into it", visibility="public")
    desk.assign(alice, t.id, None)
    return t


def lines(w: World, who: str, t: TicketView) -> list[tuple[str, str]]:
    person = getattr(w, who)
    return [(e.description.key, e.description.text) for e in w.desk.timeline(person.actor, t.id)]


def test_an_agent_reads_every_entry_with_names_and_labels(world: World) -> None:
    t = worked_ticket(world)
    assert lines(world, "agent", t) == [
        ("ticket_created", "Gina opened #1 “Mail is down”"),
        ("ticket_changed", "Alice changed title, SLA level"),
        ("ticket_changed", "Alice changed Cost centre"),
        ("ticket_assigned", "Alice assigned the ticket to Bob"),
        ("comment_internal", "Alice wrote an internal note"),
        ("status_changed", "Alice changed the status from New to Open"),
        ("comment_public", "Bob replied publicly"),
        ("ticket_unassigned", "Alice unassigned the ticket"),
    ]


def test_a_guest_reads_the_public_entries_with_staff_names(world: World) -> None:
    t = worked_ticket(world)
    assert lines(world, "acme_guest", t) == [
        ("ticket_created", "Gina opened #1 “Mail is down”"),
        ("ticket_changed", "Alice changed title, SLA level"),
        ("status_changed", "Alice changed the status from New to Open"),
        ("comment_public", "Bob replied publicly"),
    ]


def test_parameters_carry_what_the_text_says_for_a_host_to_translate(world: World) -> None:
    t = worked_ticket(world)
    entries = world.desk.timeline(world.agent.actor, t.id)
    assert [dict(e.description.params) for e in entries] == [
        {"actor": "Gina", "number": 1, "title": "Mail is down"},
        {"actor": "Alice", "fields": "title, SLA level"},
        {"actor": "Alice", "fields": "Cost centre"},
        {"actor": "Alice", "assignee": "Bob"},
        {"actor": "Alice"},
        {"actor": "Alice", "old_status": "New", "new_status": "Open"},
        {"actor": "Bob"},
        {"actor": "Alice"},
    ]
    for entry in entries:
        d = entry.description
        assert str(d) == d.text == DESCRIPTION_TEMPLATES[d.key].format(**d.params)


def test_a_ticket_opened_for_a_customer_names_both(world: World) -> None:
    t = world.desk.create_ticket(
        world.agent.actor,
        project_id=world.acme_project.id,
        type_id=world.incident.id,
        title="Phoned in",
        fields={"sla_level": "Gold"},
        requester_id=world.acme_guest.id,
    )
    [created] = world.desk.timeline(world.acme_guest.actor, t.id)
    assert created.description.key == "ticket_created_for"
    assert created.description.text == "Alice opened #1 “Phoned in” for Gina"


def test_people_who_left_are_still_named_in_the_history(world: World) -> None:
    t = worked_ticket(world)
    world.desk.deactivate_person(world.admin.actor, world.agent2.id)
    texts = [text for _, text in lines(world, "acme_guest", t)]
    assert "Bob replied publicly" in texts


def test_someone_the_reader_may_not_look_up_is_someone(world: World) -> None:
    """Names come only from what the caller resolved for the reader; anyone else is None
    in the parameters and "someone" in the text."""
    t = worked_ticket(world)
    created = world.desk.timeline(world.agent.actor, t.id)[0]
    view = world.desk.list_ticket_types(world.acme_guest.actor)[0]
    d = describe(created.event, comment=None, ticket_type=view, names={uuid4(): "Nobody"})
    assert d.params["actor"] is None
    assert d.text == f"{SOMEONE} opened #1 “Mail is down”"


def test_every_template_names_only_parameters_the_descriptions_give(world: World) -> None:
    t = worked_ticket(world)
    given = {
        e.description.key: set(e.description.params)
        for e in world.desk.timeline(world.agent.actor, t.id)
    }
    for key, template in DESCRIPTION_TEMPLATES.items():
        placeholders = {name for _, name, _, _ in string.Formatter().parse(template) if name}
        if key in given:
            assert placeholders == given[key], key
        assert "actor" in placeholders, key


def test_an_event_kind_without_a_message_of_its_own_is_described_by_its_kind(
    world: World,
) -> None:
    """A kind added later (a follower, a group) still gets a line until it has a message."""

    @attrs.frozen(kw_only=True)
    class FollowerAdded(Event):
        kind: ClassVar[str] = "follower_added"

    t = worked_ticket(world)
    created = world.desk.timeline(world.agent.actor, t.id)[0].event
    common = {a.name: getattr(created, a.name) for a in attrs.fields(Event)}
    event = FollowerAdded(**common)
    view = world.desk.list_ticket_types(world.agent.actor)[0]
    d = describe(event, comment=None, ticket_type=view, names={created.actor_id: "Gina"})
    assert (d.key, dict(d.params), d.text) == (
        "event",
        {"actor": "Gina", "kind": "follower_added"},
        "Gina: follower_added",
    )
