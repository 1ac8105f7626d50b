"""The world the example portals start from (``ticketkit.demo_world.portal_world``): built
through the public API on every backend, with what each screen needs to show."""

from __future__ import annotations

from datetime import UTC, datetime

from ticketkit import HelpDesk, ManualClock
from ticketkit.demo_world import portal_world
from ticketkit.ports import Storage


def test_the_portal_world_gives_each_customer_its_own_tickets_branding_and_grants(
    storage: Storage,
) -> None:
    now = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)
    desk = HelpDesk(storage, clock=ManualClock(now))
    w = portal_world(desk, now=now)
    sandra, nina, tom = w.seed.sandra.actor, w.nina.actor, w.seed.tom.actor
    assert [t.title for t in desk.list_tickets(sandra).items] == list(w.globaltech_titles)
    assert sorted(t.title for t in desk.list_tickets(nina).items) == sorted(w.northwind_titles)
    assert len(desk.list_tickets(tom).items) == 3
    assert desk.effective_setting(sandra, "branding.display_name") == "GlobalTech Service Desk"
    assert desk.effective_setting(nina, "branding.display_name") == "Northwind Help Center"
    assert desk.effective_setting(nina, "branding.logo_url") is None
    [grant] = desk.list_grants(tom).granted
    assert (grant.organisation_id, grant.state.value) == (w.seed.globaltech.id, "active")
    names = {t.name for t in desk.list_ticket_types(sandra)}
    assert {"Server Crash", "Anfrage"} <= names
    desk.close()
