"""Ticket numbers count per project; the tickets' indexes are the lists portals show.

Numbers per tenant let a customer read, from the gap between two of her tickets' numbers,
how many tickets were opened meanwhile in projects she may not see. Existing tickets keep
their numbers (mails and links name them); each project's counter continues from its
highest number.

The list indexes end in ``id``, the tie-breaker of every sort, and serve each list a portal
or desk shows in its order (see ``tables/ticketing.py``).

On SQLite the tickets table is rebuilt (its unique constraint cannot be dropped in place),
which needs foreign keys off while it runs: ``ticketkit.adapters.sqlalchemy.upgrade`` does
that, a host's own Alembic environment must too (Alembic's advice for batch migrations).

Revision ID: ticketkit_0003
Revises: ticketkit_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0003"
down_revision: str | Sequence[str] | None = "ticketkit_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TICKETS = "ticketkit_tickets"
_COUNTERS = "ticketkit_ticket_counters"

_OLD_INDEXES: tuple[tuple[str, str], ...] = (
    ("project_id", "number"),
    ("assignee_id", "number"),
    ("status_category", "number"),
    ("requester_id", "number"),
    ("updated_at", "number"),
    ("public_updated_at", "number"),
)
#: Index name → columns after ``tenant_id``.
_NEW_INDEXES: dict[str, tuple[str, ...]] = {
    "ix_ticketkit_tickets_tenant_id_project_id_public_updated_at_id": (
        "project_id",
        "public_updated_at",
        "id",
    ),
    "ix_ticketkit_tickets_tenant_id_project_id_created_at_id": ("project_id", "created_at", "id"),
    "ix_ticketkit_tickets_tenant_id_updated_at_id": ("updated_at", "id"),
    "ix_ticketkit_tickets_tenant_id_status_updated_at_id": ("status", "updated_at", "id"),
    "ix_ticketkit_tickets_tenant_id_status_category_updated_at_id": (
        "status_category",
        "updated_at",
        "id",
    ),
    "ix_ticketkit_tickets_tenant_id_assignee_id_updated_at_id": ("assignee_id", "updated_at", "id"),
    "ix_ticketkit_tickets_tenant_assignee_status_updated": (
        "assignee_id",
        "status",
        "updated_at",
        "id",
    ),
    "ix_ticketkit_tickets_tenant_id_created_at_id": ("created_at", "id"),
    "ix_ticketkit_tickets_tenant_id_requester_id_created_at_id": (
        "requester_id",
        "created_at",
        "id",
    ),
}


def _old_index_name(columns: Sequence[str]) -> str:
    return "ix_ticketkit_tickets_tenant_id_" + "_".join(columns)


def _counters_table(*, per_project: bool) -> None:
    columns = [sa.Column("tenant_id", sa.Uuid(), nullable=False)]
    key = ["tenant_id"]
    if per_project:
        columns.append(sa.Column("project_id", sa.Uuid(), nullable=False))
        key.append("project_id")
        reference = sa.ForeignKeyConstraint(
            ["tenant_id", "project_id"],
            ["ticketkit_projects.tenant_id", "ticketkit_projects.id"],
            name=op.f("fk_ticketkit_ticket_counters_tenant_id_project_id"),
            deferrable=True,
            initially="DEFERRED",
        )
    else:
        reference = sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["ticketkit_tenants.tenant_id"],
            name=op.f("fk_ticketkit_ticket_counters_tenant_id"),
            deferrable=True,
            initially="DEFERRED",
        )
    op.create_table(
        _COUNTERS,
        *columns,
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "last_number >= 0", name=op.f("ck_ticketkit_ticket_counters_last_number_not_negative")
        ),
        reference,
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_ticketkit_ticket_counters")),
    )
    if per_project:
        # Every project has its counter (taking a number never has to create one).
        op.execute(
            f"INSERT INTO {_COUNTERS} (tenant_id, project_id, last_number) "
            "SELECT p.tenant_id, p.id, COALESCE(MAX(t.number), 0) "
            f"FROM ticketkit_projects p LEFT JOIN {_TICKETS} t "
            "ON t.tenant_id = p.tenant_id AND t.project_id = p.id "
            "GROUP BY p.tenant_id, p.id"
        )
    else:
        op.execute(
            f"INSERT INTO {_COUNTERS} (tenant_id, last_number) "
            "SELECT tenant_id, MAX(number) FROM ticketkit_tickets GROUP BY tenant_id"
        )


def upgrade() -> None:
    """Count numbers per project, and index the tickets by the lists that show them."""
    op.drop_table(_COUNTERS)
    _counters_table(per_project=True)
    for columns in _OLD_INDEXES:
        op.drop_index(op.f(_old_index_name(columns)), table_name=_TICKETS)
    with op.batch_alter_table(_TICKETS) as batch:
        batch.drop_constraint("uq_ticketkit_tickets_tenant_id_number", type_="unique")
        batch.create_unique_constraint(
            "uq_ticketkit_tickets_tenant_id_project_id_number",
            ["tenant_id", "project_id", "number"],
        )
    for index, keys in _NEW_INDEXES.items():
        op.create_index(op.f(index), _TICKETS, ["tenant_id", *keys])


def downgrade() -> None:
    """Back to numbers per tenant: refused once two projects of a tenant share a number."""
    bind = op.get_bind()
    clash = bind.execute(
        sa.text(
            f"SELECT tenant_id, number FROM {_TICKETS} GROUP BY tenant_id, number "
            "HAVING COUNT(*) > 1"
        )
    ).first()
    if clash is not None:
        raise RuntimeError(
            "cannot return to ticket numbers per tenant: projects of one tenant "
            "already share ticket numbers"
        )
    for index in _NEW_INDEXES:
        op.drop_index(op.f(index), table_name=_TICKETS)
    with op.batch_alter_table(_TICKETS) as batch:
        batch.drop_constraint("uq_ticketkit_tickets_tenant_id_project_id_number", type_="unique")
        batch.create_unique_constraint(
            "uq_ticketkit_tickets_tenant_id_number", ["tenant_id", "number"]
        )
    for columns in _OLD_INDEXES:
        op.create_index(op.f(_old_index_name(columns)), _TICKETS, ["tenant_id", *columns])
    op.drop_table(_COUNTERS)
    _counters_table(per_project=False)
