"""Rows to domain objects and back: one ``TableMapping`` per entity kind, with the
statements that read and update one row built once, at import.

Rows are translated to and from the domain's attrs classes explicitly (the domain classes
are not mapped by the ORM): each kind has a ``to_row`` and a ``from_row`` function. The
tenant's own row, written only with a unit of work's other new rows, is in ``bulk``.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar, cast
from uuid import UUID

import cattrs
from sqlalchemy import Dialect, Row, Table, UnaryExpression, bindparam, select

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.adapters.sqlalchemy.bulk import BulkInsert, RowDict
from ticketkit.adapters.sqlalchemy.types import parse_uuid
from ticketkit.domain.events import Event
from ticketkit.domain.fields import FieldSpec
from ticketkit.domain.grants import Grant, GrantState, decode_scope, encode_scope
from ticketkit.domain.memberships import Membership
from ticketkit.domain.model import (
    Comment,
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    Project,
    Role,
    Ticket,
    TicketType,
    Visibility,
)
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.domain.workflow import StatusCategory, Workflow
from ticketkit.serialization import decode_fields, encode_fields, event_data, event_from_dict

T = TypeVar("T")


class _Ordinals:
    """Process-wide increasing stamps (nanosecond clock, never repeating) for insertion order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def take(self, count: int) -> int:
        """Reserve ``count`` consecutive stamps and return the first."""
        with self._lock:
            first = max(time.time_ns(), self._last + 1)
            self._last = first + count - 1
            return first


_ORDINALS = _Ordinals()


class TableMapping(Generic[T]):
    """How one entity kind travels between its attrs class and its table, with the
    statements built once so SQLAlchemy's compiled cache serves every execution."""

    def __init__(
        self,
        kind: str,
        table: Table,
        to_row: Callable[[cattrs.Converter, T], RowDict],
        from_row: Callable[[cattrs.Converter, Row[Any]], T],
        order: tuple[UnaryExpression[Any], ...],
    ) -> None:
        self.kind = kind
        self.table = table
        self.to_row = to_row
        self.from_row = from_row
        #: Listing order: insertion order for the entities that record one.
        self.order = order
        self.ordered = "ordinal" in table.c
        self.by_id = select(table).where(
            table.c.tenant_id == bindparam("tenant"), table.c.id == bindparam("ident")
        )
        self.update = table.update().where(
            table.c.tenant_id == bindparam("w_tenant"), table.c.id == bindparam("w_id")
        )
        self._bulk: weakref.WeakKeyDictionary[Dialect, BulkInsert] = weakref.WeakKeyDictionary()

    def bulk_insert(self, dialect: Dialect) -> BulkInsert:
        found = self._bulk.get(dialect)
        if found is None:
            found = self._bulk[dialect] = BulkInsert(self.table, dialect)
        return found

    def rows(self, conv: cattrs.Converter, items: dict[UUID, T]) -> list[RowDict]:
        """The rows of ``items``, stamped in insertion order where the table records one."""
        rows = [self.to_row(conv, item) for item in items.values()]
        if self.ordered:
            first = _ORDINALS.take(len(rows))
            for offset, row in enumerate(rows):
                row["ordinal"] = first + offset
        return rows


def _organisation_row(conv: cattrs.Converter, o: Organisation) -> RowDict:
    return {
        "tenant_id": o.tenant_id,
        "id": o.id,
        "name": o.name,
        "kind": o.kind.value,
        "parent_id": o.parent_id,
        "created_at": o.created_at,
    }


def _organisation(conv: cattrs.Converter, r: Row[Any]) -> Organisation:
    return Organisation(
        tenant_id=r.tenant_id,
        id=r.id,
        name=r.name,
        kind=OrganisationKind(r.kind),
        parent_id=r.parent_id,
        created_at=r.created_at,
    )


def _person_row(conv: cattrs.Converter, p: Person) -> RowDict:
    return {
        "tenant_id": p.tenant_id,
        "id": p.id,
        "organisation_id": p.organisation_id,
        "name": p.name,
        "email": p.email,
        "role": p.role.value,
        "active": p.active,
        "created_at": p.created_at,
    }


