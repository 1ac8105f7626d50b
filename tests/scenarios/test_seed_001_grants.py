"""Seed 001 end to end, on every backend: a customer lends one project to a technical
supporter from a partner firm, who then sees it (publicly) until the grant expires or is
revoked; or the supporter asks for a project by its number and the customer says yes or no.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest

from tests.support.world import World, build_world
from ticketkit import (
    HelpDesk,
    ManualClock,
    NotFound,
    OrganisationKind,
    PermissionDenied,
    Role,
)
from ticketkit.domain import GrantScope, GrantState, Person
from ticketkit.ports import Storage

BERLIN = ZoneInfo("Europe/Berlin")


@attrs.frozen
class Cast:
    w: World
    #: Theo, customer admin of the partner firm that supports Acme and Globex technically.
    theo: Person
    #: Greta, customer admin of Globex.
    greta: Person


@pytest.fixture
def cast(storage: Storage, clock: ManualClock) -> Cast:
    w = build_world(HelpDesk(storage, clock=clock), clock)
    a = w.admin.actor
    partner = w.desk.create_organisation(a, name="Webwerk GmbH", kind=OrganisationKind.PARTNER)
    theo = w.desk.add_person(
        a,
        organisation_id=partner.id,
        name="Theo",
        email="theo@webwerk.example",
        role="customer_admin",
    )
    greta = w.desk.add_person(
        a,
        organisation_id=w.globex.id,
        name="Greta",
        email="greta@globex.example",
        role=Role.CUSTOMER_ADMIN,
    )
    return Cast(w, theo, greta)


def test_an_offered_grant_with_an_expiry_gives_public_access_until_the_instant_it_expires(
    cast: Cast, clock: ManualClock
) -> None:
    w, theo = cast.w, cast.theo
    desk = w.desk
    ticket = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Server crash",
        fields={"sla_level": "Gold"},
    )
    desk.add_comment(w.agent.actor, ticket.id, "Max looks at the RAID", visibility="internal")
    desk.add_comment(w.agent.actor, ticket.id, "We are on it", visibility="public")
    with pytest.raises(NotFound):
        desk.get_ticket(theo.actor, ticket.id)

    # The customer lends the project for a week, the expiry given in Berlin time.
    expires = (clock.now() + timedelta(days=7)).astimezone(BERLIN)
    offer = desk.offer_grant(
        w.acme_admin.actor,
        w.acme_project.id,
        grantee_organisation_id=theo.organisation_id,
        scope=["comment"],
        expires_at=expires,
    )
    assert offer.state is GrantState.OFFERED
    assert offer.scope == {GrantScope.READ, GrantScope.COMMENT}, "every scope implies read"
    assert desk.list_grants(theo.actor).open_requests == (offer,)
    assert desk.list_grants(w.acme_admin.actor).granted == (offer,)
    with pytest.raises(NotFound):
        desk.get_ticket(theo.actor, ticket.id)  # an offer is no access yet

    active = desk.accept_grant(theo.actor, offer.id)
    assert (active.state, active.decided_by) == (GrantState.ACTIVE, theo.id)
    overview = desk.list_grants(theo.actor)
    assert (overview.open_requests, overview.supported) == ((), (active,))

    # Theo sees the project, its ticket and its public comments; nothing internal.
    assert w.acme_project.id in {p.id for p in desk.list_projects(theo.actor)}
    assert [t.id for t in desk.list_tickets(theo.actor).items] == [ticket.id]
    seen = desk.get_ticket(theo.actor, ticket.id)
    assert seen.assignee_id is None and seen.comment_count == 1
    bodies = [e.comment.body for e in desk.timeline(theo.actor, ticket.id) if e.comment]
    assert bodies == ["We are on it"]
    # His scope: public comments yes; changing fields, status or opening tickets no.
    desk.add_comment(theo.actor, ticket.id, "Checked the DNS", visibility="public")
    with pytest.raises(PermissionDenied):
        desk.update_ticket(theo.actor, ticket.id, title="Renamed")
    with pytest.raises(PermissionDenied):
        desk.create_ticket(
            theo.actor,
            project_id=w.acme_project.id,
            type_id=w.incident.id,
            title="New",
            fields={"sla_level": "Gold"},
        )
    assert [e.comment.body for e in desk.timeline(w.acme_guest.actor, ticket.id) if e.comment] == [
        "We are on it",
        "Checked the DNS",
    ]

    # One microsecond before the expiry he still reads; at the instant itself no longer.
    clock.advance(expires - clock.now() - timedelta(microseconds=1))
    assert desk.get_ticket(theo.actor, ticket.id).id == ticket.id
    clock.advance(timedelta(microseconds=1))
    assert clock.now() == expires
    with pytest.raises(NotFound):
        desk.get_ticket(theo.actor, ticket.id)
    with pytest.raises(NotFound):
        desk.timeline(theo.actor, ticket.id)
    assert desk.list_tickets(theo.actor).items == ()
    assert desk.list_grants(theo.actor).supported == ()


def test_a_supporter_requests_a_project_by_its_number_and_the_owner_accepts(
    cast: Cast,
) -> None:
    w, theo, greta = cast.w, cast.theo, cast.greta
    desk = w.desk
    number = desk.get_project_by_number(greta.actor, w.globex_project.number).number
    request = desk.request_grant(theo.actor, number, ["create_tickets", "administer"])
    assert request.state is GrantState.REQUESTED
    assert request.grantee_organisation_id == theo.organisation_id
    assert desk.list_grants(greta.actor).open_requests == (request,)
    with pytest.raises(NotFound):
        desk.get_project_by_number(theo.actor, number)  # not his until accepted

    accepted = desk.accept_grant_request(greta.actor, request.id)
    assert accepted.state is GrantState.ACTIVE
    assert desk.get_project_by_number(theo.actor, number).id == w.globex_project.id
    ticket = desk.create_ticket(
        theo.actor,
        project_id=w.globex_project.id,
        type_id=w.incident.id,
        title="PHP version",
        fields={"sla_level": "Silver"},
    )
    changed = desk.update_ticket(theo.actor, ticket.id, title="PHP 8.3, please")
    assert changed.title == "PHP 8.3, please"
    assert desk.get_ticket(w.globex_guest.actor, ticket.id).title == "PHP 8.3, please"
    # The provider's support sees who the technical supporter is.
    assert accepted in desk.list_grants(w.agent.actor).granted


def test_a_declined_request_gives_nothing(cast: Cast) -> None:
    w, theo, greta = cast.w, cast.theo, cast.greta
    desk = w.desk
    request = desk.request_grant(theo.actor, w.globex_project.number, ["read"])
    declined = desk.decline_grant_request(greta.actor, request.id)
    assert (declined.state, declined.decided_by) == (GrantState.DECLINED, greta.id)
    assert w.globex_project.id not in {p.id for p in desk.list_projects(theo.actor)}
    overview = desk.list_grants(theo.actor)
    assert overview.supported == () and overview.open_requests == ()
    assert desk.list_grants(greta.actor).open_requests == ()


def test_a_revoked_grant_ends_access_at_once_and_the_grantee_may_give_one_up(
    cast: Cast,
) -> None:
    w, theo = cast.w, cast.theo
    desk = w.desk
    ticket = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Mail bounces",
        fields={"sla_level": "Gold"},
    )
    offer = desk.offer_grant(
        w.acme_admin.actor, w.acme_project.id, grantee_person_id=theo.id, scope=["read"]
    )
    desk.accept_grant(theo.actor, offer.id)
    assert desk.get_ticket(theo.actor, ticket.id).id == ticket.id
    revoked = desk.revoke_grant(w.acme_admin.actor, offer.id)
    assert (revoked.state, revoked.decided_by) == (GrantState.REVOKED, w.acme_admin.id)
    with pytest.raises(NotFound):
        desk.get_ticket(theo.actor, ticket.id)

    again = desk.offer_grant(
        w.admin.actor, w.acme_project.id, grantee_person_id=theo.id, scope=["read"]
    )
    desk.accept_grant(theo.actor, again.id)
    assert desk.get_ticket(theo.actor, ticket.id).id == ticket.id
    desk.revoke_grant(theo.actor, again.id)  # he gives it up
    with pytest.raises(NotFound):
        desk.get_ticket(theo.actor, ticket.id)
