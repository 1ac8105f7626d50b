"""The directory's tables: tenants, organisations, the people in them, their projects,
and the tenant's ticket types."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
    text,
)

from ticketkit.adapters.sqlalchemy.tables.base import fk, ids, metadata, name, ordinal, tenant_fk
from ticketkit.adapters.sqlalchemy.types import Id, UTCDateTime, json_type, text_type

tenants = Table(
    name("tenants"),
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("name", text_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id"),
)

organisations = Table(
    name("organisations"),
    metadata,
    *ids(),
    Column("name", text_type(), nullable=False),
    Column("kind", text_type(), nullable=False),
    Column("parent_id", Id(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    tenant_fk(),
    fk(name("organisations"), "parent_id"),
    # Children by parent. Only those with a parent: counted with the roots' NULLs, SQLite's
    # statistics make ``parent_id = ?`` look unselective, and it scans instead.
    Index(
        None,
        "tenant_id",
        "parent_id",
        sqlite_where=text("parent_id IS NOT NULL"),
        postgresql_where=text("parent_id IS NOT NULL"),
    ),
    # The provider (one per tenant) among its customers.
    Index(None, "tenant_id", "kind"),
)

persons = Table(
    name("persons"),
    metadata,
    *ids(),
    Column("organisation_id", Id(), nullable=False),
    Column("name", text_type(), nullable=False),
    Column("email", text_type(), nullable=False),
    Column("role", text_type(), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    fk(organisations.name, "organisation_id"),
    Index(None, "tenant_id", "organisation_id"),
    # The staff by role (who can be assigned) among every customer's people.
    Index(None, "tenant_id", "role"),
    # One person per address in a tenant; addresses are stored lower-cased.
    Index(None, "tenant_id", "email", unique=True),
)

projects = Table(
    name("projects"),
    metadata,
    *ids(),
    Column("organisation_id", Id(), nullable=False),
    Column("name", text_type(), nullable=False),
    #: 1, 2, 3 … per tenant: how a supporter names the project it asks to look after.
    Column("number", BigInteger(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    #: Served by the organisation's own agents rather than the provider's.
    Column("own_desk", Boolean(), nullable=False),
    ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    fk(organisations.name, "organisation_id"),
    Index(None, "tenant_id", "organisation_id"),
    UniqueConstraint("tenant_id", "number"),
)

ticket_types = Table(
    name("ticket_types"),
    metadata,
    *ids(),
    Column("name", text_type(), nullable=False),
    Column("fields", json_type(), nullable=False),
    Column("description_template", text_type(), nullable=False),
    Column("workflow", json_type(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    #: The organisation owning the type (NULL: the provider's, for everyone).
    Column("organisation_id", Id(), nullable=True),
    Column("shared", Boolean(), nullable=False),
    Column("confidential", Boolean(), nullable=False),
    ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    tenant_fk(),
    fk(organisations.name, "organisation_id"),
    # An organisation's types; and the tenant's few confidential ones, read to resolve
    # the access of someone who borrows a project.
    Index(None, "tenant_id", "organisation_id"),
    Index(None, "tenant_id", "confidential"),
)

memberships = Table(
    name("memberships"),
    metadata,
    *ids(),
    Column("person_id", Id(), nullable=False),
    Column("organisation_id", Id(), nullable=False),
    Column("role", text_type(), nullable=False),
    Column("created_by", Id(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("ended_by", Id(), nullable=True),
    ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    fk(persons.name, "person_id"),
    fk(organisations.name, "organisation_id"),
    fk(persons.name, "created_by"),
    fk(persons.name, "ended_by"),
    # One membership in force per person and organisation; a person's, read with her.
    Index(
        "ix_ticketkit_memberships_in_force",
        "tenant_id",
        "person_id",
        "organisation_id",
        unique=True,
        sqlite_where=text("ended_at IS NULL"),
        postgresql_where=text("ended_at IS NULL"),
    ),
    # An organisation's members.
    Index(None, "tenant_id", "organisation_id"),
)

__all__ = ["memberships", "organisations", "persons", "projects", "tenants", "ticket_types"]
