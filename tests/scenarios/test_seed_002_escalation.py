"""Seed 002's Taskfire flow end to end, on every backend: a customer runs its own help desk
(customer-side agents, its own project and group), escalates a ticket to the provider and
takes it back, keeping one history; internal means internal to the author's organisation,
so neither side ever reads the other's internal notes.
"""

from __future__ import annotations

import attrs
import pytest

from tests.support.world import World, build_world
from ticketkit import (
    HelpDesk,
    ManualClock,
    NotFound,
    PermissionDenied,
    Role,
    ValidationError,
    Visibility,
)
from ticketkit.domain import Group, Person, Project
from ticketkit.ports import Storage


@attrs.frozen
class Desk:
    w: World
    #: Ivan and Iris: Acme's own IT staff (customer-side agents).
    ivan: Person
    iris: Person
    #: Acme's internal IT desk, which Acme's agents serve; and their group.
    it_desk: Project
    it_group: Group
    #: The provider's first line, serving Acme's support project.
    first_line: Group


@pytest.fixture
def desk(storage: Storage, clock: ManualClock) -> Desk:
    w = build_world(HelpDesk(storage, clock=clock), clock)
    d, a = w.desk, w.admin.actor
    ivan = d.add_person(
        a, organisation_id=w.acme.id, name="Ivan", email="ivan@acme.example", role="customer_agent"
    )
    iris = d.add_person(
        a, organisation_id=w.acme.id, name="Iris", email="iris@acme.example", role="customer_agent"
    )
    it_desk = d.create_project(a, organisation_id=w.acme.id, name="Acme IT", own_desk=True)
    it_group = d.create_group(
        a,
        name="Acme IT",
        organisation_id=w.acme.id,
        member_ids=[ivan.id, iris.id],
        project_ids=[it_desk.id],
    )
    first_line = d.create_group(
        a, name="First line", member_ids=[w.agent.id], project_ids=[w.acme_project.id]
    )
    return Desk(w, ivan, iris, it_desk, it_group, first_line)


def bodies(d: Desk, who: Person, ticket_id: object) -> list[str]:
    return [
        e.comment.body
        for e in d.w.desk.timeline(who.actor, ticket_id)  # type: ignore[arg-type]
        if e.comment is not None
    ]


def test_a_ticket_escalated_and_transferred_back_keeps_one_history_and_both_sides_notes(
    desk: Desk,
) -> None:
    d, w = desk, desk.w
    api = w.desk
    # Gina asks her own IT; the ticket goes to Acme's IT group, inside Acme.
    ticket = api.create_ticket(
        w.acme_guest.actor,
        project_id=d.it_desk.id,
        type_id=w.incident.id,
        title="Laptop won't boot",
        fields={"sla_level": "Gold"},
    )
    assert api.get_ticket(d.ivan.actor, ticket.id).group_id == d.it_group.id
    api.assign(d.ivan.actor, ticket.id, d.iris.id)
    api.add_comment(d.iris.actor, ticket.id, "BIOS password lost?", visibility="internal")
    api.add_comment(d.iris.actor, ticket.id, "We are on it", visibility="public")

    # Iris cannot fix it: she escalates to the project the provider serves.
    moved = api.move_ticket(d.iris.actor, ticket.id, w.acme_project.id)
    assert moved.project_id == w.acme_project.id
    staff_view = api.get_ticket(w.agent.actor, ticket.id)
    assert staff_view.group_id == d.first_line.id and staff_view.assignee_id is None
    api.assign(w.agent.actor, ticket.id, w.agent.id)
    api.add_comment(w.agent.actor, ticket.id, "Known firmware bug", visibility="internal")
    api.add_comment(w.agent.actor, ticket.id, "Please update firmware", visibility="public")

    # Transferred back to Acme's IT, which closes it.
    api.move_ticket(w.agent.actor, ticket.id, d.it_desk.id)
    api.add_comment(d.ivan.actor, ticket.id, "Updated, works", visibility="internal")

    public = ["We are on it", "Please update firmware"]
    assert bodies(d, w.acme_guest, ticket.id) == public
    assert bodies(d, d.ivan, ticket.id) == [
        "BIOS password lost?",
        "We are on it",
        "Please update firmware",
        "Updated, works",
    ]
    assert bodies(d, w.agent, ticket.id) == [
        "We are on it",
        "Known firmware bug",
        "Please update firmware",
    ]
    # One history: the same ticket, its positions numbered without gaps for each reader.
    for reader in (w.acme_guest, d.ivan, w.agent):
        entries = api.timeline(reader.actor, ticket.id)
        assert [e.event.seq for e in entries] == list(range(1, len(entries) + 1))
        assert all(
            e.event.visibility is Visibility.PUBLIC
            or e.event.organisation_id == reader.organisation_id
            for e in entries
        )
    # Neither side's internal assignment shows on the other side.
    assert api.get_ticket(w.acme_guest.actor, ticket.id).assignee_id is None


