"""Settings: the tenant's value of each setting and organisations' overrides.

Two tables, each value in its JSON form with who set it when: ``ticketkit_tenant_settings``
keyed (tenant_id, name), and ``ticketkit_organisation_settings`` keyed (tenant_id,
organisation_id, name) with a reference to the organisation and an index of one setting's
overrides (tenant_id, name, organisation_id).

Going back to 0006 drops both tables and the values stored in them.

Revision ID: ticketkit_0007
Revises: ticketkit_0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ticketkit_0007"
down_revision: str | Sequence[str] | None = "ticketkit_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column types frozen as of this revision (the live table modules may move on).
_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


#: One setting's overrides, named by hand (the convention's name passes 63 characters).
INDEX = "ix_ticketkit_organisation_settings_tenant_id_name"


def _value_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("value", _JSON, nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.Column("updated_by", sa.Uuid(), nullable=False),
    ]


def upgrade() -> None:
    """Create the tenant's values and the organisations' overrides."""
    op.create_table(
        "ticketkit_tenant_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("name", _TEXT, nullable=False),
        *_value_columns(),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["ticketkit_tenants.tenant_id"],
            name=op.f("fk_ticketkit_tenant_settings_tenant_id"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "name", name=op.f("pk_ticketkit_tenant_settings")),
    )
    op.create_table(
        "ticketkit_organisation_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("name", _TEXT, nullable=False),
        *_value_columns(),
        sa.ForeignKeyConstraint(
            ["tenant_id", "organisation_id"],
            ["ticketkit_organisations.tenant_id", "ticketkit_organisations.id"],
            name=op.f("fk_ticketkit_organisation_settings_tenant_id_organisation_id"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "organisation_id", "name", name=op.f("pk_ticketkit_organisation_settings")
        ),
    )
    op.create_index(
        op.f(INDEX),
        "ticketkit_organisation_settings",
        ["tenant_id", "name", "organisation_id"],
    )


def downgrade() -> None:
    """Drop both tables and the values in them."""
    op.drop_index(
        op.f(INDEX),
        table_name="ticketkit_organisation_settings",
    )
    op.drop_table("ticketkit_organisation_settings")
    op.drop_table("ticketkit_tenant_settings")
