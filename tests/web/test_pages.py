"""The screens' reads (``ticketkit.web.pages``) on every backend: each shows the reader what
the policy lets her see and nothing else, with names and labels for ids and keys."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from ticketkit import (
    CommentDraft,
    Conflict,
    HelpDesk,
    ManualClock,
    NotFound,
    TicketView,
    ValidationError,
)
from ticketkit.demo_world import PortalWorld, portal_world
from ticketkit.ports import Storage
from ticketkit.web import pages

NOW = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)
INTERNAL = "Das sieht nach der Datenbank aus"


@pytest.fixture
def world(storage: Storage) -> Iterator[PortalWorld]:
    desk = HelpDesk(storage, clock=ManualClock(NOW))
    yield portal_world(desk, now=NOW)
    desk.close()


@pytest.fixture
def desk(world: PortalWorld, storage: Storage) -> HelpDesk:
    return HelpDesk(storage, clock=ManualClock(NOW))


def crash(desk: HelpDesk, w: PortalWorld) -> TicketView:
    ticket = desk.create_ticket(
        w.seed.sandra.actor,
        project_id=w.seed.project.id,
        type_id=w.seed.server_crash.id,
        title="Server down",
        fields={"sla_level": "Gold", "affected_systems": ["Hauptdatenbank", "Webserver"]},
    )
    desk.assign(
        w.seed.tom.actor,
        ticket.id,
        w.seed.max.id,
        group_id=w.second_level.id,
        comment=CommentDraft(body=INTERNAL, visibility="internal"),
    )
    return ticket


def test_the_ticket_page_gives_an_agent_names_labels_transitions_and_whom_to_assign(
    desk: HelpDesk, world: PortalWorld
) -> None:
    ticket = crash(desk, world)
    page = pages.ticket_page(desk, world.seed.tom.actor, ticket.id)
    assert (page.requester, page.assignee, page.group) == (
        "Sandra Winkler",
        "Max Keller",
        "Second-Level-Support",
    )
    assert (page.type_name, page.project) == ("Server Crash", "GlobalTech Support")
    assert (page.organisation_id, page.organisation) == (
        world.seed.globaltech.id,
        "GlobalTech Solutions",
    )
    assert [(f.label, f.value) for f in page.fields] == [
        ("SLA-Level", "Gold"),
        ("Betroffene Systeme", "Hauptdatenbank, Webserver"),
    ]
    assert page.statuses[0] == ("root_cause_analysis", "Ursachenanalyse")
    assert ("new", "Neu") not in page.statuses, "only where it may go from here"
    assert {p.name for p in page.assignees} >= {"Tom Berger", "Max Keller"}
    assert [g.name for g in page.groups] == ["Second-Level-Support"]
    assert [e.comment.body for e in page.timeline if e.comment] == [INTERNAL]


def test_the_guests_ticket_page_has_no_assignment_no_internal_note_and_no_one_to_assign(
    desk: HelpDesk, world: PortalWorld
) -> None:
    ticket = crash(desk, world)
    page = pages.ticket_page(desk, world.seed.sandra.actor, ticket.id)
    assert (page.assignee, page.group, page.assignees, page.groups) == (None, None, (), ())
    assert page.actions.assign is False and page.statuses == ()
    assert INTERNAL not in repr(page)
    assert [e.event.kind for e in page.timeline] == ["ticket_created"]
    with pytest.raises(NotFound):
        pages.ticket_page(desk, world.nina.actor, ticket.id)


def test_the_ticket_list_names_people_filters_by_status_and_pages(
    desk: HelpDesk, world: PortalWorld
) -> None:
    crash(desk, world)
    tom = world.seed.tom.actor
    first = pages.ticket_list(desk, tom, limit=2)
    assert [r.ticket.title for r in first.rows] == ["Server down", "Postfach-Kontingent erhöhen"]
    assert first.rows[0].assignee == "Max Keller" and first.rows[0].project == "GlobalTech Support"
    assert ("root_cause_analysis", "Ursachenanalyse") in first.statuses
    assert ("solved", "Solved / Gelöst") in first.statuses, "one key, each type's label"
    rest = pages.ticket_list(desk, tom, cursor=first.next_cursor, limit=2)
    assert {r.ticket.title for r in rest.rows} == set(world.northwind_titles)
    assert rest.next_cursor is None
    assert pages.ticket_list(desk, tom, status="root_cause_analysis").rows == ()
    guest = pages.ticket_list(desk, world.seed.sandra.actor)
    assert [r.ticket.title for r in guest.rows] == ["Server down", "Postfach-Kontingent erhöhen"]
    assert all(r.assignee is None for r in guest.rows)


def test_the_organisation_page_shows_people_invitations_and_grants_to_staff_only(
    desk: HelpDesk, world: PortalWorld
) -> None:
    desk.invite_guest(world.seed.admin.actor, world.seed.sandra.id)
    gt = world.seed.globaltech.id
    page = pages.organisation_page(desk, world.seed.tom.actor, gt)
    assert page.organisation.name == "GlobalTech Solutions"
    assert {p.name for p in page.people} == {"Sandra Winkler", "Klara Hoffmann"}
    assert [(i.person_name, i.state.value) for i in page.invitations] == [
        ("Sandra Winkler", "open")
    ]
    [grant] = page.grants
    assert (grant.project, grant.grantee, grant.grant.state.value) == (
        "GlobalTech Support",
        "Paul Becker",
        "active",
    )
    assert pages.organisation_page(desk, world.klara.actor, gt).invitations == page.invitations
    with pytest.raises(NotFound):
        pages.organisation_page(desk, world.seed.sandra.actor, gt)


def test_each_customer_gets_her_organisations_brand_and_a_visitor_the_defaults(
    desk: HelpDesk, world: PortalWorld
) -> None:
    sandra = pages.brand(desk, world.seed.sandra.actor, default_name="Leadtime")
    assert (sandra.name, sandra.primary_colour, sandra.logo_url) == (
        "GlobalTech Service Desk",
        "#0b3d91",
        "https://globaltech.example/logo.svg",
    )
    nina = pages.brand(desk, world.nina.actor, default_name="Leadtime")
    assert (nina.name, nina.primary_colour, nina.logo_url) == (
        "Northwind Help Center",
        "#14532d",
        None,
    )
    visitor = pages.brand(desk, None, default_name="Leadtime")
    assert (visitor.name, visitor.primary_colour) == ("Leadtime", "#1f4e79")


def test_the_new_ticket_screen_offers_types_then_the_form_and_creates_only_a_good_one(
    desk: HelpDesk, world: PortalWorld
) -> None:
    sandra = world.seed.sandra.actor
    crash_type, project = str(world.seed.server_crash.id), str(world.seed.project.id)
    first = pages.new_ticket(desk, sandra, {}, submit=False)
    assert first.form is None and "Server Crash" in {t.name for t in first.types}
    assert pages.new_ticket(desk, sandra, {"type": "nonsense"}, submit=False).form is None
    blank = pages.new_ticket(desk, sandra, {"type": crash_type}, submit=False)
    assert blank.form is not None and blank.form["description"].value.startswith("Was ist")
    before = len(desk.list_tickets(sandra).items)
    sent = {"type": crash_type, "project": project, "title": "Down", "fields.sla_level": "Platin"}
    bad = pages.new_ticket(desk, sandra, sent, submit=True)
    assert bad.status == 422 and bad.created is None and bad.form is not None
    assert bad.form["fields.sla_level"].error and bad.form["fields.affected_systems"].error
    assert bad.form["title"].value == "Down", "what she typed stays"
    assert len(desk.list_tickets(sandra).items) == before, "nothing written"
    good = {**sent, "fields.sla_level": "Gold", "fields.affected_systems": ["Webserver"]}
    done = pages.new_ticket(desk, sandra, good, submit=True)
    assert done.created is not None and done.created.fields["sla_level"] == "Gold"
    elsewhere = {**good, "project": str(world.northwind_project.id)}
    with pytest.raises(NotFound):
        pages.new_ticket(desk, sandra, elsewhere, submit=True)


def test_the_ticket_pages_forms_comment_without_conflict_and_check_the_version_otherwise(
    desk: HelpDesk, world: PortalWorld
) -> None:
    ticket = crash(desk, world)
    tom, max_ = world.seed.tom.actor, world.seed.max.actor
    drawn = desk.get_ticket(tom, ticket.id).version
    desk.add_comment(max_, ticket.id, "meanwhile", visibility="internal")
    pages.ticket_action(desk, tom, ticket.id, "comments", {"body": "hi", "visibility": "public"})
    with pytest.raises(Conflict):
        pages.ticket_action(
            desk, tom, ticket.id, "status", {"status": "solved", "version": str(drawn)}
        )
    now = desk.get_ticket(tom, ticket.id).version
    view = pages.ticket_action(
        desk, tom, ticket.id, "assign", {"assignee": "", "group": "", "version": str(now)}
    )
    assert (view.assignee_id, view.group_id) == (None, None)
    with pytest.raises(ValidationError, match="assignee"):
        pages.ticket_action(desk, tom, ticket.id, "assign", {"assignee": "Max"})
    with pytest.raises(NotFound):
        pages.ticket_action(desk, tom, ticket.id, "delete", {})
    with pytest.raises(NotFound):
        pages.ticket_action(
            desk, world.nina.actor, ticket.id, "comments", {"body": "x", "visibility": "public"}
        )
