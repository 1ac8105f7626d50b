"""The seed-001 part of the demo: a customer gives a technical supporter of another firm
access to one project until a date, and the access ends on that instant.

Played after seed 000 in the same tenant by ``python -m ticketkit.demo``, through the public
API only: GlobalTech's customer admin offers her web shop project to Paul of Webagentur Nord
for a week, he accepts and reads the project's ticket; the clock passes the expiry and he
sees nothing of it any more.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from ticketkit.application import HelpDesk
from ticketkit.clock import ManualClock
from ticketkit.domain import OrganisationKind, Person, Role
from ticketkit.errors import NotFound

SHOP_TICKET = "PHP-Version des Webshops auf 8.3 umstellen"
#: How long the grant runs, from the moment it is offered.
GRANT_DAYS = 7


@attrs.frozen(kw_only=True)
class GrantStory:
    """What the seed-001 part did, and what the supporter saw before and after expiry."""

    customer_admin: Person
    supporter: Person
    expires_at: datetime
    #: Ticket titles of the supporter's list, and the title read by id, while the grant ran.
    listed_before: tuple[str, ...]
    read_before: str
    #: The same after the expiry: his list, and whether reading the ticket said NotFound.
    listed_after: tuple[str, ...]
    not_found_after: bool
    lines: tuple[str, ...]


def play_seed_001(
    desk: HelpDesk, clock: ManualClock, admin: Person, customer: Person
) -> GrantStory:
    """Play the grant story in ``admin``'s tenant, for ``customer``'s organisation."""
    lines: list[str] = []
    say = lines.append
    boss = admin.actor
    klara = desk.add_person(
        boss,
        organisation_id=customer.organisation_id,
        name="Klara Hoffmann",
        email="klara.hoffmann@globaltech.example",
        role=Role.CUSTOMER_ADMIN,
    )
    agency = desk.create_organisation(boss, name="Webagentur Nord", kind=OrganisationKind.CUSTOMER)
    paul = desk.add_person(
        boss,
        organisation_id=agency.id,
        name="Paul Becker",
        email="paul@webagentur-nord.example",
        role=Role.CUSTOMER_ADMIN,
    )
    shop = desk.create_project(boss, organisation_id=customer.organisation_id, name="Webshop")
    request = desk.create_ticket_type(boss, name="Anfrage")
    ticket = desk.create_ticket(
        klara.actor, project_id=shop.id, type_id=request.id, title=SHOP_TICKET
    )

    expires_at = clock.now() + timedelta(days=GRANT_DAYS)
    grant = desk.offer_grant(
        klara.actor,
        shop.id,
        grantee_person_id=paul.id,
        scope=["read", "comment"],
        expires_at=expires_at,
    )
    say(
        f"{klara.name} (GlobalTech) offers project #{shop.number} “{shop.name}” to "
        f"{paul.name} ({agency.name}) until {expires_at:%Y-%m-%d %H:%M} UTC."
    )
    desk.accept_grant(paul.actor, grant.id)
    say(f"{paul.name} accepts.")

    clock.advance(timedelta(days=1))
    before = tuple(t.title for t in desk.list_tickets(paul.actor).items)
    read_before = desk.get_ticket(paul.actor, ticket.id).title
    say(f"A day later {paul.name} lists {len(before)} ticket(s): {', '.join(before)}")
    say(f"  and reads #{ticket.number} “{read_before}”.")

    clock.set(expires_at)  # access ends at the instant of expiry
    after = tuple(t.title for t in desk.list_tickets(paul.actor).items)
    try:
        desk.get_ticket(paul.actor, ticket.id)
        not_found = False
    except NotFound:
        not_found = True
    say(f"At {expires_at:%Y-%m-%d %H:%M} UTC the grant expires.")
    outcome = "NotFound" if not_found else "the ticket (it should not!)"
    say(
        f"  {paul.name} now lists {len(after)} ticket(s); reading #{ticket.number} gives {outcome}."
    )
    return GrantStory(
        customer_admin=klara,
        supporter=paul,
        expires_at=expires_at,
        listed_before=before,
        read_before=read_before,
        listed_after=after,
        not_found_after=not_found,
        lines=tuple(lines),
    )
