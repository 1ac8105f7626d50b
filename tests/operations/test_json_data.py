"""Serialised views (issue 17, point 5): JSON-ready data with each event's own content, and
never more than the person the view was made for may see."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.support.world import World, build_world
from ticketkit import (
    CommentDraft,
    DeliveryMode,
    HelpDesk,
    NotificationMessage,
    Plugins,
    TicketView,
    hookimpl,
    make_view_converter,
    to_json_data,
)
from ticketkit.clock import ManualClock
from ticketkit.domain import Comment, Visibility
from ticketkit.ports import Storage
from ticketkit.serialization import event_from_dict, make_converter


class Recorder:
    def __init__(self) -> None:
        self.messages: list[NotificationMessage] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        self.messages.append(message)


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def world(storage: Storage, clock: ManualClock, recorder: Recorder) -> World:
    desk = HelpDesk(
        storage, clock=clock, plugins=Plugins.create([recorder]), delivery=DeliveryMode.INLINE
    )
    return build_world(desk, clock)


SECRETS = ("SECRET-NOTE", "CC-SECRET", "cost_centre", "Cost centre")


def worked_ticket(w: World) -> TicketView:
    """A guest's ticket with every kind of event, internal work among them."""
    desk, alice = w.desk, w.agent.actor
    t = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Mail is down",
        fields={"sla_level": "Gold", "servers": "2.5", "since": "2026-05-01", "systems": ["db"]},
    )
    desk.update_ticket(alice, t.id, fields={"cost_centre": "CC-SECRET", "notes": "rack 4"})
    desk.assign(
        alice, t.id, w.agent2.id, comment=CommentDraft(body="SECRET-NOTE", visibility="internal")
    )
    desk.change_status(
        alice, t.id, "open", comment=CommentDraft(body="We are on it", visibility="public")
    )
    return t


def dumped(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def test_a_guest_s_serialised_reads_hold_nothing_internal(world: World, recorder: Recorder) -> None:
    t = worked_ticket(world)
    desk, me = world.desk, world.acme_guest.actor
    full = desk.timeline(world.agent.actor, t.id)
    hidden_ids = [
        str(x)
        for e in full
        if e.event.visibility is Visibility.INTERNAL
        for x in (e.event.id, e.comment.id if e.comment else e.event.id)
    ]
    assert len(hidden_ids) >= 4
    staff_secrets = [
        str(world.agent2.id),
        world.agent2.name,
        world.agent2.email,
        world.agent.email,
    ]
    to_guest = [m for m in recorder.messages if m.recipient.id == world.acme_guest.id]
    assert to_guest
    reads: list[Any] = [
        desk.get_ticket(me, t.id),
        desk.timeline(me, t.id),
        desk.list_tickets(me),
        desk.ticket_actions(me, t.id),
        desk.list_ticket_types(me),
        desk.list_projects(me),
        *to_guest,
    ]
    for read in reads:
        text = dumped(to_json_data(read))
        for secret in (*SECRETS, *hidden_ids, *staff_secrets):
            assert secret not in text, (type(read).__name__, secret)
    # The staff directory is hers to look up (that Bob works there is no secret of this
    # ticket's), but without the staff's e-mail addresses.
    directory = dumped(to_json_data(desk.list_people(me)))
    assert world.agent2.name in directory
    assert world.agent.email not in directory and world.agent2.email not in directory
    # What she may see is all there: her fields, the public reply, the staff's names.
    timeline = dumped(to_json_data(desk.timeline(me, t.id)))
    assert "We are on it" in timeline and world.agent.name in timeline
    assert '"servers": {"decimal": "2.5"}' in dumped(to_json_data(desk.get_ticket(me, t.id)))


def test_every_event_kind_keeps_its_own_content(world: World) -> None:
    t = worked_ticket(world)
    entries = world.desk.timeline(world.agent.actor, t.id)
    data = json.loads(json.dumps(to_json_data(entries)))
    conv = make_converter()
    kinds = set()
    for entry, item in zip(entries, data, strict=True):
        assert item["event"]["kind"] == entry.event.kind
        assert event_from_dict(conv, item["event"]) == entry.event
        if entry.comment is not None:
            assert conv.structure(item["comment"], Comment) == entry.comment
        assert item["description"]["text"] == entry.description.text
        kinds.add(entry.event.kind)
    assert kinds == {
        "ticket_created",
        "ticket_changed",
        "ticket_assigned",
        "comment_added",
        "status_changed",
    }


def test_values_are_json_ready(world: World) -> None:
    t = worked_ticket(world)
    view = world.desk.get_ticket(world.agent.actor, t.id)
    data = to_json_data(view)
    assert json.loads(json.dumps(data)) == data
    assert data["id"] == str(t.id)
    assert data["created_at"] == view.created_at.isoformat() and "+00:00" in data["created_at"]
    assert data["priority"] == "normal" and data["status_category"] == "open"
    assert data["fields"]["servers"] == {"decimal": "2.5"}
    assert data["fields"]["since"] == {"date": "2026-05-01"}
    assert data["fields"]["systems"] == ["db"]
    assert make_converter().structure(data, TicketView) == view
    assert view.fields["servers"] == Decimal("2.5") and view.fields["since"] == date(2026, 5, 1)


def test_pages_lists_and_notifications_are_serialised_whole(
    world: World, recorder: Recorder
) -> None:
    t = worked_ticket(world)
    page = world.desk.list_tickets(world.agent.actor, limit=1)
    data = to_json_data(page)
    assert [item["id"] for item in data["items"]] == [str(t.id)]
    assert data["next_cursor"] is None
    people = to_json_data(world.desk.list_people(world.agent.actor))
    assert isinstance(people, list) and {p["name"] for p in people} >= {"Alice", "Bob"}
    message = next(m for m in recorder.messages if m.event.kind == "comment_added")
    sent = to_json_data(message)
    assert sent["event"]["comment_id"] == str(message.event.comment_id)  # type: ignore[attr-defined]
    assert sent["comment"]["body"] == message.comment.body  # type: ignore[union-attr]
    assert sent["ticket"]["version"] == message.ticket.version
    assert sent["recipient"]["id"] == str(message.recipient.id)


def test_domain_objects_are_refused(world: World) -> None:
    """Only views are serialised: a domain object carries what the policy keeps back."""
    t = worked_ticket(world)
    event = world.desk.timeline(world.agent.actor, t.id)[0].event
    for thing in (world.agent2, world.incident, event, world.acme, {"id": t.id}):
        with pytest.raises(TypeError, match="views"):
            to_json_data(thing)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="views"):
        to_json_data([world.desk.get_ticket(world.agent.actor, t.id), world.agent2])  # type: ignore[list-item]


