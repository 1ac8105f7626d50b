"""The ticket's transitions apply a change and return the event that records it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from ticketkit.domain import (
    Change,
    CommentAdded,
    FieldKind,
    FieldSpec,
    Priority,
    StatusChanged,
    TicketAssigned,
    TicketChanged,
    TicketCreated,
    TicketType,
    Visibility,
    default_workflow,
)
from ticketkit.domain.model import Stamp, Ticket
from ticketkit.errors import ValidationError

AT = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)
TENANT, ORG, AGENT, GUEST, PROJECT = (UUID(int=i) for i in range(1, 6))


def stamp(at: datetime = AT) -> Stamp:
    counter = itertools.count(1000)
    return Stamp(actor_id=AGENT, organisation_id=ORG, at=at, new_id=lambda: UUID(int=next(counter)))


INCIDENT = TicketType(
    tenant_id=TENANT,
    id=UUID(int=9),
    name="Incident",
    fields=(
        FieldSpec(name="sla_level", label="SLA", kind=FieldKind.TEXT),
        FieldSpec(name="cost_centre", label="Cost centre", kind=FieldKind.TEXT, internal=True),
    ),
    workflow=default_workflow(),
    created_at=AT,
)


def opened(**overrides: object) -> tuple[Ticket, list[object]]:
    args: dict[str, object] = {
        "by": stamp(),
        "tenant_id": TENANT,
        "number": 7,
        "project_id": PROJECT,
        "ticket_type": INCIDENT,
        "title": "Down",
        "description": "What happened?",
        "fields": {"sla_level": "Gold"},
        "priority": Priority.HIGH,
        "requester_id": GUEST,
    }
    args.update(overrides)
    ticket, events = Ticket.open(**args)  # type: ignore[arg-type]
    return ticket, list(events)


def test_opening_records_a_public_creation_without_internal_fields_then_internal_events() -> None:
    ticket, events = opened(fields={"sla_level": "Gold", "cost_centre": "CC-7"}, assignee_id=AGENT)
    created, internal, assigned = events
    assert isinstance(created, TicketCreated) and created.visibility is Visibility.PUBLIC
    assert created.fields == {"sla_level": "Gold"}
    assert isinstance(internal, TicketChanged) and internal.visibility is Visibility.INTERNAL
    assert internal.changes == (Change(field="fields.cost_centre", old=None, new="CC-7"),)
    assert isinstance(assigned, TicketAssigned) and assigned.new_assignee_id == AGENT
    assert [e.seq for e in (created, internal, assigned)] == [1, 2, 3]  # type: ignore[attr-defined]
    assert ticket.event_seq == 3 and ticket.assignee_id == AGENT and ticket.version == 1
    assert (ticket.status, ticket.created_at, ticket.public_updated_at) == ("new", AT, AT)


def test_a_plain_opening_records_one_event() -> None:
    ticket, events = opened()
    assert [type(e) for e in events] == [TicketCreated]
    assert ticket.assignee_id is None


def test_edit_applies_title_priority_and_fields_and_clears_a_field_set_to_none() -> None:
    ticket, _ = opened(fields={"sla_level": "Gold"})
    changes = [
        Change(field="title", old="Down", new="Still down"),
        Change(field="priority", old=Priority.HIGH, new="urgent"),
        Change(field="fields.sla_level", old="Gold", new=None),
    ]
    event = ticket.edit(changes, Visibility.PUBLIC, by=stamp())
    assert isinstance(event, TicketChanged) and event.changes == tuple(changes)
    assert (ticket.title, ticket.priority, ticket.fields) == ("Still down", Priority.URGENT, {})
    assert event.seq == 2


def test_edit_refuses_what_is_not_an_editable_attribute() -> None:
    ticket, _ = opened()
    with pytest.raises(ValidationError) as caught:
        ticket.edit(
            [Change(field="status", old="new", new="solved")], Visibility.PUBLIC, by=stamp()
        )
    assert caught.value.fields == {"status": "cannot be changed this way"}


def test_assign_records_old_and_new_assignee_as_internal() -> None:
    ticket, _ = opened(assignee_id=AGENT)
    event = ticket.assign(None, by=stamp())
    assert (event.old_assignee_id, event.new_assignee_id) == (AGENT, None)
    assert event.visibility is Visibility.INTERNAL and ticket.assignee_id is None


def test_move_to_records_old_and_new_status_publicly() -> None:
    ticket, _ = opened()
    solved = INCIDENT.workflow.status("solved")
    assert solved is not None
    event = ticket.move_to(solved, by=stamp())
    assert isinstance(event, StatusChanged) and event.visibility is Visibility.PUBLIC
    assert (event.old_status, event.new_status, event.new_category) == (
        "new",
        "solved",
        solved.category,
    )
    assert (ticket.status, ticket.status_category) == ("solved", solved.category)


def test_add_comment_writes_it_as_the_author_and_counts_it_by_visibility_and_organisation() -> None:
    ticket, _ = opened()
    comment, event = ticket.add_comment("Looking", Visibility.INTERNAL, "web", by=stamp())
    assert isinstance(event, CommentAdded) and event.comment_id == comment.id
    assert (comment.author_id, comment.organisation_id, comment.ticket_id) == (
        AGENT,
        ORG,
        ticket.id,
    )
    assert event.visibility is comment.visibility is Visibility.INTERNAL
    assert ticket.comment_tally == {(Visibility.INTERNAL, ORG): 1}


def test_a_new_version_moves_public_updated_at_only_for_public_events() -> None:
    ticket, _ = opened()
    later, latest = AT + timedelta(hours=1), AT + timedelta(hours=2)
    internal = ticket.assign(AGENT, by=stamp(later))
    ticket.new_version([internal], later)
    assert (ticket.version, ticket.updated_at, ticket.public_updated_at) == (2, later, AT)
    _, public = ticket.add_comment("Fixed", Visibility.PUBLIC, "api", by=stamp(latest))
    ticket.new_version([public], latest)
    assert (ticket.version, ticket.updated_at, ticket.public_updated_at) == (3, latest, latest)


def test_a_copy_shares_no_container_with_its_original() -> None:
    ticket, _ = opened(fields={"sla_level": "Gold"})
    ticket.add_comment("x", Visibility.PUBLIC, "api", by=stamp())
    made = ticket.copy()
    assert made == ticket and made is not ticket
    made.fields["sla_level"] = "Silver"
    made.comment_tally[(Visibility.PUBLIC, ORG)] = 9
    assert ticket.fields == {"sla_level": "Gold"}
    assert ticket.comment_tally == {(Visibility.PUBLIC, ORG): 1}
