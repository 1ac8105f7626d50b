"""SQL storage for ticketkit: SQLAlchemy Core on SQLite or PostgreSQL, Alembic-migrated."""

from ticketkit.adapters.sqlalchemy.engine import (
    create_engine_from_url,
    create_postgres_engine,
    create_sqlite_engine,
)
from ticketkit.adapters.sqlalchemy.migrate import alembic_config, downgrade, upgrade
from ticketkit.adapters.sqlalchemy.tables import metadata
from ticketkit.adapters.sqlalchemy.unit_of_work import SqlStorage, SqlUnitOfWork

__all__ = [
    "SqlStorage",
    "SqlUnitOfWork",
    "alembic_config",
    "create_engine_from_url",
    "create_postgres_engine",
    "create_sqlite_engine",
    "downgrade",
    "metadata",
    "upgrade",
]
