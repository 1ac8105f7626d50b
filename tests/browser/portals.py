"""The two example portals (examples/flask_portal, examples/django_portal) served for a
browser test, with the seed-000 world loaded and a plugin that records the magic links
instead of printing them. Tests seed and assert through ticketkit's API (``desk``).

The Flask app runs in this process, in the server's threads. The Django app runs as its
user runs it, ``python examples/django_portal/portal.py``, in a process of its own: Django
is configured once per process, and this one's belongs to tests/web/django; and the
example's views, settings and migrations are then exactly what a user starts. Its port is
0 there too (the server prints the one it got). The test seeds the same SQLite file
through ticketkit's own ``SqlStorage``, never through Django's ORM, so Playwright's asyncio
loop in this thread meets no Django code at all (no ``DJANGO_ALLOW_ASYNC_UNSAFE``)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from ticketkit import DeliveryMode, HelpDesk, InvitationMessage, ManualClock, hookimpl
from ticketkit.adapters.sqlalchemy import SqlStorage, create_sqlite_engine
from ticketkit.demo_world import PortalWorld, portal_world
from ticketkit.hooks import Plugins

ROOT = Path(__file__).resolve().parents[2]
DJANGO_PORTAL = ROOT / "examples" / "django_portal" / "portal.py"
STARTUP_SECONDS = 60

#: The GlobalTech logo the branding names (an https URL on a host this machine cannot
#: reach): browser tests answer it from here.
LOGO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="32">'
    '<rect width="96" height="32" rx="6" fill="#ffffff"/>'
    '<text x="10" y="22" font-size="16" fill="#0b3d91">GlobalTech</text></svg>'
)


class RecordedInvitations:
    """A ``ticketkit_invite`` plugin that keeps each message (its token builds the link)."""

    def __init__(self) -> None:
        self.sent: list[InvitationMessage] = []

    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        self.sent.append(message)


@attrs.frozen(kw_only=True)
class Portal:
    """One example app, served: where, its desk and world, and the links it sent."""

    name: str
    base_url: str
    desk: HelpDesk
    clock: ManualClock
    world: PortalWorld
    invitations: RecordedInvitations

    def link(self, token: str) -> str:
        return f"{self.base_url}/signin?token={token}"

    def invite_sandra(
        self, expires_in: timedelta | None = None, *, issued_at: datetime | None = None
    ) -> str:
        """A fresh magic link for Sandra (closing her earlier ones), issued now or, by a
        desk whose clock says so, at ``issued_at``."""
        seed, desk = self.world.seed, self.desk
        if issued_at is not None:
            desk = HelpDesk(desk.storage, clock=ManualClock(issued_at), plugins=desk.plugins)
        desk.invite_guest(seed.admin.actor, seed.sandra.id, expires_in=expires_in)
        return self.link(self.invitations.sent[-1].token)


@contextmanager
def flask_portal(tmp: Path) -> Iterator[Portal]:
    from examples.flask_portal.app import create_app, ticketkit
    from tests.browser.server import serving

    recorded = RecordedInvitations()
    clock = ManualClock(datetime.now(UTC))
    app = create_app(
        tmp / "portal.sqlite", plugins=[recorded], TICKETKIT_DESK_OPTIONS={"clock": clock}
    )
    state = ticketkit.state(app)
    try:
        with serving(app) as url:
            yield Portal(
                name="flask",
                base_url=url,
                clock=clock,
                desk=state.desk,
                world=app.config["WORLD"],
                invitations=recorded,
            )
    finally:
        state.close()


def _django_env(database: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PORTAL_DATABASE": str(database),
        "PORT": "0",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }


@contextmanager
def django_server(tmp: Path) -> Iterator[tuple[Path, str]]:
    """The Django example, started as its user starts it, on a database its own
    ``migrate`` made (which runs ticketkit's migration); yields the database and the URL.

    One server serves a module's tests, each in a tenant of its own: the example reads
    its state file (the tenant, and the agents' people) on every request, and
    ``django_portal`` writes a new one for each test.
    """
    database = tmp / "portal.sqlite"
    env = _django_env(database)
    subprocess.run(
        [sys.executable, str(DJANGO_PORTAL), "migrate", "--verbosity", "0"],
        env=env,
        check=True,
        timeout=STARTUP_SECONDS,
    )
    staff = {"tom@leadtime.example": "", "max@leadtime.example": ""}  # its users, made at start
    _state(database).write_text(json.dumps({"tenant": "", "staff": staff}))
    server = subprocess.Popen(
        [sys.executable, str(DJANGO_PORTAL)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield database, _served_at(server)
    finally:
        server.terminate()
        server.wait(timeout=10)


@contextmanager
def django_portal(database: Path, base_url: str) -> Iterator[Portal]:
    """A new tenant with the seed-000 world on the Django example's database, made the one
    the example serves."""
    recorded = RecordedInvitations()
    clock = ManualClock(datetime.now(UTC))
    engine = create_sqlite_engine(database)
    desk = HelpDesk(
        SqlStorage(engine), clock=clock, plugins=_plugins(recorded), delivery=DeliveryMode.INLINE
    )
    world = portal_world(desk, now=clock.now())
    staff = {p.email: str(p.id) for p in (world.seed.tom, world.seed.max)}
    _state(database).write_text(json.dumps({"tenant": str(world.tenant_id), "staff": staff}))
    desk.invite_guest(world.seed.admin.actor, world.seed.sandra.id)
    try:
        yield Portal(
            name="django",
            base_url=base_url,
            desk=desk,
            clock=clock,
            world=world,
            invitations=recorded,
        )
    finally:
        desk.close()
        engine.dispose()


def _state(database: Path) -> Path:
    """The example's state file beside its database."""
    return database.with_suffix(".json")


def _served_at(server: subprocess.Popen[str]) -> str:
    """The base URL the example prints once it serves; its output so far if it never does."""
    assert server.stdout is not None
    seen = []
    for line in server.stdout:
        seen.append(line)
        found = re.search(r"Serving on (http://127\.0\.0\.1:\d+)", line)
        if found:
            return found.group(1)
    raise RuntimeError("the Django portal did not start:\n" + "".join(seen))


def _plugins(*plugins: object) -> Plugins:
    return Plugins.create(list(plugins))
