"""Alembic environment for ticketkit's schema, standalone or inside a host's history.

Run through ``ticketkit.adapters.sqlalchemy.upgrade`` it uses the connection handed over in
``config.attributes["connection"]``; run from the ``alembic`` command line it connects to
``sqlalchemy.url``. Autogenerate only looks at ticketkit's own tables.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url

from ticketkit.adapters.sqlalchemy.engine import create_postgres_engine, create_sqlite_engine
from ticketkit.adapters.sqlalchemy.migrate import VERSION_TABLE
from ticketkit.adapters.sqlalchemy.tables import metadata


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    return type_ != "table" or name in metadata.tables


def _configure(**options: object) -> None:
    context.configure(
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_name=_include_name,
        compare_type=True,
        **options,  # type: ignore[arg-type]
    )


def _run(connection: Connection) -> None:
    _configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


def _engine_for(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return create_sqlite_engine(parsed.database)
    if parsed.get_backend_name() == "postgresql":
        return create_postgres_engine(parsed)
    return create_engine(parsed)


def run_online() -> None:
    """Migrate through the host's connection, or through one opened on ``sqlalchemy.url``."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = _engine_for(context.config.get_main_option("sqlalchemy.url", ""))
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def run_offline() -> None:
    """Emit the migration SQL for ``sqlalchemy.url``'s dialect instead of running it."""
    _configure(url=context.config.get_main_option("sqlalchemy.url"), literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
