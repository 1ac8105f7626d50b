"""What only a real database can show: locking, concurrency, constraint errors, batching,
collation and time zones, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import contextlib
import itertools
import logging
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.dialects import postgresql, sqlite

from tests.support.records import NOW, Seeded, comment, seed, ticket
from tests.support.world import build_world
from ticketkit import HelpDesk, Role
from ticketkit.adapters.sqlalchemy import SqlStorage, create_sqlite_engine, tables, types, upgrade
from ticketkit.adapters.sqlalchemy.bulk import BulkInsert
from ticketkit.clock import ManualClock
from ticketkit.domain import (
    Grant,
    GrantScope,
    GrantState,
    Tenant,
    Ticket,
)
from ticketkit.errors import Conflict
from ticketkit.policy import TRUE, Eq
from ticketkit.ports import OrderBy

POSTGRES = pytest.param("postgres", marks=pytest.mark.postgres)


@pytest.fixture
def storage(engine: sa.Engine) -> SqlStorage:
    return SqlStorage(engine)


@pytest.fixture
def seeded(storage: SqlStorage) -> Seeded:
    """A fresh tenant with one organisation, person, project and ticket type."""
    return seed(storage)


def store(storage: SqlStorage, s: Seeded, *tickets: Ticket) -> None:
    with storage.unit_of_work(s.tenant) as uow:
        for t in tickets:
            uow.tickets.add(t)
        uow.commit()


@pytest.fixture
def statements(engine: sa.Engine) -> Iterator[list[tuple[str, bool]]]:
    """Every statement the engine sends while the test runs, with its executemany flag."""
    seen: list[tuple[str, bool]] = []

    def record(**event: Any) -> None:
        seen.append((event["statement"], event["executemany"]))

    sa.event.listen(engine, "before_cursor_execute", record, named=True)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


# -- optimistic locking ---------------------------------------------------------------------


def test_stale_update_from_an_interleaved_unit_of_work_is_a_conflict(
    storage: SqlStorage, seeded: Seeded
) -> None:
    t = ticket(seeded, 1)
    store(storage, seeded, t)
    first, second = storage.unit_of_work(seeded.tenant), storage.unit_of_work(seeded.tenant)
    with first, second:
        mine, theirs = first.tickets.get(t.id), second.tickets.get(t.id)
        assert mine is not None and theirs is not None
        first.tickets.update(attrs.evolve(mine, title="mine", version=2), expected_version=1)
        first.commit()
        stale = attrs.evolve(theirs, title="theirs", version=2)
        with pytest.raises(Conflict) as raised:
            second.tickets.update(stale, expected_version=1)
        assert raised.value.ident == t.id and raised.value.expected == 1
    with storage.unit_of_work(seeded.tenant) as uow:
        stored = uow.tickets.get(t.id)
        assert stored is not None and (stored.title, stored.version) == ("mine", 2)


def test_update_waiting_for_a_concurrent_writer_ends_in_conflict_not_a_lost_write(
    storage: SqlStorage, seeded: Seeded
) -> None:
    t = ticket(seeded, 1)
    store(storage, seeded, t)
    outcome: list[BaseException | None] = []

    def late_writer() -> None:
        with storage.unit_of_work(seeded.tenant) as uow:
            try:
                uow.tickets.update(attrs.evolve(t, title="late", version=2), expected_version=1)
                uow.commit()
                outcome.append(None)
            except Conflict as exc:
                outcome.append(exc)

    with storage.unit_of_work(seeded.tenant) as uow:
        uow.tickets.update(attrs.evolve(t, title="early", version=2), expected_version=1)
        other = threading.Thread(target=late_writer)
        other.start()
        time.sleep(0.3)
        assert other.is_alive(), "the second writer must wait for the first one's commit"
        uow.commit()
    other.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], Conflict)


@pytest.mark.parametrize("sql_backend", [POSTGRES], indirect=True)
def test_deadlock_victim_gets_a_conflict_and_the_winner_commits(
    storage: SqlStorage, seeded: Seeded
) -> None:
    """Two batches changing the same two tickets in opposite order: PostgreSQL aborts one
    (deadlock_detected); that one is a Conflict, like any lost race, and wrote nothing."""
    first, second = ticket(seeded, 1), ticket(seeded, 2)
    store(storage, seeded, first, second)
    both_hold_one = threading.Barrier(2, timeout=30)
    outcome: dict[str, BaseException | None] = {}

    def batch(name: str, order: tuple[Ticket, Ticket]) -> None:
        try:
            with storage.unit_of_work(seeded.tenant) as uow:
                for i, t in enumerate(order):
                    uow.tickets.update(attrs.evolve(t, title=name, version=2), expected_version=1)
                    if i == 0:
                        both_hold_one.wait()
                uow.commit()
            outcome[name] = None
        except BaseException as exc:
            outcome[name] = exc

    threads = [
        threading.Thread(target=batch, args=("ab", (first, second))),
        threading.Thread(target=batch, args=("ba", (second, first))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    losers = {n: e for n, e in outcome.items() if e is not None}
    assert len(outcome) == 2 and len(losers) == 1, outcome
    ((loser, error),) = losers.items()
    assert isinstance(error, Conflict), repr(error)
    winner = "ab" if loser == "ba" else "ba"
    with storage.unit_of_work(seeded.tenant) as uow:
        assert [uow.tickets.get(t.id).title for t in (first, second)] == [winner, winner]  # type: ignore[union-attr]


# -- ticket numbers -------------------------------------------------------------------------


def test_concurrent_units_of_work_take_distinct_gap_free_numbers(
    storage: SqlStorage, seeded: Seeded
) -> None:
    taken: dict[str, list[int]] = {}
    first_number_taken = threading.Event()

    def create(name: str, count: int, pause: float) -> None:
        with storage.unit_of_work(seeded.tenant) as uow:
            numbers = [uow.tickets.next_number(seeded.project)]
            first_number_taken.set()
            time.sleep(pause)
            numbers += [uow.tickets.next_number(seeded.project) for _ in range(count - 1)]
            for n in numbers:
                uow.tickets.add(ticket(seeded, n))
            uow.commit()
            taken[name] = numbers

    early = threading.Thread(target=create, args=("early", 3, 0.3))
    early.start()
    assert first_number_taken.wait(timeout=30)
    late = threading.Thread(target=create, args=("late", 3, 0.0))
    late.start()
    early.join(timeout=30)
    late.join(timeout=30)
    assert taken == {"early": [1, 2, 3], "late": [4, 5, 6]}
    with storage.unit_of_work(seeded.tenant) as uow:
        assert uow.tickets.next_number(seeded.project) == 7
        uow.rollback()
        assert uow.tickets.next_number(seeded.project) == 7


# -- constraint errors ----------------------------------------------------------------------

#: How many more new rows a failing unit of work carries: a few (one pipelined INSERT per
#: table on PostgreSQL) or many (COPY), with or without a buffered update in the same unit
#: (which takes the table-by-table flush instead of the pipeline).
BULK = pytest.mark.parametrize(
    ("padding", "with_update"),
    [(0, False), (100, False), (100, True)],
    ids=["few-rows", "bulk-rows", "bulk-rows-and-an-update"],
)


def pad(uow: Any, seeded: Seeded, count: int, *, first: int, with_update: Ticket | None) -> None:
    for number in range(first, first + count):
        uow.tickets.add(ticket(seeded, number))
    if with_update is not None:
        uow.tickets.update(
            attrs.evolve(with_update, title="changed", version=with_update.version + 1),
            expected_version=with_update.version,
        )


@BULK
def test_duplicate_id_in_a_batch_is_a_conflict_naming_that_ticket(
    storage: SqlStorage, seeded: Seeded, padding: int, with_update: bool
) -> None:
    existing, other = ticket(seeded, 1), ticket(seeded, 5)
    store(storage, seeded, existing, other)
    fresh = ticket(seeded, 2)
    with storage.unit_of_work(seeded.tenant) as uow:
        uow.tickets.add(fresh)
        uow.tickets.add(attrs.evolve(existing, number=3))
        uow.tickets.add(ticket(seeded, 4))
        pad(uow, seeded, padding, first=10, with_update=other if with_update else None)
        with pytest.raises(Conflict) as raised:
            uow.commit()
    assert (raised.value.kind, raised.value.ident) == ("Ticket", existing.id)
    with storage.unit_of_work(seeded.tenant) as uow:
        assert uow.tickets.get(fresh.id) is None, "a failed commit writes nothing"
        assert uow.tickets.count(TRUE) == 2
        assert uow.tickets.get(other.id) == other


@BULK
def test_reused_ticket_number_is_a_ticket_number_conflict(
    storage: SqlStorage, seeded: Seeded, padding: int, with_update: bool
) -> None:
    other = ticket(seeded, 1)
    store(storage, seeded, ticket(seeded, 5), other)
    with storage.unit_of_work(seeded.tenant) as uow, pytest.raises(Conflict) as raised:
        pad(uow, seeded, padding, first=10, with_update=other if with_update else None)
        uow.tickets.add(ticket(seeded, 5))
        uow.commit()
    assert (raised.value.kind, raised.value.ident) == ("TicketNumber", 5)
    with storage.unit_of_work(seeded.tenant) as uow:
        assert uow.tickets.count(TRUE) == 2, "a failed commit writes nothing"


def test_reference_to_a_missing_project_is_refused_at_commit(
    storage: SqlStorage, seeded: Seeded
) -> None:
    orphan = ticket(seeded, 1, project_id=uuid.uuid4())
    with storage.unit_of_work(seeded.tenant) as uow:
        uow.tickets.add(orphan)
        assert [t.id for t in uow.tickets.query(TRUE, [], 10)] == [orphan.id]
        with pytest.raises(sa.exc.IntegrityError):
            uow.commit()
    with storage.unit_of_work(seeded.tenant) as uow:
        assert uow.tickets.get(orphan.id) is None


@BULK
def test_duplicate_behind_new_rows_of_other_tables_is_a_conflict_and_writes_nothing(
    storage: SqlStorage, seeded: Seeded, padding: int, with_update: bool
) -> None:
    existing = ticket(seeded, 1)
    store(storage, seeded, existing)
    taken = comment(seeded, existing.id)
    with storage.unit_of_work(seeded.tenant) as uow:
        uow.comments.add(taken)
        uow.commit()
    fresh = ticket(seeded, 2)
    with storage.unit_of_work(seeded.tenant) as uow:
        assert uow.tickets.get(existing.id) is not None
        uow.tickets.add(fresh)
        pad(uow, seeded, padding, first=10, with_update=existing if with_update else None)
        for _ in range(padding + 1):
            uow.comments.add(comment(seeded, fresh.id))
        uow.comments.add(attrs.evolve(taken, body="again"))
        with pytest.raises(Conflict) as raised:
            uow.commit()
    assert (raised.value.kind, raised.value.ident) == ("Comment", taken.id)
    with storage.unit_of_work(seeded.tenant) as uow:
        assert uow.tickets.get(fresh.id) is None, "a failed commit writes nothing"
        assert uow.comments.for_ticket(fresh.id, TRUE) == []


@BULK
def test_comment_on_a_missing_ticket_is_refused_at_commit_and_writes_nothing(
    storage: SqlStorage, seeded: Seeded, padding: int, with_update: bool
) -> None:
    existing = ticket(seeded, 2)
    store(storage, seeded, existing)
    fresh = ticket(seeded, 1)
    with storage.unit_of_work(seeded.tenant) as uow:
        uow.tickets.add(fresh)
        pad(uow, seeded, padding, first=10, with_update=existing if with_update else None)
        for _ in range(padding):
            uow.comments.add(comment(seeded, fresh.id))
        uow.comments.add(comment(seeded, uuid.uuid4()))
        with pytest.raises(sa.exc.IntegrityError):
            uow.commit()
    with storage.unit_of_work(seeded.tenant) as uow:
        assert uow.tickets.get(fresh.id) is None
        assert uow.tickets.get(existing.id) == existing


def test_tenant_created_twice_concurrently_is_a_conflict(storage: SqlStorage) -> None:
    tenant = uuid.uuid4()
    first, second = storage.unit_of_work(tenant), storage.unit_of_work(tenant)
    with first, second:
        first.add_tenant(Tenant(id=tenant, name="first", created_at=NOW))
        second.add_tenant(Tenant(id=tenant, name="second", created_at=NOW))
        first.commit()
        with pytest.raises(Conflict) as raised:
            second.commit()
    assert (raised.value.kind, raised.value.ident) == ("Tenant", tenant)
    with storage.unit_of_work(tenant) as uow:
        stored = uow.get_tenant()
        assert stored is not None and stored.name == "first"


def test_failed_commits_leave_every_pooled_connection_usable(
    storage: SqlStorage, seeded: Seeded, caplog: pytest.LogCaptureFixture
) -> None:
    existing = ticket(seeded, 1)
    store(storage, seeded, existing)
    for number in (2, 3, 4):
        with storage.unit_of_work(seeded.tenant) as uow:
            uow.tickets.add(ticket(seeded, number))
            uow.tickets.add(attrs.evolve(existing, number=number + 10))
            with pytest.raises(Conflict):
                uow.commit()
    for number in range(5, 17):
        store(storage, seeded, ticket(seeded, number))
    with storage.unit_of_work(seeded.tenant) as uow:
        assert uow.tickets.count(TRUE) == 13
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


def test_commit_without_writes_neither_connects_nor_takes_the_write_lock(
    storage: SqlStorage, seeded: Seeded, engine: sa.Engine
) -> None:
    checkouts: list[object] = []

    def checkout(*args: Any) -> None:
        checkouts.append(args)

    sa.event.listen(engine, "checkout", checkout)
    try:
        with storage.unit_of_work(seeded.tenant) as untouched:
            untouched.commit()
    finally:
        sa.event.remove(engine, "checkout", checkout)
    assert checkouts == []
    writer, reader = storage.unit_of_work(seeded.tenant), storage.unit_of_work(seeded.tenant)
    with writer, reader:
        writer.tickets.next_number(seeded.project)
        assert reader.tickets.get(uuid.uuid4()) is None
        reader.commit()


def test_a_read_only_unit_of_work_reads_what_is_committed_when_each_statement_runs(
    storage: SqlStorage, seeded: Seeded, statements: list[tuple[str, bool]]
) -> None:
    """Read-only units of work run without a transaction on both databases (no BEGIN, no
    ROLLBACK): each read sees what is committed as it runs, as READ COMMITTED does."""
    store(storage, seeded, ticket(seeded, 1))
    with storage.unit_of_work(seeded.tenant, read_only=True) as reader:
        assert [t.number for t in reader.tickets.query(TRUE, [OrderBy("number")], 10)] == [1]
        store(storage, seeded, ticket(seeded, 2))
        assert [t.number for t in reader.tickets.query(TRUE, [OrderBy("number")], 10)] == [1, 2]
    statements.clear()
    with storage.unit_of_work(seeded.tenant, read_only=True) as reader:
        assert reader.tickets.count(TRUE) == 2
    assert [sql for sql, _ in statements if not sql.lstrip().upper().startswith("SELECT")] == []


@pytest.mark.parametrize("sql_backend", [POSTGRES], indirect=True)
def test_buffered_rows_and_the_commit_take_one_round_trip_on_postgres(
    storage: SqlStorage, seeded: Seeded, engine: sa.Engine
) -> None:
    existing = ticket(seeded, 100)
    store(storage, seeded, existing)
    checked_out: list[Any] = []

    def checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        checked_out.append(dbapi_connection)

    sa.event.listen(engine, "checkout", checkout)
    try:
        with storage.unit_of_work(seeded.tenant) as uow:
            assert uow.tickets.get(existing.id) is not None
            for _ in range(3):
                t = ticket(seeded, uow.tickets.next_number(seeded.project))
                uow.tickets.add(t)
                uow.comments.add(comment(seeded, t.id))
                uow.comments.add(comment(seeded, t.id))
            (raw,) = checked_out
            with round_trips(raw) as counted:
                uow.commit()
    finally:
        sa.event.remove(engine, "checkout", checkout)
    assert counted == [1]
    with storage.unit_of_work(seeded.tenant) as uow:
        assert uow.tickets.count(TRUE) == 4
        assert uow.tickets.next_number(seeded.project) == 4


@contextlib.contextmanager
def round_trips(raw: Any) -> Iterator[list[int]]:
    """Count the times the client sends and then waits for an answer, from libpq's trace of
    the protocol messages on a psycopg connection (appended to the yielded list at exit)."""
    from psycopg import pq

    counted: list[int] = []
    with tempfile.TemporaryFile() as trace:
        raw.pgconn.trace(trace.fileno())
        raw.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS)
        try:
            yield counted
        finally:
            raw.pgconn.untrace()
        trace.seek(0)
        directions = [line.split(b"\t", 1)[0] for line in trace.read().splitlines()]
    counted.append(sum(1 for a, b in itertools.pairwise(directions) if (a, b) == (b"F", b"B")))


# -- buffering ------------------------------------------------------------------------------


def test_buffered_rows_are_written_with_one_statement_per_table(
    storage: SqlStorage, seeded: Seeded, statements: list[tuple[str, bool]]
) -> None:
    # Fewer rows per table than go by COPY on PostgreSQL, which SQLAlchemy does not see.
    with storage.unit_of_work(seeded.tenant) as uow:
        for _ in range(30):
            t = ticket(seeded, uow.tickets.next_number(seeded.project))
            uow.tickets.add(t)
            uow.comments.add(comment(seeded, t.id))
            uow.comments.add(comment(seeded, t.id))
        uow.commit()
    inserts = [(sql.split("(")[0].split()[-1], many) for sql, many in statements if "INSERT" in sql]
    assert sorted(inserts) == [(tables.comments.name, True), (tables.tickets.name, True)]
    counters = [sql for sql, _ in statements if tables.ticket_counters.name in sql]
    assert len(counters) == 2, "one UPDATE ... RETURNING, one write-back"


def test_opening_a_ticket_for_someone_reads_both_people_and_the_project_in_one_query(
    storage: SqlStorage, statements: list[tuple[str, bool]]
) -> None:
    """The actor, the requester and their organisations' projects (the ticket's among them)
    come in one round trip, which is a third of a ticket's cost on PostgreSQL, together
    with whether the customers among them hold a grant (the requester holds none, so no
    grants are read); the groups serving the project (where the ticket goes) are one more,
    and the tenant's SLA policies (none here, so nothing more is read or written for SLA)
    the last one."""
    clock = ManualClock(NOW)
    w = build_world(HelpDesk(storage, clock=clock), clock)
    for title in ("Disk full", "Disk full again"):  # the first reads the type, then cached
        statements.clear()
        w.desk.create_ticket(
            w.agent.actor,
            project_id=w.acme_project.id,
            type_id=w.incident.id,
            title=title,
            fields={"sla_level": "Gold"},
            requester_id=w.acme_guest.id,
        )
    reads = [sql for sql, _ in statements if sql.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 3, reads
    assert f"FROM {tables.persons.name}" in reads[0]
    assert tables.group_projects.name in reads[1]
    assert f"FROM {tables.sla_policies.name}" in reads[2]


def test_a_change_to_a_ticket_resolves_its_author_and_whom_it_tells_in_one_read(
    storage: SqlStorage, statements: list[tuple[str, bool]]
) -> None:
    """A change to a ticket locks it and reads its followers first, so that one read
    resolves the author together with the requester, assignee and followers it may
    notify: one round trip less per change than resolving the author on her own."""
    clock = ManualClock(NOW)
    # Delivery left in the outbox: its re-check reads people too, on another thread.
    w = build_world(HelpDesk(storage, clock=clock, delivery="outbox"), clock)
    t = w.desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Disk full",
        fields={"sla_level": "Gold"},
    )
    w.desk.add_follower(w.acme_guest.actor, t.id, w.acme_admin.id)
    w.desk.assign(w.agent.actor, t.id, assignee_id=w.agent2.id)
    statements.clear()
    w.desk.add_comment(w.agent.actor, t.id, "On it.", visibility="public")
    people = [
        sql
        for sql, _ in statements
        if sql.lstrip().upper().startswith("SELECT") and f"FROM {tables.persons.name}" in sql
    ]
    assert len(people) == 1, people


def test_people_are_read_with_whether_they_hold_a_grant_and_only_holders_grants_are_read(
    storage: SqlStorage, statements: list[tuple[str, bool]]
) -> None:
    """A grant to the person, to her organisation or to one she is a member of is read
    with her (one more statement, for all holders at once); nobody else's grants are."""
    clock = ManualClock(NOW)
    w = build_world(HelpDesk(storage, clock=clock), clock)
    partner = w.desk.create_organisation(w.admin.actor, name="Partner", kind="partner")
    member = w.desk.add_person(
        w.admin.actor,
        organisation_id=partner.id,
        name="Mia",
        email="mia@p.example",
        role=Role.GUEST,
    )
    w.desk.add_membership(w.admin.actor, member.id, w.globex.id)
    nobody = w.desk.add_person(  # her organisation holds nothing, nor does she
        w.admin.actor,
        organisation_id=partner.id,
        name="Pia",
        email="pia@p.example",
        role=Role.GUEST,
    )
    holders = {
        w.acme_guest.id: {"grantee_person_id": w.acme_guest.id},  # to her
        w.acme_admin.id: {"grantee_organisation_id": w.acme.id},  # to her organisation
        member.id: {"grantee_organisation_id": w.globex.id},  # where she is a member
    }
    with storage.unit_of_work(w.provider.tenant_id) as uow:
        for i, grantee in enumerate(holders.values()):
            uow.grants.add(
                Grant(
                    tenant_id=w.provider.tenant_id,
                    id=uuid.UUID(int=i + 1),
                    project_id=w.internal_project.id,
                    organisation_id=w.provider.id,
                    scope=frozenset({GrantScope.READ}),
                    state=GrantState.ACTIVE,
                    created_by=w.admin.id,
                    created_at=NOW,
                    **grantee,
                )
            )
        uow.commit()
    for person_id in holders:
        with storage.unit_of_work(w.provider.tenant_id, read_only=True) as uow:
            statements.clear()
            person = uow.access.people([person_id])[person_id]
            orgs = {person.organisation_id} | {
                m.organisation_id for m in uow.access.memberships_of(person_id)
            }
            held = uow.access.active_grants(person_id, orgs)
            assert {g.project_id for g in held} == {w.internal_project.id}, person.name
            assert any(f"FROM {tables.grants.name}" in sql for sql, _ in statements)
    with storage.unit_of_work(w.provider.tenant_id, read_only=True) as uow:
        statements.clear()
        guest = uow.access.people([nobody.id])[nobody.id]
        assert uow.access.active_grants(guest.id, {guest.organisation_id}) == []
        reads = [sql for sql, _ in statements if sql.lstrip().upper().startswith("SELECT")]
        assert len(reads) == 1, "her grants are known from her row: none"


