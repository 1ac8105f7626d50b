"""Initial ticketkit schema: directory, tickets, comments, history, outbox, counters.

Revision ID: ticketkit_0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ticketkit_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = ("ticketkit",)
depends_on: str | Sequence[str] | None = None

# Column types frozen as of this revision (the live schema module may move on).
_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)

_TABLES = (
    "tenants",
    "ticket_counters",
    "organisations",
    "persons",
    "projects",
    "ticket_types",
    "tickets",
    "comments",
    "events",
    "notifications",
)


def _ids() -> list[sa.Column[object]]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
    ]


def _pk(table: str, *columns: str) -> sa.PrimaryKeyConstraint:
    return sa.PrimaryKeyConstraint(*(columns or ("tenant_id", "id")), name=op.f(f"pk_{table}"))


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["tenants.tenant_id"],
        name=op.f(f"fk_{table}_tenant_id_tenants"),
        deferrable=True,
        initially="DEFERRED",
    )


def _fk(table: str, local: str, remote: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", local],
        [f"{remote}.tenant_id", f"{remote}.id"],
        name=op.f(f"fk_{table}_tenant_id_{local}_{remote}"),
        deferrable=True,
        initially="DEFERRED",
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f("_".join(["ix", table, *columns])), table, list(columns))


def upgrade() -> None:
    """Create every ticketkit table with its keys and indexes."""
    op.create_table(
        "tenants",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        _pk("tenants", "tenant_id"),
    )
    op.create_table(
        "ticket_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "last_number >= 0", name=op.f("ck_ticket_counters_last_number_not_negative")
        ),
        _tenant_fk("ticket_counters"),
        _pk("ticket_counters", "tenant_id"),
    )
    op.create_table(
        "organisations",
        *_ids(),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("kind", _TEXT, nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _tenant_fk("organisations"),
        _fk("organisations", "parent_id", "organisations"),
        _pk("organisations"),
    )
    _index("organisations", "tenant_id", "parent_id")
    op.create_table(
        "persons",
        *_ids(),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("email", _TEXT, nullable=False),
        sa.Column("role", _TEXT, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _fk("persons", "organisation_id", "organisations"),
        _pk("persons"),
    )
    _index("persons", "tenant_id", "organisation_id")
    op.create_table(
        "projects",
        *_ids(),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _fk("projects", "organisation_id", "organisations"),
        _pk("projects"),
    )
    _index("projects", "tenant_id", "organisation_id")
    op.create_table(
        "ticket_types",
        *_ids(),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("description_template", _TEXT, nullable=False),
        sa.Column("workflow", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _tenant_fk("ticket_types"),
        _pk("ticket_types"),
    )
    op.create_table(
        "tickets",
        *_ids(),
        sa.Column("number", sa.BigInteger(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("type_id", sa.Uuid(), nullable=False),
        sa.Column("title", _TEXT, nullable=False),
        sa.Column("description", _TEXT, nullable=False),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("status", _TEXT, nullable=False),
        sa.Column("status_category", _TEXT, nullable=False),
        sa.Column("priority", _TEXT, nullable=False),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("assignee_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("public_updated_at", _TIME, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event_seq", sa.Integer(), nullable=False),
        sa.Column("comment_tally", _JSON, nullable=False),
        sa.CheckConstraint("number > 0", name=op.f("ck_tickets_number_positive")),
        sa.CheckConstraint("version > 0", name=op.f("ck_tickets_version_positive")),
        _fk("tickets", "project_id", "projects"),
        _fk("tickets", "type_id", "ticket_types"),
        _fk("tickets", "requester_id", "persons"),
        _fk("tickets", "assignee_id", "persons"),
        _pk("tickets"),
        sa.UniqueConstraint("tenant_id", "number", name=op.f("uq_tickets_tenant_id_number")),
    )
    _index("tickets", "tenant_id", "project_id", "number")
    _index("tickets", "tenant_id", "assignee_id", "number")
    _index("tickets", "tenant_id", "status_category", "number")
    _index("tickets", "tenant_id", "requester_id", "number")
    _index("tickets", "tenant_id", "updated_at", "number")
    _index("tickets", "tenant_id", "public_updated_at", "number")
    op.create_table(
        "comments",
        *_ids(),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("body", _TEXT, nullable=False),
        sa.Column("visibility", _TEXT, nullable=False),
        sa.Column("channel", _TEXT, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _fk("comments", "ticket_id", "tickets"),
        _fk("comments", "author_id", "persons"),
        _pk("comments"),
    )
    _index("comments", "tenant_id", "ticket_id", "visibility", "organisation_id")
    op.create_table(
        "events",
        *_ids(),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("kind", _TEXT, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("actor_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("visibility", _TEXT, nullable=False),
        sa.Column("data", _JSON, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _fk("events", "ticket_id", "tickets"),
        _pk("events"),
    )
    _index("events", "tenant_id", "ticket_id", "seq")
    op.create_table(
        "notifications",
        *_ids(),
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("recipient_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("status", _TEXT, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", _TEXT, nullable=True),
        sa.Column("delivered_to", _JSON, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        _fk("notifications", "ticket_id", "tickets"),
        _fk("notifications", "recipient_id", "persons"),
        _pk("notifications"),
    )
    _index("notifications", "tenant_id", "status", "created_at", "id")


def downgrade() -> None:
    """Drop every ticketkit table, dependants first."""
    for table in reversed(_TABLES):
        op.drop_table(table)
