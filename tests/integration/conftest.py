"""Engines for the SQL adapter's integration tests: SQLite always, PostgreSQL when reachable.

PostgreSQL work happens in schemas of its own (through ``search_path``), created fresh and
dropped afterwards. Schema names carry the host and process that made them, so a session
drops what aborted runs left behind without touching a concurrent session's schemas. An
unreachable server skips the PostgreSQL tests, except under ``CI=true`` where it fails them.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa

from ticketkit.adapters.sqlalchemy import create_postgres_engine, create_sqlite_engine, upgrade

POSTGRES_URL = os.environ.get(
    "TICKETKIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SCHEMA_PREFIX = "ticketkit_it_"
HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

Database = tuple[sa.Engine, Callable[[], None]]


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() == "true"


def _abandoned(schema: str) -> bool:
    """Whether ``schema`` was made on this host by a process that no longer runs."""
    parts = schema.removeprefix(SCHEMA_PREFIX).split("_")
    if len(parts) != 3 or parts[0] != HOST or not parts[1].isdigit():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[sa.Engine]:
    """An engine on the test server's default schema, after sweeping abandoned schemas."""
    admin = create_postgres_engine(POSTGRES_URL, connect_args={"connect_timeout": 10})
    try:
        with admin.begin() as conn:
            stale = list(
                conn.execute(
                    sa.text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :prefix"),
                    {"prefix": SCHEMA_PREFIX + "%"},
                ).scalars()
            )
            for name in filter(_abandoned, stale):
                conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
    except sa.exc.OperationalError as exc:
        admin.dispose()
        message = f"PostgreSQL is not reachable at {POSTGRES_URL}: {exc.orig}"
        if _in_ci():
            pytest.fail(f"{message} (CI=true: the PostgreSQL tests must run)", pytrace=False)
        pytest.skip(message)
    yield admin
    admin.dispose()


def new_database(backend: str, request: pytest.FixtureRequest) -> Database:
    """An empty database on ``backend`` (a new SQLite file or PostgreSQL schema) and a
    function that removes it again."""
    if backend == "sqlite":
        factory: pytest.TempPathFactory = request.getfixturevalue("tmp_path_factory")
        engine = create_sqlite_engine(factory.mktemp("sqlite") / "ticketkit.sqlite")
        return engine, engine.dispose
    admin: sa.Engine = request.getfixturevalue("postgres_admin")
    schema = f"{SCHEMA_PREFIX}{HOST}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine = create_postgres_engine(
        POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"}
    )

    def drop() -> None:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))

    return engine, drop


@pytest.fixture(scope="session", params=BACKENDS)
def sql_backend(request: pytest.FixtureRequest) -> str:
    """The backend under test; asking for PostgreSQL skips (or fails, in CI) without it."""
    backend = str(request.param)
    if backend == "postgres":
        request.getfixturevalue("postgres_admin")
    return backend


@pytest.fixture(scope="session")
def engine(sql_backend: str, request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """A database migrated to head, shared by the session's tests on this backend."""
    migrated, drop = new_database(sql_backend, request)
    upgrade(migrated)
    yield migrated
    drop()


@pytest.fixture
def empty_engine(sql_backend: str, request: pytest.FixtureRequest) -> Iterator[sa.Engine]:
    """A fresh database with no tables at all."""
    empty, drop = new_database(sql_backend, request)
    yield empty
    drop()