def _person(conv: cattrs.Converter, r: Row[Any]) -> Person:
    return Person(
        tenant_id=r.tenant_id,
        id=r.id,
        organisation_id=r.organisation_id,
        name=r.name,
        email=r.email,
        role=Role(r.role),
        active=bool(r.active),
        created_at=r.created_at,
    )


def _project_row(conv: cattrs.Converter, p: Project) -> RowDict:
    return {
        "tenant_id": p.tenant_id,
        "id": p.id,
        "organisation_id": p.organisation_id,
        "name": p.name,
        "number": p.number,
        "created_at": p.created_at,
        "own_desk": p.own_desk,
    }


def _project(conv: cattrs.Converter, r: Row[Any]) -> Project:
    return Project(
        tenant_id=r.tenant_id,
        id=r.id,
        organisation_id=r.organisation_id,
        name=r.name,
        number=r.number,
        created_at=r.created_at,
        own_desk=bool(r.own_desk),
    )


def _grant_row(conv: cattrs.Converter, g: Grant) -> RowDict:
    return {
        "tenant_id": g.tenant_id,
        "id": g.id,
        "project_id": g.project_id,
        "organisation_id": g.organisation_id,
        "grantee_person_id": g.grantee_person_id,
        "grantee_organisation_id": g.grantee_organisation_id,
        "scope": encode_scope(g.scope),
        "expires_at": g.expires_at,
        "state": g.state.value,
        "created_by": g.created_by,
        "created_at": g.created_at,
        "decided_by": g.decided_by,
        "decided_at": g.decided_at,
        "offer_token_hash": g.offer_token_hash,
    }


def _grant(conv: cattrs.Converter, r: Row[Any]) -> Grant:
    return Grant(
        tenant_id=r.tenant_id,
        id=r.id,
        project_id=r.project_id,
        organisation_id=r.organisation_id,
        grantee_person_id=r.grantee_person_id,
        grantee_organisation_id=r.grantee_organisation_id,
        scope=decode_scope(r.scope),
        expires_at=r.expires_at,
        state=GrantState(r.state),
        created_by=r.created_by,
        created_at=r.created_at,
        decided_by=r.decided_by,
        decided_at=r.decided_at,
        offer_token_hash=r.offer_token_hash,
    )


def _ticket_type_row(conv: cattrs.Converter, t: TicketType) -> RowDict:
    return {
        "tenant_id": t.tenant_id,
        "id": t.id,
        "name": t.name,
        "fields": conv.unstructure(t.fields, unstructure_as=tuple[FieldSpec, ...]),
        "description_template": t.description_template,
        "workflow": conv.unstructure(t.workflow, unstructure_as=Workflow),
        "created_at": t.created_at,
        "organisation_id": t.organisation_id,
        "shared": t.shared,
        "confidential": t.confidential,
    }


def _ticket_type(conv: cattrs.Converter, r: Row[Any]) -> TicketType:
    return TicketType(
        tenant_id=r.tenant_id,
        id=r.id,
        name=r.name,
        fields=conv.structure(r.fields, tuple[FieldSpec, ...]),
        description_template=r.description_template,
        workflow=conv.structure(r.workflow, Workflow),
        created_at=r.created_at,
        organisation_id=r.organisation_id,
        shared=bool(r.shared),
        confidential=bool(r.confidential),
    )


def _membership_row(conv: cattrs.Converter, m: Membership) -> RowDict:
    return {
        "tenant_id": m.tenant_id,
        "id": m.id,
        "person_id": m.person_id,
        "organisation_id": m.organisation_id,
        "role": m.role.value,
        "created_by": m.created_by,
        "created_at": m.created_at,
        "ended_at": m.ended_at,
        "ended_by": m.ended_by,
    }


def _membership(conv: cattrs.Converter, r: Row[Any]) -> Membership:
    return Membership(
        tenant_id=r.tenant_id,
        id=r.id,
        person_id=r.person_id,
        organisation_id=r.organisation_id,
        role=Role(r.role),
        created_by=r.created_by,
        created_at=r.created_at,
        ended_at=r.ended_at,
        ended_by=r.ended_by,
    )


def _encode_tally(tally: dict[tuple[Visibility, UUID], int]) -> list[list[object]]:
    return sorted([vis.value, str(org), n] for (vis, org), n in tally.items())