def test_a_host_extends_its_own_converter(world: World) -> None:
    t = worked_ticket(world)
    conv = make_view_converter()
    conv.register_unstructure_hook(type(t.id), lambda u: u.hex)
    data = to_json_data(world.desk.timeline(world.agent.actor, t.id), converter=conv)
    assert data[0]["event"]["ticket_id"] == t.id.hex
    assert to_json_data(world.desk.get_ticket(world.agent.actor, t.id))["id"] == str(t.id)


def test_settings_invitations_and_seats_serialise_without_tokens_or_unset_markers(
    storage: Storage, clock: ManualClock
) -> None:
    from datetime import timedelta

    from tests.support.mailer import Mailer

    mailer = Mailer()
    desk = HelpDesk(storage, clock=clock, plugins=Plugins.create([mailer]))
    w = build_world(desk, clock)
    desk.set_setting(
        w.admin.actor, "invitations.expiry", timedelta(hours=2), organisation_id=w.acme.id
    )
    pages = {v.name: v for v in desk.list_settings(w.admin.actor, organisation_id=w.acme.id)}
    expiry = to_json_data(pages["invitations.expiry"])
    assert expiry["override"] == 7200 and expiry["effective"] == 7200
    assert expiry["default"] == 7 * 86_400
    assert "tenant_value" not in expiry, "not stored: left out, since None is a value"
    logo = to_json_data(pages["branding.logo_url"])
    assert "override" not in logo and logo["effective"] is None
    sent = desk.invite_guest(w.admin.actor, w.acme_guest.id)
    token = mailer.sent[-1].token
    data = dumped(to_json_data(sent))
    assert token not in data and token.partition(".")[2] not in data
    assert '"person_name": "Gina"' in data and '"deferred": false' in data
    with pytest.raises(TypeError):
        to_json_data(mailer.sent[-1])  # type: ignore[arg-type]  # the token is a credential
    seats = to_json_data(desk.seat_report(w.admin.actor))
    assert seats["by_role"]["guest"] >= 1 and json.loads(json.dumps(seats)) == seats
