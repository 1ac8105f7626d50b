"""The seed-000 guest portal and agent desk on Flask: ``python examples/flask_portal/app.py``.

Guests sign in by magic link (printed in development); agents by this host's demo login
(their e-mail, password ``demo``). Each screen is one call into ``ticketkit.web.pages``;
the templates are shared with the Django example.
"""

from __future__ import annotations

import hmac
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any
from uuid import UUID

from flask import Flask, redirect, render_template, request, session
from flask_wtf.csrf import CSRFProtect, generate_csrf
from markupsafe import Markup
from werkzeug.wrappers import Response

from ticketkit import Actor, InvitationMessage, hookimpl
from ticketkit.demo_world import portal_world
from ticketkit.web import pages
from ticketkit.web.flask import TicketKit, magic_link_signin, signed_in

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DEMO_PASSWORD = b"demo"
ticketkit = TicketKit()


class PrintedInvitations:
    """Development's mailer: prints each magic link (the tests record them instead)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        print(f"Magic link for {message.name}: {self.base_url}/signin?token={message.token}")


def create_app(
    database: Path, *, plugins: list[object], development: bool = True, **config: Any
) -> Flask:
    """The portal on a new SQLite file, loaded with the seed-000 world (``config`` on top)."""
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config.update(
        SECRET_KEY=secrets.token_bytes(32),  # sessions end when the demo stops
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not development,
        TICKETKIT_DATABASE_URL=f"sqlite:///{database}",
        TICKETKIT_AUTO_UPGRADE=True,
        TICKETKIT_PLUGINS=plugins,
        TICKETKIT_ERROR_TEMPLATE="error.html",
        TICKETKIT_BRAND_NAME="Leadtime Hosting",
        # The one place host users become ticketkit people: the demo login's e-mail.
        TICKETKIT_PERSON_FOR_USER=lambda desk: staff.get(session.get("user", "")),
    )
    app.config.update(config)
    CSRFProtect(app)
    ticketkit.init_app(app)
    desk = ticketkit.state(app).desk
    world = app.config["WORLD"] = portal_world(desk, now=desk.clock.now())
    staff = {p.email: p.actor for p in (world.seed.tom, world.seed.max)}
    desk.invite_guest(world.seed.admin.actor, world.seed.sandra.id)
    signin = magic_link_signin(world.tenant_id, next_url="/tickets")
    app.add_url_rule("/signin", "signin", signin, methods=["GET", "POST"])

    def page(template: str, title: str, status: int = 200, **context: Any) -> tuple[str, int]:
        return render_template(template, title=title, **context), status

    @app.context_processor
    def csrf() -> dict[str, object]:
        return {
            "csrf_input": Markup(
                f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">'
            )
        }

    @app.get("/")
    def home() -> Response:
        return redirect("/tickets")

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response | tuple[str, int]:
        user = request.form.get("username", "").strip().lower()
        if user in staff and hmac.compare_digest(
            request.form.get("password", "").encode(), DEMO_PASSWORD
        ):
            session.clear()  # a new session for the signed-in agent
            session["user"] = user
            return redirect("/tickets", 303)
        error = "Unknown e-mail or wrong password." if request.method == "POST" else None
        hint = "Guests sign in with the link from their invitation."
        return page("login.html", "Sign in", 401 if error else 200, error=error, hint=hint)

    @app.post("/signout")
    def sign_out() -> Response:
        ticketkit.session.sign_out()
        return redirect("/login", 303)

    @app.get("/tickets")
    @signed_in
    def tickets(actor: Actor) -> tuple[str, int]:
        status, cursor = request.args.get("status"), request.args.get("cursor")
        return page(
            "tickets.html",
            "Tickets",
            page=pages.ticket_list(desk, actor, status=status, cursor=cursor),
        )

    @app.route("/tickets/new", methods=["GET", "POST"])
    @signed_in
    def new_ticket(actor: Actor) -> Response | tuple[str, int]:
        screen = pages.new_ticket(desk, actor, request.values, submit=request.method == "POST")
        if screen.created is not None:
            return redirect(f"/tickets/{screen.created.id}", 303)
        return page("new_ticket.html", "New ticket", screen.status, screen=screen)

    @app.get("/tickets/<uuid:ticket_id>")
    @signed_in
    def ticket(actor: Actor, ticket_id: UUID) -> tuple[str, int]:
        found = pages.ticket_page(desk, actor, ticket_id)
        return page("ticket.html", found.ticket.title, page=found)

    @app.get("/projects/<int:project>/tickets/<int:number>")
    @signed_in
    def ticket_by_number(actor: Actor, project: int, number: int) -> Response:
        return redirect(f"/tickets/{pages.ticket_by_number(desk, actor, project, number).id}")

    @app.post("/tickets/<uuid:ticket_id>/<action>")
    @signed_in
    def ticket_action(actor: Actor, ticket_id: UUID, action: str) -> Response:
        pages.ticket_action(desk, actor, ticket_id, action, request.form)
        return redirect(f"/tickets/{ticket_id}", 303)

    @app.get("/organisations/<uuid:organisation_id>")
    @signed_in
    def organisation(actor: Actor, organisation_id: UUID) -> tuple[str, int]:
        found = pages.organisation_page(desk, actor, organisation_id)
        return page("organisation.html", found.organisation.name, page=found)

    return app


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5000"))
    with tempfile.TemporaryDirectory() as tmp:
        links = PrintedInvitations(f"http://127.0.0.1:{port}")
        portal = create_app(Path(tmp) / "portal.sqlite", plugins=[links])
        print("Agents: tom@leadtime.example or max@leadtime.example, password 'demo'.")
        portal.run(host="127.0.0.1", port=port)
