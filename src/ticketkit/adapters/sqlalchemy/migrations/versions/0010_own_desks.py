"""A customer's own help desk: projects its agents serve, and groups of its own.

Projects gain ``own_desk`` (false for every existing project: the provider serves them all)
and groups an owning organisation (NULL for every existing group: the provider's). On
SQLite the groups table is rebuilt for the new foreign key. The role ``customer_agent``
needs no schema change (roles are stored as text).

Going back to 0009 drops both: every project is the provider's to serve again, and every
group the provider's (a customer agent still stored keeps a role the older code refuses to
load, so remove or re-role them before going back).

Revision ID: ticketkit_0010
Revises: ticketkit_0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0010"
down_revision: str | Sequence[str] | None = "ticketkit_0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PROJECTS = "ticketkit_projects"
_GROUPS = "ticketkit_groups"
_FK = f"fk_{_GROUPS}_tenant_id_organisation_id"
_INDEX = f"ix_{_GROUPS}_tenant_id_organisation_id"


def upgrade() -> None:
    """Add ``own_desk`` to projects and an owning organisation to groups."""
    with op.batch_alter_table(_PROJECTS) as batch:
        batch.add_column(
            sa.Column("own_desk", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table(_PROJECTS) as batch:
        # The default only filled the existing rows; the adapter always writes it.
        batch.alter_column("own_desk", existing_type=sa.Boolean(), server_default=None)
    with op.batch_alter_table(_GROUPS) as batch:
        batch.add_column(sa.Column("organisation_id", sa.Uuid(), nullable=True))
        batch.create_foreign_key(
            op.f(_FK),
            "ticketkit_organisations",
            ["tenant_id", "organisation_id"],
            ["tenant_id", "id"],
            deferrable=True,
            initially="DEFERRED",
        )
    op.create_index(op.f(_INDEX), _GROUPS, ["tenant_id", "organisation_id"])


def downgrade() -> None:
    """Drop the groups' owners and the projects' own-desk flag."""
    op.drop_index(op.f(_INDEX), table_name=_GROUPS)
    with op.batch_alter_table(_GROUPS) as batch:
        batch.drop_constraint(op.f(_FK), type_="foreignkey")
        batch.drop_column("organisation_id")
    with op.batch_alter_table(_PROJECTS) as batch:
        batch.drop_column("own_desk")
