"""What every table module shares: the one ``MetaData`` with its naming convention, and
the columns and keys that make every row belong to one tenant."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, Column, ForeignKeyConstraint, MetaData

from ticketkit.adapters.sqlalchemy.types import Id

#: Every table's name starts with this, so ticketkit's tables can live in a host's own
#: database beside tables of the same purpose (a host's ``projects`` or ``comments``);
#: the naming convention carries it into every index and constraint name.
PREFIX = "ticketkit_"

#: Names of indexes and constraints: their kind, the table, the columns. PostgreSQL cuts
#: names at 63 characters, so a foreign key is named by its own columns only (they tell it
#: apart within its table), and a longer index is named by hand.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


def name(table: str) -> str:
    """The full name of ticketkit's table ``table``: ``ticketkit_`` and ``table``."""
    return PREFIX + table


def fk(table: str, local: str) -> ForeignKeyConstraint:
    """A reference to a row of ``table`` in the same tenant: ``(tenant_id, local)``."""
    return ForeignKeyConstraint(
        ["tenant_id", local],
        [f"{table}.tenant_id", f"{table}.id"],
        deferrable=True,
        initially="DEFERRED",
    )


def tenant_fk() -> ForeignKeyConstraint:
    """A reference to the row's tenant."""
    return ForeignKeyConstraint(
        ["tenant_id"], [f"{name('tenants')}.tenant_id"], deferrable=True, initially="DEFERRED"
    )


def ids() -> list[Column[Any]]:
    """The key columns of a tenant's entity: ``tenant_id`` and ``id``."""
    return [
        Column("tenant_id", Id(), nullable=False),
        Column("id", Id(), nullable=False),
    ]


def ordinal() -> Column[int]:
    """An increasing stamp the adapter writes in insertion order: listings come out in the
    order rows were written, as they do from the memory adapter."""
    return Column("ordinal", BigInteger(), nullable=False)
