"""Grant offers a grantee accepts by token: the hash of the offer's last token.

Only a SHA-256 hash of the token's secret is stored, bound to its tenant and grant (as for
invitations); NULL for every existing grant (no token was sent: they are accepted in the
app). Going back to 0010 drops the column: tokens sent until then stop working.

Revision ID: ticketkit_0011
Revises: ticketkit_0010
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0011"
down_revision: str | Sequence[str] | None = "ticketkit_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_GRANTS = "ticketkit_grants"


def upgrade() -> None:
    """Add the offer token's hash to grants."""
    op.add_column(_GRANTS, sa.Column("offer_token_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    """Drop the offer token's hash."""
    with op.batch_alter_table(_GRANTS) as batch:
        batch.drop_column("offer_token_hash")
