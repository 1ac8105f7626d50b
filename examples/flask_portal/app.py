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

from flask import Flask, abort, redirect, render_template, request, session
from flask_wtf.csrf import CSRFProtect, generate_csrf
from markupsafe import Markup
from werkzeug.wrappers import Response

from ticketkit import Actor, InvitationMessage, hookimpl
from ticketkit.demo_world import portal_world
from ticketkit.web import pages
from ticketkit.web.flask import TicketKit

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

    def page(template: str, title: str, status: int = 200, **context: Any) -> tuple[str, int]:
        return render_template(template, title=title, **context), status

    def me() -> Actor:
        if (actor := ticketkit.session.actor) is None:
            abort(redirect("/login"))
        return actor

    @app.context_processor
    def common() -> dict[str, object]:
        principal = ticketkit.session.principal
        actor = principal.actor if principal else None
        csrf = f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">'
        brand = pages.brand(desk, actor, default_name="Leadtime Hosting")
        return {"principal": principal, "brand": brand, "csrf_input": Markup(csrf)}

    @app.after_request
    def no_referrer(response: Response) -> Response:
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.get("/")
    def home() -> Response:
        return redirect("/tickets" if ticketkit.session.principal else "/login")

    @app.get("/signin")
    def confirm() -> Response | tuple[str, int]:
        if "token" in request.args:  # keep the token out of the address bar and history
            session.clear()
            session["token"] = request.args["token"]
            return redirect("/signin", 303)
        invitation = desk.inspect_invitation(world.tenant_id, session.get("token", ""))
        return page("signin.html", "Sign in", invitation=invitation)

    @app.post("/signin")
    def sign_in() -> Response:
        ticketkit.session.sign_in(desk.redeem_invitation(world.tenant_id, session.get("token", "")))
        return redirect("/tickets", 303)

    @app.route("/login", methods=["GET", "POST"])
    def login() -> Response | tuple[str, int]:
        user = request.form.get("username", "").strip().lower()
        password = request.form.get("password", "").encode()
        if user in staff and hmac.compare_digest(password, DEMO_PASSWORD):
            session.clear()
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
    def tickets() -> tuple[str, int]:
        status, cursor = request.args.get("status"), request.args.get("cursor")
        return page(
            "tickets.html",
            "Tickets",
            page=pages.ticket_list(desk, me(), status=status, cursor=cursor),
        )

    @app.route("/tickets/new", methods=["GET", "POST"])
    def new_ticket() -> Response | tuple[str, int]:
        screen = pages.new_ticket(desk, me(), request.values, submit=request.method == "POST")
        if screen.created is not None:
            return redirect(f"/tickets/{screen.created.id}", 303)
        return page("new_ticket.html", "New ticket", screen.status, screen=screen)

    @app.get("/tickets/<uuid:ticket_id>")
    def ticket(ticket_id: UUID) -> tuple[str, int]:
        found = pages.ticket_page(desk, me(), ticket_id)
        return page("ticket.html", found.ticket.title, page=found)

    @app.get("/projects/<int:project>/tickets/<int:number>")
    def ticket_by_number(project: int, number: int) -> Response:
        found = desk.get_ticket_by_number(
            me(), desk.get_project_by_number(me(), project).id, number
        )
        return redirect(f"/tickets/{found.id}")

    @app.post("/tickets/<uuid:ticket_id>/<action>")
    def ticket_action(ticket_id: UUID, action: str) -> Response:
        pages.ticket_action(desk, me(), ticket_id, action, request.form)
        return redirect(f"/tickets/{ticket_id}", 303)

    @app.get("/organisations/<uuid:organisation_id>")
    def organisation(organisation_id: UUID) -> tuple[str, int]:
        found = pages.organisation_page(desk, me(), organisation_id)
        return page("organisation.html", found.organisation.name, page=found)

    return app


if __name__ == "__main__":
    port = int(os.environ.get("PORT", "5000"))
    with tempfile.TemporaryDirectory() as tmp:
        links = PrintedInvitations(f"http://127.0.0.1:{port}")
        portal = create_app(Path(tmp) / "portal.sqlite", plugins=[links])
        print("Agents: tom@leadtime.example or max@leadtime.example, password 'demo'.")
        portal.run(host="127.0.0.1", port=port)