def test_queries_see_buffered_rows_and_rollback_discards_them(
    storage: SqlStorage, seeded: Seeded
) -> None:
    with storage.unit_of_work(seeded.tenant) as uow:
        a, b = ticket(seeded, 1), ticket(seeded, 2, assignee_id=seeded.person)
        uow.tickets.add(a)
        uow.tickets.add(b)
        uow.comments.add(comment(seeded, a.id))
        assert [t.number for t in uow.tickets.query(TRUE, [OrderBy("number")], 10)] == [1, 2]
        assert uow.tickets.count(Eq("assignee_id", None)) == 1
        uow.comments.add(comment(seeded, a.id))
        assert uow.comments.count_by_ticket([a.id, b.id], TRUE) == {a.id: 2}
        uow.rollback()
        assert uow.tickets.query(TRUE, [OrderBy("number")], 10) == []
        assert uow.comments.for_ticket(a.id, TRUE) == []


@pytest.mark.parametrize("padding", [0, 100], ids=["few-rows", "bulk-rows"])
@pytest.mark.parametrize(
    ("attribute", "value", "error"),
    [
        ("version", 0, sa.exc.IntegrityError),  # the table's CHECK refuses it
        ("created_at", datetime(2026, 1, 1), ValueError),  # refused before it is sent
    ],
    ids=["refused-by-the-database", "refused-while-encoding"],
)
def test_a_flush_that_fails_before_a_read_rolls_the_whole_unit_of_work_back(
    storage: SqlStorage,
    seeded: Seeded,
    *,
    padding: int,
    attribute: str,
    value: object,
    error: type[Exception],
) -> None:
    """Buffered rows are written before a query; when that write fails, the unit of work is
    rolled back as a whole and stays usable, whichever way the rows travel."""
    bad = ticket(seeded, 1)
    object.__setattr__(bad, attribute, value)  # past the domain's own validation
    with storage.unit_of_work(seeded.tenant) as uow:
        for number in range(2, padding + 2):
            uow.tickets.add(ticket(seeded, number))
        uow.tickets.add(bad)
        with pytest.raises(error):
            uow.tickets.count(TRUE)
        assert uow.tickets.count(TRUE) == 0, "the failed buffer is gone"
        uow.tickets.add(ticket(seeded, 1))
        uow.commit()
    with storage.unit_of_work(seeded.tenant) as uow:
        assert [t.number for t in uow.tickets.query(TRUE, [OrderBy("number")], 10)] == [1]


