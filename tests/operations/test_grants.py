"""Delegation grants' operations on every backend: project numbers, the refusals of issue
18's acceptance (each naming its field and writing nothing), scopes on granted projects,
and what agents and customers see of a grant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import attrs
import pytest

from tests.support.snapshot import snapshot
from tests.support.world import World, build_world
from ticketkit import (
    HelpDesk,
    ManualClock,
    NotFound,
    OrganisationKind,
    PermissionDenied,
    TicketkitError,
    ValidationError,
)
from ticketkit.domain import Grant, Person, TicketCreated
from ticketkit.ports import Storage


@attrs.frozen
class Setup:
    w: World
    storage: Storage
    #: A partner firm's customer admin and its guest: the technical supporters.
    theo: Person
    tina: Person


@pytest.fixture
def s(storage: Storage, clock: ManualClock) -> Setup:
    w = build_world(HelpDesk(storage, clock=clock), clock)
    a = w.admin.actor
    partner = w.desk.create_organisation(a, name="Webwerk", kind=OrganisationKind.PARTNER)
    theo = w.desk.add_person(
        a, organisation_id=partner.id, name="Theo", email="theo@w.example", role="customer_admin"
    )
    tina = w.desk.add_person(
        a, organisation_id=partner.id, name="Tina", email="tina@w.example", role="guest"
    )
    return Setup(w, storage, theo, tina)


def test_projects_count_one_two_three_per_tenant_and_are_found_by_number(
    s: Setup, clock: ManualClock
) -> None:
    w = s.w
    assert [w.acme_project.number, w.globex_project.number, w.internal_project.number] == [1, 2, 3]
    extra = w.desk.create_project(w.admin.actor, organisation_id=w.acme.id, name="Web")
    assert extra.number == 4
    assert w.desk.get_project_by_number(w.acme_guest.actor, 4) == extra
    with pytest.raises(NotFound):
        w.desk.get_project_by_number(w.globex_guest.actor, 4)  # not hers to see
    with pytest.raises(NotFound):
        w.desk.get_project_by_number(w.admin.actor, 99)
    other = build_world(HelpDesk(s.storage, clock=clock), clock, name="Other")
    assert other.acme_project.number == 1, "numbers count per tenant"


def refused(
    s: Setup, error: type[TicketkitError], call: Callable[[], object], field: str | None = None
) -> None:
    """``call`` raises ``error`` (naming ``field``) and the tenant's storage is unchanged."""
    tenant = s.w.provider.tenant_id
    before = snapshot(s.storage, tenant)
    with pytest.raises(error) as info:
        call()
    if field is not None:
        if isinstance(info.value, ValidationError):
            assert field in info.value.fields, info.value
        else:
            assert getattr(info.value, "field", None) == field, info.value
    assert snapshot(s.storage, tenant) == before


def test_bad_offers_are_refused_naming_the_field_and_write_nothing(
    s: Setup, clock: ManualClock
) -> None:
    w, desk = s.w, s.w.desk
    carl = w.acme_admin.actor

    def offer(**kwargs: object) -> Callable[[], object]:
        args: dict[str, object] = {"grantee_person_id": s.theo.id, "scope": ["read"], **kwargs}
        return lambda: desk.offer_grant(carl, w.acme_project.id, **args)  # type: ignore[arg-type]

    refused(s, ValidationError, offer(scope=["read", "billing"]), "scope")
    refused(s, ValidationError, offer(scope=[]), "scope")
    refused(s, ValidationError, offer(scope=["everything"]), "scope")
    refused(s, ValidationError, offer(expires_at=clock.now() - timedelta(days=1)), "expires_at")
    refused(s, ValidationError, offer(expires_at=clock.now()), "expires_at")
    # To oneself, to one's own organisation, to a colleague: the same organisation.
    refused(s, ValidationError, offer(grantee_person_id=w.acme_admin.id), "grantee_person_id")
    refused(s, ValidationError, offer(grantee_person_id=w.acme_guest.id), "grantee_person_id")
    refused(
        s,
        ValidationError,
        offer(grantee_person_id=None, grantee_organisation_id=w.acme.id),
        "grantee_organisation_id",
    )
    refused(s, ValidationError, offer(grantee_person_id=w.agent.id), "grantee_person_id")
    refused(
        s,
        ValidationError,
        offer(grantee_organisation_id=w.globex.id),  # two grantees
        "grantee_person_id",
    )
    # Another organisation's project: not even seen, or (Globex's guest) not hers to lend.
    refused(
        s,
        NotFound,
        lambda: desk.offer_grant(
            carl, w.globex_project.id, grantee_person_id=s.theo.id, scope=["read"]
        ),
    )
    refused(
        s,
        PermissionDenied,
        lambda: desk.offer_grant(
            w.acme_guest.actor, w.acme_project.id, grantee_person_id=s.theo.id, scope=["read"]
        ),
        "project_id",
    )
    refused(
        s,
        PermissionDenied,
        lambda: desk.offer_grant(
            w.agent.actor, w.acme_project.id, grantee_person_id=s.theo.id, scope=["read"]
        ),
        "project_id",
    )


