"""Tickets carry their earliest SLA due time, so agent lists sort and filter by it on an
index. NULL for every existing ticket: it gets one with its next change under an SLA
policy. Going back to 0012 drops the column and its index.

Revision ID: ticketkit_0013
Revises: ticketkit_0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0013"
down_revision: str | Sequence[str] | None = "ticketkit_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column types frozen as of this revision (the live table modules may move on).
_TIME = sa.DateTime(timezone=True)
_TICKETS = "ticketkit_tickets"
_INDEX = "ix_ticketkit_tickets_tenant_id_sla_due_at_id"


def upgrade() -> None:
    """Add ``sla_due_at`` and the partial index of tickets that have one."""
    op.add_column(_TICKETS, sa.Column("sla_due_at", _TIME, nullable=True))
    where = sa.text("sla_due_at IS NOT NULL")
    op.create_index(
        _INDEX,
        _TICKETS,
        ["tenant_id", "sla_due_at", "id"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    """Drop the index and the column."""
    op.drop_index(_INDEX, table_name=_TICKETS)
    with op.batch_alter_table(_TICKETS) as batch:
        batch.drop_column("sla_due_at")