# -- SQLite locking -------------------------------------------------------------------------


@pytest.mark.parametrize("sql_backend", ["sqlite"], indirect=True)
def test_second_writer_in_the_same_thread_fails_at_once_instead_of_waiting_on_itself(
    storage: SqlStorage, seeded: Seeded
) -> None:
    first, second = storage.unit_of_work(seeded.tenant), storage.unit_of_work(seeded.tenant)
    with first, second:
        first.tickets.next_number(seeded.project)
        assert second.tickets.get(uuid.uuid4()) is None, "reading beside a writer is fine"
        started = time.monotonic()
        with pytest.raises(RuntimeError, match="another unit of work"):
            second.tickets.next_number(seeded.project)
        assert time.monotonic() - started < 1


def test_in_memory_sqlite_database_serves_units_of_work_one_at_a_time() -> None:
    engine = create_sqlite_engine(None)
    upgrade(engine)
    storage = SqlStorage(engine)
    tenant = uuid.uuid4()
    with storage.unit_of_work(tenant) as uow:
        uow.add_tenant(Tenant(id=tenant, name="Mem", created_at=NOW))
        uow.commit()
    assert storage.tenant_ids() == [tenant]
    with storage.unit_of_work(tenant) as first, storage.unit_of_work(tenant) as second:
        assert first.get_tenant() is not None
        with pytest.raises(RuntimeError, match="in-memory"):
            second.get_tenant()
        first.commit()
        assert second.get_tenant() is not None, "the connection is free again after commit"
    engine.dispose()


