"""Magic-link invitations: one row per invitation, holding a hash of its token (never the
token), whom it is for, when it expires and how it was closed (used, superseded by a newer
one, withdrawn with the person's access).

Going back to 0005 drops the table: every invitation not yet redeemed stops working.

Revision ID: ticketkit_0006
Revises: ticketkit_0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0006"
down_revision: str | Sequence[str] | None = "ticketkit_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column types frozen as of this revision (the live table modules may move on).
_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")
_TIME = sa.DateTime(timezone=True)
_TABLE = "ticketkit_invitations"


def _person_fk(local: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", local],
        ["ticketkit_persons.tenant_id", "ticketkit_persons.id"],
        name=op.f(f"fk_{_TABLE}_tenant_id_{local}"),
        deferrable=True,
        initially="DEFERRED",
    )


def upgrade() -> None:
    """Create the invitations table and its index of a person's invitations."""
    op.create_table(
        _TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("expires_at", _TIME, nullable=False),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.Column("closed", _TEXT, nullable=True),
        _person_fk("person_id"),
        _person_fk("created_by"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{_TABLE}")),
    )
    op.create_index(op.f(f"ix_{_TABLE}_tenant_id_person_id"), _TABLE, ["tenant_id", "person_id"])


def downgrade() -> None:
    """Drop the invitations."""
    op.drop_index(op.f(f"ix_{_TABLE}_tenant_id_person_id"), table_name=_TABLE)
    op.drop_table(_TABLE)
