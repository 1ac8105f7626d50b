"""The two example portals (examples/flask_portal, examples/django_portal) served for a
browser test, with the seed-000 world loaded and a plugin that records the magic links
instead of printing them. Tests seed and assert through ticketkit's API (``desk``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from ticketkit import HelpDesk, InvitationMessage, ManualClock, hookimpl
from ticketkit.demo_world import PortalWorld

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

    def invite_sandra(self, expires_in: timedelta | None = None) -> str:
        """A fresh magic link for Sandra (closing her earlier ones)."""
        seed = self.world.seed
        self.desk.invite_guest(seed.admin.actor, seed.sandra.id, expires_in=expires_in)
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
