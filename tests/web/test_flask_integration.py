"""The Flask extension (issue 19) in a real Flask app through its test client: config,
state per app, the request session and its teardown, principals resolved on every request,
the portal helpers (``signed_in``, ``magic_link_signin``, the brand, ``ticketkit`` in
templates), errors as HTTP answers, the command line, and shutting down."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import flask
import jinja2
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient

from tests.conftest import PG_SCHEMA, POSTGRES_URL, postgres_or_skip
from tests.support.mailer import Mailer
from tests.support.world import World, build_world
from ticketkit import (
    Actor,
    CommentDraft,
    HelpDesk,
    ManualClock,
    NotificationMessage,
    StorageError,
    TicketkitError,
    hookimpl,
)
from ticketkit.adapters.sqlalchemy import SqlStorage, create_sqlite_engine, upgrade
from ticketkit.web import pages
from ticketkit.web.flask import (
    TOKEN_KEY,
    RequestSession,
    TicketKit,
    TicketKitState,
    magic_link_signin,
    request_session,
    signed_in,
)
from ticketkit.web.principals import SESSION_KEY

tk = TicketKit()

#: The host's templates: the magic link's confirm page, and a page showing the brand and
#: who is signed in through the context processor's ``ticketkit``.
TEMPLATES = {
    "signin.html": (
        "<h1>{{ ticketkit.brand.name }}</h1>"
        "<p>Sign in as {{ invitation.person_name }}?</p>"
        "<p>Valid until {{ invitation.expires_at.isoformat() }}</p>"
        '<form method="post"><button>Sign in</button></form>'
    ),
    "brand.html": (
        "{{ ticketkit.brand.name }}|{{ ticketkit.brand.primary_colour }}|"
        "{{ ticketkit.brand.accent_colour }}|{{ ticketkit.brand.logo_url }}|"
        "{{ ticketkit.principal.person.name if ticketkit.principal else 'anonymous' }}|"
        "{{ ticketkit is sameas request_session }}|{{ ticketkit.brand is sameas brand }}"
    ),
}


def make_app(config: dict[str, Any], extension: TicketKit = tk) -> flask.Flask:
    """A small host app: who is signed in, sign-in and out, a ticket page, a comment form,
    and views that fail on purpose."""
    app = flask.Flask(__name__)
    app.config.update({"SECRET_KEY": "test", "TESTING": True, "TICKETKIT_DELIVERY": "inline"})
    app.config.update(config)
    extension.init_app(app)
    app.jinja_loader = jinja2.DictLoader(TEMPLATES)
    signin = magic_link_signin(
        lambda: app.config["PORTAL_TENANT"], template="signin.html", next_url="/me"
    )
    app.add_url_rule("/signin", "signin", signin, methods=["GET", "POST"])

    @app.get("/mine/<uuid:ticket_id>")
    @signed_in
    def mine(actor: Actor, ticket_id: UUID) -> str:
        return f"{extension.desk.get_person(actor, actor.person_id).name} {ticket_id}"

    @app.get("/staff-only")
    @signed_in(login_url="/staff-login")
    def staff_only(actor: Actor) -> str:
        return "for staff"

    @app.get("/brand")
    def brand() -> str:
        shown = extension.session.brand  # the view reads it, and the template again
        return flask.render_template("brand.html", request_session=tk.session, brand=shown)

    @app.get("/me")
    def me() -> str:
        principal = extension.session.principal
        return principal.person.name if principal is not None else "anonymous"

    @app.post("/sign-in/<uuid:tenant_id>/<uuid:person_id>")
    def sign_in(tenant_id: UUID, person_id: UUID) -> str:
        return extension.session.sign_in(
            Actor(tenant_id=tenant_id, person_id=person_id)
        ).person.name

    @app.post("/redeem/<uuid:tenant_id>")
    def redeem(tenant_id: UUID) -> str:
        actor = extension.desk.redeem_invitation(tenant_id, flask.request.form["token"])
        return extension.session.sign_in(actor).person.name

    @app.post("/sign-out")
    def sign_out() -> str:
        extension.session.sign_out()
        return "bye"

    @app.get("/tickets/<uuid:ticket_id>")
    def ticket(ticket_id: UUID) -> str:
        return extension.desk.get_ticket(current_actor(), ticket_id).title

    @app.post("/tickets/<uuid:ticket_id>/comments")
    def comment(ticket_id: UUID) -> str:
        actor = current_actor()
        extension.desk.get_ticket(actor, ticket_id)  # the page she read
        app.config["BETWEEN_READ_AND_WRITE"]()
        version = flask.request.form.get("version")
        extension.desk.add_comment(
            actor,
            ticket_id,
            flask.request.form["body"],
            visibility="public",
            expected_version=int(version) if version else None,
        )
        return "sent"

    @app.post("/tickets/<uuid:ticket_id>/assign")
    def assign(ticket_id: UUID) -> str:
        extension.desk.assign(current_actor(), ticket_id, current_actor().person_id)
        return "assigned"

    @app.post("/tickets/<uuid:project_id>/new")
    def new_ticket(project_id: UUID) -> str:
        [kind] = extension.desk.list_ticket_types(current_actor())
        extension.desk.create_ticket(
            current_actor(),
            project_id=project_id,
            type_id=kind.id,
            title=flask.request.form["title"],
        )
        return "created"

    @app.get("/fail/<kind>")
    def fail(kind: str) -> str:
        raise {"storage": StorageError("the database is gone"), "other": TicketkitError("x")}[kind]

    return app


def current_actor() -> Actor:
    actor = tk.session.actor
    if actor is None:
        flask.abort(401)
    return actor


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def storage_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The app's storage: by URL in memory, or the suite's migrated SQLite and PostgreSQL."""
    if request.param == "memory":
        return {"TICKETKIT_DATABASE_URL": "memory://"}
    engine = request.getfixturevalue(f"{request.param}_engine")
    return {"TICKETKIT_STORAGE": SqlStorage(engine)}


