"""Access's tables: magic-link invitations (only a hash of each token is stored)."""

from __future__ import annotations

from sqlalchemy import Column, Index, PrimaryKeyConstraint, String, Table

from ticketkit.adapters.sqlalchemy.tables.base import fk, ids, metadata, name
from ticketkit.adapters.sqlalchemy.types import Id, UTCDateTime, text_type

invitations = Table(
    name("invitations"),
    metadata,
    *ids(),
    Column("person_id", Id(), nullable=False),
    #: SHA-256 of the token's secret, hex: never the token itself.
    Column("token_hash", String(64), nullable=False),
    Column("created_by", Id(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=True),
    Column("closed", text_type(), nullable=True),
    PrimaryKeyConstraint("tenant_id", "id"),
    fk(name("persons"), "person_id"),
    fk(name("persons"), "created_by"),
    # A person's invitations: closed together when a new one is issued or access withdrawn.
    Index(None, "tenant_id", "person_id"),
)

__all__ = ["invitations"]