def test_customer_agents_work_only_their_own_organisation(desk: Desk) -> None:
    d, w = desk, desk.w
    api = w.desk
    globex_ticket = api.create_ticket(
        w.globex_guest.actor,
        project_id=w.globex_project.id,
        type_id=w.incident.id,
        title="Globex's",
        fields={"sla_level": "Gold"},
    )
    with pytest.raises(NotFound):
        api.get_ticket(d.ivan.actor, globex_ticket.id)
    assert {g.name for g in api.list_groups(d.ivan.actor)} == {"Acme IT"}
    assert {g.name for g in api.list_groups(w.acme_guest.actor)} == set()
    ticket = api.create_ticket(
        w.acme_guest.actor,
        project_id=d.it_desk.id,
        type_id=w.incident.id,
        title="Printer",
        fields={"sla_level": "Gold"},
    )
    # On Acme's own desk, only Acme's agents are assigned; the provider's are not, and
    # a customer agent assigns no one on the provider's projects either.
    with pytest.raises(ValidationError) as raised:
        api.assign(w.admin.actor, ticket.id, w.agent.id)
    assert raised.value.errors[0].field == "assignee_id"
    provider_ticket = api.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Mail",
        fields={"sla_level": "Gold"},
    )
    with pytest.raises(PermissionDenied):
        api.assign(d.ivan.actor, provider_ticket.id, d.iris.id)
    # A ticket moves only between projects of its own organisation.
    with pytest.raises(ValidationError) as raised:
        api.move_ticket(w.admin.actor, ticket.id, w.globex_project.id)
    assert raised.value.errors[0].field == "project_id"
    # Guests do not move tickets.
    with pytest.raises(PermissionDenied):
        api.move_ticket(w.acme_guest.actor, ticket.id, w.acme_project.id)
    # Customer agents are no staff: not billable, nor agents of the provider.
    report = api.seat_report(w.admin.actor)
    assert report.by_role[Role.CUSTOMER_AGENT] == 2


def test_customer_agents_belong_to_a_customer_and_groups_to_their_desk(desk: Desk) -> None:
    d, w = desk, desk.w
    api, a = w.desk, w.admin.actor
    with pytest.raises(ValidationError) as raised:
        api.add_person(
            a, organisation_id=w.provider.id, name="X", email="x@p.example", role="customer_agent"
        )
    assert raised.value.errors[0].field == "role"
    with pytest.raises(ValidationError) as raised:
        api.create_group(a, name="Mixed", organisation_id=w.acme.id, member_ids=[w.agent.id])
    assert raised.value.errors[0].field == "member_ids"
    with pytest.raises(ValidationError) as raised:
        api.create_group(a, name="Wrong desk", project_ids=[d.it_desk.id])
    assert raised.value.errors[0].field == "project_ids"
