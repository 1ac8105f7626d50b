"""The index of organisations by parent holds only those with a parent. Most organisations
are roots, and SQLite's statistics count their NULL parents as one value shared by nearly
every row: the planner then judged ``parent_id = ?`` unselective and scanned the tenant's
organisations in every person read (whether their organisation has children), 1.9 ms at
3,000 organisations. A partial index counts only the children. Going back to 0013
restores the full index.

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
_INDEX = "ix_ticketkit_organisations_tenant_id_parent_id"
_COLUMNS = ["tenant_id", "parent_id"]


def upgrade() -> None:
    """Replace the index by one of the organisations that have a parent."""
    op.drop_index(_INDEX, table_name=_ORGANISATIONS)
    where = sa.text("parent_id IS NOT NULL")
    op.create_index(_INDEX, _ORGANISATIONS, _COLUMNS, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    """Restore the index of every organisation."""
    op.drop_index(_INDEX, table_name=_ORGANISATIONS)
    op.create_index(_INDEX, _ORGANISATIONS, _COLUMNS)
