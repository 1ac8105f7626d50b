"""Shared fixtures: a manual clock, and storage parametrised over every adapter.

Every test works in a tenant of its own, so one migrated database per backend serves the
whole session. PostgreSQL runs when reachable; with CI=true an unreachable server fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.browser.chromium import report_header
from ticketkit.adapters.memory import MemoryStorage
from ticketkit.clock import ManualClock
from ticketkit.ports import Storage

POSTGRES_URL = os.environ.get(
    "TICKETKIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
#: One schema per pytest-xdist worker (``gw0``, ``gw1``, ...), so that workers never share tables.
PG_SCHEMA = "_".join(filter(None, ["ticketkit_tests", os.environ.get("PYTEST_XDIST_WORKER")]))
BACKENDS = ["memory", "sqlite", "postgres"]


def pytest_report_header() -> str:
    """The Chromium and Playwright the browser tests use (tests/browser/)."""
    return report_header()


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 5, 22, 12, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    from ticketkit.adapters.sqlalchemy import create_sqlite_engine, upgrade

    path: Path = tmp_path_factory.mktemp("sqlite") / "ticketkit.sqlite"
    engine = create_sqlite_engine(path)
    upgrade(engine)
    yield engine
    engine.dispose()


def postgres_or_skip(url: str = POSTGRES_URL) -> None:
    """Skip when PostgreSQL is unreachable — or fail, under CI, where it must be there."""
    probe = sa.create_engine(url, pool_pre_ping=True)
    try:
        with probe.connect() as conn:
            conn.execute(sa.text("select 1"))
    except Exception as exc:
        message = f"PostgreSQL not reachable at {url}: {exc.__class__.__name__}: {exc}"
        if _in_ci():
            pytest.fail(message + " (CI=true: PostgreSQL is required, not optional)")
        pytest.skip(message)
    finally:
        probe.dispose()


@pytest.fixture(scope="session")
def postgres_engine() -> Iterator[sa.Engine]:
    from ticketkit.adapters.sqlalchemy import create_postgres_engine, upgrade

    postgres_or_skip()
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {PG_SCHEMA}"))
    admin.dispose()
    engine = create_postgres_engine(
        POSTGRES_URL, connect_args={"options": f"-csearch_path={PG_SCHEMA}"}
    )
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def storage(backend: str, request: pytest.FixtureRequest) -> Storage:
    if backend == "memory":
        return MemoryStorage()
    from ticketkit.adapters.sqlalchemy import SqlStorage

    engine = request.getfixturevalue(f"{backend}_engine")
    return SqlStorage(engine)
