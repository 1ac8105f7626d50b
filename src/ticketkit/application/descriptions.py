"""One line per history event for one reader: what a UI shows in a timeline.

A description is built only from what the reader may see: the event and its comment (both
already passed the policy), the ticket type as the reader may use it (``TicketTypeView``,
without internal fields) and the names of the people the reader may look up, read for a
whole timeline at once. Each carries a stable message key and its parameters, so a host
can say it in its own language; ``text`` is the English line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final
from uuid import UUID

from ticketkit.application.session import Session
from ticketkit.application.views import Description, TicketTypeView
from ticketkit.domain.events import (
    CommentAdded,
    Event,
    GroupAssigned,
    SlaEscalated,
    SlaLevelReached,
    StatusChanged,
    TicketAssigned,
    TicketChanged,
    TicketCreated,
    TicketMoved,
)
from ticketkit.domain.model import SYSTEM_ACTOR_ID, Comment, Visibility
from ticketkit.policy.predicates import all_of, one_of

#: The English line of each message key; a host translating descriptions writes its own
#: table with the same keys and ``str.format`` placeholders. A name the reader may not see
#: is None in the parameters and ``SOMEONE`` in the English text.
DESCRIPTION_TEMPLATES: Final[Mapping[str, str]] = {
    "ticket_created": "{actor} opened #{number} “{title}”",
    "ticket_created_for": "{actor} opened #{number} “{title}” for {requester}",
    "status_changed": "{actor} changed the status from {old_status} to {new_status}",
    "ticket_assigned": "{actor} assigned the ticket to {assignee}",
    "ticket_unassigned": "{actor} unassigned the ticket",
    "comment_public": "{actor} replied publicly",
    "comment_internal": "{actor} wrote an internal note",
    "ticket_changed": "{actor} changed {fields}",
    "ticket_moved": "{actor} moved the ticket to another desk as #{number}",
    "group_assigned": "{actor} gave the ticket to the group {group}",
    "group_unassigned": "{actor} took the ticket from its group",
    "sla_warning": "{actor}: {metric} reached {percent} % of its target",
    "sla_breach": "{actor}: {metric} breached its target",
    "sla_escalated": "{actor} escalated the ticket to {whom}",
    "event": "{actor}: {kind}",
}
SOMEONE: Final = "someone"
#: The name descriptions give ticketkit's own actor (``SYSTEM_ACTOR_ID``: the SLA sweep's
#: warnings, breaches and escalations).
SYSTEM_NAME: Final = "SLA"

#: The ticket's own attributes as a change names them (custom fields are ``fields.<name>``).
_ATTRIBUTES: Final[Mapping[str, str]] = {
    "title": "title",
    "description": "description",
    "priority": "priority",
}


def named_people(events: Iterable[Event]) -> set[UUID]:
    """Everyone a description of ``events`` names: actors, requesters, assignees."""
    found: set[UUID] = set()
    for event in events:
        found.add(event.actor_id)
        if isinstance(event, TicketCreated):
            found.add(event.requester_id)
        elif isinstance(event, TicketAssigned):
            found.update(p for p in (event.old_assignee_id, event.new_assignee_id) if p)
        elif isinstance(event, SlaEscalated) and event.person_id is not None:
            found.add(event.person_id)
    return found


def visible_groups(s: Session, events: Iterable[Event]) -> dict[UUID, str]:
    """The names of the agent groups ``events`` give tickets to, of those the acting
    person may see (the policy's ``groups`` rule), in one read (none without such events)."""
    wanted = {e.new_group_id for e in events if isinstance(e, GroupAssigned) and e.new_group_id}
    wanted |= {e.group_id for e in events if isinstance(e, SlaEscalated) and e.group_id}
    if not wanted:
        return {}
    return {g.id: g.name for g in s.uow.groups.list(all_of(s.actor.groups, one_of("id", wanted)))}


def visible_names(s: Session, person_ids: Iterable[UUID]) -> dict[UUID, str]:
    """The names of those among ``person_ids`` whom the acting person may look up (the
    policy's ``people`` rule), in one read."""
    wanted = {p for p in person_ids if isinstance(p, UUID)}
    if not wanted:
        return {}
    found = s.uow.persons.list(all_of(s.actor.people, one_of("id", wanted)))
    return {p.id: p.name for p in found}


def describe(
    event: Event,
    *,
    comment: Comment | None,
    ticket_type: TicketTypeView,
    names: Mapping[UUID, str],
    groups: Mapping[UUID, str] | None = None,
) -> Description:
    """``event`` in one line, with status and field labels from ``ticket_type``, the
    people in ``names`` and the agent groups in ``groups`` (anyone else is "someone")."""
    actor = SYSTEM_NAME if event.actor_id == SYSTEM_ACTOR_ID else names.get(event.actor_id)
    params: dict[str, str | int | None] = {"actor": actor}
    if isinstance(event, TicketCreated):
        params.update(number=event.number, title=event.title)
        key = "ticket_created"
        if event.requester_id != event.actor_id:
            key = "ticket_created_for"
            params["requester"] = names.get(event.requester_id)
    elif isinstance(event, StatusChanged):
        labels = {s.key: s.label for s in ticket_type.statuses}
        key = "status_changed"
        params.update(
            old_status=labels.get(event.old_status, event.old_status),
            new_status=labels.get(event.new_status, event.new_status),
        )
    elif isinstance(event, TicketAssigned):
        if event.new_assignee_id is None:
            key = "ticket_unassigned"
        else:
            key = "ticket_assigned"
            params["assignee"] = names.get(event.new_assignee_id)
    elif isinstance(event, CommentAdded):
        visibility = comment.visibility if comment is not None else event.visibility
        key = "comment_internal" if visibility is Visibility.INTERNAL else "comment_public"
    elif isinstance(event, TicketChanged):
        key = "ticket_changed"
        params["fields"] = ", ".join(_field_labels(event, ticket_type))
    elif isinstance(event, TicketMoved):
        key = "ticket_moved"
        params["number"] = event.new_number
    elif isinstance(event, GroupAssigned):
        if event.new_group_id is None:
            key = "group_unassigned"
        else:
            key = "group_assigned"
            params["group"] = (groups or {}).get(event.new_group_id)
    elif isinstance(event, SlaLevelReached):
        key = "sla_breach" if event.level == "breach" else "sla_warning"
        params["metric"] = event.metric.replace("_", " ")
        if event.percent is not None:
            params["percent"] = event.percent
    elif isinstance(event, SlaEscalated):
        key = "sla_escalated"
        if event.group_id is not None:
            params["whom"] = (groups or {}).get(event.group_id)
        else:
            params["whom"] = names.get(event.person_id) if event.person_id else None
    else:
        key = "event"
        params["kind"] = event.kind
    shown = {k: SOMEONE if v is None else v for k, v in params.items()}
    return Description(key=key, params=params, text=DESCRIPTION_TEMPLATES[key].format(**shown))


def _field_labels(event: TicketChanged, ticket_type: TicketTypeView) -> Sequence[str]:
    """The changed attributes by the labels the reader knows them by."""
    labels = {f"fields.{f.name}": f.label for f in ticket_type.fields}
    labels.update(_ATTRIBUTES)
    return [labels.get(c.field, c.field.removeprefix("fields.")) for c in event.changes]
