"""Access's tables: magic-link invitations (only a hash of each token is stored) and
delegation grants of projects."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, Index, PrimaryKeyConstraint, String, Table

from ticketkit.adapters.sqlalchemy.tables.base import fk, ids, metadata, name, ordinal
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

grants = Table(
    name("grants"),
    metadata,
    *ids(),
    Column("project_id", Id(), nullable=False),
    #: The granting organisation: the project's owner.
    Column("organisation_id", Id(), nullable=False),
    Column("grantee_person_id", Id(), nullable=True),
    Column("grantee_organisation_id", Id(), nullable=True),
    #: The scopes, sorted and comma-separated (``read,comment``).
    Column("scope", text_type(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=True),
    Column("state", text_type(), nullable=False),
    Column("created_by", Id(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("decided_by", Id(), nullable=True),
    Column("decided_at", UTCDateTime(), nullable=True),
    #: SHA-256 of the secret of the offer's last token, hex: never the token itself.
    Column("offer_token_hash", String(64), nullable=True),
    ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    fk(name("projects"), "project_id"),
    fk(name("organisations"), "organisation_id"),
    fk(name("persons"), "grantee_person_id"),
    fk(name("organisations"), "grantee_organisation_id"),
    fk(name("persons"), "created_by"),
    fk(name("persons"), "decided_by"),
    CheckConstraint(
        "(grantee_person_id IS NULL) <> (grantee_organisation_id IS NULL)", name="one_grantee"
    ),
    # A person's and an organisation's grants by state: the active ones resolve access.
    Index(None, "tenant_id", "grantee_person_id", "state"),
    Index(None, "tenant_id", "grantee_organisation_id", "state"),
    # A project's grants, and those an organisation gave.
    Index(None, "tenant_id", "project_id"),
    Index(None, "tenant_id", "organisation_id", "state"),
)

__all__ = ["grants", "invitations"]
