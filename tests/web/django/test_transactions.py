"""ticketkit on Django's connection and inside Django's transactions: a request's writes
of both commit or roll back together, test cases clean ticketkit's rows up, and what Django
installs on its connections (type loaders, SQLite's converters and REGEXP) keeps working on
both sides."""

from __future__ import annotations

import json
import unittest
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import django.db
import django.test
import pytest
from django.core.management import call_command
from django.db import IntegrityError, connections, transaction

from tests.web.django.helpers import committed_rows, rows, signed_in, ticketkit_rows
from tests.web.django.host.models import Note
from tests.web.django.host.world import World, build_world
from ticketkit.adapters.sqlalchemy.migrate import VERSION_TABLE
from ticketkit.errors import StorageError
from ticketkit.web.django import BrokenTransaction, DjangoStorageError, get_desk

FIELDS = {"sla_level": "Gold", "affected_systems": ["Database", "API gateway"]}
#: ``FIELDS`` as a ticket's view holds them (a multiple choice is a tuple).
READ_BACK = {"sla_level": "Gold", "affected_systems": ("Database", "API gateway")}


def bootstrap(title: str = "Leadtime") -> Any:
    return get_desk().bootstrap_tenant(
        name=title, provider_name=title, admin_name="Anna", admin_email=f"anna@{title}.example"
    )


# -- test cases clean up ----------------------------------------------------------------------


def run_nested(case: type[unittest.TestCase]) -> None:
    result = unittest.TestResult()
    unittest.defaultTestLoader.loadTestsFromTestCase(case).run(result)
    assert result.wasSuccessful(), [text for _, text in result.errors + result.failures]
    assert result.testsRun == 1


def test_a_testcase_rolls_ticketkits_rows_back_with_its_own(committing_alias: str) -> None:
    alias = committing_alias
    assert ticketkit_rows(alias) == {}

    class Writes(django.test.TestCase):
        databases = {alias}

        def test_writes_through_both(self) -> None:
            bootstrap()
            Note.objects.using(alias).create(title="host row")
            self.assertEqual(rows(alias, "ticketkit_tenants"), 1)
            self.assertEqual(Note.objects.using(alias).count(), 1)

    run_nested(Writes)
    assert ticketkit_rows(alias) == {}
    assert Note.objects.using(alias).count() == 0


def test_a_transaction_test_cases_flush_empties_ticketkits_tables(committing_alias: str) -> None:
    alias = committing_alias

    class Commits(django.test.TransactionTestCase):
        databases = {alias}

        def test_commits(self) -> None:
            bootstrap()
            self.assertEqual(committed_rows(alias, "ticketkit_tenants"), 1)

    run_nested(Commits)
    assert ticketkit_rows(alias) == {}
    assert committed_rows(alias, "ticketkit_tenants") == 0