def _pragma(engine: sa.Engine, name: str) -> object:
    with engine.connect() as conn:
        return conn.exec_driver_sql(f"PRAGMA {name}").scalar()


def test_sqlite_file_engines_checkpoint_their_wal_every_10000_pages_unless_told(
    tmp_path: Path,
) -> None:
    default = create_sqlite_engine(tmp_path / "default.sqlite")
    mine = create_sqlite_engine(tmp_path / "mine.sqlite", wal_autocheckpoint=0)
    try:
        assert _pragma(default, "journal_mode") == "wal"
        assert _pragma(default, "wal_autocheckpoint") == 10_000
        assert _pragma(mine, "wal_autocheckpoint") == 0
    finally:
        default.dispose()
        mine.dispose()


def test_sqlite_file_engines_hand_out_the_connection_returned_last(tmp_path: Path) -> None:
    """A connection's page cache is warm for its own last writes: a thread's next unit of
    work takes that connection, not the one another thread left idle longest."""
    engine = create_sqlite_engine(tmp_path / "warm.sqlite")
    try:
        mine, other = engine.connect(), engine.connect()
        warm = mine.connection.dbapi_connection
        other.close()
        mine.close()
        used = []
        for _ in range(3):
            with engine.connect() as conn:
                used.append(conn.connection.dbapi_connection)
        assert used == [warm, warm, warm]
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (-1, ValueError),
        (2**31, ValueError),
        (1.5, TypeError),
        ("100", TypeError),
        (True, TypeError),
    ],
)
def test_a_bad_wal_autocheckpoint_is_refused_by_name(
    bad: object, error: type[Exception], tmp_path: Path
) -> None:
    with pytest.raises(error, match="wal_autocheckpoint"):
        create_sqlite_engine(tmp_path / "x.sqlite", wal_autocheckpoint=bad)  # type: ignore[arg-type]