@pytest.fixture
def mailer() -> Mailer:
    return Mailer()


@pytest.fixture
def app(
    storage_config: dict[str, Any], clock: ManualClock, mailer: Mailer
) -> Iterator[flask.Flask]:
    app = make_app(
        {
            **storage_config,
            "TICKETKIT_DESK_OPTIONS": {"clock": clock},
            "TICKETKIT_PLUGINS": [mailer],
            "TICKETKIT_BRAND_NAME": "Acme Hosting Portal",
        }
    )
    yield app
    tk.close(app)


@pytest.fixture
def world(app: flask.Flask, clock: ManualClock) -> World:
    world = build_world(tk.state(app).desk, clock)
    app.config["PORTAL_TENANT"] = world.provider.tenant_id
    return world


@pytest.fixture
def client(app: flask.Flask) -> FlaskClient:
    return app.test_client()


def sign_in(client: FlaskClient, person: Any) -> None:
    answer = client.post(f"/sign-in/{person.tenant_id}/{person.id}")
    assert answer.status_code == 200, answer.text


# -- the extension and its state ------------------------------------------------------------


def test_init_app_builds_the_apps_desk_and_registers_its_state(app: flask.Flask) -> None:
    state = app.extensions["ticketkit"]
    assert isinstance(state, TicketKitState)
    assert state.extension is tk
    assert isinstance(state.desk, HelpDesk)
    with app.app_context():
        assert tk.desk is state.desk
        assert tk.state() is state


def test_one_extension_object_serves_two_apps_each_with_its_own_desk(clock: ManualClock) -> None:
    shared = TicketKit()
    first = make_app({"TICKETKIT_DATABASE_URL": "memory://"}, shared)
    second = make_app({"TICKETKIT_DATABASE_URL": "memory://"}, shared)
    assert vars(shared) == {}  # nothing of either app on the extension
    with first.app_context():
        desk_one = shared.desk
        world = build_world(desk_one, clock)
    with second.app_context():
        assert shared.desk is not desk_one
        assert shared.desk.storage.tenant_ids() == []
    assert desk_one.storage.tenant_ids() == [world.provider.tenant_id]
    with first.test_request_context(), second.test_request_context():
        # The innermost app's request session, on its own flask.g.
        assert shared.session.desk is shared.state(second).desk


def test_an_app_without_init_app_gets_a_clear_runtime_error() -> None:
    bare = flask.Flask("bare")
    with (
        bare.app_context(),
        pytest.raises(RuntimeError, match=r"not initialised on the app 'bare'"),
    ):
        _ = tk.desk
    with bare.test_request_context(), pytest.raises(RuntimeError, match="init_app"):
        _ = tk.session
    with pytest.raises(RuntimeError, match="needs a Flask app context"):
        _ = tk.desk


