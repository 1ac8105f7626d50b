"""Requests through the middleware: errors as HTTP answers, the principal resolved on
every request (signed in by magic link or mapped from a Django user), and notifications
sent only once the request's transaction has committed."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.backends.db import SessionStore

from tests.web.django.helpers import committed_rows, signed_in
from tests.web.django.host.models import Staff
from tests.web.django.host.plugins import RECORDER
from tests.web.django.host.settings import TICKETKIT
from tests.web.django.host.world import World, build_world
from ticketkit.web.django import get_desk
from ticketkit.web.principals import SESSION_KEY

FIELDS = {"sla_level": "Gold", "affected_systems": ["Database"]}


@pytest.fixture
def world(alias: str) -> World:
    return build_world(get_desk())


def sandras_ticket(world: World, title: str = "Server down") -> Any:
    return world.desk.create_ticket(
        world.sandra, project_id=world.project_id, type_id=world.type_id, title=title, fields=FIELDS
    )


# -- errors -----------------------------------------------------------------------------------


def test_a_hidden_ticket_and_a_missing_one_answer_the_same_404(world: World, client: Any) -> None:
    signed_in(client, world.sandra)
    hidden = client.get(f"/tickets/{world.acme_ticket_id}/")
    missing = client.get(f"/tickets/{uuid.uuid4()}/")
    by_number = client.get(f"/projects/{world.acme_project_id}/1/")
    no_number = client.get(f"/projects/{world.project_id}/99/")
    assert hidden.status_code == missing.status_code == by_number.status_code == 404
    assert hidden.content == missing.content == by_number.content == no_number.content
    assert b"<h1>Not found</h1>" in hidden.content
    assert str(world.acme_ticket_id).encode() not in hidden.content
    sandras = sandras_ticket(world)
    assert client.get(f"/tickets/{sandras.id}/").json()["title"] == "Server down"


def test_a_forbidden_change_is_403_and_a_stale_one_409(world: World, client: Any) -> None:
    ticket = sandras_ticket(world)
    forbidden = signed_in(client, world.sandra).post(
        f"/tickets/{ticket.id}/change/",
        {"assignee_id": str(world.max.person_id), "version": ticket.version},
    )
    assert forbidden.status_code == 403
    world.desk.change_status(world.admin, ticket.id, "open")
    stale = signed_in(client, world.max).post(
        f"/tickets/{ticket.id}/change/", {"status": "solved", "version": ticket.version}
    )
    assert stale.status_code == 409
    assert world.desk.get_ticket(world.admin, ticket.id).status == "open"


def test_an_invalid_form_is_rendered_again_with_422_and_its_errors(
    world: World, client: Any
) -> None:
    signed_in(client, world.sandra)
    url = f"/projects/{world.project_id}/new/{world.type_id}/"
    answer = client.post(url, {"title": "Down again", "field_sla_level": "Platinum"})
    assert answer.status_code == 422
    page = answer.content.decode()
    assert 'value="Down again"' in page
    assert 'data-field="fields.sla_level"' in page
    assert not world.desk.list_tickets(world.sandra).items
    made = client.post(url, {"title": "Down again", "field_sla_level": "Gold"})
    assert made.status_code == 302


def test_a_validation_error_no_view_handles_is_422_from_the_middleware(
    world: World, client: Any
) -> None:
    answer = signed_in(client, world.sandra).post(
        "/write-both/",
        {"title": "", "project_id": world.project_id, "type_id": world.type_id},
    )
    assert answer.status_code == 422
    assert b"Please correct the marked fields" in answer.content


def test_a_client_asking_for_json_gets_a_problem_document(world: World, client: Any) -> None:
    signed_in(client, world.sandra)
    hidden = client.get(f"/tickets/{world.acme_ticket_id}/", HTTP_ACCEPT="application/json")
    assert hidden.status_code == 404
    assert hidden["Content-Type"] == "application/problem+json"
    assert json.loads(hidden.content) == {"status": 404, "title": "Not found", "fields": {}}
    invalid = client.post(
        "/write-both/",
        {"title": "", "project_id": world.project_id, "type_id": world.type_id},
        HTTP_ACCEPT="application/json",
    )
    assert invalid.status_code == 422
    assert set(invalid.json()["fields"]) == {"title", "fields.sla_level"}


# -- principals -------------------------------------------------------------------------------


@pytest.fixture
def invite(alias: str, django_capture_on_commit_callbacks: Any) -> Callable[[World], str]:
    """Invite Sandra and return her link's token. Inside the test case's transaction the
    token waits for a commit that never comes: it is handed over as a commit would."""

    def invite_sandra(world: World) -> str:
        with django_capture_on_commit_callbacks(using=alias, execute=True):
            assert world.desk.invite_guest(world.admin, world.sandra.person_id).deferred
        return RECORDER.invitations[-1].token

    return invite_sandra


def test_a_magic_link_signs_the_guest_in_on_a_new_session(
    world: World, client: Any, invite: Callable[[World], str]
) -> None:
    token = invite(world)
    client.session.save()  # the session she arrives with
    before = client.cookies["sessionid"].value
    answer = client.post("/sign-in/", {"tenant": str(world.tenant_id), "token": token})
    assert answer.status_code == 302
    after = client.cookies["sessionid"].value
    assert after != before
    assert not SessionStore().exists(before)
    assert client.get("/me/").content == b"Sandra Winkler"


def test_a_used_or_forged_link_signs_nobody_in(
    world: World, client: Any, invite: Callable[[World], str]
) -> None:
    token = invite(world)
    tenant = str(world.tenant_id)
    assert client.post("/sign-in/", {"tenant": tenant, "token": token}).status_code == 302
    client.logout()
    used = client.post("/sign-in/", {"tenant": tenant, "token": token})
    forged = client.post("/sign-in/", {"tenant": tenant, "token": token[:-4] + "AAAA"})
    assert (used.status_code, forged.status_code) == (410, 400)
    assert b"already" in used.content
    assert client.get("/me/").status_code == 401


def test_revoked_access_ends_the_session_at_the_next_request(world: World, client: Any) -> None:
    signed_in(client, world.sandra)
    assert client.get("/me/").status_code == 200
    world.desk.deactivate_person(world.admin, world.sandra.person_id)
    assert client.get("/me/").status_code == 401
    assert SESSION_KEY not in client.session


def test_sign_out_ends_the_session(world: World, client: Any) -> None:
    signed_in(client, world.sandra)
    key = client.cookies["sessionid"].value
    assert client.post("/sign-out/").status_code == 204
    assert not SessionStore().exists(key)
    assert client.get("/me/").status_code == 401


def test_a_django_user_acts_as_the_person_the_one_mapping_names(world: World, client: Any) -> None:
    user = User.objects.create_user("max")
    client.force_login(user)
    assert client.get("/me/").status_code == 401  # not mapped yet
    Staff.objects.create(user=user, tenant_id=world.tenant_id, person_id=world.max.person_id)
    assert client.get("/me/").content == b"Max Keller"
    world.desk.deactivate_person(world.admin, world.max.person_id)
    assert client.get("/me/").status_code == 401


def test_without_a_mapping_a_django_user_is_nobody(
    world: World, client: Any, settings: Any
) -> None:
    settings.TICKETKIT = {**settings.TICKETKIT, "PERSON_FOR_USER": None}
    user = User.objects.create_user("max")
    Staff.objects.create(user=user, tenant_id=world.tenant_id, person_id=world.max.person_id)
    client.force_login(user)
    assert client.get("/me/").status_code == 401


# -- notifications wait for the commit --------------------------------------------------------


@pytest.fixture(params=["inline", "background"])
def delivery(request: pytest.FixtureRequest, committing_alias: str, settings: Any) -> str:
    settings.TICKETKIT = {**TICKETKIT, "DATABASE": committing_alias, "DELIVERY": request.param}
    return str(request.param)


def test_a_committed_request_notifies_after_its_commit(delivery: str, client: Any) -> None:
    world = build_world(get_desk())
    ticket = sandras_ticket(world)
    get_desk().flush()
    RECORDER.clear()
    answer = signed_in(client, world.max).post(f"/reply/{ticket.id}/", {"body": "Fixed."})
    assert answer.json() == {"delivered_before_commit": 0}
    get_desk().flush()
    [message] = RECORDER.notifications
    assert message.recipient.id == world.sandra.person_id
    assert message.comment is not None and message.comment.body == "Fixed."


def test_a_rolled_back_request_notifies_nobody(
    delivery: str, committing_alias: str, client: Any
) -> None:
    world = build_world(get_desk())
    ticket = sandras_ticket(world)
    get_desk().flush()
    RECORDER.clear()
    notifications = committed_rows(committing_alias, "ticketkit_notifications")
    with pytest.raises(RuntimeError):
        signed_in(client, world.max).post(f"/reply/{ticket.id}/", {"body": "Fixed.", "fail": "1"})
    get_desk().flush()
    assert RECORDER.notifications == []
    assert committed_rows(committing_alias, "ticketkit_notifications") == notifications


def test_without_a_template_engine_the_problem_page_is_built_in(
    world: World, client: Any, settings: Any
) -> None:
    settings.TEMPLATES = []
    answer = signed_in(client, world.sandra).get(f"/tickets/{world.acme_ticket_id}/")
    assert answer.status_code == 404
    assert b"<main><h1>Not found</h1></main>" in answer.content
