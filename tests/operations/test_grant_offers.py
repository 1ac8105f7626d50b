"""An offered grant is accepted by the token of its link, on every backend (issue 18, point
3: "the grantee accepts by token or in the app"): the owner sends the offer, the plugins get
the token once, only its hash is stored; the grantee (signed in) accepts with it; a
tampered, superseded, used, revoked, expired or another tenant's token is refused with a
clear error naming ``token``, and writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from tests.support.mailer import Mailer
from tests.support.world import World, build_world
from ticketkit import HelpDesk, ManualClock, NotFound, PermissionDenied, ValidationError
from ticketkit.adapters.sqlalchemy import SqlStorage
from ticketkit.domain import Grant, GrantState
from ticketkit.hooks import Plugins
from ticketkit.ports import Storage


@pytest.fixture
def mailer() -> Mailer:
    return Mailer()


@pytest.fixture
def w(storage: Storage, clock: ManualClock, mailer: Mailer) -> World:
    return build_world(HelpDesk(storage, clock=clock, plugins=Plugins.create([mailer])), clock)


def offer_to_gina(w: World, *, days: int | None = None) -> Grant:
    """Globex's project offered to Gina (Acme's guest), by the admin."""
    expires = w.clock.now() + timedelta(days=days) if days else None
    return w.desk.offer_grant(
        w.admin.actor,
        w.globex_project.id,
        grantee_person_id=w.acme_guest.id,
        scope=["read", "comment"],
        expires_at=expires,
    )


def refused(w: World, token: str, field: str = "token") -> None:
    with pytest.raises(ValidationError) as raised:
        w.desk.accept_grant_by_token(w.acme_guest.actor, token)
    assert [e.field for e in raised.value.errors] == [field]


def test_the_grantee_accepts_an_offer_by_the_token_of_its_link(w: World, mailer: Mailer) -> None:
    offer = offer_to_gina(w)
    sent = w.desk.send_grant_offer(w.admin.actor, offer.id)
    assert sent.recipients == (w.acme_guest.id,) and sent.delivered_to and not sent.deferred
    message = mailer.offers[-1]
    assert message.project_name == "Globex Support" and message.organisation_name == "Globex"
    assert [r.email for r in message.recipients] == [w.acme_guest.email]
    assert message.token not in repr(message)
    accepted = w.desk.accept_grant_by_token(w.acme_guest.actor, message.token)
    assert accepted.state is GrantState.ACTIVE and accepted.decided_by == w.acme_guest.id
    assert {t.project_id for t in w.desk.list_tickets(w.acme_guest.actor).items} <= {
        w.acme_project.id,
        w.globex_project.id,
    }
    assert w.globex_project.id in {p.id for p in w.desk.list_projects(w.acme_guest.actor)}
    # Used: the same token again is refused (the offer is no longer open).
    refused(w, message.token)


def test_an_offer_to_an_organisation_goes_to_its_customer_admins(w: World, mailer: Mailer) -> None:
    offer = w.desk.offer_grant(
        w.admin.actor, w.globex_project.id, grantee_organisation_id=w.acme.id, scope=["read"]
    )
    w.desk.send_grant_offer(w.admin.actor, offer.id)
    token = mailer.offers[-1].token
    assert [r.person_id for r in mailer.offers[-1].recipients] == [w.acme_admin.id]
    # Acme's guest may not answer for Acme; its customer admin may.
    with pytest.raises(PermissionDenied):
        w.desk.accept_grant_by_token(w.acme_guest.actor, token)
    w.desk.accept_grant_by_token(w.acme_admin.actor, token)


def test_tampered_superseded_revoked_expired_and_foreign_tokens_are_refused(
    w: World, mailer: Mailer, storage: Storage, clock: ManualClock
) -> None:
    desk = w.desk
    offer = offer_to_gina(w, days=3)
    desk.send_grant_offer(w.admin.actor, offer.id)
    first = mailer.offers[-1].token
    desk.send_grant_offer(w.admin.actor, offer.id)
    second = mailer.offers[-1].token
    refused(w, first)  # superseded by the second sending
    ident, _, secret = second.partition(".")
    refused(w, f"{ident}.{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}")  # tampered
    refused(w, "not a token")
    refused(w, f"{offer.id.hex}.")
    # Another tenant's offer, with a token valid there.
    other = build_world(
        HelpDesk(storage, clock=clock, plugins=Plugins.create([mailer])), clock, name="Other"
    )
    theirs = other.desk.offer_grant(
        other.admin.actor,
        other.globex_project.id,
        grantee_person_id=other.acme_guest.id,
        scope=["read"],
    )
    other.desk.send_grant_offer(other.admin.actor, theirs.id)
    refused(w, mailer.offers[-1].token)
    # Someone else than the grantee, holding the right token.
    with pytest.raises(PermissionDenied):
        desk.accept_grant_by_token(w.acme_admin.actor, second)
    # Revoked: refused. Offered anew and expired at its expiry instant: refused too.
    desk.revoke_grant(w.admin.actor, offer.id)
    refused(w, second)
    again = offer_to_gina(w, days=1)
    desk.send_grant_offer(w.admin.actor, again.id)
    clock.advance(timedelta(days=1))
    refused(w, mailer.offers[-1].token)
    assert desk.list_grants(w.acme_guest.actor).supported == ()


def test_only_the_owners_side_sends_an_offer_and_only_an_open_one(w: World) -> None:
    offer = offer_to_gina(w)
    with pytest.raises(PermissionDenied):
        w.desk.send_grant_offer(w.acme_guest.actor, offer.id)
    with pytest.raises(PermissionDenied):  # of the owner, but no customer admin
        w.desk.send_grant_offer(w.globex_guest.actor, offer.id)
    with pytest.raises(NotFound):  # light agents see no grants
        w.desk.send_grant_offer(w.light_agent.actor, offer.id)
    w.desk.accept_grant(w.acme_guest.actor, offer.id)
    with pytest.raises(ValidationError) as raised:
        w.desk.send_grant_offer(w.admin.actor, offer.id)
    assert raised.value.errors[0].field == "grant_id"


def test_the_grants_table_holds_no_token_in_clear_text(
    w: World, mailer: Mailer, storage: Storage
) -> None:
    if not isinstance(storage, SqlStorage):
        pytest.skip("the raw table exists only on SQL backends")
    offer = offer_to_gina(w)
    w.desk.send_grant_offer(w.admin.actor, offer.id)
    token = mailer.offers[-1].token
    secret = token.partition(".")[2]
    with storage.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM ticketkit_grants")).all()
    text = " ".join(str(v) for row in rows for v in row)
    assert secret not in text and token not in text
    assert any(row.offer_token_hash for row in rows)
