"""Ticketing's tables: tickets and their per-tenant number counter, comments, and the
history events."""

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

from ticketkit.adapters.sqlalchemy.tables.base import fk, ids, metadata, name, ordinal, tenant_fk
from ticketkit.adapters.sqlalchemy.tables.directory import persons, projects, ticket_types
from ticketkit.adapters.sqlalchemy.types import Id, UTCDateTime, json_type, text_type

ticket_counters = Table(
    name("ticket_counters"),
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("last_number", BigInteger(), nullable=False),
    PrimaryKeyConstraint("tenant_id"),
    tenant_fk(),
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
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "number"),
    fk(projects.name, "project_id"),
    fk(ticket_types.name, "type_id"),
    fk(persons.name, "requester_id"),
    fk(persons.name, "assignee_id"),
    fk(name("groups"), "group_id"),
    CheckConstraint("number > 0", name="number_positive"),
    CheckConstraint("version > 0", name="version_positive"),
    Index(None, "tenant_id", "project_id", "number"),
    Index(None, "tenant_id", "assignee_id", "number"),
    Index(None, "tenant_id", "status_category", "number"),
    Index(None, "tenant_id", "requester_id", "number"),
    Index(None, "tenant_id", "updated_at", "number"),
    Index(None, "tenant_id", "public_updated_at", "number"),
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
