"""What the operations' multi-process tests share: a database other processes can open."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import PG_SCHEMA, POSTGRES_URL
from ticketkit.adapters.sqlalchemy import create_sqlite_engine, upgrade

#: An engine, the URL other processes open the same database by, and its schema (None on
#: SQLite).
Database = tuple[sa.Engine, str, str | None]


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Database:
    """An engine on a database other processes can open (a SQLite file, or the suite's
    PostgreSQL schema), its URL and schema."""
    if request.param == "sqlite":
        path = tmp_path / "shared.sqlite"
        engine = create_sqlite_engine(path)
        upgrade(engine)
        request.addfinalizer(engine.dispose)
        return engine, str(path), None
    return request.getfixturevalue("postgres_engine"), POSTGRES_URL, PG_SCHEMA