def test_init_app_refuses_a_second_call_unknown_keys_and_a_missing_database() -> None:
    app = make_app({"TICKETKIT_DATABASE_URL": "memory://"})
    with pytest.raises(RuntimeError, match="already initialised"):
        tk.init_app(app)
    typo = flask.Flask("typo")
    typo.config.update(TICKETKIT_DATABSE_URL="memory://")
    with pytest.raises(ValueError, match="unknown ticketkit config keys"):
        tk.init_app(typo)
    with pytest.raises(ValueError, match="needs TICKETKIT_DATABASE_URL"):
        tk.init_app(flask.Flask("nothing"))
    mysql = flask.Flask("mysql")
    mysql.config.update(TICKETKIT_DATABASE_URL="mysql://db/x")
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        tk.init_app(mysql)
    assert "ticketkit" not in typo.extensions


# -- the request session ----------------------------------------------------------------------


def test_the_request_session_is_one_per_request_and_closed_at_teardown(
    app: flask.Flask, client: FlaskClient
) -> None:
    seen: list[RequestSession] = []

    @app.get("/keep")
    def keep() -> str:
        seen.append(tk.session)
        assert tk.session is seen[-1] is request_session()
        assert not seen[-1].closed
        return "kept"

    assert client.get("/keep").status_code == 200
    assert client.get("/keep").status_code == 200
    first, second = seen
    assert first is not second
    assert first.closed and second.closed
    with pytest.raises(RuntimeError, match="request session is closed"):
        _ = first.desk
    with pytest.raises(RuntimeError, match="request session is closed"):
        _ = first.principal


