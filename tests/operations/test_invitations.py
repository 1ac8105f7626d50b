"""Magic-link invitations (issue 18, point 1): a guest logs in with a single-use, expiring
token that only ever exists in the plugin's hands; every way a token can go wrong is
refused with its own clear reason, and nothing is written on a refusal."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from uuid import UUID

import attrs
import pytest
import sqlalchemy as sa

from tests.support.mailer import Mailer
from tests.support.world import World, build_world
from ticketkit import (
    HelpDesk,
    InvitationMessage,
    InvitationRefused,
    ManualClock,
    NotFound,
    PermissionDenied,
    ValidationError,
    hookimpl,
)
from ticketkit.adapters.memory import MemoryStorage
from ticketkit.adapters.sqlalchemy import SqlStorage, tables
from ticketkit.hooks import Plugins
from ticketkit.ports import Storage


def setup(storage: Storage, clock: ManualClock, *plugins: object) -> tuple[HelpDesk, World, Mailer]:
    mailer = Mailer()
    desk = HelpDesk(storage, clock=clock, plugins=Plugins.create([mailer, *plugins]))
    return desk, build_world(desk, clock), mailer


def refused(reason: str) -> pytest.RaisesContext[InvitationRefused]:
    return pytest.raises(InvitationRefused, match=InvitationRefused.MESSAGES[reason])


def invitation_rows(storage: Storage, w: World) -> list[dict[str, object]]:
    """The stored invitations of the world's tenant, as the database (or memory) holds them."""
    tenant = w.provider.tenant_id
    if isinstance(storage, SqlStorage):
        t = tables.invitations
        with storage.engine.connect() as conn:
            rows = conn.execute(sa.select(t).where(t.c.tenant_id == tenant)).mappings().all()
            return [dict(r) for r in rows]
    assert isinstance(storage, MemoryStorage)
    return [attrs.asdict(i) for i in storage._tenant(tenant).invitations.values()]


def test_a_guest_logs_in_with_the_link_she_was_sent(storage: Storage, clock: ManualClock) -> None:
    desk, w, mailer = setup(storage, clock)
    sent = desk.invite_guest(w.admin.actor, w.acme_guest.id)
    [message] = mailer.sent
    assert sent.delivered_to == (desk.plugins.manager.get_name(mailer),)
    assert sent.failures == () and not sent.deferred  # handed over before it returned
    assert (message.person_id, message.email, message.name) == (
        w.acme_guest.id,
        w.acme_guest.email,
        w.acme_guest.name,
    )
    assert message.expires_at == clock.now() + timedelta(days=7)
    assert message.token not in repr(sent) and message.token not in repr(message)
    seen = desk.inspect_invitation(w.provider.tenant_id, message.token)
    assert (seen.person_id, seen.person_name) == (w.acme_guest.id, "Gina")
    assert desk.inspect_invitation(w.provider.tenant_id, message.token) == seen, "GET twice"
    actor = desk.redeem_invitation(w.provider.tenant_id, message.token)
    assert actor == w.acme_guest.actor
    assert desk.list_tickets(actor).items == ()  # a principal the desk accepts


def test_the_tables_hold_only_a_hash_of_the_token(storage: Storage, clock: ManualClock) -> None:
    desk, w, mailer = setup(storage, clock)
    desk.invite_guest(w.admin.actor, w.acme_guest.id)
    desk.invite_guest(w.admin.actor, w.acme_guest.id)
    secrets = [m.token.partition(".")[2] for m in mailer.sent]
    rows = invitation_rows(storage, w)
    assert len(rows) == 2
    for row in rows:
        stored = " ".join(str(v) for v in row.values())
        for secret in secrets:
            assert secret not in stored
        assert len(str(row["token_hash"])) == 64


