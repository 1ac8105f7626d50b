"""Tickets count their history events per (visibility, actor organisation).

A person's version of a ticket and the positions in their timeline count only the events
they may see; the tally answers that without a query, as ``comment_tally`` does for
comments. Existing tickets get their tally from their events.

Revision ID: ticketkit_0002
Revises: ticketkit_0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ticketkit_0002"
down_revision: str | Sequence[str] | None = "ticketkit_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Add ``event_tally`` to every ticket, counted from its events."""
    op.add_column(
        "ticketkit_tickets",
        sa.Column("event_tally", _JSON, nullable=False, server_default=sa.text("'[]'")),
    )
    events = sa.table(
        "ticketkit_events",
        sa.column("tenant_id", sa.Uuid()),
        sa.column("ticket_id", sa.Uuid()),
        sa.column("visibility", sa.String()),
        sa.column("organisation_id", sa.Uuid()),
    )
    tickets = sa.table(
        "ticketkit_tickets",
        sa.column("tenant_id", sa.Uuid()),
        sa.column("id", sa.Uuid()),
        sa.column("event_tally", _JSON),
    )
    bind = op.get_bind()
    counted = bind.execute(
        sa.select(
            events.c.tenant_id,
            events.c.ticket_id,
            events.c.visibility,
            events.c.organisation_id,
            sa.func.count(),
        ).group_by(
            events.c.tenant_id, events.c.ticket_id, events.c.visibility, events.c.organisation_id
        )
    ).all()
    tallies: dict[tuple[uuid.UUID, uuid.UUID], list[list[object]]] = {}
    for tenant_id, ticket_id, visibility, organisation_id, n in counted:
        tallies.setdefault((tenant_id, ticket_id), []).append(
            [visibility, str(organisation_id), int(n)]
        )
    update = (
        tickets.update()
        .where(tickets.c.tenant_id == sa.bindparam("t"), tickets.c.id == sa.bindparam("i"))
        .values(event_tally=sa.bindparam("tally", type_=_JSON))
    )
    rows = [{"t": t, "i": i, "tally": sorted(tally)} for (t, i), tally in tallies.items()]
    if rows:
        bind.execute(update, rows)


def downgrade() -> None:
    """Drop the tally again (SQLite drops a column in place since 3.35)."""
    op.drop_column("ticketkit_tickets", "event_tally")
