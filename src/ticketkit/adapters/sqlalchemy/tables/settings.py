"""Settings' tables: the tenant's value of each setting, and the overrides organisations
set, each value in its JSON form with who set it when. Keys lead with ``tenant_id`` like
every other table's."""

from __future__ import annotations

from sqlalchemy import Column, Index, PrimaryKeyConstraint, Table

from ticketkit.adapters.sqlalchemy.tables.base import fk, metadata, name, tenant_fk
from ticketkit.adapters.sqlalchemy.types import Id, UTCDateTime, json_type, text_type

tenant_settings = Table(
    name("tenant_settings"),
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("name", text_type(), nullable=False),
    Column("value", json_type(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", Id(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "name"),
    tenant_fk(),
)

organisation_settings = Table(
    name("organisation_settings"),
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("organisation_id", Id(), nullable=False),
    Column("name", text_type(), nullable=False),
    Column("value", json_type(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("updated_by", Id(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "organisation_id", "name"),
    fk(name("organisations"), "organisation_id"),
    # Every organisation's override of one setting (named by hand: the convention's name
    # would pass PostgreSQL's 63 characters).
    Index(
        "ix_ticketkit_organisation_settings_tenant_id_name", "tenant_id", "name", "organisation_id"
    ),
)

__all__ = ["organisation_settings", "tenant_settings"]
