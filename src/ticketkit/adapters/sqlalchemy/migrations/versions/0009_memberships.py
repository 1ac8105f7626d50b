"""People in several organisations, and ticket types owned by an organisation.

A memberships table: one row per person's membership of an organisation other than her
own, with its role there; an ended membership keeps its row (``ended_at``), and a partial
unique index keeps one in force per person and organisation. Ticket types gain an owning
organisation (NULL: the provider's, as every existing type stays), whether they are shared
down the organisation tree, and whether they are confidential (both false for existing
types). On SQLite the ticket types table is rebuilt for the new foreign key.

Going back to 0008 drops the memberships (every further membership's access ends) and
the types' owners, which makes every type the provider's again.

Revision ID: ticketkit_0009
Revises: ticketkit_0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0009"
down_revision: str | Sequence[str] | None = "ticketkit_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column types frozen as of this revision (the live table modules may move on).
_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")
_TIME = sa.DateTime(timezone=True)
_TYPES = "ticketkit_ticket_types"
_TABLE = "ticketkit_memberships"
_IN_FORCE = "ix_ticketkit_memberships_in_force"
_TYPE_INDEXES: dict[str, tuple[str, ...]] = {
    f"ix_{_TYPES}_tenant_id_organisation_id": ("organisation_id",),
    f"ix_{_TYPES}_tenant_id_confidential": ("confidential",),
}


def _fk(table: str, local: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", local],
        [f"{target}.tenant_id", f"{target}.id"],
        name=op.f(f"fk_{table}_tenant_id_{local}"),
        deferrable=True,
        initially="DEFERRED",
    )


def upgrade() -> None:
    """Give ticket types an owner and two flags; create the memberships table."""
    with op.batch_alter_table(_TYPES) as batch:
        batch.add_column(sa.Column("organisation_id", sa.Uuid(), nullable=True))
        batch.add_column(
            sa.Column("shared", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("confidential", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.create_foreign_key(
            op.f(f"fk_{_TYPES}_tenant_id_organisation_id"),
            "ticketkit_organisations",
            ["tenant_id", "organisation_id"],
            ["tenant_id", "id"],
            deferrable=True,
            initially="DEFERRED",
        )
    with op.batch_alter_table(_TYPES) as batch:
        # The defaults only filled the existing rows; the adapter always writes both.
        batch.alter_column("shared", existing_type=sa.Boolean(), server_default=None)
        batch.alter_column("confidential", existing_type=sa.Boolean(), server_default=None)
    for index, keys in _TYPE_INDEXES.items():
        op.create_index(op.f(index), _TYPES, ["tenant_id", *keys])
    op.create_table(
        _TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("role", _TEXT, nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ended_at", _TIME, nullable=True),
        sa.Column("ended_by", sa.Uuid(), nullable=True),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _fk(_TABLE, "person_id", "ticketkit_persons"),
        _fk(_TABLE, "organisation_id", "ticketkit_organisations"),
        _fk(_TABLE, "created_by", "ticketkit_persons"),
        _fk(_TABLE, "ended_by", "ticketkit_persons"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{_TABLE}")),
    )
    op.create_index(
        op.f(_IN_FORCE),
        _TABLE,
        ["tenant_id", "person_id", "organisation_id"],
        unique=True,
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        op.f(f"ix_{_TABLE}_tenant_id_organisation_id"), _TABLE, ["tenant_id", "organisation_id"]
    )


def downgrade() -> None:
    """Drop the memberships and the types' owners and flags."""
    op.drop_index(op.f(f"ix_{_TABLE}_tenant_id_organisation_id"), table_name=_TABLE)
    op.drop_index(op.f(_IN_FORCE), table_name=_TABLE)
    op.drop_table(_TABLE)
    for index in _TYPE_INDEXES:
        op.drop_index(op.f(index), table_name=_TYPES)
    with op.batch_alter_table(_TYPES) as batch:
        batch.drop_constraint(op.f(f"fk_{_TYPES}_tenant_id_organisation_id"), type_="foreignkey")
        batch.drop_column("confidential")
        batch.drop_column("shared")
        batch.drop_column("organisation_id")
