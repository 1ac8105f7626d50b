"""ticketkit's tables in a Django database: made by ``migrate``, emptied by ``flush``.

ticketkit's schema is its Alembic history. Each of this app's Django migrations runs that
history up to one revision on Django's own connection, inside the migration's transaction
(on SQLite with foreign keys off, as Django's schema editor keeps them while migrating);
unapplying it runs Alembic's downgrade back to the revision before. A ticketkit release that
adds an Alembic revision adds a Django migration that steps to it.
"""

from __future__ import annotations

from typing import Any

from django.db import connections, migrations, transaction

from ticketkit.adapters.sqlalchemy.migrate import alembic_config
from ticketkit.adapters.sqlalchemy.tables import metadata
from ticketkit.web.django.storage import engine_for


def run_alembic(alias: str, command: str, revision: str) -> None:
    """Alembic's ``upgrade`` or ``downgrade`` to ``revision`` on Django's connection
    ``alias``, in Django's current transaction."""
    from alembic import command as commands  # noqa: PLC0415 - a quarter second to import

    run = {"upgrade": commands.upgrade, "downgrade": commands.downgrade}[command]
    with engine_for(alias).connect() as connection:
        run(alembic_config(connection), revision)


def alembic_step(revision: str, previous: str | None) -> Any:
    """A Django migration operation (``RunPython``) that upgrades ticketkit's schema to
    ``revision`` and, unapplied, downgrades it to ``previous`` (None: no table left)."""

    def forward(apps: Any, schema_editor: Any) -> None:
        run_alembic(schema_editor.connection.alias, "upgrade", revision)

    def backward(apps: Any, schema_editor: Any) -> None:
        run_alembic(schema_editor.connection.alias, "downgrade", previous or "base")

    forward.__doc__ = f"ticketkit's Alembic upgrade to {revision}"
    backward.__doc__ = f"ticketkit's Alembic downgrade to {previous or 'base'}"
    operation = migrations.RunPython(forward, backward)
    operation.ticketkit_revision = revision
    return operation


def clear_tables(alias: str) -> list[str]:
    """Empty ticketkit's tables on ``alias`` (those that exist), keeping Alembic's version
    table: what ``flush`` does to the models' tables. Returns the tables emptied."""
    connection = connections[alias]
    existing = set(connection.introspection.table_names())
    names = [t.name for t in reversed(metadata.sorted_tables) if t.name in existing]
    if not names:
        return []
    quote = connection.ops.quote_name
    with transaction.atomic(using=alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE " + ", ".join(quote(name) for name in names))
        else:
            for name in names:  # children first; the foreign keys are deferred anyway
                cursor.execute(f"DELETE FROM {quote(name)}")
    return names


__all__ = ["alembic_step", "clear_tables", "run_alembic"]
