"""SLA storage: calendars, policies, each ticket's clocks, firings and deferred actions.

Five new tables, nothing existing changes:

- ``ticketkit_sla_calendars`` and ``ticketkit_sla_policies``: the tenant's calendars and
  policies in their JSON storage form, a partial unique index keeping one default
  calendar per tenant;
- ``ticketkit_sla_clocks``: a row per ticket (its clocks' state, the fired keys and the
  instants a sweep and lists look for, each with its index);
- ``ticketkit_sla_firings``: the once-only firings, keyed (tenant, ticket, key);
- ``ticketkit_sla_actions``: escalation actions waiting for business hours, the waiting
  ones indexed by when they run.

Clocks, firings and actions refer to their ticket and are deleted with it. Going back to
0011 drops the five tables: every calendar, policy and clock is gone, and tickets stay.

Revision ID: ticketkit_0012
Revises: ticketkit_0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "ticketkit_0012"
down_revision: str | Sequence[str] | None = "ticketkit_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column types frozen as of this revision (the live table modules may move on).
_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")
_TIME = sa.DateTime(timezone=True)
_JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

_CALENDARS = "ticketkit_sla_calendars"
_POLICIES = "ticketkit_sla_policies"
_CLOCKS = "ticketkit_sla_clocks"
_FIRINGS = "ticketkit_sla_firings"
_ACTIONS = "ticketkit_sla_actions"
_DEFAULT = f"ix_{_CALENDARS}_default"
_WAITING = f"ix_{_ACTIONS}_waiting"
#: The plain indexes: table and columns (their names follow the naming convention).
_INDEXES: list[tuple[str, tuple[str, ...]]] = [
    (_CLOCKS, ("tenant_id", "next_firing_at", "ticket_id")),
    (_CLOCKS, ("tenant_id", "next_due_at", "ticket_id")),
    (_CLOCKS, ("tenant_id", "policy_id")),
    (_CLOCKS, ("tenant_id", "calendar_id")),
    (_ACTIONS, ("tenant_id", "ticket_id", "run_at", "id")),
]


def _ids() -> list[sa.Column[object]]:
    return [
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
    ]


def _tenant_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id"],
        ["ticketkit_tenants.tenant_id"],
        name=op.f(f"fk_{table}_tenant_id"),
        deferrable=True,
        initially="DEFERRED",
    )


def _ticket(table: str) -> list[sa.Column[object] | sa.ForeignKeyConstraint]:
    """The ``ticket_id`` column and its reference, deleted with the ticket."""
    return [
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "ticket_id"],
            ["ticketkit_tickets.tenant_id", "ticketkit_tickets.id"],
            name=op.f(f"fk_{table}_tenant_id_ticket_id"),
            ondelete="CASCADE",
            deferrable=True,
            initially="DEFERRED",
        ),
    ]


def upgrade() -> None:
    """Create the five SLA tables and their indexes."""
    op.create_table(
        _CALENDARS,
        *_ids(),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("definition", _JSON, nullable=False),
        _tenant_fk(_CALENDARS),
        sa.ForeignKeyConstraint(
            ["tenant_id", "organisation_id"],
            ["ticketkit_organisations.tenant_id", "ticketkit_organisations.id"],
            name=op.f(f"fk_{_CALENDARS}_tenant_id_organisation_id"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{_CALENDARS}")),
    )
    op.create_index(
        op.f(_DEFAULT),
        _CALENDARS,
        ["tenant_id"],
        unique=True,
        sqlite_where=sa.text("is_default"),
        postgresql_where=sa.text("is_default"),
    )
    op.create_table(
        _POLICIES,
        *_ids(),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("definition", _JSON, nullable=False),
        _tenant_fk(_POLICIES),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{_POLICIES}")),
    )
    op.create_table(
        _CLOCKS,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        *_ticket(_CLOCKS),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("calendar_id", sa.Uuid(), nullable=True),
        sa.Column("state", _JSON, nullable=False),
        sa.Column("fired", _JSON, nullable=False),
        sa.Column("next_firing_at", _TIME, nullable=True),
        sa.Column("next_due_at", _TIME, nullable=True),
        sa.Column("stale", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "ticket_id", name=op.f(f"pk_{_CLOCKS}")),
    )
    op.create_table(
        _FIRINGS,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        *_ticket(_FIRINGS),
        sa.Column("key", _TEXT, nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "ticket_id", "key", name=op.f(f"pk_{_FIRINGS}")),
    )
    op.create_table(
        _ACTIONS,
        *_ids(),
        *_ticket(_ACTIONS),
        sa.Column("firing_key", _TEXT, nullable=False),
        sa.Column("rule", _JSON, nullable=False),
        sa.Column("run_at", _TIME, nullable=False),
        sa.Column("state", _TEXT, nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{_ACTIONS}")),
    )
    op.create_index(
        op.f(_WAITING),
        _ACTIONS,
        ["tenant_id", "run_at", "id"],
        sqlite_where=sa.text("state = 'waiting'"),
        postgresql_where=sa.text("state = 'waiting'"),
    )
    for table, columns in _INDEXES:
        op.create_index(op.f("_".join(["ix", table, *columns])), table, list(columns))


def downgrade() -> None:
    """Drop the five SLA tables (their indexes go with them)."""
    for table in (_ACTIONS, _FIRINGS, _CLOCKS, _POLICIES, _CALENDARS):
        op.drop_table(table)