_VISIBILITIES = {v.value: v for v in Visibility}
_CATEGORIES = {c.value: c for c in StatusCategory}
_PRIORITIES = {p.value: p for p in Priority}


def _decode_tally(raw: list[list[Any]]) -> dict[tuple[Visibility, UUID], int]:
    return {(_VISIBILITIES[vis], parse_uuid(org)): int(n) for vis, org, n in raw}


def _ticket_row(conv: cattrs.Converter, t: Ticket) -> RowDict:
    return {
        "tenant_id": t.tenant_id,
        "id": t.id,
        "number": t.number,
        "project_id": t.project_id,
        "type_id": t.type_id,
        "title": t.title,
        "description": t.description,
        "fields": encode_fields(t.fields),
        "status": t.status,
        "status_category": t.status_category.value,
        "priority": t.priority.value,
        "requester_id": t.requester_id,
        "assignee_id": t.assignee_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "public_updated_at": t.public_updated_at,
        "version": t.version,
        "event_seq": t.event_seq,
        "comment_tally": _encode_tally(t.comment_tally),
        "event_tally": _encode_tally(t.event_tally),
        "group_id": t.group_id,
        "sla_due_at": t.sla_due_at,
    }


_TICKET_COLUMNS = [
    "tenant_id",
    "id",
    "number",
    "project_id",
    "type_id",
    "title",
    "description",
    "fields",
    "status",
    "status_category",
    "priority",
    "requester_id",
    "assignee_id",
    "created_at",
    "updated_at",
    "public_updated_at",
    "version",
    "event_seq",
    "comment_tally",
    "event_tally",
    "group_id",
    "sla_due_at",
]
# Tickets are read by position (the hottest read: every listing). A column added to the table
# must be added here too; this keeps the two from drifting apart silently.
if [c.key for c in tables.tickets.c] != _TICKET_COLUMNS:  # pragma: no cover
    raise RuntimeError("the tickets table's columns changed: update _TICKET_COLUMNS and _ticket")


def _ticket(conv: cattrs.Converter, r: Row[Any]) -> Ticket:
    (
        tenant_id,
        ident,
        number,
        project_id,
        type_id,
        title,
        description,
        fields,
        status,
        status_category,
        priority,
        requester_id,
        assignee_id,
        created_at,
        updated_at,
        public_updated_at,
        version,
        event_seq,
        comment_tally,
        event_tally,
        group_id,
        sla_due_at,
    ) = cast(tuple[Any, ...], r)
    return Ticket(
        tenant_id=tenant_id,
        id=ident,
        number=number,
        project_id=project_id,
        type_id=type_id,
        title=title,
        description=description,
        fields=decode_fields(fields),
        status=status,
        status_category=_CATEGORIES[status_category],
        priority=_PRIORITIES[priority],
        requester_id=requester_id,
        assignee_id=assignee_id,
        created_at=created_at,
        updated_at=updated_at,
        public_updated_at=public_updated_at,
        version=version,
        event_seq=event_seq,
        comment_tally=_decode_tally(comment_tally),
        event_tally=_decode_tally(event_tally),
        group_id=group_id,
        sla_due_at=sla_due_at,
    )


def _comment_row(conv: cattrs.Converter, c: Comment) -> RowDict:
    return {
        "tenant_id": c.tenant_id,
        "id": c.id,
        "ticket_id": c.ticket_id,
        "author_id": c.author_id,
        "organisation_id": c.organisation_id,
        "body": c.body,
        "visibility": c.visibility.value,
        "channel": c.channel,
        "created_at": c.created_at,
    }


def _comment(conv: cattrs.Converter, r: Row[Any]) -> Comment:
    return Comment(
        tenant_id=r.tenant_id,
        id=r.id,
        ticket_id=r.ticket_id,
        author_id=r.author_id,
        organisation_id=r.organisation_id,
        body=r.body,
        visibility=Visibility(r.visibility),
        channel=r.channel,
        created_at=r.created_at,
    )


#: Event attributes stored in their own columns; everything else goes to ``data``.
_EVENT_COLUMNS = (
    "tenant_id",
    "id",
    "ticket_id",
    "seq",
    "at",
    "actor_id",
    "organisation_id",
    "visibility",
)