def test_a_grantee_never_re_delegates_the_project(s: Setup) -> None:
    w, desk = s.w, s.w.desk
    grant = desk.offer_grant(
        w.acme_admin.actor,
        w.acme_project.id,
        grantee_organisation_id=s.theo.organisation_id,
        scope=["administer"],
    )
    desk.accept_grant(s.theo.actor, grant.id)
    refused(
        s,
        PermissionDenied,
        lambda: desk.offer_grant(
            s.theo.actor, w.acme_project.id, grantee_organisation_id=w.globex.id, scope=["read"]
        ),
        "project_id",
    )
    refused(
        s,
        ValidationError,
        lambda: desk.request_grant(s.theo.actor, w.acme_project.number, ["read"]),
        "project_number",
    )


def test_bad_requests_are_refused_naming_the_field_and_write_nothing(s: Setup) -> None:
    w, desk = s.w, s.w.desk
    theo = s.theo.actor
    refused(s, ValidationError, lambda: desk.request_grant(theo, 999, ["read"]), "project_number")
    refused(
        s,
        ValidationError,
        lambda: desk.request_grant(w.acme_admin.actor, w.acme_project.number, ["read"]),
        "project_number",
    )
    refused(
        s,
        ValidationError,
        lambda: desk.request_grant(theo, w.acme_project.number, ["billing"]),
        "scope",
    )
    refused(
        s,
        PermissionDenied,
        lambda: desk.request_grant(s.tina.actor, w.acme_project.number, ["read"]),
        "project_number",
    )
    desk.request_grant(theo, w.acme_project.number, ["read"])
    refused(
        s,
        ValidationError,
        lambda: desk.request_grant(theo, w.acme_project.number, ["read"]),
        "project_number",
    )


def test_only_the_grantee_accepts_an_offer_and_only_the_owner_answers_a_request(
    s: Setup,
) -> None:
    w, desk = s.w, s.w.desk
    offer = desk.offer_grant(
        w.acme_admin.actor, w.acme_project.id, grantee_person_id=s.theo.id, scope=["read"]
    )
    # Someone else's grant: the owner's side, the grantee's colleague, a stranger.
    refused(
        s, PermissionDenied, lambda: desk.accept_grant(w.acme_admin.actor, offer.id), "grant_id"
    )
    refused(s, NotFound, lambda: desk.accept_grant(s.tina.actor, offer.id))
    refused(s, NotFound, lambda: desk.accept_grant(w.globex_guest.actor, offer.id))
    refused(s, NotFound, lambda: desk.revoke_grant(w.globex_guest.actor, offer.id))
    desk.accept_grant(s.theo.actor, offer.id)
    refused(s, ValidationError, lambda: desk.accept_grant(s.theo.actor, offer.id), "grant_id")

    request = desk.request_grant(s.theo.actor, w.globex_project.number, ["read"])
    refused(s, NotFound, lambda: desk.accept_grant_request(w.acme_admin.actor, request.id))
    refused(
        s,
        PermissionDenied,
        lambda: desk.accept_grant_request(s.theo.actor, request.id),
        "grant_id",
    )
    refused(s, ValidationError, lambda: desk.accept_grant(s.theo.actor, request.id), "grant_id")
    desk.decline_grant_request(w.admin.actor, request.id)
    refused(
        s, ValidationError, lambda: desk.accept_grant_request(w.admin.actor, request.id), "grant_id"
    )
    refused(s, ValidationError, lambda: desk.revoke_grant(w.admin.actor, request.id), "grant_id")


def test_an_offer_that_expired_unanswered_cannot_be_accepted(s: Setup, clock: ManualClock) -> None:
    w, desk = s.w, s.w.desk
    offer = desk.offer_grant(
        w.acme_admin.actor,
        w.acme_project.id,
        grantee_person_id=s.theo.id,
        scope=["read"],
        expires_at=clock.now() + timedelta(hours=1),
    )
    clock.advance(timedelta(hours=1))
    refused(s, ValidationError, lambda: desk.accept_grant(s.theo.actor, offer.id), "grant_id")


def granted(s: Setup, *scope: str) -> Grant:
    w = s.w
    grant = w.desk.offer_grant(
        w.acme_admin.actor,
        w.acme_project.id,
        grantee_organisation_id=s.theo.organisation_id,
        scope=list(scope),
    )
    return w.desk.accept_grant(s.theo.actor, grant.id)


