"""Groups' tables: agent groups, their members and the projects they serve, and the
followers of tickets. Members, projects and followers are relations of their own, keyed
with ``tenant_id`` first like every other table."""

from __future__ import annotations

from sqlalchemy import Column, Index, PrimaryKeyConstraint, Table

from ticketkit.adapters.sqlalchemy.tables.base import fk, ids, metadata, name, ordinal, tenant_fk
from ticketkit.adapters.sqlalchemy.types import Id, UTCDateTime, text_type

groups = Table(
    name("groups"),
    metadata,
    *ids(),
    Column("name", text_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    #: The organisation whose own desk the group is (NULL: the provider's).
    Column("organisation_id", Id(), nullable=True),
    ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    tenant_fk(),
    fk(name("organisations"), "organisation_id"),
    # A customer's own groups, which its agents list.
    Index(None, "tenant_id", "organisation_id"),
)

group_members = Table(
    name("group_members"),
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("group_id", Id(), nullable=False),
    Column("person_id", Id(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "group_id", "person_id"),
    fk(name("groups"), "group_id"),
    fk(name("persons"), "person_id"),
    Index(None, "tenant_id", "person_id"),
)

group_projects = Table(
    name("group_projects"),
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("group_id", Id(), nullable=False),
    Column("project_id", Id(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "group_id", "project_id"),
    fk(name("groups"), "group_id"),
    fk(name("projects"), "project_id"),
    # Which groups serve a project: read for every new ticket.
    Index(None, "tenant_id", "project_id", "group_id"),
)

ticket_followers = Table(
    name("ticket_followers"),
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("ticket_id", Id(), nullable=False),
    Column("person_id", Id(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    ordinal(),
    PrimaryKeyConstraint("tenant_id", "ticket_id", "person_id"),
    fk(name("tickets"), "ticket_id"),
    fk(name("persons"), "person_id"),
    Index(None, "tenant_id", "person_id"),
)

__all__ = ["group_members", "group_projects", "groups", "ticket_followers"]
