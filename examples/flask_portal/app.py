"""The seed-000 guest portal and agent desk on Flask: ``python examples/flask_portal/app.py``.

Guests sign in by magic link (printed below in development); agents through this host's
own demo login (their e-mail and the password ``demo``). Every screen is one call into
``ticketkit.web.pages``; the templates are shared with the Django example.
"""

from __future__ import annotations

import argparse
import hmac
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from flask import Flask, abort, redirect, render_template, request, session
from flask_wtf.csrf import CSRFProtect, generate_csrf
from markupsafe import Markup
from werkzeug.wrappers import Response

from ticketkit import Actor, InvitationMessage, ValidationError, hookimpl
from ticketkit.demo_world import PortalWorld, portal_world
from ticketkit.web import forms, pages
from ticketkit.web.flask import TicketKit

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
DEMO_PASSWORD = "demo"
ticketkit = TicketKit()


class PrintedInvitations:
    """Development's mailer: prints each magic link (tests record them instead)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url

    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        print(f"Magic link for {message.name}: {self.base_url}/signin?token={message.token}")


def create_app(database: Path, *, plugins: list[object], development: bool = True) -> Flask:
    """The portal on a new SQLite file, loaded with the seed-000 world."""
    app = Flask(__name__, template_folder=str(TEMPLATES))
    app.config.update(
        SECRET_KEY=Path("/dev/urandom").read_bytes()[:32] if development else None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=not development,
        TICKETKIT_DATABASE_URL=f"sqlite:///{database}",
        TICKETKIT_AUTO_UPGRADE=True,
        TICKETKIT_PLUGINS=plugins,
        TICKETKIT_ERROR_TEMPLATE="error.html",
        # The one place host users become ticketkit people: the demo login's e-mail.
        TICKETKIT_PERSON_FOR_USER=lambda desk: app.config["STAFF"].get(session.get("user")),
    )
    CSRFProtect(app)
    ticketkit.init_app(app)
    desk = ticketkit.desk_of(app)
    world: PortalWorld = portal_world(desk, now=datetime.now(UTC))
    app.config.update(WORLD=world, STAFF={p.email: p.actor for p in (world.seed.tom, world.seed.max)})
    desk.invite_guest(world.seed.admin.actor, world.seed.sandra.id)

    def page(template: str, title: str, status: int = 200, **context: Any) -> tuple[str, int]:
        return render_template(template, title=title, **context), status

    def me() -> Actor:
        actor = ticketkit.session.actor
        if actor is None:
            abort(redirect("/login"))
        return actor

    def back(ticket_id: UUID) -> Response:
        return redirect(f"/tickets/{ticket_id}", 303)

    @app.context_processor
    def common() -> dict[str, object]:
        principal = ticketkit.session.principal
        actor = principal.actor if principal else None
        csrf = f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">'
        return {
            "principal": principal,
            "brand": pages.brand(desk, actor, default_name=world.seed.tom.name and "Leadtime"),
            "csrf_input": Markup(csrf),
        }

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
        password = request.form.get("password", "")
        if request.method == "POST" and user in app.config["STAFF"]:
            if hmac.compare_digest(password.encode(), DEMO_PASSWORD.encode()):
                session.clear()
                session["user"] = user
                return redirect("/tickets", 303)
        error = "Unknown e-mail or wrong password." if request.method == "POST" else None
        hint = "Guests sign in with the link from their invitation."
        return page("login.html", "Sign in", 401 if error else 200, error=error, username=user, hint=hint)

    @app.post("/signout")
    def sign_out() -> Response:
        ticketkit.session.sign_out()
        return redirect("/login", 303)

    @app.get("/tickets")
    def tickets() -> tuple[str, int]:
        args = request.args
        found = pages.ticket_list(desk, me(), status=args.get("status"), cursor=args.get("cursor"))
        return page("tickets.html", "Tickets", page=found)

    @app.route("/tickets/new", methods=["GET", "POST"])
    def new_ticket() -> Response | tuple[str, int]:
        actor = me()
        types = {str(t.id): t for t in desk.list_ticket_types(actor)}
        chosen = types.get(request.values.get("type", ""))
        if chosen is None:
            return page("new_ticket.html", "New ticket", form=None, types=types.values())
        shown = {"projects": desk.list_projects(actor), "project": request.form.get("project")}
        if request.method == "GET":
            return page("new_ticket.html", "New ticket", form=forms.ticket_form(chosen), **shown)
        try:
            draft = forms.parse_ticket_form(chosen, request.form)
            project = forms.form_id(request.form, "project")
            ticket = desk.create_ticket(actor, project_id=project, type_id=chosen.id, channel="web", **draft.arguments())
        except ValidationError as error:
            form = forms.ticket_form(chosen, request.form, error=error)
            return page("new_ticket.html", "New ticket", 422, form=form, **shown)
        return back(ticket.id)

    @app.get("/tickets/<uuid:ticket_id>")
    def ticket(ticket_id: UUID) -> tuple[str, int]:
        found = pages.ticket_page(desk, me(), ticket_id)
        return page("ticket.html", found.ticket.title, page=found)

    @app.get("/projects/<int:project>/tickets/<int:number>")
    def ticket_by_number(project: int, number: int) -> Response:
        actor = me()
        found = desk.get_ticket_by_number(actor, desk.get_project_by_number(actor, project).id, number)
        return back(found.id)

    @app.post("/tickets/<uuid:ticket_id>/comments")
    def comment(ticket_id: UUID) -> Response:
        form = request.form
        desk.add_comment(me(), ticket_id, form.get("body", ""), visibility=form.get("visibility", ""), channel="web")
        return back(ticket_id)

    @app.post("/tickets/<uuid:ticket_id>/status")
    def status(ticket_id: UUID) -> Response:
        version = forms.form_version(request.form)
        desk.change_status(me(), ticket_id, request.form.get("status", ""), expected_version=version)
        return back(ticket_id)

    @app.post("/tickets/<uuid:ticket_id>/assign")
    def assign(ticket_id: UUID) -> Response:
        form, version = request.form, forms.form_version(request.form)
        assignee, group = forms.form_id(form, "assignee", optional=True), forms.form_id(form, "group", optional=True)
        desk.assign(me(), ticket_id, assignee, group_id=group, expected_version=version)
        return back(ticket_id)

    @app.get("/organisations/<uuid:organisation_id>")
    def organisation(organisation_id: UUID) -> tuple[str, int]:
        found = pages.organisation_page(desk, me(), organisation_id)
        return page("organisation.html", found.organisation.name, page=found)

    return app


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="The seed-000 portal on Flask.")
    parser.add_argument("--port", type=int, default=5000)
    port = parser.parse_args().port
    with tempfile.TemporaryDirectory() as tmp:
        portal = create_app(Path(tmp) / "portal.sqlite", plugins=[PrintedInvitations(f"http://127.0.0.1:{port}")])
        print("Agents: tom@leadtime.example or max@leadtime.example, password 'demo'.")
        portal.run(host="127.0.0.1", port=port, debug=False)
