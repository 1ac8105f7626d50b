"""Agent groups (members, served projects), ticket followers, and each ticket's group.

A group is a team of agents that serves projects: a new ticket of a served project goes to
it, and its members hear of it. Followers of a ticket hear of what they may see of it.
Members, served projects and followers are relations of their own. ``group_id`` on tickets
is added here with its foreign key only; the indexes for listing by group come with the
list indexes of issue 17, point 7.

Going back to 0002 drops groups, followers and the tickets' group, but keeps the history:
events of the kinds this revision brought (``group_assigned``, ``follower_added``,
``follower_removed``) stay, and ticketkit releases before it cannot read them.

Revision ID: ticketkit_0004
Revises: ticketkit_0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "ticketkit_0004"
down_revision: str | Sequence[str] | None = "ticketkit_0002"
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
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_table_constraint(add=True)
    else:
        op.create_foreign_key(
            _TICKET_GROUP_FK,
            "ticketkit_tickets",
            "ticketkit_groups",
            ["tenant_id", "group_id"],
            ["tenant_id", "id"],
            deferrable=True,
            initially="DEFERRED",
        )


#: The tickets' reference to their group, named as the metadata's convention names it.
_TICKET_GROUP_FK = "fk_ticketkit_tickets_tenant_id_group_id"
_SQLITE_FK = (
    f", CONSTRAINT {_TICKET_GROUP_FK} FOREIGN KEY(tenant_id, group_id)"
    " REFERENCES ticketkit_groups (tenant_id, id) DEFERRABLE INITIALLY DEFERRED"
)


def _sqlite_table_constraint(*, add: bool) -> None:
    """Add (or remove) the tickets' composite foreign key on SQLite, which cannot alter a
    table's constraints. Rebuilding the table (batch mode) is no way either: dropping the
    old table, inside the migration's transaction and with foreign keys on, counts every
    comment, event and notification as a dangling reference. So the table's definition
    is changed in place, by SQLite's documented procedure for changes that leave the
    stored rows as they are (every ``group_id`` is NULL when it is added, and a removed
    constraint checks nothing)."""
    bind = op.get_bind()
    row = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ticketkit_tickets'"
    ).scalar_one()
    if add:
        if _SQLITE_FK in row:
            return
        end = row.rindex(")")
        changed = row[:end] + _SQLITE_FK + row[end:]
    else:
        changed = row.replace(_SQLITE_FK, "")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar_one()
    bind.exec_driver_sql("PRAGMA writable_schema = ON")
    try:
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'ticketkit_tickets'",
            (changed,),
        )
        bind.exec_driver_sql(f"PRAGMA schema_version = {int(version) + 1}")
    finally:
        bind.exec_driver_sql("PRAGMA writable_schema = OFF")


def downgrade() -> None:
    """Drop the ticket's group, then the followers and groups (dependants first)."""
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_table_constraint(add=False)
    else:
        op.drop_constraint(_TICKET_GROUP_FK, "ticketkit_tickets", type_="foreignkey")
    op.drop_column("ticketkit_tickets", "group_id")
    for table in (
        "ticketkit_ticket_followers",
        "ticketkit_group_projects",
        "ticketkit_group_members",
        "ticketkit_groups",
    ):
        op.drop_table(table)
