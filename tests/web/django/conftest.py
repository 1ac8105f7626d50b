"""Django configured for the integration's tests, on SQLite in memory and PostgreSQL.

pytest-django runs the tests in Django's own ``TestCase`` and ``TransactionTestCase``
machinery; Django is configured here, when these tests are collected, so the rest of the
suite runs as before. Each test runs on both databases: ``alias`` (in a ``TestCase``'s
transaction, rolled back afterwards) or ``committing_alias`` (a ``TransactionTestCase``:
real commits, tables flushed afterwards), with ``TICKETKIT["DATABASE"]`` set to it.
PostgreSQL joins when reachable; with CI=true an unreachable server fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

POSTGRES_URL = os.environ.get(
    "TICKETKIT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def _postgres_unreachable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    try:
        with psycopg.connect(url.render_as_string(hide_password=False), connect_timeout=3):
            return None
    except Exception as exc:
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}: {exc}"


UNREACHABLE = _postgres_unreachable()


def pytest_configure(config: pytest.Config) -> None:
    import django
    from django.conf import settings

    from tests.web.django.host import settings as host

    # Under CI the alias stays, so that an unreachable server fails the run loudly.
    use_postgres = UNREACHABLE is None or _in_ci()
    if not settings.configured:
        settings.configure(**host.settings(POSTGRES_URL if use_postgres else None))
        django.setup()


def _postgres_marks(transaction: bool) -> list[Any]:
    marks: list[Any] = [
        pytest.mark.postgres,
        pytest.mark.django_db(transaction=transaction, databases=["default", "postgres"]),
    ]
    if UNREACHABLE is not None and not _in_ci():
        marks.append(pytest.mark.skip(reason=UNREACHABLE))
    return marks


#: Django wraps each request in a transaction on every ``ATOMIC_REQUESTS`` database, so a
#: test on SQLite that sends a request must be allowed the PostgreSQL alias too when it exists.
SQLITE_DATABASES = ["default", "postgres"] if UNREACHABLE is None or _in_ci() else ["default"]


def _aliases(transaction: bool) -> list[Any]:
    return [
        pytest.param(
            "default",
            marks=pytest.mark.django_db(transaction=transaction, databases=SQLITE_DATABASES),
            id="sqlite",
        ),
        pytest.param("postgres", marks=_postgres_marks(transaction), id="postgres"),
    ]


@pytest.fixture(autouse=True)
def _recorder() -> Iterator[None]:
    from tests.web.django.host.plugins import RECORDER

    RECORDER.clear()
    yield
    RECORDER.clear()


def _on(alias: str, settings: Any) -> str:
    from tests.web.django.host.settings import TICKETKIT

    settings.TICKETKIT = {**TICKETKIT, "DATABASE": alias}
    return alias


@pytest.fixture(params=_aliases(transaction=False))
def alias(request: pytest.FixtureRequest, settings: Any) -> str:
    """The database under test, inside a ``TestCase`` transaction."""
    return _on(str(request.param), settings)


@pytest.fixture(params=_aliases(transaction=False)[1:])
def postgres_alias(request: pytest.FixtureRequest, settings: Any) -> str:
    """PostgreSQL, for what only it does, inside a ``TestCase`` transaction."""
    return _on(str(request.param), settings)


@pytest.fixture(params=_aliases(transaction=True))
def committing_alias(request: pytest.FixtureRequest, settings: Any) -> str:
    """The database under test, committing for real (a ``TransactionTestCase``)."""
    return _on(str(request.param), settings)
