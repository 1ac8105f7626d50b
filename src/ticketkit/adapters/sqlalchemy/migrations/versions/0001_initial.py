"""Initial ticketkit schema: directory, tickets, comments, history, outbox, counters.

Every table, index and constraint name carries the ``ticketkit_`` prefix, so the schema can
sit in a host's database beside the host's own ``projects`` or ``comments``.

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

# Column types frozen as of this revision (the live table modules may move on).
_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
_TIME = sa.DateTime(timezone=True)

_TABLES = (
    "ticketkit_tenants",
    "ticketkit_ticket_counters",
    "ticketkit_organisations",
    "ticketkit_persons",
    "ticketkit_projects",
    "ticketkit_ticket_types",
    "ticketkit_tickets",
    "ticketkit_comments",
    "ticketkit_events",
    "ticketkit_notifications",
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
        ["ticketkit_tenants.tenant_id"],
        name=op.f(f"fk_{table}_tenant_id"),
        deferrable=True,
        initially="DEFERRED",
    )


def _fk(table: str, local: str, remote: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", local],
        [f"{remote}.tenant_id", f"{remote}.id"],
        name=op.f(f"fk_{table}_tenant_id_{local}"),
        deferrable=True,
        initially="DEFERRED",
    )


def _index(table: str, *columns: str, name: str | None = None) -> None:
    op.create_index(op.f(name or "_".join(["ix", table, *columns])), table, list(columns))


def upgrade() -> None:
    """Create every ticketkit table with its keys and indexes."""
    op.create_table(
        "ticketkit_tenants",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        _pk("ticketkit_tenants", "tenant_id"),
    )
    op.create_table(
        "ticketkit_ticket_counters",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "last_number >= 0", name=op.f("ck_ticketkit_ticket_counters_last_number_not_negative")
        ),
        _tenant_fk("ticketkit_ticket_counters"),
        _pk("ticketkit_ticket_counters", "tenant_id"),
    )
    op.create_table(
        "ticketkit_organisations",
        *_ids(),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("kind", _TEXT, nullable=False),
        sa.Column("parent_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _tenant_fk("ticketkit_organisations"),
        _fk("ticketkit_organisations", "parent_id", "ticketkit_organisations"),
        _pk("ticketkit_organisations"),
    )
    _index("ticketkit_organisations", "tenant_id", "parent_id")
    op.create_table(
        "ticketkit_persons",
        *_ids(),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("email", _TEXT, nullable=False),
        sa.Column("role", _TEXT, nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _fk("ticketkit_persons", "organisation_id", "ticketkit_organisations"),
        _pk("ticketkit_persons"),
    )
    _index("ticketkit_persons", "tenant_id", "organisation_id")
    op.create_table(
        "ticketkit_projects",
        *_ids(),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _fk("ticketkit_projects", "organisation_id", "ticketkit_organisations"),
        _pk("ticketkit_projects"),
    )
    _index("ticketkit_projects", "tenant_id", "organisation_id")
    op.create_table(
        "ticketkit_ticket_types",
        *_ids(),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("fields", _JSON, nullable=False),
        sa.Column("description_template", _TEXT, nullable=False),
        sa.Column("workflow", _JSON, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _tenant_fk("ticketkit_ticket_types"),
        _pk("ticketkit_ticket_types"),
    )
    op.create_table(
        "ticketkit_tickets",
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
        sa.CheckConstraint("number > 0", name=op.f("ck_ticketkit_tickets_number_positive")),
        sa.CheckConstraint("version > 0", name=op.f("ck_ticketkit_tickets_version_positive")),
        _fk("ticketkit_tickets", "project_id", "ticketkit_projects"),
        _fk("ticketkit_tickets", "type_id", "ticketkit_ticket_types"),
        _fk("ticketkit_tickets", "requester_id", "ticketkit_persons"),
        _fk("ticketkit_tickets", "assignee_id", "ticketkit_persons"),
        _pk("ticketkit_tickets"),
        sa.UniqueConstraint(
            "tenant_id", "number", name=op.f("uq_ticketkit_tickets_tenant_id_number")
        ),
    )
    _index("ticketkit_tickets", "tenant_id", "project_id", "number")
    _index("ticketkit_tickets", "tenant_id", "assignee_id", "number")
    _index("ticketkit_tickets", "tenant_id", "status_category", "number")
    _index("ticketkit_tickets", "tenant_id", "requester_id", "number")
    _index("ticketkit_tickets", "tenant_id", "updated_at", "number")
    _index("ticketkit_tickets", "tenant_id", "public_updated_at", "number")
    op.create_table(
        "ticketkit_comments",
        *_ids(),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("author_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("body", _TEXT, nullable=False),
        sa.Column("visibility", _TEXT, nullable=False),
        sa.Column("channel", _TEXT, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _fk("ticketkit_comments", "ticket_id", "ticketkit_tickets"),
        _fk("ticketkit_comments", "author_id", "ticketkit_persons"),
        _pk("ticketkit_comments"),
    )
    _index(
        "ticketkit_comments",
        "tenant_id",
        "ticket_id",
        "visibility",
        "organisation_id",
        name="ix_ticketkit_comments_tenant_id_ticket_id_visibility_org_id",
    )
    op.create_table(
        "ticketkit_events",
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
        _fk("ticketkit_events", "ticket_id", "ticketkit_tickets"),
        _pk("ticketkit_events"),
    )
    _index("ticketkit_events", "tenant_id", "ticket_id", "seq")
    op.create_table(
        "ticketkit_notifications",
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
        _fk("ticketkit_notifications", "ticket_id", "ticketkit_tickets"),
        _fk("ticketkit_notifications", "recipient_id", "ticketkit_persons"),
        _pk("ticketkit_notifications"),
    )
    _index("ticketkit_notifications", "tenant_id", "status", "created_at", "id")


def downgrade() -> None:
    """Drop every ticketkit table, dependants first."""
    for table in reversed(_TABLES):
        op.drop_table(table)
