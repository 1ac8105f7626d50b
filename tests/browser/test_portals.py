"""Seed 000 in a real browser, on both example portals (issue 19, acceptance): Sandra signs
in by magic link and opens a "Server Crash" ticket through the typed form; Max, in another
browser context, works it internally and answers publicly; Sandra sees what the policy
lets her see, and not a byte of the internal note. Then the ways it must fail."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.actors import Actors
from tests.browser.helpers import assert_accessible, assert_focus_visible, tab_to
from tests.browser.portals import (
    LOGO_SVG,
    Portal,
    django_portal,
    django_server,
    flask_portal,
)

INTERNAL = "Hey Max, das sieht nach einem Datenbankproblem aus. Bitte priorisieren."
PUBLIC = "Das Problem ist behoben. Die Ursache war eine Konfigurationsänderung."
TITLE = "Produktionsserver nicht erreichbar seit 14 Uhr"


@pytest.fixture(scope="module")
def django_served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    with django_server(tmp_path_factory.mktemp("django")) as served:
        yield served


@pytest.fixture(params=["flask", "django"])
def portal(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Portal]:
    if request.param == "flask":
        with flask_portal(tmp_path) as served:
            yield served
    else:
        with django_portal(*request.getfixturevalue("django_served")) as served:
            yield served


def actor(new_actor_page: Actors, portal: Portal, name: str) -> Page:
    """A page in a fresh browser context, the customer's logo answered locally."""
    page = new_actor_page(name, base_url=portal.base_url)
    page.route(
        "https://globaltech.example/**",
        lambda route: route.fulfill(body=LOGO_SVG, content_type="image/svg+xml"),
    )
    return page


def session_cookie(page: Page) -> dict[str, object]:
    [cookie] = [c for c in page.context.cookies() if c["name"] in ("session", "sessionid")]
    return dict(cookie)


def sign_in_sandra(page: Page, portal: Portal, *, check: bool = False) -> None:
    response = page.goto(portal.link(portal.invitations.sent[-1].token))
    assert response is not None
    assert page.url == f"{portal.base_url}/signin", "the token left the address bar"
    redirect = response.request.redirected_from
    assert redirect is not None and redirect.url.startswith(f"{portal.base_url}/signin?token=")
    link_answer = redirect.response()
    assert link_answer is not None and link_answer.headers["referrer-policy"] == "no-referrer"
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    before = session_cookie(page)
    if check:
        assert_accessible(page)
    page.get_by_role("button", name="Sign in as Sandra Winkler").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tickets")
    after = session_cookie(page)
    assert after["value"] != before["value"], "a new session at sign-in"
    assert (after["httpOnly"], after["sameSite"], after["secure"]) == (True, "Lax", False)


