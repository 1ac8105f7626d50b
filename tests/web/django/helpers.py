"""What the Django tests share: counting rows, as this connection and as another one sees
them, and a test client signed in as a ticketkit person."""

from __future__ import annotations

from typing import Any

from django.db import connections

from ticketkit.adapters.sqlalchemy import metadata
from ticketkit.domain.model import Actor
from ticketkit.web.principals import remember


def rows(alias: str, table: str) -> int:
    """Rows of ``table`` as Django's connection (inside its transaction) sees them."""
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {table}")
        return int(cursor.fetchone()[0])


def committed_rows(alias: str, table: str) -> int:
    """Rows of ``table`` as another connection sees them: what is committed."""
    other = connections.create_connection(alias)
    try:
        with other.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")
            return int(cursor.fetchone()[0])
    finally:
        other.close()


def ticketkit_rows(alias: str) -> dict[str, int]:
    """ticketkit's tables that hold rows, and how many."""
    found = {table: rows(alias, table) for table in metadata.tables}
    return {table: count for table, count in found.items() if count}


def signed_in(client: Any, actor: Actor) -> Any:
    """``client`` with ``actor`` kept in its session, as ``sign_in`` keeps her."""
    session = client.session
    remember(session, actor)
    session.save()
    return client
