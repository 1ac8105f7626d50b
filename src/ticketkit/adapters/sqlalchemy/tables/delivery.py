"""Delivery's tables: the notification outbox, one row per recipient of an event."""

from __future__ import annotations

from sqlalchemy import Column, Index, Integer, PrimaryKeyConstraint, Table

from ticketkit.adapters.sqlalchemy.tables.base import fk, ids, metadata, name
from ticketkit.adapters.sqlalchemy.tables.directory import persons
from ticketkit.adapters.sqlalchemy.tables.ticketing import tickets
from ticketkit.adapters.sqlalchemy.types import Id, UTCDateTime, json_type, text_type

notifications = Table(
    name("notifications"),
    metadata,
    *ids(),
    Column("event_id", Id(), nullable=False),
    Column("ticket_id", Id(), nullable=False),
    Column("recipient_id", Id(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status", text_type(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("last_error", text_type(), nullable=True),
    Column("delivered_to", json_type(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    fk(tickets.name, "ticket_id"),
    fk(persons.name, "recipient_id"),
    Index(None, "tenant_id", "status", "created_at", "id"),
)

__all__ = ["notifications"]