def test_any_json_value_round_trips_through_a_ticketkit_engine(engine: sa.Engine) -> None:
    """The engines' JSON reader serves a host's JSON columns too: numbers that SQLite keeps
    as numbers, strings, nulls inside containers, and empty containers."""
    values = [5, 10**7, 1.5, "text", [], {}, [None, 1], {"a": {"b": []}}, "\u00e9\U0001f600"]
    scratch = sa.Table(
        "scratch_json",
        sa.MetaData(),
        sa.Column("n", sa.Integer, primary_key=True),
        sa.Column("v", sa.JSON),
        prefixes=["TEMPORARY"],
    )
    with engine.connect() as conn:
        scratch.create(conn)
        conn.execute(scratch.insert(), [{"n": i, "v": v} for i, v in enumerate(values)])
        stored = conn.execute(sa.select(scratch.c.v).order_by(scratch.c.n)).scalars().all()
        conn.rollback()
    assert stored == values


# -- values ---------------------------------------------------------------------------------


def test_datetimes_come_back_as_the_same_instant_in_utc(
    storage: SqlStorage, seeded: Seeded
) -> None:
    local = datetime(2026, 5, 22, 14, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
    t = ticket(seeded, 1, created_at=local, updated_at=local, public_updated_at=local)
    store(storage, seeded, t)
    with storage.unit_of_work(seeded.tenant) as uow:
        stored = uow.tickets.get(t.id)
        assert stored is not None
        assert stored.created_at == local and stored.created_at.tzinfo is UTC
        assert uow.tickets.count(Eq("updated_at", local.astimezone(UTC))) == 1


@given(st.datetimes(timezones=st.just(UTC)))
def test_sqlite_time_text_is_iso_format_to_the_microsecond(value: datetime) -> None:
    """The fast formatting (and its cache) writes exactly what isoformat would, so stored
    times keep sorting and comparing as text."""
    expected = value.isoformat(" ", "microseconds")[:26]
    assert types._utc_text(value) == expected
    assert types._utc_text_cached(value) == expected
    assert types._utc_text_cached(value) == expected


@pytest.mark.parametrize("dialect_name", ["sqlite", "postgresql"])
@pytest.mark.parametrize("table", sorted(tables.metadata.tables))
@pytest.mark.parametrize("offset", [0, 2])
@pytest.mark.parametrize("optional_ids", ["missing", "given"])
def test_bulk_insert_parameters_are_what_the_column_types_would_bind(
    dialect_name: str, table: str, offset: int, optional_ids: str
) -> None:
    """The generated row encoders agree with SQLAlchemy's own bind processors, for ids,
    missing ids and times in UTC and other offsets; on PostgreSQL also the positional
    multi-row statement, value for value."""
    dialect = (sqlite if dialect_name == "sqlite" else postgresql).dialect()
    t = tables.metadata.tables[table]
    at = datetime(2026, 5, 22, 14, 30, 0, 5, tzinfo=timezone(timedelta(hours=offset)))
    if offset == 0:
        at = at.replace(tzinfo=UTC)
    samples: dict[type, Any] = {
        types.UTCDateTime: at,
        sa.JSON: {"a": [1, None]},
        sa.Boolean: True,
    }
    row = {}
    for c in t.c:
        if isinstance(c.type, types.Id):
            row[c.key] = None if c.nullable and optional_ids == "missing" else uuid.uuid4()
            continue
        found = next((v for k, v in samples.items() if isinstance(c.type, k)), None)
        if found is None:
            found = 7 if isinstance(c.type, sa.Integer) else "x"
        row[c.key] = found
    bulk = BulkInsert(t, dialect)
    expected = []
    for key, processor in bulk._steps:
        expected.append(row[key] if processor is None else processor(row[key]))
    got = bulk.params([row])[0]

    def plain(values: list[Any]) -> list[Any]:  # psycopg's JSON wrappers do not compare
        return [getattr(v, "obj", v) for v in values]

    assert plain(list(got if bulk.positional else got.values())) == plain(expected)
    if dialect_name == "postgresql":
        other = {k: uuid.uuid4() if isinstance(v, uuid.UUID) else v for k, v in row.items()}
        sql, params = bulk.statement([row, other])
        assert isinstance(params, tuple)
        assert sql.count("%s") == len(params) == 2 * len(t.c)
        second = [other[k] if p is None else p(other[k]) for k, p in bulk._steps]
        assert plain(list(params)) == plain(expected) + plain(second)


def test_text_sorts_by_code_point_like_python(storage: SqlStorage, seeded: Seeded) -> None:
    titles = ["b", "B", "a_b", "ab", "é", "Z", "_", "a b"]
    store(storage, seeded, *(ticket(seeded, i + 1, title=x) for i, x in enumerate(titles)))
    with storage.unit_of_work(seeded.tenant) as uow:
        listed = uow.tickets.query(TRUE, [OrderBy("title")], 100)
    assert [t.title for t in listed] == sorted(titles)


@pytest.mark.parametrize("sql_backend", [POSTGRES], indirect=True)
def test_text_columns_use_the_c_collation_on_postgres(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        collations: dict[str, str] = dict(
            conn.execute(
                sa.text(
                    "SELECT column_name, collation_name FROM information_schema.columns "
                    "WHERE table_schema = current_schema() AND table_name = :table "
                    "AND data_type = 'character varying'"
                ),
                {"table": tables.tickets.name},
            ).all()
        )
    assert collations and set(collations.values()) == {"C"}, collations


def test_unassigned_tickets_sort_after_assigned_ones_ascending(
    storage: SqlStorage, seeded: Seeded
) -> None:
    store(storage, seeded, ticket(seeded, 1), ticket(seeded, 2, assignee_id=seeded.person))
    with storage.unit_of_work(seeded.tenant) as uow:
        up = uow.tickets.query(TRUE, [OrderBy("assignee_id")], 10)
        down = uow.tickets.query(TRUE, [OrderBy("assignee_id", descending=True)], 10)
    assert [t.number for t in up] == [2, 1]
    assert [t.number for t in down] == [1, 2]


def test_loading_a_person_brings_their_organisations_projects_in_the_same_query(
    storage: SqlStorage, seeded: Seeded, statements: list[tuple[str, bool]]
) -> None:
    with storage.unit_of_work(seeded.tenant, read_only=True) as uow:
        person = uow.access.people([seeded.person]).get(seeded.person)
        assert person is not None
        assert uow.access.project_ids_of([person.organisation_id]) == {seeded.project}
    selects = [s for s, _ in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1


def test_projects_added_in_the_unit_of_work_are_not_hidden_by_the_prefetch(
    storage: SqlStorage, seeded: Seeded
) -> None:
    from ticketkit.domain import Project

    extra = Project(
        number=106,
        tenant_id=seeded.tenant,
        id=uuid.uuid4(),
        organisation_id=seeded.org,
        name="New",
        created_at=NOW,
    )
    with storage.unit_of_work(seeded.tenant) as uow:
        uow.projects.add(extra)
        person = uow.access.people([seeded.person]).get(seeded.person)
        assert person is not None
        assert uow.access.project_ids_of([seeded.org]) == {seeded.project, extra.id}


def test_a_driver_error_reaches_the_caller_without_sql_or_values(
    storage: SqlStorage, seeded: Seeded
) -> None:
    from ticketkit.errors import StorageError

    secret = "Confidential title 4711"
    orphan = ticket(seeded, 1, project_id=uuid.uuid4(), title=secret)
    with pytest.raises(StorageError) as raised, storage.unit_of_work(seeded.tenant) as uow:
        uow.tickets.add(orphan)
        uow.commit()
    message = str(raised.value)
    assert "nothing was written" in message
    for leak in (secret, str(orphan.id), str(seeded.tenant), "INSERT", "ticketkit_tickets"):
        assert leak not in message
    assert isinstance(raised.value.__cause__, sa.exc.IntegrityError), "kept for the logs"
    assert secret not in str(raised.value.__cause__), "parameters are hidden there too"


def test_a_list_statement_kept_for_one_tenant_never_reads_another_tenants_tickets(
    storage: SqlStorage,
) -> None:
    """List statements are kept and reused per predicate (``Tickets._query_plain``): an
    agent's "every ticket" is the same predicate in every tenant, so each tenant must
    have its own."""
    first, second = seed(storage), seed(storage)
    store(storage, first, ticket(first, 1), ticket(first, 2))
    store(storage, second, ticket(second, 1))
    order = [OrderBy("updated_at", descending=True)]
    for s, count in ((first, 2), (second, 1), (first, 2), (second, 1)):
        with storage.unit_of_work(s.tenant) as uow:
            page = uow.tickets.query(TRUE, order, 25)
        assert len(page) == count and {t.tenant_id for t in page} == {s.tenant}
