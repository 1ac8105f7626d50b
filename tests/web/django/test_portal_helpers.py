"""The portal helpers of the Django app through the host's views: ``signed_in``, the
magic-link sign-in (``magic_link_signin``), the brand on ``request.ticketkit`` and
``ticketkit`` in templates (``context_processor``), on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.db import connections
from django.test import Client

from tests.web.django.helpers import signed_in
from tests.web.django.host.plugins import RECORDER
from tests.web.django.host.world import World, build_world
from ticketkit import Actor, HelpDesk
from ticketkit.web import pages
from ticketkit.web.django import get_desk
from ticketkit.web.django.views import TOKEN_KEY
from ticketkit.web.principals import SESSION_KEY


@pytest.fixture
def world(alias: str, settings: Any) -> World:
    world = build_world(get_desk())
    settings.PORTAL_TENANT = world.tenant_id
    return world


def invite(world: World) -> str:
    """Sandra's magic link's token, as the recording plugin got it. Inside the test case's
    transaction the token waits for a commit that never comes: it is handed over as a
    commit would (test_links.py proves the real commit and the rollback)."""
    from django.conf import settings
    from django.test import TestCase

    alias = settings.TICKETKIT["DATABASE"]
    with TestCase.captureOnCommitCallbacks(using=alias, execute=True):
        assert world.desk.invite_guest(world.admin, world.sandra.person_id).deferred
    return RECORDER.invitations[-1].token


def follow_link(client: Any, token: str, path: str = "/signin/") -> Any:
    """The guest opens the link she was mailed: its answer."""
    return client.get(path, {"token": token})


def session_key(client: Any) -> str:
    return str(client.cookies["sessionid"].value)


# -- signed_in ------------------------------------------------------------------------------


def test_signed_in_hands_the_view_the_actor_and_sends_anyone_else_to_login(
    world: World, client: Any
) -> None:
    ticket_id = uuid.uuid4()
    anonymous = client.get(f"/mine/{ticket_id}/")
    assert (anonymous.status_code, anonymous["Location"]) == (302, "/login")
    elsewhere = client.get("/staff-only/")
    assert (elsewhere.status_code, elsewhere["Location"]) == (302, "/staff-login/")
    signed_in(client, world.sandra)
    assert client.get(f"/mine/{ticket_id}/").content.decode() == f"Sandra Winkler {ticket_id}"
    assert client.get("/staff-only/").content == b"for staff"
    world.desk.deactivate_person(world.admin, world.sandra.person_id)
    assert client.get(f"/mine/{ticket_id}/")["Location"] == "/login"  # at her next request


# -- magic_link_signin ----------------------------------------------------------------------


def test_following_the_link_moves_its_token_from_the_address_into_a_new_session(
    world: World, client: Any
) -> None:
    token = invite(world)
    signed_in(client, world.max)  # someone signed in before, on this browser
    session = client.session
    session["host"] = "a key of the host's"
    session.save()
    before = session_key(client)
    answer = follow_link(client, token)
    assert (answer.status_code, answer["Location"]) == (302, "/signin/")  # no token in it
    assert answer["Referrer-Policy"] == "no-referrer"
    assert token not in answer.content.decode()
    assert session_key(client) != before and not SessionStore().exists(before)
    assert dict(client.session) == {TOKEN_KEY: token}  # the session holds it, nothing else
    assert client.get("/me/").status_code == 401


def test_the_confirm_page_does_not_use_the_token_up_and_the_post_signs_in_once(
    world: World, client: Any
) -> None:
    token = invite(world)
    follow_link(client, token)
    for _ in range(2):  # a mail scanner's GET, then hers: neither uses the token up
        page = client.get("/signin/")
        assert page.status_code == 200
        text = page.content.decode()
        assert "Sign in as Sandra Winkler?" in text
        assert f"Valid until {RECORDER.invitations[-1].expires_at.isoformat()}" in text
        assert "<h1>Leadtime&#x27;s portal</h1>" in text  # the view's `context`
        assert token not in text
        # The app's own policy (SecurityMiddleware's same-origin), not no-referrer: a
        # browser sends a POST from a no-referrer page with "Origin: null", which Django's
        # CSRF check refuses (test_a_post_with_origin_null_is_refused_by_djangos_csrf_check).
        assert page["Referrer-Policy"] == "same-origin"
    assert client.get("/me/").status_code == 401
    before = session_key(client)
    signed = client.post("/signin/")
    assert (signed.status_code, signed["Location"]) == (302, "/me/")
    assert session_key(client) != before and not SessionStore().exists(before)
    assert TOKEN_KEY not in client.session, "the used token is not kept"
    assert client.get("/me/").content == b"Sandra Winkler"
    again = Client()
    follow_link(again, token)
    assert again.get("/signin/").status_code == 410
    assert again.post("/signin/").status_code == 410
    assert again.get("/me/").status_code == 401


def expire_every_invitation(alias: str) -> None:
    """Let the invitations expire now: the desk's clock is the system's here, and an
    invitation is refused from the instant of its expiry on."""
    with connections[alias].cursor() as cursor:
        cursor.execute("UPDATE ticketkit_invitations SET expires_at = created_at")


#: How each kind of refused link is answered: its status and the page's words.
REFUSALS = {
    "used": (410, "This invitation was used already; ask for a new one"),
    "unknown": (400, "This is not a valid invitation link"),
    "expired": (410, "This invitation has expired; ask for a new one"),
}


@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_refused_link_answers_with_its_reason_and_signs_nobody_in(
    world: World, client: Any, alias: str, refusal: str
) -> None:
    status, text = REFUSALS[refusal]
    token = invite(world)
    if refusal == "used":
        world.desk.redeem_invitation(world.tenant_id, token)
    elif refusal == "unknown":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    else:
        expire_every_invitation(alias)
    assert follow_link(client, token).status_code == 302
    for answer in (client.get("/signin/"), client.post("/signin/")):
        assert answer.status_code == status
        assert text in answer.content.decode()
    assert client.get("/me/").status_code == 401
    assert SESSION_KEY not in client.session


def test_a_post_without_a_link_signs_nobody_in(world: World, client: Any) -> None:
    assert client.post("/signin/").status_code == 400
    assert client.get("/signin/").status_code == 400
    assert client.get("/me/").status_code == 401


def csrf_token(page: Any) -> str:
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert found is not None
    return found.group(1)


def test_a_post_with_origin_null_is_refused_by_djangos_csrf_check(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    """Why the confirm page keeps the app's referrer policy: a browser sends a form's POST
    from a no-referrer page with ``Origin: null``, and Django refuses that origin even with
    a good CSRF token. From the page's own origin the same POST signs her in."""
    browser = Client(enforce_csrf_checks=True)
    follow_link(browser, invite(world))
    token = csrf_token(browser.get("/signin/"))
    refused = browser.post("/signin/", {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="null")
    assert refused.status_code == 403
    assert "Origin checking failed - null does not match any trusted origins" in caplog.text
    assert browser.get("/signin/").status_code == 200  # nothing was redeemed
    assert browser.get("/me/").status_code == 401
    signed = browser.post(
        "/signin/", {"csrfmiddlewaretoken": token}, HTTP_ORIGIN="http://testserver"
    )
    assert signed.status_code == 302
    assert browser.get("/me/").content == b"Sandra Winkler"


def test_the_apps_own_confirm_page_serves_a_view_with_every_default(
    world: World, client: Any
) -> None:
    follow_link(client, invite(world), "/signin-default/")
    page = client.get("/signin-default/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "<h1>Sign in as Sandra Winkler</h1>" in text
    assert '<button type="submit">Sign in as Sandra Winkler</button>' in text
    assert '<html lang="en-us">' in text and 'name="csrfmiddlewaretoken"' in text
    signed = client.post("/signin-default/")
    assert (signed.status_code, signed["Location"]) == (302, "/")
    assert client.get("/me/").content == b"Sandra Winkler"


# -- the brand and ticketkit in templates -----------------------------------------------------


def brand_of(client: Any) -> list[str]:
    """The brand page's name, colours, logo and principal."""
    page: str = client.get("/brand/").content.decode()
    return page.split("|")[:5]


def test_a_guest_gets_her_organisations_brand_and_a_visitor_the_defaults_and_the_portals_name(
    world: World, client: Any
) -> None:
    admin, globaltech = world.admin, world.globaltech_id
    for name, value in (
        ("branding.display_name", "GlobalTech Service Desk"),
        ("branding.primary_colour", "#0b3d91"),
        ("branding.logo_url", "https://globaltech.example/logo.svg"),
    ):
        world.desk.set_setting(admin, name, value, organisation_id=globaltech)
    assert brand_of(client) == ["Leadtime Portal", "#1f4e79", "#f28c28", "None", "anonymous"]
    signed_in(client, world.sandra)
    assert brand_of(client) == [
        "GlobalTech Service Desk",
        "#0b3d91",
        "#f28c28",  # not overridden: the default
        "https://globaltech.example/logo.svg",
        "Sandra Winkler",
    ]
    signed_in(client, world.max)  # the provider's agent: no overrides
    assert brand_of(client) == ["Leadtime Portal", "#1f4e79", "#f28c28", "None", "Max Keller"]


def test_without_a_configured_name_the_brand_is_help_desk(
    world: World, client: Any, settings: Any
) -> None:
    settings.TICKETKIT = {**settings.TICKETKIT}
    del settings.TICKETKIT["BRAND_NAME"]
    assert brand_of(client)[:2] == ["Help desk", "#1f4e79"]


def test_the_brand_is_read_once_per_request(
    world: World, client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[Actor | None] = []
    real = pages.brand

    def counted(desk: HelpDesk, actor: Actor | None, *, default_name: str) -> pages.Brand:
        reads.append(actor)
        return real(desk, actor, default_name=default_name)

    monkeypatch.setattr(pages, "brand", counted)
    signed_in(client, world.sandra)
    page = client.get("/brand/").content.decode()  # the view, then the template thrice
    assert page.endswith("|True")  # the template's brand is the view's
    client.get("/brand/")
    assert reads == [world.sandra] * 2  # once per request


def test_templates_get_the_requests_ticketkit(world: World, client: Any) -> None:
    assert client.get("/brand/").content.decode().split("|")[4:6] == ["anonymous", "True"]
    signed_in(client, world.sandra)
    assert client.get("/brand/").content.decode().split("|")[4:6] == ["Sandra Winkler", "True"]
