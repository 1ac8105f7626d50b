"""Agent groups (members, served projects), ticket followers, and each ticket's group.

A group is a team of agents that serves projects: a new ticket of a served project goes to
it, and its members hear of it. Followers of a ticket hear of what they may see of it.
Members, served projects and followers are relations of their own. ``group_id`` on tickets
comes with its foreign key and the indexes of a group's lists (by last update, with or
without a status filter). On SQLite adding the reference rebuilds the tickets table, with
foreign keys off as ``upgrade`` runs it (see 0003).

Going back to 0003 drops groups, followers and the tickets' group, but keeps the history:
events of the kinds this revision brought (``group_assigned``, ``follower_added``,
``follower_removed``) stay, and ticketkit releases before it cannot read them.

Revision ID: ticketkit_0004
Revises: ticketkit_0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0004"
down_revision: str | Sequence[str] | None = "ticketkit_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Column types frozen as of this revision (the live table modules may move on).
_TEXT = sa.String().with_variant(sa.String(collation="C"), "postgresql")
_TIME = sa.DateTime(timezone=True)


def _fk(table: str, local: str, remote: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", local],
        [f"{remote}.tenant_id", f"{remote}.id"],
        name=op.f(f"fk_{table}_tenant_id_{local}"),
        deferrable=True,
        initially="DEFERRED",
    )


def _index(table: str, *columns: str) -> None:
    op.create_index(op.f("_".join(["ix", table, *columns])), table, list(columns))


def _tenant_id() -> sa.Column[object]:
    return sa.Column("tenant_id", sa.Uuid(), nullable=False)


def upgrade() -> None:
    """Create the groups, their members and projects, ticket followers; add the ticket's
    group."""
    op.create_table(
        "ticketkit_groups",
        _tenant_id(),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", _TEXT, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["ticketkit_tenants.tenant_id"],
            name=op.f("fk_ticketkit_groups_tenant_id"),
            deferrable=True,
            initially="DEFERRED",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_ticketkit_groups")),
    )
    op.create_table(
        "ticketkit_group_members",
        _tenant_id(),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        _fk("ticketkit_group_members", "group_id", "ticketkit_groups"),
        _fk("ticketkit_group_members", "person_id", "ticketkit_persons"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "group_id", "person_id", name=op.f("pk_ticketkit_group_members")
        ),
    )
    _index("ticketkit_group_members", "tenant_id", "person_id")
    op.create_table(
        "ticketkit_group_projects",
        _tenant_id(),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("project_id", sa.Uuid(), nullable=False),
        _fk("ticketkit_group_projects", "group_id", "ticketkit_groups"),
        _fk("ticketkit_group_projects", "project_id", "ticketkit_projects"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "group_id", "project_id", name=op.f("pk_ticketkit_group_projects")
        ),
    )
    _index("ticketkit_group_projects", "tenant_id", "project_id", "group_id")
    op.create_table(
        "ticketkit_ticket_followers",
        _tenant_id(),
        sa.Column("ticket_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("ordinal", sa.BigInteger(), nullable=False),
        _fk("ticketkit_ticket_followers", "ticket_id", "ticketkit_tickets"),
        _fk("ticketkit_ticket_followers", "person_id", "ticketkit_persons"),
        sa.PrimaryKeyConstraint(
            "tenant_id", "ticket_id", "person_id", name=op.f("pk_ticketkit_ticket_followers")
        ),
    )
    _index("ticketkit_ticket_followers", "tenant_id", "person_id")
    op.add_column("ticketkit_tickets", sa.Column("group_id", sa.Uuid(), nullable=True))
    with op.batch_alter_table("ticketkit_tickets") as batch:
        batch.create_foreign_key(
            _TICKET_GROUP_FK,
            "ticketkit_groups",
            ["tenant_id", "group_id"],
            ["tenant_id", "id"],
            deferrable=True,
            initially="DEFERRED",
        )
    for name, columns in _GROUP_LISTS.items():
        op.create_index(op.f(name), "ticketkit_tickets", ["tenant_id", *columns])


#: The tickets' reference to their group, named as the metadata's convention names it.
_TICKET_GROUP_FK = "fk_ticketkit_tickets_tenant_id_group_id"
#: A group's lists on the agent desk: by last update, and in one status.
_GROUP_LISTS: dict[str, tuple[str, ...]] = {
    "ix_ticketkit_tickets_tenant_id_group_id_updated_at_id": ("group_id", "updated_at", "id"),
    "ix_ticketkit_tickets_tenant_id_group_id_status_updated_at_id": (
        "group_id",
        "status",
        "updated_at",
        "id",
    ),
}


def downgrade() -> None:
    """Drop the ticket's group, then the followers and groups (dependants first)."""
    for name in _GROUP_LISTS:
        op.drop_index(op.f(name), table_name="ticketkit_tickets")
    with op.batch_alter_table("ticketkit_tickets") as batch:
        batch.drop_constraint(_TICKET_GROUP_FK, type_="foreignkey")
        batch.drop_column("group_id")
    for table in (
        "ticketkit_ticket_followers",
        "ticketkit_group_projects",
        "ticketkit_group_members",
        "ticketkit_groups",
    ):
        op.drop_table(table)