def test_flush_keeps_alembics_version_and_asks_first(
    committing_alias: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    alias = committing_alias
    bootstrap()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    call_command("flush", database=alias, interactive=True)
    assert "Flush cancelled." in capsys.readouterr().out
    assert rows(alias, "ticketkit_tenants") == 1
    call_command("flush", database=alias, interactive=False)
    assert ticketkit_rows(alias) == {}
    assert rows(alias, VERSION_TABLE) == 1


def test_migrate_leaves_ticketkits_rows_alone(committing_alias: str) -> None:
    alias = committing_alias
    bootstrap()
    call_command("migrate", database=alias, verbosity=0)
    call_command("migrate", "ticketkit", database=alias, verbosity=0)
    assert committed_rows(alias, "ticketkit_tenants") == 1


# -- ATOMIC_REQUESTS --------------------------------------------------------------------------


def write_both(client: Any, world: World, title: str, **extra: str) -> Any:
    return client.post(
        "/write-both/",
        {
            "title": title,
            "project_id": str(world.project_id),
            "type_id": str(world.type_id),
            "fields": json.dumps(FIELDS),
            **extra,
        },
    )


def titles(world: World) -> set[str]:
    return {t.title for t in world.desk.list_tickets(world.sandra).items}


def test_a_view_that_fails_leaves_neither_the_orms_row_nor_ticketkits(
    committing_alias: str, client: Any
) -> None:
    alias = committing_alias
    world = build_world(get_desk())
    before = committed_rows(alias, "ticketkit_events")
    with pytest.raises(RuntimeError, match="failed after writing"):
        write_both(signed_in(client, world.sandra), world, "Server down", fail="1")
    assert not connections[alias].in_atomic_block
    assert Note.objects.using(alias).count() == 0
    assert titles(world) == set()
    assert committed_rows(alias, "ticketkit_events") == before


def test_a_view_that_succeeds_commits_the_orms_row_and_ticketkits(
    committing_alias: str, client: Any
) -> None:
    alias = committing_alias
    world = build_world(get_desk())
    answer = write_both(signed_in(client, world.sandra), world, "Server down")
    assert answer.status_code == 200
    assert committed_rows(alias, "host_note") == 1
    assert committed_rows(alias, "ticketkit_tickets") == 2  # Acme's and this one
    assert titles(world) == {"Server down"}


def test_a_rolled_back_atomic_block_takes_ticketkits_writes_with_it(alias: str) -> None:
    world = build_world(get_desk())
    with transaction.atomic(using=alias):
        get_desk().create_ticket(
            world.sandra,
            project_id=world.project_id,
            type_id=world.type_id,
            title="Gone",
            fields=FIELDS,
        )
        assert titles(world) == {"Gone"}
        transaction.set_rollback(True, using=alias)
    assert titles(world) == set()


# -- a transaction that failed, a database that fails -----------------------------------------


def test_ticketkit_refuses_to_run_in_a_transaction_marked_for_rollback(alias: str) -> None:
    world = build_world(get_desk())
    note = Note.objects.using(alias).create(title="first")
    with transaction.atomic(using=alias):
        with pytest.raises(IntegrityError):
            Note.objects.using(alias).create(pk=note.pk, title="same key")
        assert connections[alias].needs_rollback
        with pytest.raises(BrokenTransaction, match="marked the transaction"):
            world.desk.get_ticket(world.admin, world.acme_ticket_id)
    assert world.desk.get_ticket(world.admin, world.acme_ticket_id).title == "Acme's own trouble"


def test_ticketkit_checks_the_transaction_before_each_statement(alias: str) -> None:
    world = build_world(get_desk())
    with pytest.raises(BrokenTransaction), world.desk.batch(world.admin) as batch:
        batch.get_ticket(world.admin, world.acme_ticket_id)
        transaction.set_rollback(True, using=alias)  # inside the batch's own atomic block
        batch.list_tickets(world.admin)
    assert not connections[alias].needs_rollback
    assert world.desk.get_ticket(world.admin, world.acme_ticket_id).title == "Acme's own trouble"


def test_a_database_failure_is_a_storage_error_and_a_django_database_error(alias: str) -> None:
    world = build_world(get_desk())
    with connections[alias].cursor() as cursor:
        cursor.execute("ALTER TABLE ticketkit_comments RENAME TO ticketkit_comments_gone")
    with pytest.raises(DjangoStorageError, match="nothing was written") as caught:
        world.desk.add_comment(world.admin, world.acme_ticket_id, "hello", visibility="public")
    assert isinstance(caught.value, StorageError)
    assert isinstance(caught.value, django.db.DatabaseError)
    # Only the unit of work's savepoint was rolled back: the transaction goes on.
    assert not connections[alias].needs_rollback
    assert Note.objects.using(alias).create(title="after").pk
    assert world.desk.get_ticket(world.admin, world.acme_ticket_id).version == 1


def test_a_failure_of_djangos_own_statements_is_a_storage_error_too(postgres_alias: str) -> None:
    """PostgreSQL refuses every statement after an error, Django's savepoint too."""
    alias = postgres_alias
    world = build_world(get_desk())
    with transaction.atomic(using=alias):
        # An error Django does not see: the transaction is aborted, not marked.
        with pytest.raises(Exception, match="division by zero"):
            connections[alias].connection.execute("SELECT 1/0")
        with pytest.raises(DjangoStorageError, match="InternalError") as caught:
            world.desk.get_ticket(world.admin, world.acme_ticket_id)
        assert isinstance(caught.value.__cause__, django.db.InternalError)
        transaction.set_rollback(True, using=alias)
    assert world.desk.get_ticket(world.admin, world.acme_ticket_id).version == 1


# -- what Django installs on its connections --------------------------------------------------


def test_json_reads_back_as_data_for_ticketkit_and_for_djangos_json_field(alias: str) -> None:
    world = build_world(get_desk())
    made = world.desk.create_ticket(
        world.sandra, project_id=world.project_id, type_id=world.type_id, title="T", fields=FIELDS
    )
    assert world.desk.get_ticket(world.sandra, made.id).fields == READ_BACK
    [entry] = world.desk.timeline(world.sandra, made.id)
    assert entry.event.fields == READ_BACK  # type: ignore[attr-defined]
    note = Note.objects.using(alias).create(title="json", data={"a": [1, {"b": None}]})
    assert Note.objects.using(alias).get(pk=note.pk).data == {"a": [1, {"b": None}]}


def test_times_read_back_as_the_instant_written_whatever_the_sessions_time_zone(
    alias: str,
) -> None:
    world = build_world(get_desk())
    if connections[alias].vendor == "postgresql":
        with connections[alias].cursor() as cursor:
            cursor.execute("SET TIME ZONE 'Asia/Tokyo'")  # undone with the test's transaction
    made = world.desk.create_ticket(
        world.sandra, project_id=world.project_id, type_id=world.type_id, title="T", fields=FIELDS
    )
    read = world.desk.get_ticket(world.sandra, made.id)
    assert read.created_at == made.created_at
    assert read.created_at.tzinfo is UTC
    assert abs(read.created_at - datetime.now(UTC)).total_seconds() < 60


def test_djangos_own_regexp_stays_on_the_connection(alias: str) -> None:
    build_world(get_desk())  # ticketkit has used the connection
    Note.objects.using(alias).create(title="x", number=42)
    # Django's REGEXP takes any value as text; SQLAlchemy's would fail on a number.
    assert Note.objects.using(alias).filter(number__regex=r"^4").count() == 1


def test_a_ticket_type_enters_the_cache_only_once_committed(committing_alias: str) -> None:
    alias = committing_alias
    world = build_world(get_desk())
    cache = world.desk.storage.ticket_types  # type: ignore[attr-defined]
    with transaction.atomic(using=alias):
        gone = world.desk.create_ticket_type(world.admin, name="Rolled back")
        transaction.set_rollback(True, using=alias)
    kept = world.desk.create_ticket_type(world.admin, name="Committed")
    assert cache.get(world.tenant_id, gone.id) is None
    assert cache.get(world.tenant_id, kept.id) is not None


def test_many_rows_at_once_go_with_djangos_transaction(alias: str) -> None:
    """From 64 rows of a table PostgreSQL gets them by COPY, on Django's connection too."""
    world = build_world(get_desk())
    with transaction.atomic(using=alias):
        with world.desk.batch(world.admin) as batch:
            for n in range(70):
                batch.create_organisation(world.admin, name=f"Customer {n}")
        assert rows(alias, "ticketkit_organisations") == 73
        transaction.set_rollback(True, using=alias)
    assert rows(alias, "ticketkit_organisations") == 3


def test_sla_storage_runs_on_djangos_connection(alias: str) -> None:
    """The SLA repositories' own statements (the upsert of clocks, the insert that does
    nothing on conflict, the sweep's ``FOR UPDATE SKIP LOCKED``) run on Django's
    connection, and a refused second default calendar undoes only ticketkit's savepoint."""
    import attrs

    from tests.support.records import NOW, Seeded
    from tests.support.sla import calendar, clocks
    from ticketkit.errors import Conflict

    world = build_world(get_desk())
    storage = world.desk.storage
    s = Seeded(world.tenant_id, uuid4(), uuid4(), uuid4(), uuid4())
    office = calendar(s, "Office", is_default=True)
    due = clocks(s, world.acme_ticket_id, next_firing_at=NOW)
    with storage.unit_of_work(world.tenant_id) as uow:
        uow.calendars.add(office)
        uow.clocks.put(attrs.evolve(due, stale=True))
        uow.clocks.put(due)
        assert uow.clocks.record_firing(world.acme_ticket_id, "first_response:1:breach", NOW)
        uow.commit()
    with storage.unit_of_work(world.tenant_id) as uow:
        assert uow.clocks.due(NOW, 10) == [due]
        assert not uow.clocks.record_firing(world.acme_ticket_id, "first_response:1:breach", NOW)
        uow.commit()
    with pytest.raises(Conflict), storage.unit_of_work(world.tenant_id) as uow:
        uow.calendars.add(calendar(s, "Second", is_default=True))
    assert not connections[alias].needs_rollback
    assert Note.objects.using(alias).create(title="after").pk
    with storage.unit_of_work(world.tenant_id, read_only=True) as uow:
        assert uow.calendars.all() == [office]
