"""Ticketing's tables: tickets and their per-project number counters, comments, and the
history events.

The tickets' indexes are the lists a portal and an agent desk show, each in its sort
order, so a page reads its rows off one index range: no scan of the tenant's tickets, no
sort. ``id`` ends every list index as the tie-breaker of every sort.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    text,
)

from ticketkit.adapters.sqlalchemy.tables.base import fk, ids, metadata, name, ordinal
from ticketkit.adapters.sqlalchemy.tables.directory import persons, projects, ticket_types
from ticketkit.adapters.sqlalchemy.types import Id, UTCDateTime, json_type, text_type

ticket_counters = Table(
    name("ticket_counters"),
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("project_id", Id(), nullable=False),
    Column("last_number", BigInteger(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "project_id"),
    fk(projects.name, "project_id"),
    CheckConstraint("last_number >= 0", name="last_number_not_negative"),
)

tickets = Table(
    name("tickets"),
    metadata,
    *ids(),
    Column("number", BigInteger(), nullable=False),
    Column("project_id", Id(), nullable=False),
    Column("type_id", Id(), nullable=False),
    Column("title", text_type(), nullable=False),
    Column("description", text_type(), nullable=False),
    Column("fields", json_type(), nullable=False),
    Column("status", text_type(), nullable=False),
    Column("status_category", text_type(), nullable=False),
    Column("priority", text_type(), nullable=False),
    Column("requester_id", Id(), nullable=False),
    Column("assignee_id", Id(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("public_updated_at", UTCDateTime(), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("event_seq", Integer(), nullable=False),
    Column("comment_tally", json_type(), nullable=False),
    Column("event_tally", json_type(), nullable=False, server_default=text("'[]'")),
    Column("group_id", Id(), nullable=True),
    Column("sla_due_at", UTCDateTime(), nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "project_id", "number"),
    fk(projects.name, "project_id"),
    fk(ticket_types.name, "type_id"),
    fk(persons.name, "requester_id"),
    fk(persons.name, "assignee_id"),
    fk(name("groups"), "group_id"),
    CheckConstraint("number > 0", name="number_positive"),
    CheckConstraint("version > 0", name="version_positive"),
    # A customer's portal: her projects' tickets by last public activity, or newest first.
    Index(None, "tenant_id", "project_id", "public_updated_at", "id"),
    Index(None, "tenant_id", "project_id", "created_at", "id"),
    # An agent desk: every ticket, a status's, an assignee's (with or without a status
    # filter), by last update; newest first; a requester's tickets.
    Index(None, "tenant_id", "updated_at", "id"),
    Index(None, "tenant_id", "status", "updated_at", "id"),
    Index(None, "tenant_id", "status_category", "updated_at", "id"),
    Index(None, "tenant_id", "assignee_id", "updated_at", "id"),
    Index(
        f"ix_{name('tickets')}_tenant_assignee_status_updated",
        "tenant_id",
        "assignee_id",
        "status",
        "updated_at",
        "id",
    ),
    Index(None, "tenant_id", "group_id", "updated_at", "id"),
    Index(None, "tenant_id", "group_id", "status", "updated_at", "id"),
    Index(None, "tenant_id", "created_at", "id"),
    Index(None, "tenant_id", "requester_id", "created_at", "id"),
    # The agent desk by SLA due time: only tickets with a running clock are in it.
    Index(
        None,
        "tenant_id",
        "sla_due_at",
        "id",
        sqlite_where=text("sla_due_at IS NOT NULL"),
        postgresql_where=text("sla_due_at IS NOT NULL"),
    ),
)

comments = Table(
    name("comments"),
    metadata,
    *ids(),
    Column("ticket_id", Id(), nullable=False),
    Column("author_id", Id(), nullable=False),
    Column("organisation_id", Id(), nullable=False),
    Column("body", text_type(), nullable=False),
    Column("visibility", text_type(), nullable=False),
    Column("channel", text_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    fk(tickets.name, "ticket_id"),
    fk(persons.name, "author_id"),
    Index(
        f"ix_{name('comments')}_tenant_id_ticket_id_visibility_org_id",
        "tenant_id",
        "ticket_id",
        "visibility",
        "organisation_id",
    ),
)

events = Table(
    name("events"),
    metadata,
    *ids(),
    Column("ticket_id", Id(), nullable=False),
    Column("seq", Integer(), nullable=False),
    Column("kind", text_type(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor_id", Id(), nullable=False),
    Column("organisation_id", Id(), nullable=False),
    Column("visibility", text_type(), nullable=False),
    Column("data", json_type(), nullable=False),
    ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    fk(tickets.name, "ticket_id"),
    Index(None, "tenant_id", "ticket_id", "seq"),
)

__all__ = ["comments", "events", "ticket_counters", "tickets"]
