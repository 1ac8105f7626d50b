"""ticketkit's Alembic migrations, run programmatically on a host's engine.

Alembic is imported only when migrating: it adds a quarter second to import time. A host
with its own Alembic history may instead add ``SCRIPT_LOCATION``'s versions folder to its
``version_locations`` (see docs/storage.md), but never both on one database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine

if TYPE_CHECKING:
    from alembic.config import Config

#: Where Alembic finds ticketkit's migration environment (a package resource).
SCRIPT_LOCATION = "ticketkit.adapters.sqlalchemy:migrations"
#: The version table ticketkit's own environment writes, apart from any host's table.
VERSION_TABLE = "ticketkit_alembic_version"


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for ticketkit's own migration history on ``connection``."""
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply ticketkit's migrations up to ``revision`` (all of them by default)."""
    from alembic import command  # noqa: PLC0415

    with _migrating(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str = "base") -> None:
    """Revert ticketkit's migrations down to ``revision`` (everything by default)."""
    from alembic import command  # noqa: PLC0415

    with _migrating(engine) as connection:
        command.downgrade(alembic_config(connection), revision)


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction to migrate in. On SQLite with foreign keys off, as rebuilding a
    table that others refer to needs (Alembic's batch mode): the references are checked
    before the commit instead, and a violation rolls the whole migration back."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as connection:
            yield connection
        return
    with engine.connect() as connection:
        # Outside any transaction: inside one, SQLite ignores the pragma.
        raw = connection.connection.driver_connection
        assert raw is not None
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                yield connection
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if broken is not None:
                    raise RuntimeError(f"migration left a broken reference in table {broken[0]}")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")


__all__ = ["SCRIPT_LOCATION", "VERSION_TABLE", "alembic_config", "downgrade", "upgrade"]