def test_a_read_only_grant_refuses_every_write_on_the_project(s: Setup) -> None:
    w, desk = s.w, s.w.desk
    granted(s, "read")
    ticket = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )
    for who in (s.theo, s.tina):  # the organisation's grant holds for all of it
        assert desk.get_ticket(who.actor, ticket.id).id == ticket.id
        actions = desk.ticket_actions(who.actor, ticket.id)
        assert (actions.comment_public, actions.fields, actions.add_followers) == (False, (), False)
        refused(
            s,
            PermissionDenied,
            lambda who=who: desk.add_comment(who.actor, ticket.id, "Hi", visibility="public"),
            "comment.visibility",
        )
        refused(
            s,
            PermissionDenied,
            lambda who=who: desk.update_ticket(who.actor, ticket.id, title="X"),
            "title",
        )
        refused(
            s,
            PermissionDenied,
            lambda who=who: desk.create_ticket(
                who.actor,
                project_id=w.acme_project.id,
                type_id=w.incident.id,
                title="New",
                fields={"sla_level": "Gold"},
            ),
        )
    # Her own organisation's projects are untouched by the grant's narrow scope.
    assert desk.ticket_actions(w.acme_guest.actor, ticket.id).comment_public


def test_an_administering_supporter_works_like_the_owners_customer_admin(s: Setup) -> None:
    w, desk = s.w, s.w.desk
    granted(s, "administer", "comment", "create_tickets")
    ticket = desk.create_ticket(
        s.theo.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Update PHP",
        fields={"sla_level": "Gold"},
    )
    desk.update_ticket(s.theo.actor, ticket.id, title="Update PHP to 8.3", priority="high")
    desk.add_comment(s.theo.actor, ticket.id, "Done on staging", visibility="public")
    # Still no internal notes, assignment or status: his role never had them.
    with pytest.raises(PermissionDenied):
        desk.add_comment(s.theo.actor, ticket.id, "psst", visibility="internal")
    with pytest.raises(PermissionDenied):
        desk.change_status(s.theo.actor, ticket.id, "open")
    seen = desk.get_ticket(w.acme_guest.actor, ticket.id)
    assert (seen.title, seen.priority) == ("Update PHP to 8.3", "high")


def test_grantees_never_reach_billing(s: Setup) -> None:
    w, desk = s.w, s.w.desk
    granted(s, "administer")
    policy = desk.policy
    with s.storage.unit_of_work(w.provider.tenant_id) as uow:
        people = uow.access.people([s.theo.id, s.tina.id, w.acme_admin.id, w.acme_guest.id])
        now = w.clock.now()
        viewers = {p: policy.viewer(person, uow.access, now) for p, person in people.items()}
        admin = policy.viewer(uow.persons.get(w.admin.id), uow.access, now)  # type: ignore[arg-type]
        agent = policy.viewer(uow.persons.get(w.agent.id), uow.access, now)  # type: ignore[arg-type]
    assert w.acme_project.id in (viewers[s.theo.id].project_ids or ())
    assert not policy.may_see_billing(viewers[s.theo.id], w.acme.id)
    assert not policy.may_see_billing(viewers[s.tina.id], w.acme.id)
    assert not policy.may_see_billing(viewers[w.acme_guest.id], w.acme.id)
    assert policy.may_see_billing(viewers[w.acme_admin.id], w.acme.id)
    assert not policy.may_see_billing(viewers[w.acme_admin.id], w.globex.id)
    assert policy.may_see_billing(admin, w.acme.id) and policy.may_see_billing(agent, w.acme.id)


def test_agents_see_a_ticket_was_opened_under_a_grant_and_the_owner_does_not(s: Setup) -> None:
    w, desk = s.w, s.w.desk
    grant = granted(s, "create_tickets")
    ticket = desk.create_ticket(
        s.tina.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Certificate",
        fields={"sla_level": "Gold"},
    )
    own = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Own",
        fields={"sla_level": "Gold"},
    )

    def created_under(person: Person, ticket_id: object) -> object:
        first = desk.timeline(person.actor, ticket_id)[0].event  # type: ignore[arg-type]
        assert isinstance(first, TicketCreated)
        return first.grant_id

    assert created_under(w.agent, ticket.id) == grant.id
    assert created_under(w.light_agent, ticket.id) == grant.id
    assert created_under(s.theo, ticket.id) == grant.id, "the supporter's own organisation"
    assert created_under(w.acme_guest, ticket.id) is None, "not the owner's to see"
    assert created_under(w.acme_admin, ticket.id) is None
    assert created_under(w.agent, own.id) is None
    # Staff opening a ticket for the supporter record the grant she acts under too.
    for_her = desk.create_ticket(
        w.agent.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="For Tina",
        fields={"sla_level": "Gold"},
        requester_id=s.tina.id,
    )
    assert created_under(w.agent, for_her.id) == grant.id
