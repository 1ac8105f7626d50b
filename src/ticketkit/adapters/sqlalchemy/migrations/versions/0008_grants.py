"""Delegation grants, and a per-tenant number for every project.

Projects count 1, 2, 3 … per tenant (a supporter asks for access to a project by its
number); existing projects are numbered in the order they were created. Grants are one
row each: the project, its owner, exactly one grantee (a person or an organisation), the
scope, an optional expiry, the state and who made and decided it when.

On SQLite the projects table is rebuilt to make ``number`` NOT NULL and unique, which needs
foreign keys off while it runs (``ticketkit.adapters.sqlalchemy.upgrade`` does that).

Going back to 0007 drops the grants (every supporter loses its access) and the numbers.

Revision ID: ticketkit_0008
Revises: ticketkit_0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0008"
down_revision: str | Sequence[str] | None = "ticketkit_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column types frozen as of this revision (the live table modules may move on).
_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")
_TIME = sa.DateTime(timezone=True)
_PROJECTS = "ticketkit_projects"
_TABLE = "ticketkit_grants"
_UNIQUE = "uq_ticketkit_projects_tenant_id_number"

#: Index name → columns after ``tenant_id``.
_INDEXES: dict[str, tuple[str, ...]] = {
    f"ix_{_TABLE}_tenant_id_grantee_person_id_state": ("grantee_person_id", "state"),
    f"ix_{_TABLE}_tenant_id_grantee_organisation_id_state": ("grantee_organisation_id", "state"),
    f"ix_{_TABLE}_tenant_id_project_id": ("project_id",),
    f"ix_{_TABLE}_tenant_id_organisation_id_state": ("organisation_id", "state"),
}


def _fk(local: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", local],
        [f"{table}.tenant_id", f"{table}.id"],
        name=op.f(f"fk_{_TABLE}_tenant_id_{local}"),
        deferrable=True,
        initially="DEFERRED",
    )


def upgrade() -> None:
    """Number the projects by creation order per tenant; create the grants table."""
    op.add_column(_PROJECTS, sa.Column("number", sa.BigInteger(), nullable=True))
    op.execute(
        f"UPDATE {_PROJECTS} SET number = (SELECT r.n FROM (SELECT tenant_id, id, "
        "ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY created_at, ordinal, id) AS n "
        f"FROM {_PROJECTS}) r WHERE r.tenant_id = {_PROJECTS}.tenant_id "
        f"AND r.id = {_PROJECTS}.id)"
    )
    with op.batch_alter_table(_PROJECTS) as batch:
        batch.alter_column("number", existing_type=sa.BigInteger(), nullable=False)
        batch.create_unique_constraint(_UNIQUE, ["tenant_id", "number"])
    op.create_table(
        _TABLE,
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("grantee_person_id", sa.Uuid(), nullable=True),
        sa.Column("grantee_organisation_id", sa.Uuid(), nullable=True),
        sa.Column("scope", _TEXT, nullable=False),
        sa.Column("expires_at", _TIME, nullable=True),
        sa.Column("state", _TEXT, nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decided_at", _TIME, nullable=True),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "(grantee_person_id IS NULL) <> (grantee_organisation_id IS NULL)",
            name=op.f(f"ck_{_TABLE}_one_grantee"),
        ),
        _fk("project_id", "ticketkit_projects"),
        _fk("organisation_id", "ticketkit_organisations"),
        _fk("grantee_person_id", "ticketkit_persons"),
        _fk("grantee_organisation_id", "ticketkit_organisations"),
        _fk("created_by", "ticketkit_persons"),
        _fk("decided_by", "ticketkit_persons"),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f(f"pk_{_TABLE}")),
    )
    for index, keys in _INDEXES.items():
        op.create_index(op.f(index), _TABLE, ["tenant_id", *keys])


def downgrade() -> None:
    """Drop the grants and the projects' numbers."""
    for index in _INDEXES:
        op.drop_index(op.f(index), table_name=_TABLE)
    op.drop_table(_TABLE)
    with op.batch_alter_table(_PROJECTS) as batch:
        batch.drop_constraint(_UNIQUE, type_="unique")
        batch.drop_column("number")
