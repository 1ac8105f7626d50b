"""The app itself: ``ready()`` touches no database, the ``TICKETKIT`` setting is checked,
and ``migrate`` makes (and unapplied, removes) ticketkit's tables."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connections
from django.test.utils import CaptureQueriesContext

from tests.support.alone import run_alone
from tests.web.django.host.settings import TICKETKIT
from ticketkit.adapters.sqlalchemy import metadata
from ticketkit.adapters.sqlalchemy.migrate import VERSION_TABLE
from ticketkit.web.django import get_desk
from ticketkit.web.django.conf import check_settings, load

TICKETKIT_TABLES = set(metadata.tables)


def alembic_head() -> str:
    from alembic.script import ScriptDirectory

    from ticketkit.adapters.sqlalchemy import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


# -- ready() ----------------------------------------------------------------------------------


@pytest.mark.django_db(databases=["default"])
def test_ready_runs_no_query() -> None:
    config = apps.get_app_config("ticketkit")
    with CaptureQueriesContext(connections["default"]) as queries:
        config.ready()
    assert config.label == "ticketkit"
    assert len(queries) == 0


def test_setup_and_the_system_check_run_with_the_database_unreachable() -> None:
    """Django's start-up (every app's ``ready()``) and ``check`` against a PostgreSQL that
    refuses connections: nothing of ticketkit's needs a database before it is used."""
    script = textwrap.dedent(
        """
        import django
        from django.conf import settings
        from django.core.management import call_command
        settings.configure(
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                            "django.contrib.sessions", "ticketkit.web.django"],
            MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                        "ticketkit.web.django.middleware.TicketkitMiddleware"],
            DATABASES={"default": {"ENGINE": "django.db.backends.postgresql",
                                   "HOST": "127.0.0.1", "PORT": "9", "NAME": "nowhere",
                                   "OPTIONS": {"connect_timeout": 1}}},
            TICKETKIT={"DELIVERY": "background"},
        )
        django.setup()
        call_command("check", fail_level="ERROR")
        from django.db import connection
        try:
            connection.ensure_connection()
        except Exception as exc:
            print("unreachable:", type(exc).__name__)
        """
    )
    done = run_alone(script)
    assert "System check identified no issues" in done.stdout
    assert "unreachable: OperationalError" in done.stdout


def test_a_database_outage_answers_503_on_the_hosts_problem_page_as_for_a_visitor(
    tmp_path: Path,
) -> None:
    """Requests against a PostgreSQL that refuses connections: a signed-in guest's (her
    principal cannot be resolved) and a visitor's whose view reads the desk. Both answer
    503 on the host's problem page, drawn as for a visitor (the brand's defaults, nobody
    signed in) without reading the database again."""
    pages = tmp_path / "templates" / "ticketkit"
    pages.mkdir(parents=True)
    (pages / "problem.html").write_text(
        "{{ request.ticketkit.brand.name }}|{{ request.ticketkit.actor }}|{{ problem.title }}"
    )
    script = textwrap.dedent(
        f"""
        import uuid
        import django
        from django.conf import settings
        from django.http import HttpResponse
        from django.urls import path
        settings.configure(
            SECRET_KEY="outage", ALLOWED_HOSTS=["testserver"], ROOT_URLCONF=__name__,
            INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                            "django.contrib.sessions", "ticketkit.web.django"],
            MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware",
                        "ticketkit.web.django.middleware.TicketkitMiddleware"],
            SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
            DATABASES={{"default": {{"ENGINE": "django.db.backends.postgresql",
                                    "HOST": "127.0.0.1", "PORT": "9", "NAME": "nowhere",
                                    "OPTIONS": {{"connect_timeout": 1}}}}}},
            TEMPLATES=[{{"BACKEND": "django.template.backends.django.DjangoTemplates",
                        "DIRS": [{str(tmp_path / "templates")!r}],
                        "OPTIONS": {{"context_processors":
                                    ["django.template.context_processors.request"]}}}}],
            TICKETKIT={{"DELIVERY": "background", "BRAND_NAME": "Acme Portal"}},
        )
        django.setup()
        from django.contrib.sessions.backends.signed_cookies import SessionStore
        from django.test import Client
        from ticketkit.domain.model import Actor
        from ticketkit.web.principals import remember
        someone = Actor(tenant_id=uuid.uuid4(), person_id=uuid.uuid4())

        def tickets(request):
            desk = request.ticketkit.desk
            desk.list_tickets(request.ticketkit.actor or someone)
            return HttpResponse("listed")

        urlpatterns = [path("tickets", tickets)]
        session = SessionStore()
        remember(session, someone)
        session.save()
        guest = Client()
        guest.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
        for who, client in (("guest", guest), ("visitor", Client())):
            answer = client.get("/tickets")
            print(who, answer.status_code, answer.content.decode())
        """
    )
    done = run_alone(script)
    unavailable = "Acme Portal|None|The help desk is unavailable; try again"
    assert done.stdout.splitlines() == [f"guest 503 {unavailable}", f"visitor 503 {unavailable}"]


# -- the system check -----------------------------------------------------------------------


def ids(settings: Any, value: object) -> list[str]:
    settings.TICKETKIT = value
    return [message.id for message in check_settings()]