def _event_row(conv: cattrs.Converter, e: Event) -> RowDict:
    return {
        "tenant_id": e.tenant_id,
        "id": e.id,
        "ticket_id": e.ticket_id,
        "seq": e.seq,
        "kind": e.kind,
        "at": e.at,
        "actor_id": e.actor_id,
        "organisation_id": e.organisation_id,
        "visibility": e.visibility.value,
        "data": event_data(conv, e),
    }


def _event(conv: cattrs.Converter, r: Row[Any]) -> Event:
    body = dict(r.data)
    for key in _EVENT_COLUMNS:
        body[key] = getattr(r, key)
    body["kind"] = r.kind
    return event_from_dict(conv, body)


def _notification_row(conv: cattrs.Converter, n: Notification) -> RowDict:
    return {
        "tenant_id": n.tenant_id,
        "id": n.id,
        "event_id": n.event_id,
        "ticket_id": n.ticket_id,
        "recipient_id": n.recipient_id,
        "created_at": n.created_at,
        "status": n.status.value,
        "attempts": n.attempts,
        "last_error": n.last_error,
        "delivered_to": list(n.delivered_to),
        "updated_at": n.updated_at,
    }


def _notification(conv: cattrs.Converter, r: Row[Any]) -> Notification:
    return Notification(
        tenant_id=r.tenant_id,
        id=r.id,
        event_id=r.event_id,
        ticket_id=r.ticket_id,
        recipient_id=r.recipient_id,
        created_at=r.created_at,
        status=DeliveryStatus(r.status),
        attempts=r.attempts,
        last_error=r.last_error,
        delivered_to=tuple(r.delivered_to),
        updated_at=r.updated_at,
    )


def _by_ordinal(table: Table) -> tuple[UnaryExpression[Any], ...]:
    return (table.c.ordinal.asc(),)


ORGANISATIONS = TableMapping(
    "Organisation",
    tables.organisations,
    _organisation_row,
    _organisation,
    _by_ordinal(tables.organisations),
)
PERSONS = TableMapping("Person", tables.persons, _person_row, _person, _by_ordinal(tables.persons))
MEMBERSHIPS = TableMapping(
    "Membership",
    tables.memberships,
    _membership_row,
    _membership,
    _by_ordinal(tables.memberships),
)
PROJECTS = TableMapping(
    "Project", tables.projects, _project_row, _project, _by_ordinal(tables.projects)
)
GRANTS = TableMapping("Grant", tables.grants, _grant_row, _grant, _by_ordinal(tables.grants))
TICKET_TYPES = TableMapping(
    "TicketType",
    tables.ticket_types,
    _ticket_type_row,
    _ticket_type,
    _by_ordinal(tables.ticket_types),
)
TICKETS = TableMapping("Ticket", tables.tickets, _ticket_row, _ticket, (tables.tickets.c.id.asc(),))
COMMENTS = TableMapping(
    "Comment", tables.comments, _comment_row, _comment, _by_ordinal(tables.comments)
)
EVENTS = TableMapping(
    "Event",
    tables.events,
    _event_row,
    _event,
    (tables.events.c.seq.asc(), tables.events.c.ordinal.asc()),
)
NOTIFICATIONS = TableMapping(
    "Notification",
    tables.notifications,
    _notification_row,
    _notification,
    (tables.notifications.c.created_at.asc(), tables.notifications.c.id.asc()),
)

#: Flush order: referenced tables before the tables that refer to them.
FLUSH_ORDER: tuple[TableMapping[Any], ...] = (
    ORGANISATIONS,
    PERSONS,
    MEMBERSHIPS,
    PROJECTS,
    GRANTS,
    TICKET_TYPES,
    TICKETS,
    COMMENTS,
    EVENTS,
    NOTIFICATIONS,
)


__all__ = [
    "COMMENTS",
    "EVENTS",
    "FLUSH_ORDER",
    "GRANTS",
    "MEMBERSHIPS",
    "NOTIFICATIONS",
    "ORGANISATIONS",
    "PERSONS",
    "PROJECTS",
    "TICKETS",
    "TICKET_TYPES",
    "TableMapping",
]
