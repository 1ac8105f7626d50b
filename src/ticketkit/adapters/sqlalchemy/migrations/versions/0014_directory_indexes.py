"""Directory reads that scanned a big tenant's organisations or people get an index each.

- Organisations by parent: only those with a parent. Most organisations are roots, and
  SQLite's statistics count their NULL parents as one value shared by nearly every row,
  so the planner judged ``parent_id = ?`` unselective and scanned the tenant's
  organisations in every person read (1.9 ms at 3,000 organisations; 0.19 ms now).
- Organisations by kind: the provider, which routing a customer's ticket to a group and
  the SLA clocks look up, was found by scanning them all.
- People by role: the assignable agents (a UI's assignee list) were found by scanning
  every customer's people.

Going back to 0013 drops the new indexes and restores the full index by parent.

Revision ID: ticketkit_0014
Revises: ticketkit_0013
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0014"
down_revision: str | Sequence[str] | None = "ticketkit_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ORGANISATIONS = "ticketkit_organisations"
_PERSONS = "ticketkit_persons"
_BY_PARENT = "ix_ticketkit_organisations_tenant_id_parent_id"
_BY_KIND = "ix_ticketkit_organisations_tenant_id_kind"
_BY_ROLE = "ix_ticketkit_persons_tenant_id_role"


def upgrade() -> None:
    """Index children only, and add the indexes by kind and by role."""
    op.drop_index(_BY_PARENT, table_name=_ORGANISATIONS)
    where = sa.text("parent_id IS NOT NULL")
    op.create_index(
        _BY_PARENT,
        _ORGANISATIONS,
        ["tenant_id", "parent_id"],
        sqlite_where=where,
        postgresql_where=where,
    )
    op.create_index(_BY_KIND, _ORGANISATIONS, ["tenant_id", "kind"])
    op.create_index(_BY_ROLE, _PERSONS, ["tenant_id", "role"])


def downgrade() -> None:
    """Drop the indexes by role and kind; index every organisation by parent again."""
    op.drop_index(_BY_ROLE, table_name=_PERSONS)
    op.drop_index(_BY_KIND, table_name=_ORGANISATIONS)
    op.drop_index(_BY_PARENT, table_name=_ORGANISATIONS)
    op.create_index(_BY_PARENT, _ORGANISATIONS, ["tenant_id", "parent_id"])