def test_each_unusable_token_is_refused_with_its_reason_and_writes_nothing(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w, mailer = setup(storage, clock)
    tenant = w.provider.tenant_id
    desk.invite_guest(w.admin.actor, w.acme_guest.id)
    first = mailer.token
    ident, _, secret = first.partition(".")
    tampered = f"{ident}.{secret[:-1]}{'A' if secret[-1] != 'A' else 'B'}"
    for bad in (tampered, "nonsense", "", f"{'0' * 32}.{secret}", first + "x", "x" * 5000):
        with refused("invalid"):
            desk.redeem_invitation(tenant, bad)
    other_desk_world = build_world(desk, clock, name="Other Hosting")
    with refused("invalid"):
        desk.redeem_invitation(other_desk_world.provider.tenant_id, first)
    rows = invitation_rows(storage, w)
    desk.invite_guest(w.admin.actor, w.acme_guest.id)  # supersedes the first
    with refused("superseded"):
        desk.inspect_invitation(tenant, first)
    with refused("superseded"):
        desk.redeem_invitation(tenant, first)
    second = mailer.token
    desk.redeem_invitation(tenant, second)
    with refused("used"):
        desk.redeem_invitation(tenant, second)
    desk.invite_guest(w.admin.actor, w.acme_guest.id, expires_in=timedelta(hours=1))
    third = mailer.token
    clock.advance(timedelta(hours=1))  # the exact instant of expiry: no longer valid
    with refused("expired"):
        desk.inspect_invitation(tenant, third)
    desk.invite_guest(w.admin.actor, w.acme_guest.id)
    fourth = mailer.token
    before = invitation_rows(storage, w)
    desk.deactivate_person(w.admin.actor, w.acme_guest.id)
    with refused("withdrawn"):
        desk.redeem_invitation(tenant, fourth)
    after = invitation_rows(storage, w)
    assert len(after) == len(before) == len(rows) + 3
    assert [r["closed"] for r in after if r["id"] == UUID(fourth.partition(".")[0])] == [
        "withdrawn"
    ]


def test_a_deactivated_guest_cannot_act_even_with_the_actor_she_holds(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w, mailer = setup(storage, clock)
    desk.invite_guest(w.admin.actor, w.acme_guest.id)
    actor = desk.redeem_invitation(w.provider.tenant_id, mailer.token)
    desk.deactivate_person(w.admin.actor, w.acme_guest.id)
    with pytest.raises(NotFound):
        desk.list_tickets(actor)
    with pytest.raises(ValidationError) as withdrawn:
        desk.invite_guest(w.admin.actor, w.acme_guest.id)
    assert set(withdrawn.value.fields) == {"person_id"}


def test_only_admins_invite_and_only_contacts_are_invited(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w, mailer = setup(storage, clock)
    with pytest.raises(PermissionDenied):
        desk.invite_guest(w.agent.actor, w.acme_guest.id)
    with pytest.raises(PermissionDenied):
        desk.invite_guest(w.acme_guest.actor, w.acme_guest.id)
    for staff in (w.agent, w.admin):
        with pytest.raises(ValidationError) as not_guest:
            desk.invite_guest(w.admin.actor, staff.id)
        assert set(not_guest.value.fields) == {"person_id"}
    for expires_in in (timedelta(seconds=59), timedelta(days=91), timedelta(0), 3600):
        with pytest.raises(ValidationError) as bad:
            desk.invite_guest(w.admin.actor, w.acme_guest.id, expires_in=expires_in)  # type: ignore[arg-type]
        assert set(bad.value.fields) == {"expires_in"}
    for token in (None, b"abc", 5):
        with pytest.raises(ValidationError) as wrong:
            desk.redeem_invitation(w.provider.tenant_id, token)  # type: ignore[arg-type]
        assert set(wrong.value.fields) == {"token"}
    with pytest.raises(ValidationError) as wrong_tenant:
        desk.inspect_invitation("tenant", "x.y")  # type: ignore[arg-type]
    assert set(wrong_tenant.value.fields) == {"tenant_id"}
    assert mailer.sent == [] and invitation_rows(storage, w) == []


class Failing:
    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        raise ConnectionError("SMTP down")


class Hanging:
    @hookimpl
    def ticketkit_invite(self, message: InvitationMessage) -> None:
        time.sleep(3)


def test_an_invitation_no_plugin_took_says_so(storage: Storage, clock: ManualClock) -> None:
    desk = HelpDesk(
        storage, clock=clock, plugins=Plugins.create([Failing(), Hanging()]), delivery_timeout=0.5
    )
    w = build_world(desk, clock)
    start = time.monotonic()
    sent = desk.invite_guest(w.admin.actor, w.acme_guest.id)
    assert time.monotonic() - start < 2.5, "the hanging plugin was given up at the timeout"
    assert sent.delivered_to == ()
    assert sorted(f.error.split("(")[0] for f in sent.failures) == [
        "ConnectionError",
        "TimeoutError",
    ]
    desk.close()


REDEEMERS = 8


def test_of_eight_threads_redeeming_one_token_exactly_one_succeeds(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w, mailer = setup(storage, clock)
    desk.invite_guest(w.admin.actor, w.acme_guest.id)
    token = mailer.token
    start = threading.Barrier(REDEEMERS)
    won: list[object] = []
    lost: list[str] = []
    other: list[BaseException] = []

    def redeem() -> None:
        start.wait()
        try:
            won.append(desk.redeem_invitation(w.provider.tenant_id, token))
        except InvitationRefused as exc:
            lost.append(exc.reason)
        except BaseException as exc:
            other.append(exc)

    threads = [threading.Thread(target=redeem) for _ in range(REDEEMERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert other == []
    assert won == [w.acme_guest.actor]
    assert lost == ["used"] * (REDEEMERS - 1)


def test_the_expiry_follows_the_setting_that_counts_for_the_guests_organisation(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w, mailer = setup(storage, clock)
    desk.set_setting(w.admin.actor, "invitations.expiry", timedelta(days=2))
    desk.set_setting(
        w.admin.actor, "invitations.expiry", timedelta(hours=1), organisation_id=w.acme.id
    )
    desk.invite_guest(w.admin.actor, w.acme_guest.id)
    desk.invite_guest(w.admin.actor, w.globex_guest.id)
    assert [m.expires_at - clock.now() for m in mailer.sent] == [
        timedelta(hours=1),
        timedelta(days=2),
    ]
    desk.invite_guest(w.admin.actor, w.acme_guest.id, expires_in=timedelta(minutes=5))
    assert mailer.sent[-1].expires_at == clock.now() + timedelta(minutes=5), "given beats set"


def test_an_organisation_page_lists_its_invitations_and_how_each_stands(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w, mailer = setup(storage, clock)
    admin = w.admin.actor
    first = desk.invite_guest(admin, w.acme_guest.id).invitation
    clock.advance(timedelta(minutes=1))
    second = desk.invite_guest(admin, w.acme_guest.id).invitation
    clock.advance(timedelta(minutes=1))
    short = desk.invite_guest(admin, w.acme_admin.id, expires_in=timedelta(minutes=5)).invitation
    clock.advance(timedelta(minutes=1))
    desk.invite_guest(admin, w.globex_guest.id)
    desk.redeem_invitation(w.provider.tenant_id, mailer.sent[1].token)
    clock.advance(timedelta(minutes=10))

    listed = desk.list_invitations(w.agent.actor, w.acme.id)
    assert [(i.id, i.person_name, i.state.value) for i in listed] == [
        (short.id, w.acme_admin.name, "expired"),
        (second.id, "Gina", "used"),
        (first.id, "Gina", "superseded"),
    ], "newest first, only Acme's people, each with its state at the desk's clock"
    assert listed[1].closed_at is not None and listed[0].closed_at is None
    assert desk.list_invitations(w.acme_admin.actor, w.acme.id) == listed
    desk.deactivate_person(admin, w.globex_guest.id)
    [withdrawn] = desk.list_invitations(admin, w.globex.id)
    assert withdrawn.state.value == "withdrawn"


def test_only_staff_and_the_organisations_managers_see_its_invitations(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w, _ = setup(storage, clock)
    desk.invite_guest(w.admin.actor, w.globex_guest.id)
    for outsider in (w.acme_guest, w.acme_admin, w.globex_guest):
        with pytest.raises(NotFound, match="not found"):
            desk.list_invitations(outsider.actor, w.globex.id)
    assert len(desk.list_invitations(w.light_agent.actor, w.globex.id)) == 1
    with pytest.raises(ValidationError, match="organisation_id"):
        desk.list_invitations(w.admin.actor, "not-an-id")  # type: ignore[arg-type]
