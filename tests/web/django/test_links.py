"""Magic links and grant-offer links under Django: their tokens go to the plugins only once
the request's transaction has committed (``ATOMIC_REQUESTS``), never when it rolls back,
so nobody is mailed a link to an invitation or offer that does not exist. Outside a
transaction they go at once, and the answer says who took them."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest

from tests.web.django.helpers import committed_rows, signed_in
from tests.web.django.host.plugins import RECORDER
from tests.web.django.host.settings import TICKETKIT
from tests.web.django.host.world import World, build_world
from ticketkit.domain import Grant, GrantState
from ticketkit.web.django import get_desk


@pytest.fixture
def world(committing_alias: str) -> World:
    return build_world(get_desk())


def invite_sandra(client: Any, world: World, **extra: str) -> Any:
    return signed_in(client, world.admin).post(f"/invite/{world.sandra.person_id}/", extra)


def offer_to_sandra(world: World) -> Grant:
    """Acme's project offered to Sandra of GlobalTech, by the admin."""
    return world.desk.offer_grant(
        world.admin, world.acme_project_id, grantee_person_id=world.sandra.person_id, scope=["read"]
    )


def signs_in(world: World, token: str) -> bool:
    """Whether ``token`` redeems as Sandra's magic link."""
    return world.desk.redeem_invitation(world.tenant_id, token) == world.sandra


REFUSING = "tests.web.django.host.plugins.Refusing"
DEFERRED = {"deferred": True, "delivered_to": [], "failures": 0, "handed_before_commit": 0}


# -- magic links ------------------------------------------------------------------------------


def test_a_request_that_invites_and_fails_mails_no_link_and_leaves_no_invitation(
    committing_alias: str, world: World, client: Any
) -> None:
    with pytest.raises(RuntimeError, match="failed after writing"):
        invite_sandra(client, world, fail="1")
    assert RECORDER.invitations == []
    assert committed_rows(committing_alias, "ticketkit_invitations") == 0


def test_a_failed_requests_invitation_leaves_the_earlier_link_working(
    committing_alias: str, world: World, client: Any
) -> None:
    world.desk.invite_guest(world.admin, world.sandra.person_id)  # outside a transaction
    [earlier] = RECORDER.invitations
    with pytest.raises(RuntimeError):
        invite_sandra(client, world, fail="1")
    assert RECORDER.invitations == [earlier]
    assert committed_rows(committing_alias, "ticketkit_invitations") == 1
    assert signs_in(world, earlier.token), "superseding it was rolled back too"


def test_a_request_that_invites_and_commits_hands_the_link_over_after_its_commit(
    committing_alias: str, world: World, client: Any
) -> None:
    answer = invite_sandra(client, world)
    assert answer.json() == DEFERRED
    [message] = RECORDER.invitations
    assert message.person_id == world.sandra.person_id
    assert committed_rows(committing_alias, "ticketkit_invitations") == 1
    assert signs_in(world, message.token)


def test_outside_a_transaction_the_link_goes_at_once_and_the_answer_names_who_took_it(
    world: World,
) -> None:
    sent = world.desk.invite_guest(world.admin, world.sandra.person_id)
    assert not sent.deferred
    assert sent.delivered_to == (world.desk.plugins.manager.get_name(RECORDER),)
    assert signs_in(world, RECORDER.invitations[-1].token)


def test_a_link_no_plugin_took_at_the_commit_is_logged(
    committing_alias: str, settings: Any, client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    settings.TICKETKIT = {**TICKETKIT, "DATABASE": committing_alias, "PLUGINS": [REFUSING]}
    world = build_world(get_desk())
    with caplog.at_level(logging.WARNING, logger="ticketkit.plugins"):
        answer = invite_sandra(client, world)
    assert answer.json() == DEFERRED
    [failed, nobody] = caplog.records
    found = re.fullmatch(
        r"invitation (\S+): no plugin took its token at the commit \(1 failed\); send it again",
        nobody.getMessage(),
    )
    assert found is not None and nobody.levelno == logging.WARNING
    assert failed.getMessage() == f"plugin {REFUSING} failed on {found[1]}"
    assert failed.exc_info is not None and failed.exc_info[0] is ConnectionError


# -- grant-offer links ------------------------------------------------------------------------


def send_offer(client: Any, world: World, grant: Grant, **extra: str) -> Any:
    return signed_in(client, world.admin).post(f"/offers/{grant.id}/send/", extra)


def test_a_request_that_sends_an_offer_and_fails_mails_no_link_and_keeps_the_earlier(
    world: World, client: Any
) -> None:
    grant = offer_to_sandra(world)
    world.desk.send_grant_offer(world.admin, grant.id)  # outside a transaction
    [earlier] = RECORDER.offers
    with pytest.raises(RuntimeError, match="failed after writing"):
        send_offer(client, world, grant, fail="1")
    assert RECORDER.offers == [earlier]
    # The new token's hash was rolled back: the earlier link still works.
    assert world.desk.accept_grant_by_token(world.sandra, earlier.token).state is GrantState.ACTIVE


def test_a_request_that_sends_an_offer_and_commits_hands_the_link_over_after_its_commit(
    world: World, client: Any
) -> None:
    grant = offer_to_sandra(world)
    answer = send_offer(client, world, grant)
    assert answer.json() == DEFERRED
    [message] = RECORDER.offers
    assert [r.person_id for r in message.recipients] == [world.sandra.person_id]
    accepted = world.desk.accept_grant_by_token(world.sandra, message.token)
    assert accepted.state is GrantState.ACTIVE
    assert world.desk.get_ticket(world.sandra, world.acme_ticket_id).title == "Acme's own trouble"
