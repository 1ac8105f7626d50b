"""The seed-000 guest portal and agent desk on Django in one file (settings, views, URLs).
Run without arguments it migrates, seeds, prints Sandra's magic link and serves (agents:
password ``demo``); with arguments it runs Django's management commands. See README.md."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import django
from django.conf import settings
from django.core.management import call_command, execute_from_command_line
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.core.wsgi import get_wsgi_application
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from ticketkit import Actor, InvitationMessage, hookimpl
from ticketkit.demo_world import portal_world
from ticketkit.web import pages
from ticketkit.web.django.desk import get_desk
from ticketkit.web.django.views import magic_link_signin, signed_in

HERE = Path(__file__).resolve().parent
DATABASE = Path(os.environ.get("PORTAL_DATABASE", HERE / "portal.sqlite"))
STATE = DATABASE.with_suffix(".json")  # the tenant, and which person each agent's user is
DEVELOPMENT = os.environ.get("PORTAL_DEVELOPMENT", "1") == "1"
DB = {"ENGINE": "django.db.backends.sqlite3", "NAME": DATABASE, "ATOMIC_REQUESTS": True}
# Several writers share the file (requests, delivery's acknowledgements): a request takes
# the write lock as it begins, not when its read turns into a write ("database is locked").
DB["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
JINJA = {"BACKEND": "django.template.backends.jinja2.Jinja2", "DIRS": [HERE.parent / "templates"]}
JINJA["OPTIONS"] = {"context_processors": ["ticketkit.web.django.views.context_processor"]}
settings.configure(
    SECRET_KEY=os.environ.get("PORTAL_SECRET_KEY") or os.urandom(32).hex(),
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    INSTALLED_APPS=[f"django.contrib.{app}" for app in ("auth", "contenttypes", "sessions")]
    + ["ticketkit.web.django"],
    MIDDLEWARE=[
        "django.middleware.security.SecurityMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "ticketkit.web.django.middleware.TicketkitMiddleware",
    ],
    SESSION_COOKIE_SECURE=not DEVELOPMENT,  # HttpOnly and SameSite=Lax are Django's defaults
    CSRF_COOKIE_SECURE=not DEVELOPMENT,
    LOGIN_REDIRECT_URL="/tickets",
    DATABASES={"default": DB},
    TEMPLATES=[JINJA],
    TICKETKIT={
        "PLUGINS": [f"{__name__}.PrintedInvitations"],
        "PERSON_FOR_USER": f"{__name__}.person_for_user",
        "BRAND_NAME": "Leadtime Hosting",
    },
    USE_TZ=True,
)
django.setup()
from django.contrib.auth.models import User  # noqa: E402 - models load after setup()
from django.contrib.auth.views import LoginView, LogoutView  # noqa: E402


class PrintedInvitations:
    """Development's mailer: prints each magic link."""

    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        link = f"{os.environ['PORTAL_URL']}/signin?token={message.token}"
        print(f"Magic link for {message.name}: {link}", flush=True)


def state() -> dict[str, Any]:
    return dict(json.loads(STATE.read_text()))


def person_for_user(user: Any) -> Actor | None:
    """The one place a Django user becomes a ticketkit person: the agents seeded."""
    person = state()["staff"].get(user.email)
    return Actor(tenant_id=UUID(state()["tenant"]), person_id=UUID(person)) if person else None


def page(
    request: Any, template: str, title: str, status: int = 200, **context: Any
) -> HttpResponse:
    return render(request, template, {"title": title, **context}, status=status)


@signed_in
def tickets(request: Any, actor: Actor) -> HttpResponse:
    status, cursor = request.GET.get("status"), request.GET.get("cursor")
    found = pages.ticket_list(request.ticketkit.desk, actor, status=status, cursor=cursor)
    return page(request, "tickets.html", "Tickets", page=found)


@signed_in
def new_ticket(request: Any, actor: Actor) -> HttpResponse:
    data, posted = request.POST or request.GET, request.method == "POST"
    screen = pages.new_ticket(request.ticketkit.desk, actor, data, submit=posted)
    if screen.created is not None:
        return redirect(f"/tickets/{screen.created.id}")
    return page(request, "new_ticket.html", "New ticket", screen.status, screen=screen)


@signed_in
def ticket(request: Any, actor: Actor, ticket_id: UUID) -> HttpResponse:
    found = pages.ticket_page(request.ticketkit.desk, actor, ticket_id)
    return page(request, "ticket.html", found.ticket.title, page=found)


@signed_in
def ticket_by_number(request: Any, actor: Actor, project: int, number: int) -> HttpResponse:
    found = pages.ticket_by_number(request.ticketkit.desk, actor, project, number)
    return redirect(f"/tickets/{found.id}")


@require_POST
@signed_in
def ticket_action(request: Any, actor: Actor, ticket_id: UUID, action: str) -> HttpResponse:
    pages.ticket_action(request.ticketkit.desk, actor, ticket_id, action, request.POST)
    return redirect(f"/tickets/{ticket_id}")


@signed_in
def organisation(request: Any, actor: Actor, organisation_id: UUID) -> HttpResponse:
    found = pages.organisation_page(request.ticketkit.desk, actor, organisation_id)
    return page(request, "organisation.html", found.organisation.name, page=found)


signin = magic_link_signin(
    lambda: UUID(state()["tenant"]), template="signin.html", next_url="/tickets"
)
login = LoginView.as_view(
    template_name="login.html",
    extra_context={
        "title": "Sign in",
        "hint": "Guests sign in with the link from their invitation.",
    },
)
urlpatterns = [
    path("", lambda request: redirect("/tickets")),
    path("signin", signin),
    path("login", login),
    path("signout", LogoutView.as_view(next_page="/login")),  # ends both kinds of sign-in
    path("tickets", tickets),
    path("tickets/new", new_ticket),
    path("tickets/<uuid:ticket_id>", ticket),
    path("projects/<int:project>/tickets/<int:number>", ticket_by_number),
    path("tickets/<uuid:ticket_id>/<str:action>", ticket_action),
    path("organisations/<uuid:organisation_id>", organisation),
]


def serve(port: int) -> None:
    """Migrate, seed a new database and make the agents users, then serve in threads."""
    call_command("migrate", verbosity=0)
    server = ThreadedWSGIServer(("127.0.0.1", port), WSGIRequestHandler)
    os.environ["PORTAL_URL"] = f"http://127.0.0.1:{server.server_port}"
    if not STATE.exists():
        world = portal_world(get_desk(), now=get_desk().clock.now())
        staff = {p.email: str(p.id) for p in (world.seed.tom, world.seed.max)}
        STATE.write_text(json.dumps({"tenant": str(world.tenant_id), "staff": staff}))
        get_desk().invite_guest(world.seed.admin.actor, world.seed.sandra.id)
    for email in state()["staff"]:
        if not User.objects.filter(username=email).exists():
            User.objects.create_user(username=email, email=email, password="demo")
    server.set_app(get_wsgi_application())
    print(f"Serving on {os.environ['PORTAL_URL']}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        execute_from_command_line(sys.argv)
    else:
        serve(int(os.environ.get("PORT", "8000")))