def test_the_hosts_own_settings_pass_the_check(settings: Any) -> None:
    assert ids(settings, TICKETKIT) == []
    assert ids(settings, {}) == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("default", ["ticketkit.E001"]),
        ({"DATABSE": "default"}, ["ticketkit.E001"]),
        ({"DATABASE": "nowhere"}, ["ticketkit.E002"]),
        ({"DATABASE": 1}, ["ticketkit.E002"]),
        ({"DATABASE": "elsewhere"}, ["ticketkit.E003"]),
        ({"PLUGINS": "tests.web.django.host.plugins.RECORDER"}, ["ticketkit.E004"]),
        ({"PLUGINS": ["tests.web.django.host.plugins.NO_SUCH"]}, ["ticketkit.E004"]),
        ({"PLUGINS": ["recorder"]}, ["ticketkit.E004"]),
        ({"PERSON_FOR_USER": "tests.web.django.host.people.nobody"}, ["ticketkit.E005"]),
        ({"PERSON_FOR_USER": "tests.web.django.host.settings.TICKETKIT"}, ["ticketkit.E005"]),
        ({"DELIVERY": "sometimes"}, ["ticketkit.E006"]),
        ({"DELIVERY_TIMEOUT": 0}, ["ticketkit.E007"]),
        ({"DELIVERY_TIMEOUT": "5"}, ["ticketkit.E007"]),
        ({"DELIVERY_TIMEOUT": True}, ["ticketkit.E007"]),
        ({"ACKNOWLEDGE_WITHIN": -1}, ["ticketkit.E007"]),
        ({"ACKNOWLEDGE_WITHIN": float("nan")}, ["ticketkit.E007"]),
        ({"BRAND_NAME": ""}, ["ticketkit.E009"]),
        ({"BRAND_NAME": "   "}, ["ticketkit.E009"]),
        ({"BRAND_NAME": None}, ["ticketkit.E009"]),
        ({"BRAND_NAME": ["Leadtime"]}, ["ticketkit.E009"]),
        (
            {"DATABASE": "nowhere", "DELIVERY": "x", "X": 1},
            ["ticketkit.E001", "ticketkit.E002", "ticketkit.E006"],
        ),
    ],
)
def test_a_bad_setting_is_an_error_of_its_own_id(
    settings: Any, value: object, expected: list[str]
) -> None:
    assert ids(settings, value) == expected


def test_a_zero_acknowledgement_delay_and_background_delivery_are_fine(settings: Any) -> None:
    assert ids(settings, {"ACKNOWLEDGE_WITHIN": 0, "DELIVERY": "background"}) == []


def test_the_middleware_must_follow_the_session_and_authentication_middleware(
    settings: Any,
) -> None:
    settings.MIDDLEWARE = [
        "ticketkit.web.django.middleware.TicketkitMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ]
    assert ids(settings, TICKETKIT) == ["ticketkit.E008", "ticketkit.E008"]
    assert ids(settings, {**TICKETKIT, "PERSON_FOR_USER": None}) == ["ticketkit.E008"]


def test_manage_py_check_reports_the_setting(settings: Any) -> None:
    settings.TICKETKIT = {"DELIVERY": "sometimes"}
    with pytest.raises(SystemCheckError, match=r"ticketkit\.E006"):
        call_command("check")


def test_a_bad_setting_stops_the_desk_from_being_built(settings: Any) -> None:
    settings.TICKETKIT = {"DATABASE": "nowhere"}
    with pytest.raises(ImproperlyConfigured, match=r"ticketkit\.E002"):
        get_desk()
    settings.TICKETKIT = {"DELIVERY": "background", "DELIVERY_TIMEOUT": 3}
    assert (load().delivery.value, load().delivery_timeout) == ("background", 3)


def test_the_brand_name_is_read_with_help_desk_as_its_default(settings: Any) -> None:
    settings.TICKETKIT = {"BRAND_NAME": "Leadtime Portal"}
    assert ids(settings, settings.TICKETKIT) == []
    assert load().brand_name == "Leadtime Portal"
    settings.TICKETKIT = {}
    assert load().brand_name == "Help desk"
    settings.TICKETKIT = {"BRAND_NAME": ""}
    with pytest.raises(ImproperlyConfigured, match=r"ticketkit\.E009"):
        load()


# -- migrate --------------------------------------------------------------------------------


def table_names(alias: str) -> set[str]:
    return set(connections[alias].introspection.table_names())


def alembic_version(alias: str) -> list[str]:
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT version_num FROM {VERSION_TABLE}")
        return [row[0] for row in cursor.fetchall()]


def test_migrate_made_ticketkits_tables_on_the_test_database(alias: str) -> None:
    assert TICKETKIT_TABLES | {VERSION_TABLE} <= table_names(alias)
    assert alembic_version(alias) == [alembic_head()]
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT name FROM django_migrations WHERE app = 'ticketkit' ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == [
            "0001_initial",
            "0002_sla",
            "0003_ticket_sla_due",
            "0004_directory_indexes",
        ]


def test_the_apps_last_migration_steps_to_the_head_of_ticketkits_alembic_history() -> None:
    """A ticketkit release that adds an Alembic revision must add a Django migration to it."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    [leaf] = loader.graph.leaf_nodes("ticketkit")
    steps = [
        operation.ticketkit_revision
        for key in loader.graph.forwards_plan(leaf)
        if key[0] == "ticketkit"
        for operation in loader.graph.nodes[key].operations
    ]
    assert steps[-1] == alembic_head()
    assert len(steps) == len(set(steps))


def test_unapplying_the_migration_removes_ticketkits_tables_and_applying_restores_them(
    committing_alias: str,
) -> None:
    alias = committing_alias
    call_command("migrate", "ticketkit", "zero", database=alias, verbosity=0)
    assert not TICKETKIT_TABLES & table_names(alias)
    assert alembic_version(alias) == []
    call_command("migrate", "ticketkit", database=alias, verbosity=0)
    assert table_names(alias) >= TICKETKIT_TABLES
    assert alembic_version(alias) == [alembic_head()]