def test_the_principal_is_resolved_once_per_request(
    app: flask.Flask, client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    @app.get("/twice")
    def twice() -> str:
        assert tk.session.principal is tk.session.principal
        return tk.session.actor.person_id.hex if tk.session.actor else ""

    sign_in(client, world.acme_guest)
    desk = tk.state(app).desk
    reads: list[UUID] = []
    real = desk.get_person

    def counted(actor: Actor, person_id: UUID) -> Any:
        reads.append(person_id)
        return real(actor, person_id)

    monkeypatch.setattr(desk, "get_person", counted)
    assert client.get("/twice").text == world.acme_guest.id.hex
    assert client.get("/me").text == "Gina"
    assert reads == [world.acme_guest.id] * 2


def test_sign_in_rotates_the_session_and_sign_out_clears_it(
    client: FlaskClient, world: World
) -> None:
    with client.session_transaction() as session:
        session["before"] = "anything of the anonymous session"
    sign_in(client, world.acme_guest)
    with client.session_transaction() as session:
        assert set(session) - {"_permanent"} == {SESSION_KEY}  # nothing from before
        assert not session.permanent
    assert client.get("/me").text == "Gina"
    client.post("/sign-out")
    with client.session_transaction() as session:
        assert dict(session) == {}
    assert client.get("/me").text == "anonymous"


def test_the_session_is_permanent_when_the_host_says_so(clock: ManualClock) -> None:
    app = make_app({"TICKETKIT_DATABASE_URL": "memory://", "TICKETKIT_PERMANENT_SESSION": True})
    with app.app_context():
        world = build_world(tk.desk, clock)
    client = app.test_client()
    sign_in(client, world.acme_guest)
    with client.session_transaction() as session:
        assert session.permanent


def test_an_inactive_person_cannot_be_signed_in(client: FlaskClient, world: World) -> None:
    world.desk.deactivate_person(world.admin.actor, world.acme_guest.id)
    assert (
        client.post(f"/sign-in/{world.provider.tenant_id}/{world.acme_guest.id}").status_code == 404
    )
    with client.session_transaction() as session:
        assert SESSION_KEY not in session


def test_revoking_access_ends_the_session_at_the_next_request(
    client: FlaskClient, world: World
) -> None:
    sign_in(client, world.acme_guest)
    ticket = world.desk.create_ticket(
        world.acme_guest.actor,
        project_id=world.acme_project.id,
        type_id=world.incident.id,
        title="Mail is down",
        fields={"sla_level": "Gold"},
    )
    assert client.get(f"/tickets/{ticket.id}").text == "Mail is down"
    world.desk.deactivate_person(world.admin.actor, world.acme_guest.id)
    assert client.get(f"/tickets/{ticket.id}").status_code == 401
    with client.session_transaction() as session:
        assert SESSION_KEY not in session  # signed out, not merely refused
    assert client.get("/me").text == "anonymous"


def test_a_magic_link_signs_the_guest_in_once(clock: ManualClock) -> None:
    mailer = Mailer()
    app = make_app(
        {
            "TICKETKIT_DATABASE_URL": "memory://",
            "TICKETKIT_PLUGINS": [mailer],
            "TICKETKIT_DESK_OPTIONS": {"clock": clock},
        }
    )
    with app.app_context():
        world = build_world(tk.desk, clock)
        tk.desk.invite_guest(world.admin.actor, world.acme_guest.id)
    client = app.test_client()
    tenant = world.provider.tenant_id
    assert client.post(f"/redeem/{tenant}", data={"token": mailer.token}).text == "Gina"
    assert client.get("/me").text == "Gina"
    other = app.test_client()
    used = other.post(f"/redeem/{tenant}", data={"token": mailer.token})
    assert used.status_code == 410
    assert "This invitation was used already" in used.text
    tampered = other.post(f"/redeem/{tenant}", data={"token": mailer.token[:-2] + "xx"})
    assert tampered.status_code == 400
    assert other.get("/me").text == "anonymous"


# -- the portal helpers: signed_in, magic_link_signin, the brand, ticketkit in templates ------


def test_signed_in_hands_the_view_the_actor_first_and_sends_anyone_else_to_login(
    client: FlaskClient, world: World
) -> None:
    ticket_id = uuid4()
    anonymous = client.get(f"/mine/{ticket_id}")
    assert (anonymous.status_code, anonymous.headers["Location"]) == (302, "/login")
    elsewhere = client.get("/staff-only")
    assert (elsewhere.status_code, elsewhere.headers["Location"]) == (302, "/staff-login")
    sign_in(client, world.acme_guest)
    assert client.get(f"/mine/{ticket_id}").text == f"Gina {ticket_id}"
    assert client.get("/staff-only").text == "for staff"
    world.desk.deactivate_person(world.admin.actor, world.acme_guest.id)
    assert client.get(f"/mine/{ticket_id}").headers["Location"] == "/login"  # at once


def follow_link(client: FlaskClient, token: str) -> Any:
    """The guest opens the link she was mailed: its answer."""
    return client.get("/signin", query_string={"token": token})


def test_following_the_link_moves_its_token_from_the_address_into_a_new_session(
    client: FlaskClient, world: World, mailer: Mailer
) -> None:
    world.desk.invite_guest(world.admin.actor, world.acme_guest.id)
    sign_in(client, world.globex_guest)  # someone signed in before, on this browser
    with client.session_transaction() as session:
        session["host"] = "a key of the host's"
    answer = follow_link(client, mailer.token)
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/signin"  # the token is gone from the address
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert mailer.token not in answer.text
    with client.session_transaction() as session:
        assert set(session) - {"_permanent"} == {TOKEN_KEY}  # nothing of the session before
        assert session[TOKEN_KEY] == mailer.token
    assert client.get("/me").text == "anonymous"


def test_the_confirm_page_does_not_use_the_token_up_and_the_post_signs_in_once(
    client: FlaskClient, world: World, mailer: Mailer
) -> None:
    world.desk.invite_guest(world.admin.actor, world.acme_guest.id)
    follow_link(client, mailer.token)
    for _ in range(2):  # a mail scanner's GET, then hers: neither uses the token up
        page = client.get("/signin")
        assert page.status_code == 200
        assert "Sign in as Gina?" in page.text
        assert f"Valid until {mailer.sent[-1].expires_at.isoformat()}" in page.text
        assert mailer.token not in page.text
        # Not no-referrer here: a browser sends the POST from a no-referrer page with
        # "Origin: null", which CSRF checks refuse (Flask-WTF's on HTTPS, Django's always).
        assert "Referrer-Policy" not in page.headers
    assert client.get("/me").text == "anonymous"
    with client.session_transaction() as session:
        session["host"] = "a key of the host's, from before the sign-in"
    signed = client.post("/signin")
    assert (signed.status_code, signed.headers["Location"]) == (303, "/me")
    with client.session_transaction() as session:
        # A new session: cleared (the token and the host's key gone), then her ids only.
        assert set(session) - {"_permanent"} == {SESSION_KEY}
    assert client.get("/me").text == "Gina"
    again = app_client_with_link(client, mailer.token)
    assert again.get("/signin").status_code == 410
    assert again.post("/signin").status_code == 410
    assert again.get("/me").text == "anonymous"


def app_client_with_link(client: FlaskClient, token: str) -> FlaskClient:
    """Another browser of the same app that followed the link with ``token``."""
    other = client.application.test_client()
    follow_link(other, token)
    return other


#: How each kind of refused link is answered: its status and the page's words.
REFUSALS = {
    "used": (410, "This invitation was used already; ask for a new one"),
    "unknown": (400, "This is not a valid invitation link"),
    "expired": (410, "This invitation has expired; ask for a new one"),
}


@pytest.mark.parametrize("refusal", REFUSALS)
def test_a_refused_link_answers_with_its_reason_and_signs_nobody_in(
    client: FlaskClient,
    world: World,
    mailer: Mailer,
    clock: ManualClock,
    refusal: str,
) -> None:
    status, text = REFUSALS[refusal]
    world.desk.invite_guest(world.admin.actor, world.acme_guest.id)
    token = mailer.token
    if refusal == "used":
        world.desk.redeem_invitation(world.provider.tenant_id, token)
    elif refusal == "unknown":
        token = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    else:
        clock.set(mailer.sent[-1].expires_at)  # refused from the instant of its expiry
    assert follow_link(client, token).status_code == 303
    for answer in (client.get("/signin"), client.post("/signin")):
        assert answer.status_code == status
        assert text in answer.text
    assert client.get("/me").text == "anonymous"
    with client.session_transaction() as session:
        assert SESSION_KEY not in session


def test_a_post_without_a_link_signs_nobody_in(client: FlaskClient, world: World) -> None:
    assert client.post("/signin").status_code == 400
    assert client.get("/signin").status_code == 400
    assert client.get("/me").text == "anonymous"


def brand_of(client: FlaskClient) -> list[str]:
    """The brand page's name, colours, logo and principal."""
    return client.get("/brand").text.split("|")[:5]


def test_a_guest_gets_her_organisations_brand_and_a_visitor_the_defaults_and_the_portals_name(
    client: FlaskClient, world: World
) -> None:
    admin, acme = world.admin.actor, world.acme.id
    world.desk.set_setting(admin, "branding.display_name", "Acme Service", organisation_id=acme)
    world.desk.set_setting(admin, "branding.primary_colour", "#0b3d91", organisation_id=acme)
    world.desk.set_setting(
        admin, "branding.logo_url", "https://acme.example/logo.svg", organisation_id=acme
    )
    assert brand_of(client) == ["Acme Hosting Portal", "#1f4e79", "#f28c28", "None", "anonymous"]
    sign_in(client, world.acme_guest)
    assert brand_of(client) == [
        "Acme Service",
        "#0b3d91",
        "#f28c28",  # not overridden: the default
        "https://acme.example/logo.svg",
        "Gina",
    ]
    sign_in(client, world.globex_guest)  # no overrides: the defaults and the portal's name
    assert brand_of(client) == ["Acme Hosting Portal", "#1f4e79", "#f28c28", "None", "Gus"]


def test_without_a_configured_name_the_brand_is_help_desk() -> None:
    app = make_app({"TICKETKIT_DATABASE_URL": "memory://"})
    assert app.test_client().get("/brand").text.startswith("Help desk|#1f4e79|")


def test_the_brand_is_read_once_per_request(
    client: FlaskClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[Actor | None] = []
    real = pages.brand

    def counted(desk: HelpDesk, actor: Actor | None, *, default_name: str) -> pages.Brand:
        reads.append(actor)
        return real(desk, actor, default_name=default_name)

    monkeypatch.setattr(pages, "brand", counted)
    sign_in(client, world.acme_guest)
    page = client.get("/brand").text  # read by the view and three times by the template
    assert page.endswith("|True")  # the template's brand is the view's
    client.get("/brand")
    assert reads == [world.acme_guest.actor] * 2  # once per request


def test_signing_in_mid_request_gives_the_new_principals_brand(
    app: flask.Flask, world: World
) -> None:
    world.desk.set_setting(
        world.admin.actor,
        "branding.display_name",
        "Acme Service",
        organisation_id=world.acme.id,
    )
    with app.test_request_context():
        assert tk.session.brand.name == "Acme Hosting Portal"
        tk.session.sign_in(world.acme_guest.actor)
        assert tk.session.brand.name == "Acme Service"
        tk.session.sign_out()
        assert tk.session.brand.name == "Acme Hosting Portal"


def test_templates_get_the_request_session_as_ticketkit(client: FlaskClient, world: World) -> None:
    assert client.get("/brand").text.split("|")[4:6] == ["anonymous", "True"]
    sign_in(client, world.acme_guest)
    assert client.get("/brand").text.split("|")[4:6] == ["Gina", "True"]


# -- host users mapped to people ---------------------------------------------------------------


def test_the_host_signed_in_user_is_mapped_to_a_person_in_one_place(clock: ManualClock) -> None:
    people: dict[str, Actor] = {}

    def person_for_user(desk: HelpDesk) -> Actor | None:
        return people.get(flask.session.get("host_user", ""))

    app = make_app(
        {"TICKETKIT_DATABASE_URL": "memory://", "TICKETKIT_PERSON_FOR_USER": person_for_user}
    )
    with app.app_context():
        world = build_world(tk.desk, clock)
    people["alice"] = world.agent.actor
    client = app.test_client()
    assert client.get("/me").text == "anonymous"
    with client.session_transaction() as session:
        session["host_user"] = "alice"
    assert client.get("/me").text == "Alice"
    sign_in(client, world.acme_guest)  # one signed in through ticketkit comes first
    assert client.get("/me").text == "Gina"
    client.post("/sign-out")
    with client.session_transaction() as session:
        session["host_user"] = "alice"
    world.desk.deactivate_person(world.admin.actor, world.agent.id)
    assert client.get("/me").text == "anonymous"  # revoked: no principal, at once


def test_the_mapping_must_be_callable() -> None:
    app = flask.Flask("m")
    app.config.update(TICKETKIT_DATABASE_URL="memory://", TICKETKIT_PERSON_FOR_USER="alice")
    with pytest.raises(ValueError, match="TICKETKIT_PERSON_FOR_USER"):
        tk.init_app(app)


# -- errors as HTTP answers --------------------------------------------------------------------


@pytest.fixture
def guest_ticket(world: World) -> UUID:
    return world.desk.create_ticket(
        world.acme_guest.actor,
        project_id=world.acme_project.id,
        type_id=world.incident.id,
        title="Mail is down",
        fields={"sla_level": "Gold"},
    ).id


def test_a_hidden_ticket_and_a_missing_one_get_the_same_404(
    client: FlaskClient, world: World
) -> None:
    globex = world.desk.create_ticket(
        world.globex_guest.actor,
        project_id=world.globex_project.id,
        type_id=world.incident.id,
        title="Globex secret",
        fields={"sla_level": "Gold"},
    )
    sign_in(client, world.acme_guest)
    hidden, missing = client.get(f"/tickets/{globex.id}"), client.get(f"/tickets/{uuid4()}")
    assert (hidden.status_code, missing.status_code) == (404, 404)
    assert hidden.data == missing.data
    assert str(globex.id) not in hidden.text and "Globex" not in hidden.text
    assert '<html lang="en">' in hidden.text and "<h1>Not found</h1>" in hidden.text


def test_a_permission_error_is_403(client: FlaskClient, world: World, guest_ticket: UUID) -> None:
    sign_in(client, world.acme_guest)
    assert client.post(f"/tickets/{guest_ticket}/assign").status_code == 403


def test_a_validation_error_is_422_with_its_fields(client: FlaskClient, world: World) -> None:
    sign_in(client, world.acme_guest)
    answer = client.post(f"/tickets/{world.acme_project.id}/new", data={"title": " "})
    assert answer.status_code == 422
    assert "title: must not be empty" in answer.text
    assert "fields.sla_level: is required" in answer.text


def test_a_stale_version_is_409_and_a_comment_without_one_never_conflicts(
    app: flask.Flask, client: FlaskClient, world: World, guest_ticket: UUID
) -> None:
    def agent_answers_meanwhile() -> None:
        world.desk.change_status(
            world.agent.actor,
            guest_ticket,
            "open",
            comment=CommentDraft(body="On it", visibility="public"),
        )

    app.config["BETWEEN_READ_AND_WRITE"] = agent_answers_meanwhile
    sign_in(client, world.acme_guest)
    version = world.desk.get_ticket(world.acme_guest.actor, guest_ticket).version
    stale = client.post(
        f"/tickets/{guest_ticket}/comments", data={"body": "any news?", "version": version}
    )
    assert stale.status_code == 409
    assert client.post(f"/tickets/{guest_ticket}/comments", data={"body": "thanks"}).text == "sent"
    bodies = [
        e.comment.body
        for e in world.desk.timeline(world.acme_guest.actor, guest_ticket)
        if e.comment is not None
    ]
    assert bodies == ["On it", "On it", "thanks"]


@pytest.mark.parametrize(("kind", "status"), [("storage", 503), ("other", 400)])
def test_other_ticketkit_errors_have_their_status_and_hide_their_message(
    client: FlaskClient, kind: str, status: int
) -> None:
    answer = client.get(f"/fail/{kind}")
    assert answer.status_code == status
    assert "the database is gone" not in answer.text


@pytest.mark.parametrize("template", ["page.html", None])
def test_a_database_outage_answers_503_on_the_hosts_error_page_as_for_a_visitor(
    tmp_path: Path, clock: ManualClock, template: str | None
) -> None:
    """The database goes away under a signed-in guest: every page answers 503, on the
    host's error page (which shows the brand and who is signed in) or the plain one,
    without reading the database again while it renders."""
    home = tmp_path / "db"
    home.mkdir()
    engine = create_sqlite_engine(home / "portal.sqlite")
    upgrade(engine)
    config: dict[str, Any] = {"TICKETKIT_STORAGE": SqlStorage(engine)}
    if template is not None:
        config["TICKETKIT_ERROR_TEMPLATE"] = template
    app = make_app({**config, "TICKETKIT_DESK_OPTIONS": {"clock": clock}})
    app.jinja_loader = jinja2.DictLoader(
        {
            **TEMPLATES,
            "page.html": (
                "{{ ticketkit.brand.name }}|"
                "{{ ticketkit.principal.person.name if ticketkit.principal else 'nobody' }}|"
                "{{ problem.status }} {{ problem.title }}"
            ),
        }
    )
    with app.app_context():
        world = build_world(tk.desk, clock)
    client = app.test_client()
    sign_in(client, world.acme_guest)
    assert client.get("/me").text == world.acme_guest.name
    engine.dispose()
    home.rename(tmp_path / "gone")  # the file is no longer there to open
    for path in ("/me", f"/mine/{uuid4()}"):
        answer = client.get(path)
        assert answer.status_code == 503, (path, answer.text)
        if template is not None:
            assert answer.text == "Help desk|nobody|503 The help desk is unavailable; try again"
        else:
            assert "The help desk is unavailable" in answer.text


def test_a_client_asking_for_json_gets_the_problem_as_json(
    client: FlaskClient, world: World
) -> None:
    sign_in(client, world.acme_guest)
    answer = client.post(
        f"/tickets/{world.acme_project.id}/new",
        data={"title": ""},
        headers={"Accept": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json is not None
    assert answer.json["fields"]["title"] == "must not be empty"


def test_the_host_names_its_own_error_template(clock: ManualClock) -> None:
    app = make_app({"TICKETKIT_DATABASE_URL": "memory://", "TICKETKIT_ERROR_TEMPLATE": "e.html"})
    app.jinja_loader = jinja2.DictLoader(
        {"e.html": "<p>{{ problem.status }} {{ problem.title }}</p>"}
    )
    with app.app_context():
        world = build_world(tk.desk, clock)
    client = app.test_client()
    sign_in(client, world.acme_guest)
    answer = client.get(f"/tickets/{uuid4()}")
    assert (answer.status_code, answer.text) == (404, "<p>404 Not found</p>")


# -- storage from the URL, the command line ----------------------------------------------------


def test_flask_ticketkit_upgrade_migrates_an_sqlite_file_named_by_url(
    tmp_path: Any, clock: ManualClock
) -> None:
    path = tmp_path / "desk.sqlite"
    app = make_app({"TICKETKIT_DATABASE_URL": f"sqlite:///{path}"})
    state = tk.state(app)
    assert isinstance(state.desk.storage, SqlStorage) and state.engine is not None
    assert "ticketkit_tickets" not in sa.inspect(state.engine).get_table_names()
    done = app.test_cli_runner().invoke(args=["ticketkit", "upgrade"])
    assert done.exit_code == 0, done.output
    assert "ticketkit_tickets" in sa.inspect(state.engine).get_table_names()
    with app.app_context():
        world = build_world(tk.desk, clock)
    client = app.test_client()
    sign_in(client, world.acme_guest)
    assert client.get("/me").text == "Gina"
    tk.close(app)


def test_auto_upgrade_migrates_at_init_app(tmp_path: Any) -> None:
    app = make_app(
        {
            "TICKETKIT_DATABASE_URL": f"sqlite:///{tmp_path / 'a.sqlite'}",
            "TICKETKIT_AUTO_UPGRADE": True,
        }
    )
    engine = tk.state(app).engine
    assert engine is not None
    assert "ticketkit_tickets" in sa.inspect(engine).get_table_names()
    tk.close(app)


def test_upgrade_on_memory_storage_says_there_is_nothing_to_migrate() -> None:
    app = make_app({"TICKETKIT_DATABASE_URL": "memory://"})
    done = app.test_cli_runner().invoke(args=["ticketkit", "upgrade"])
    assert done.exit_code == 0
    assert "nothing to migrate" in done.output


@pytest.mark.postgres
def test_a_postgresql_url_with_engine_options_runs_after_flask_ticketkit_upgrade(
    clock: ManualClock,
) -> None:
    postgres_or_skip()
    schema = f"{PG_SCHEMA}_flask_url"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {schema}"))
    try:
        app = make_app(
            {
                "TICKETKIT_DATABASE_URL": POSTGRES_URL,
                "TICKETKIT_ENGINE_OPTIONS": {
                    "connect_args": {"options": f"-csearch_path={schema}"}
                },
            }
        )
        done = app.test_cli_runner().invoke(args=["ticketkit", "upgrade"])
        assert done.exit_code == 0, done.output
        with app.app_context():
            world = build_world(tk.desk, clock)
        client = app.test_client()
        sign_in(client, world.acme_guest)
        assert client.get("/me").text == "Gina"
        with admin.connect() as conn:
            found = conn.execute(
                sa.text("select count(*) from information_schema.tables where table_schema = :s"),
                {"s": schema},
            ).scalar_one()
        assert found > 10
        tk.close(app)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()


def test_flask_ticketkit_deliver_retries_pending_notifications() -> None:
    app = make_app({"TICKETKIT_DATABASE_URL": "memory://"})
    done = app.test_cli_runner().invoke(args=["ticketkit", "deliver"])
    assert done.exit_code == 0, done.output
    assert "attempted 0 notification(s)" in done.output


# -- shutting down -------------------------------------------------------------------------------


class Recorder:
    """A notifier that notes each message and the thread that delivered it."""

    def __init__(self) -> None:
        self.messages: list[NotificationMessage] = []
        self.threads: list[threading.Thread] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        self.messages.append(message)
        self.threads.append(threading.current_thread())


def test_close_delivers_what_is_queued_and_ends_the_delivery_threads(clock: ManualClock) -> None:
    recorder = Recorder()
    before = {t for t in threading.enumerate() if t.name.startswith("ticketkit-")}
    app = make_app(
        {
            "TICKETKIT_DATABASE_URL": "memory://",
            "TICKETKIT_DELIVERY": "background",
            "TICKETKIT_PLUGINS": [recorder],
        }
    )
    with app.app_context():
        world = build_world(tk.desk, clock)
    ticket = world.desk.create_ticket(
        world.acme_guest.actor,
        project_id=world.acme_project.id,
        type_id=world.incident.id,
        title="Mail is down",
        fields={"sla_level": "Gold"},
    )
    world.desk.change_status(world.agent.actor, ticket.id, "open")
    tk.close(app)
    assert recorder.messages  # delivered before close returned
    assert all(t is not threading.main_thread() for t in recorder.threads)
    assert not any(t.is_alive() for t in recorder.threads)
    started = {t for t in threading.enumerate() if t.name.startswith("ticketkit-")} - before
    assert not started


def test_an_uninitialised_extension_cannot_be_closed() -> None:
    with pytest.raises(RuntimeError, match="not initialised"):
        tk.close(flask.Flask("never"))