def sign_in_agent(page: Page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail or user name").fill(email)
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tickets")


def test_seed_000_sandra_reports_max_answers_and_she_never_sees_the_internal_note(
    portal: Portal, new_actor_page: Actors
) -> None:
    w = portal.world
    sandra = actor(new_actor_page, portal, "sandra")
    sign_in_sandra(sandra, portal, check=True)
    table = sandra.get_by_role("table")
    expect(table).to_contain_text(w.globaltech_titles[0])
    for other in w.northwind_titles:
        expect(table).not_to_contain_text(other)
    expect(sandra.locator("header")).to_contain_text("GlobalTech Service Desk")
    assert_accessible(sandra)

    sandra.get_by_role("link", name="New ticket").click()
    sandra.get_by_label("What is it about?").select_option(label="Server Crash")
    assert_accessible(sandra)
    sandra.get_by_role("button", name="Continue").click()
    sandra.get_by_label("Title").fill(TITLE)
    sandra.get_by_label("SLA-Level").select_option("Gold")
    sandra.get_by_label("Hauptdatenbank").check()
    sandra.get_by_label("API-Gateway").check()
    assert_accessible(sandra)
    sandra.get_by_role("button", name="Create ticket").click()
    expect(sandra.get_by_role("heading", level=1)).to_have_text(TITLE)
    [created] = [t for t in portal.desk.list_tickets(w.seed.sandra.actor).items if t.title == TITLE]
    assert created.fields == {
        "sla_level": "Gold",
        "affected_systems": ("Hauptdatenbank", "API-Gateway"),
    }

    max_ = actor(new_actor_page, portal, "max")
    sign_in_agent(max_, "max@leadtime.example")
    assert_accessible(max_)
    row = max_.get_by_role("row").filter(has_text=TITLE)
    expect(row).to_contain_text("First response due")  # the Gold clocks, in the list
    max_.get_by_role("link", name=TITLE).click()
    expect(max_.get_by_role("heading", name="SLA: Gold")).to_be_visible()
    sla = max_.locator("table.sla")
    expect(sla.get_by_role("row").filter(has_text="First response")).to_contain_text("running")
    expect(sla.get_by_role("row").filter(has_text="Resolution")).to_contain_text("running")
    max_.get_by_label("Assign to a person").select_option(label="Max Keller")
    max_.get_by_role("button", name="Assign").click()
    max_.get_by_label("Your message").fill(INTERNAL)
    max_.get_by_role("button", name="Save internal note (team only)").click()
    expect(max_.locator("li.internal").filter(has_text=INTERNAL)).to_have_count(1)
    max_.get_by_label("Your message").fill(PUBLIC)
    max_.get_by_role("button", name=re.compile("Send public reply")).click()
    expect(sla.get_by_role("row").filter(has_text="First response")).to_contain_text("met")
    max_.get_by_label("New status").select_option(label="Gelöst")
    max_.get_by_role("button", name="Change status").click()
    expect(max_.locator("dl.facts")).to_contain_text("Gelöst")
    expect(max_.locator("dl.facts")).to_contain_text("Max Keller")
    assert_accessible(max_)
    max_.get_by_role("link", name="Tickets").click()
    max_.get_by_label("Status").select_option("solved")
    max_.get_by_role("button", name="Filter").click()
    expect(max_.get_by_role("table").get_by_role("link")).to_have_text([TITLE])
    max_.get_by_role("link", name=TITLE).click()
    max_.get_by_role("link", name="GlobalTech Solutions").click()
    expect(max_.get_by_role("heading", level=1)).to_have_text("GlobalTech Solutions")
    expect(max_.get_by_role("table").nth(1)).to_contain_text("Sandra Winkler")  # invitations
    expect(max_.get_by_role("table").nth(2)).to_contain_text("Paul Becker")  # grants
    assert_accessible(max_)

    sandra.reload()
    expect(sandra.locator("dl.facts")).to_contain_text("Gelöst")
    expect(sandra.locator("ol.timeline")).to_contain_text(PUBLIC)
    html = sandra.content()
    assert INTERNAL not in html and "Max Keller</dd>" not in html
    assert "Internal note" not in html and "SLA:" not in html  # no clocks for guests
    assert_accessible(sandra)
    sandra.get_by_label("Your message").fill("Danke, läuft wieder!")
    sandra.get_by_role("button", name="Send reply").click()
    expect(sandra.locator("ol.timeline li").last).to_contain_text("Danke, läuft wieder!")
    assert INTERNAL not in sandra.content()


def test_a_used_expired_or_tampered_link_says_so_and_signs_nobody_in(
    portal: Portal, new_actor_page: Actors
) -> None:
    page = actor(new_actor_page, portal, "sandra")
    used = portal.invitations.sent[-1].token
    sign_in_sandra(page, portal)
    page.get_by_role("button", name="Sign out").click()
    for token, message in (
        (used, "was used already"),
        (used[:-4] + "AAAA", "not a valid invitation link"),
        ("nonsense", "not a valid invitation link"),
    ):
        page.goto(portal.link(token))
        expect(page.get_by_role("alert")).to_contain_text(message)
        expect(page.get_by_role("button", name=re.compile("Sign in as"))).to_have_count(0)
    page.goto("/tickets")
    expect(page).to_have_url(f"{portal.base_url}/login")
    assert_accessible(page)
    # A link issued two minutes ago, valid for one.
    issued_at = datetime.now(UTC) - timedelta(minutes=2)
    page.goto(portal.invite_sandra(expires_in=timedelta(minutes=1), issued_at=issued_at))
    expect(page.get_by_role("alert")).to_contain_text("has expired")
    page.goto("/tickets")
    expect(page).to_have_url(f"{portal.base_url}/login")


def test_a_post_without_the_csrf_token_is_refused_and_writes_nothing(
    portal: Portal, new_actor_page: Actors
) -> None:
    page = actor(new_actor_page, portal, "sandra")
    sign_in_sandra(page, portal)
    sandra, project = portal.world.seed.sandra.actor, portal.world.seed.project.id
    before = portal.desk.list_tickets(sandra).items
    [ticket] = before
    for path, form in (
        (
            "/tickets/new",
            {"type": str(portal.world.request.id), "project": str(project), "title": "x"},
        ),
        (f"/tickets/{ticket.id}/comments", {"body": "forged", "visibility": "public"}),
        ("/signout", {}),
    ):
        response = page.request.post(path, form=form, max_redirects=0)
        assert response.status in (400, 403), path
    assert portal.desk.list_tickets(sandra).items == before
    assert portal.desk.get_ticket(sandra, ticket.id).comment_count == 0
    page.goto("/tickets")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tickets")  # still signed in


def test_a_missing_field_or_an_unknown_choice_is_shown_at_its_input_and_writes_nothing(
    portal: Portal, new_actor_page: Actors
) -> None:
    page = actor(new_actor_page, portal, "sandra")
    sign_in_sandra(page, portal)
    before = len(portal.desk.list_tickets(portal.world.seed.sandra.actor).items)
    page.goto(f"/tickets/new?type={portal.world.seed.server_crash.id}")
    page.get_by_label("Title").fill(TITLE)
    # A choice the form never offered, as a tampered request would send it.
    page.get_by_label("SLA-Level").evaluate(
        "s => { s.options[1].value = 'Platin'; s.selectedIndex = 1 }"
    )
    page.get_by_role("button", name="Create ticket").click()
    expect(page.get_by_role("alert")).to_contain_text("Please correct the marked fields")
    sla = page.get_by_label("SLA-Level")
    expect(sla).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#ticket-fields-sla_level-error")).not_to_be_empty()
    assert "ticket-fields-sla_level-error" in (sla.get_attribute("aria-describedby") or "")
    systems = page.get_by_role("group", name=re.compile("Betroffene Systeme"))
    expect(page.locator("#ticket-fields-affected_systems-error")).to_contain_text("required")
    assert "ticket-fields-affected_systems-error" in (
        systems.get_attribute("aria-describedby") or ""
    )
    expect(page.get_by_label("Title")).to_have_value(TITLE)
    assert_accessible(page)
    assert len(portal.desk.list_tickets(portal.world.seed.sandra.actor).items) == before


def test_another_organisations_ticket_by_id_or_number_is_the_same_404_as_none(
    portal: Portal, new_actor_page: Actors
) -> None:
    page = actor(new_actor_page, portal, "sandra")
    sign_in_sandra(page, portal)
    w = portal.world
    theirs = portal.desk.list_tickets(w.nina.actor).items[0]
    answers = []
    for path in (
        f"/tickets/{theirs.id}",
        "/tickets/00000000-0000-7000-8000-000000000000",
        f"/projects/{w.northwind_project.number}/tickets/{theirs.number}",
        "/projects/999/tickets/1",
    ):
        response = page.goto(path)
        assert response is not None
        # The CSRF token is the session's, signed with the time: the same for any page.
        body = re.sub(r'name="csrf(middleware)?_?token" value="[^"]*"', "csrf", response.text())
        answers.append((response.status, body))
    assert [status for status, _ in answers] == [404, 404, 404, 404]
    assert len({body for _, body in answers}) == 1, "one page for hidden and for missing"
    assert theirs.title not in answers[0][1]
    assert_accessible(page)


def test_revoked_access_ends_her_session_at_the_next_click_and_sign_out_clears_it(
    portal: Portal, new_actor_page: Actors
) -> None:
    page = actor(new_actor_page, portal, "sandra")
    sign_in_sandra(page, portal)
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{portal.base_url}/login")
    page.goto("/tickets")
    expect(page).to_have_url(f"{portal.base_url}/login")
    page.goto(portal.invite_sandra())
    page.get_by_role("button", name="Sign in as Sandra Winkler").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tickets")
    portal.desk.deactivate_person(portal.world.seed.admin.actor, portal.world.seed.sandra.id)
    page.get_by_role("link", name=portal.world.globaltech_titles[0]).click()
    expect(page).to_have_url(f"{portal.base_url}/login")
    expect(page.locator("header")).not_to_contain_text("Sandra")


def test_a_guest_creates_a_ticket_with_the_keyboard_alone(
    portal: Portal, new_actor_page: Actors
) -> None:
    page = actor(new_actor_page, portal, "sandra")
    page.goto(portal.link(portal.invitations.sent[-1].token))
    tab_to(page, page.get_by_role("button", name="Sign in as Sandra Winkler"))
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tickets")
    tab_to(page, page.get_by_role("link", name="New ticket"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("What is it about?"))
    assert_focus_visible(page)
    page.keyboard.type("Server")  # typing selects the matching option
    tab_to(page, page.get_by_role("button", name="Continue"))
    page.keyboard.press("Enter")
    tab_to(page, page.get_by_label("Title"))
    page.keyboard.type("Keyboard only")
    tab_to(page, page.get_by_label("SLA-Level"))
    page.keyboard.type("Gold")
    tab_to(page, page.get_by_label("Webserver"))
    page.keyboard.press("Space")
    tab_to(page, page.get_by_role("button", name="Create ticket"))
    assert_focus_visible(page)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Keyboard only")
    [made] = [
        t
        for t in portal.desk.list_tickets(portal.world.seed.sandra.actor).items
        if t.title == "Keyboard only"
    ]
    assert made.fields == {"sla_level": "Gold", "affected_systems": ("Webserver",)}
