"""A consultant in two organisations (issue 18, point 4), end to end on every backend.

Gina is a guest of Acme; the provider also makes her a customer admin of Globex, where she
consults. She chooses the organisation per ticket by the project she opens it in. The
policy is exact per ticket: on Acme's tickets she is Acme's guest and nothing of Globex
shows; on Globex's she is Globex's customer admin. Ending the membership ends her access
to Globex's tickets at once, and leaves her Acme tickets exactly as they were.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.world import World, build_world
from ticketkit import (
    HelpDesk,
    ManualClock,
    NotFound,
    PermissionDenied,
    Role,
    ValidationError,
)
from ticketkit.ports import Storage


@pytest.fixture
def w(storage: Storage, clock: ManualClock) -> World:
    return build_world(HelpDesk(storage, clock=clock), clock)


def acme_as_gina_sees_it(w: World, ticket_id: Any) -> tuple[Any, ...]:
    """Everything Gina reads of one Acme ticket."""
    desk, gina = w.desk, w.acme_guest.actor
    return (
        desk.get_ticket(gina, ticket_id),
        desk.timeline(gina, ticket_id),
        desk.ticket_actions(gina, ticket_id),
        desk.list_tickets(gina, project_id=w.acme_project.id),
    )


def test_a_consultant_works_in_two_organisations_with_a_role_in_each(w: World) -> None:
    desk, admin, gina = w.desk, w.admin.actor, w.acme_guest.actor
    acme_ticket = desk.create_ticket(
        gina,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Acme's printer",
        fields={"sla_level": "Gold"},
    )
    desk.add_comment(w.agent.actor, acme_ticket.id, "Looking", visibility="public")
    before = acme_as_gina_sees_it(w, acme_ticket.id)
    globex_ticket = desk.create_ticket(
        w.globex_guest.actor,
        project_id=w.globex_project.id,
        type_id=w.incident.id,
        title="Globex's VPN",
        fields={"sla_level": "Silver"},
    )
    with pytest.raises(NotFound):
        desk.get_ticket(gina, globex_ticket.id)

    membership = desk.add_membership(admin, w.acme_guest.id, w.globex.id, "customer_admin")
    assert membership.role is Role.CUSTOMER_ADMIN

    # Globex's tickets are hers now, with Globex's role: she may manage Globex's contacts,
    # and on Acme's tickets she is still Acme's guest only.
    assert desk.get_ticket(gina, globex_ticket.id).title == "Globex's VPN"
    listed = {t.title for t in desk.list_tickets(gina).items}
    assert listed == {"Acme's printer", "Globex's VPN"}
    assert {p.name for p in desk.list_projects(gina)} == {"Acme Support", "Globex Support"}
    desk.change_contact_role(gina, w.globex_guest.id, "customer_admin")
    with pytest.raises(PermissionDenied):
        desk.change_contact_role(gina, w.acme_admin.id, "guest")
    assert acme_as_gina_sees_it(w, acme_ticket.id) == before

    # She opens a ticket for Globex by choosing its project; her work there is Globex's.
    mine = desk.create_ticket(
        gina,
        project_id=w.globex_project.id,
        type_id=w.incident.id,
        title="Globex's mail",
        fields={"sla_level": "Bronze"},
    )
    desk.add_comment(gina, mine.id, "Since this morning", visibility="public")
    created, comment = desk.timeline(w.agent.actor, mine.id)[:2]
    assert created.event.organisation_id == w.globex.id
    assert comment.comment is not None and comment.comment.organisation_id == w.globex.id
    # Globex's guest sees the ticket his consultant opened; Acme's admin does not.
    assert desk.get_ticket(w.globex_guest.actor, mine.id).title == "Globex's mail"
    with pytest.raises(NotFound):
        desk.get_ticket(w.acme_admin.actor, mine.id)

    # Ended: Globex's tickets are gone at once, even those she opened; Acme's unchanged.
    desk.end_membership(w.globex_guest.actor, w.acme_guest.id, w.globex.id)
    for ticket_id in (globex_ticket.id, mine.id):
        with pytest.raises(NotFound):
            desk.get_ticket(gina, ticket_id)
    assert {t.title for t in desk.list_tickets(gina).items} == {"Acme's printer"}
    assert acme_as_gina_sees_it(w, acme_ticket.id) == before
    assert desk.list_memberships(gina) == []


def test_memberships_are_listed_for_their_person_and_for_their_organisation(w: World) -> None:
    desk, admin = w.desk, w.admin.actor
    desk.add_membership(admin, w.acme_guest.id, w.globex.id)
    mine = desk.list_memberships(w.acme_guest.actor)
    assert [(m.organisation_id, m.role) for m in mine] == [(w.globex.id, Role.GUEST)]
    desk.change_contact_role(admin, w.globex_guest.id, "customer_admin")
    members = desk.list_memberships(w.globex_guest.actor, organisation_id=w.globex.id)
    # Globex's customer admin sees his member's address: she is one of Globex's people.
    assert [(m.person.name, m.person.email) for m in members] == [("Gina", "gina@x.example")]
    with pytest.raises(PermissionDenied):
        desk.list_memberships(w.acme_admin.actor, organisation_id=w.globex.id)
    with pytest.raises(NotFound):
        desk.list_memberships(w.globex_guest.actor, person_id=w.acme_admin.id)


@pytest.mark.parametrize(
    ("who", "organisation", "role", "field"),
    [
        ("agent", "globex", "guest", "person_id"),
        ("acme_guest", "acme", "guest", "organisation_id"),
        ("acme_guest", "provider", "guest", "organisation_id"),
        ("acme_guest", "globex", "agent", "role"),
    ],
)
def test_a_membership_that_makes_no_sense_is_refused_naming_the_field(
    w: World, who: str, organisation: str, role: str, field: str
) -> None:
    person = getattr(w, who)
    org = getattr(w, organisation)
    with pytest.raises(ValidationError) as raised:
        w.desk.add_membership(w.admin.actor, person.id, org.id, role)
    assert [e.field for e in raised.value.errors] == [field]
    assert w.desk.list_memberships(w.admin.actor, organisation_id=org.id) == []


def test_only_admins_add_memberships_and_a_second_one_is_refused(w: World) -> None:
    desk = w.desk
    desk.change_contact_role(w.admin.actor, w.globex_guest.id, "customer_admin")
    with pytest.raises(PermissionDenied):
        desk.add_membership(w.globex_guest.actor, w.acme_guest.id, w.globex.id)
    desk.add_membership(w.admin.actor, w.acme_guest.id, w.globex.id)
    with pytest.raises(ValidationError) as raised:
        desk.add_membership(w.admin.actor, w.acme_guest.id, w.globex.id, "customer_admin")
    assert raised.value.errors[0].field == "organisation_id"
    assert len(desk.list_memberships(w.admin.actor, organisation_id=w.globex.id)) == 1


def test_a_member_may_leave_and_others_may_not_end_her_membership(w: World) -> None:
    desk = w.desk
    desk.add_membership(w.admin.actor, w.acme_guest.id, w.globex.id)
    with pytest.raises(PermissionDenied):
        desk.end_membership(w.acme_admin.actor, w.acme_guest.id, w.globex.id)
    desk.end_membership(w.acme_guest.actor, w.acme_guest.id, w.globex.id)
    with pytest.raises(NotFound):
        desk.end_membership(w.admin.actor, w.acme_guest.id, w.globex.id)
    # Ended, she may be made a member again.
    desk.add_membership(w.admin.actor, w.acme_guest.id, w.globex.id)
    assert len(desk.list_memberships(w.acme_guest.actor)) == 1
