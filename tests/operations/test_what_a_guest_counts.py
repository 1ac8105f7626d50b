"""What a guest reads counts only what she may see: versions, timeline positions,
notification payloads, required fields (issue 17, point 1)."""

from __future__ import annotations

import pytest

from tests.operations.test_delivery import Recorder, agent_opens_ticket_for_guest, desk_with
from tests.support.world import World
from ticketkit import CommentDraft, Conflict, FieldKind, FieldSpec, ValidationError, Visibility
from ticketkit.application import HelpDesk, TicketView
from ticketkit.clock import ManualClock
from ticketkit.ports import Storage


def guest_ticket(desk: HelpDesk, w: World) -> TicketView:
    return desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )


def internal_work(desk: HelpDesk, w: World, ticket: TicketView) -> None:
    """An internal note with an assignment, and an internal field: nothing a guest sees."""
    desk.assign(
        w.agent.actor,
        ticket.id,
        w.agent.id,
        comment=CommentDraft(body="Disk again?", visibility=Visibility.INTERNAL),
    )
    desk.update_ticket(w.agent.actor, ticket.id, fields={"cost_centre": "CC-7"})


def test_a_guests_version_moves_only_on_what_she_may_see(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w = desk_with(storage, clock)
    t = guest_ticket(desk, w)
    assert t.version == 1
    internal_work(desk, w, t)
    assert desk.get_ticket(w.acme_guest.actor, t.id).version == 1
    assert desk.get_ticket(w.agent.actor, t.id).version == 4
    desk.add_comment(w.agent.actor, t.id, "On it.", visibility=Visibility.PUBLIC)
    assert desk.get_ticket(w.acme_guest.actor, t.id).version == 2
    assert [v.version for v in desk.list_tickets(w.acme_guest.actor).items] == [2]


def test_a_guests_expected_version_is_checked_against_what_she_may_see(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w = desk_with(storage, clock)
    t = guest_ticket(desk, w)
    internal_work(desk, w, t)
    # Internal work since she read the ticket is no conflict for her: she saw all there is.
    seen = desk.update_ticket(w.acme_guest.actor, t.id, title="Still down", expected_version=1)
    assert seen.version == 2
    desk.add_comment(w.agent.actor, t.id, "Looking.", visibility=Visibility.PUBLIC)
    with pytest.raises(Conflict):
        desk.add_comment(
            w.acme_guest.actor, t.id, "Any news?", visibility="public", expected_version=2
        )
    desk.add_comment(w.acme_guest.actor, t.id, "Any news?", visibility="public", expected_version=3)


def test_a_guests_timeline_is_numbered_without_gaps(storage: Storage, clock: ManualClock) -> None:
    desk, w = desk_with(storage, clock)
    t = guest_ticket(desk, w)
    internal_work(desk, w, t)
    desk.change_status(
        w.agent.actor, t.id, "solved", comment=CommentDraft(body="Fixed.", visibility="public")
    )
    guest = [(e.event.seq, e.event.kind) for e in desk.timeline(w.acme_guest.actor, t.id)]
    assert guest == [(1, "ticket_created"), (2, "comment_added"), (3, "status_changed")]
    agent = [e.event.seq for e in desk.timeline(w.agent.actor, t.id)]
    assert agent == [1, 2, 3, 4, 5, 6]
    assert desk.get_ticket(w.acme_guest.actor, t.id).version == guest[-1][0]


def test_a_guests_notifications_carry_her_numbers(storage: Storage, clock: ManualClock) -> None:
    recorder = Recorder()
    desk, w = desk_with(storage, clock, recorder)
    t = agent_opens_ticket_for_guest(desk, w)
    internal_work(desk, w, t)
    desk.change_status(
        w.agent.actor, t.id, "solved", comment=CommentDraft(body="Fixed.", visibility="public")
    )
    desk.flush()
    hers = [m for m in recorder.messages if m.recipient.id == w.acme_guest.id]
    assert [(m.event.kind, m.event.seq, m.ticket.version) for m in hers] == [
        ("ticket_created", 1, 1),
        ("comment_added", 2, 3),
        ("status_changed", 3, 3),
    ]


def test_an_internal_required_field_is_required_only_of_those_who_may_set_it(
    storage: Storage, clock: ManualClock
) -> None:
    desk, w = desk_with(storage, clock)
    billing = desk.create_ticket_type(
        w.admin.actor,
        name="Billing",
        fields=(
            FieldSpec(name="topic", label="Topic", kind=FieldKind.TEXT, required=True),
            FieldSpec(
                name="ledger", label="Ledger", kind=FieldKind.TEXT, required=True, internal=True
            ),
        ),
    )
    args = {"project_id": w.acme_project.id, "type_id": billing.id, "title": "Invoice"}
    with pytest.raises(ValidationError) as caught:
        desk.create_ticket(w.acme_guest.actor, **args)  # type: ignore[arg-type]
    assert caught.value.fields == {"fields.topic": "is required"}, "nothing names the ledger"
    made = desk.create_ticket(w.acme_guest.actor, fields={"topic": "Refund"}, **args)  # type: ignore[arg-type]
    assert made.fields == {"topic": "Refund"}
    with pytest.raises(ValidationError) as caught:
        desk.create_ticket(w.agent.actor, fields={"topic": "Refund"}, **args)  # type: ignore[arg-type]
    assert caught.value.fields == {"fields.ledger": "is required"}
