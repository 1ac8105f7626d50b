"""SLA at scale (issue 20): the sweep against a bare range read, a ticket's clocks recomputed
from its history against reading that history, and the intake with SLA on and off.

For each backend (a SQLite file in WAL mode, PostgreSQL), on a fresh database per measure,
each figure beside a yardstick taken in the same run:

1. **Sweep.** N open tickets (default 1,000,000) with SLA clocks, 1 % of them due, each one
   breach (a policy with one real-time target and no warnings). Tickets and clock rows are
   bulk-inserted (``adapters/sqlalchemy/bulk.py``): copies of one ticket opened through the
   API, and the ``state_to_dict`` of one ``ClockState`` made by ``start()``, given each
   ticket's instants. Per round:

   - ``T_range``: the bare indexed range query for the same rows (``SELECT`` of the clock
     rows ``WHERE tenant_id = :t AND next_firing_at <= :now ORDER BY next_firing_at,
     ticket_id``), keyset-paged in the sweep's batch size, one statement per batch as the
     sweep sends, rows as the driver gives them; also executed once and fetched completely;
   - ``T_select``: the sweep's own selection, ``uow.clocks.due(now, batch)`` in a write unit
     of work per batch (the tickets joined and locked, the rows decoded into
     ``TicketClocks``), nothing fired: between batches (off the clock) the batch's rows are
     moved out of the range, and all are put back afterwards;
   - ``T_statement``: ``due()``'s own statement alone, batch by batch in a write
     transaction, rows as the driver gives them (``T_select`` less turning rows into
     ``TicketClocks``);
   - ``T_sweep``: ``desk.sweep_sla(tenant_id)`` over the due tickets (one breach each,
     recorded, in the history and notified to the assignee), then ``desk.flush()``.

   Bar: the selection at most 2x the bare range query. Its statement is
   ``T_statement / T_range``; ``T_select / T_range`` adds decoding each due row's clock
   state, work per due ticket that the yardstick (raw text on SQLite) does not do, so it
   is printed beside it, with the per-row cost; per-breach work is ``(T_sweep - T_select)
   / breaches``. The query plans of the bare query and of ``due()`` are printed.
2. **Clock computation.** One ticket with a 200-event history made through the API (public
   comments from both sides, internal notes, pending, solved and reopened, priority
   changes; the desk's clock moves 2 h 13 min per call, over Christmas), a policy on a
   Berlin Mon-Fri 09:00-17:00 calendar with German holidays. Microseconds per recompute
   (``facts_from_events`` + ``replay``) against reading the 200 events back
   (``uow.events.for_ticket``).
3. **Intake, SLA on against off.** Tickets/s with one unit of work per call
   (``bench/tickets.py``'s ``Setup.per_operation``: each ticket opened with a public and an
   internal comment, three calls), and of ``create_ticket`` alone, on a tenant without SLA
   policies against one with seed 000's (``seed_000_slas``), every ticket of level Gold;
   both tenants in one database, runs alternating. Bar: SLA on at least 0.8x SLA off.

Figures, not assertions: ``python bench/sla.py --help``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa
from tickets import COUNTER, DEFAULT_PG, PG_SCHEMA, WARM_UP, Setup, fresh_schema

from ticketkit import (
    DeliveryMode,
    FieldKind,
    FieldSpec,
    HelpDesk,
    ManualClock,
    Plugins,
    Priority,
    StatusCategory,
    Target,
    Targets,
    Visibility,
)
from ticketkit.adapters.sqlalchemy import (
    SqlStorage,
    create_postgres_engine,
    create_sqlite_engine,
    tables,
    upgrade,
)
from ticketkit.adapters.sqlalchemy.bulk import BulkInsert, insert
from ticketkit.adapters.sqlalchemy.engine import SQLITE_BEGIN
from ticketkit.adapters.sqlalchemy.mapping import TICKETS
from ticketkit.adapters.sqlalchemy.types import Id, UTCDateTime
from ticketkit.application.sla_clocks import AROUND_THE_CLOCK, ClockKeeper
from ticketkit.demo_world import seed_000_slas
from ticketkit.domain.sla import ClockRules, Opened, facts_from_events, replay, start
from ticketkit.domain.sla.serialization import state_from_dict, state_to_dict
from ticketkit.ids import new_id
from ticketkit.policy import TRUE

#: The sweep's one target: real time, so that no calendar decides which tickets are due.
SWEEP_TARGET = timedelta(hours=24)
CLOCKS = tables.sla_clocks
FIRINGS = tables.sla_firings
#: Rows per transaction while loading.
LOAD_CHUNK = 10_000

Figures = dict[str, float]


def median(values: list[float]) -> float:
    return statistics.median(values)


# -- databases ------------------------------------------------------------------------------


@contextmanager
def fresh_database(backend: str, args: argparse.Namespace, label: str) -> Iterator[sa.Engine]:
    """A new, migrated database for one measure: a SQLite file, or the bench's own
    PostgreSQL schema made anew (and dropped afterwards)."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_sqlite_engine(Path(tmp) / f"{label}.sqlite")
            upgrade(engine)
            try:
                yield engine
            finally:
                engine.dispose()
        return
    fresh_schema(args.postgres_url, create=True)
    engine = create_postgres_engine(
        args.postgres_url, connect_args={"options": f"-csearch_path={PG_SCHEMA}"}
    )
    upgrade(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        fresh_schema(args.postgres_url, create=False)


def settle(engine: sa.Engine, *tables_: str) -> None:
    """Statistics fresh and dirty pages written, so that no earlier work is paid for while
    something is timed: ``VACUUM ANALYZE`` and ``CHECKPOINT`` on PostgreSQL, ``ANALYZE``
    and a WAL checkpoint on SQLite."""
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            for table in tables_ or ("",):
                conn.execute(sa.text(f"VACUUM ANALYZE {table}"))
            conn.execute(sa.text("CHECKPOINT"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        with engine.connect() as conn:  # outside a transaction, on the driver's connection
            conn.connection.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def plan_lines(engine: sa.Engine, statement: str, parameters: Any) -> list[str]:
    """The query plan of ``statement`` as the database prints it."""
    with reading(engine) as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            return [str(r[-1]) for r in rows]
        rows = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        return [str(r[0]) for r in rows]


def reading(engine: sa.Engine) -> sa.Connection:
    """A connection for reads: on SQLite in a plain (deferred) transaction, not the write
    lock ticketkit's units of work take."""
    return engine.connect().execution_options(**{SQLITE_BEGIN: "deferred"})


def captured(engine: sa.Engine, run: Callable[[], object], table: str) -> list[tuple[str, Any]]:
    """The SELECTs reading ``table`` that ``run`` sends, with their driver parameters."""
    found: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement:
            found.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return found


# -- 1. the sweep ---------------------------------------------------------------------------


class ClockRows:
    """The clocks table as ``bulk.insert`` takes a table (it has no entity mapping)."""

    kind = "TicketClocks"

    def __init__(self) -> None:
        self._bulk: dict[str, BulkInsert] = {}

    def bulk_insert(self, dialect: sa.Dialect) -> BulkInsert:
        if dialect.name not in self._bulk:
            self._bulk[dialect.name] = BulkInsert(CLOCKS, dialect)
        return self._bulk[dialect.name]


CLOCK_ROWS = ClockRows()

#: The bare range query: every column of the due clock rows, in the sweep's order.
_RANGE_SQL = f"""
    SELECT tenant_id, ticket_id, policy_id, calendar_id, state, fired, next_firing_at,
           next_due_at, stale
      FROM {CLOCKS.name}
     WHERE tenant_id = :tenant AND next_firing_at <= :now{{after}}
     ORDER BY next_firing_at, ticket_id{{limit}}
"""
_TYPES = (
    sa.bindparam("tenant", type_=Id()),
    sa.bindparam("now", type_=UTCDateTime()),
)
RANGE_ONCE = sa.text(_RANGE_SQL.format(after="", limit="")).bindparams(*_TYPES)
#: The next page: the last row's values go back as the driver gave them.
RANGE_PAGE = sa.text(
    _RANGE_SQL.format(
        after=" AND (next_firing_at, ticket_id) > (:after_at, :after_id)", limit=" LIMIT :limit"
    )
).bindparams(*_TYPES)
RANGE_FIRST = sa.text(_RANGE_SQL.format(after="", limit=" LIMIT :limit")).bindparams(*_TYPES)
#: ``due()``'s own statement (the tickets joined, and on PostgreSQL both rows locked,
#: skipping those held), its rows as the driver gives them: the selection without turning
#: rows into ``TicketClocks``.
_DUE_SQL = f"""
    SELECT c.tenant_id, c.ticket_id, c.policy_id, c.calendar_id, c.state, c.fired,
           c.next_firing_at, c.next_due_at, c.stale
      FROM {CLOCKS.name} AS c
      JOIN {TICKETS.table.name} AS t ON t.tenant_id = c.tenant_id AND t.id = c.ticket_id
     WHERE c.tenant_id = :tenant AND c.next_firing_at <= :now
     ORDER BY c.next_firing_at, c.ticket_id LIMIT :limit{{lock}}
"""
DUE_STATEMENT = {
    "sqlite": sa.text(_DUE_SQL.format(lock="")).bindparams(*_TYPES),
    "postgresql": sa.text(_DUE_SQL.format(lock=" FOR UPDATE OF t, c SKIP LOCKED")).bindparams(
        *_TYPES
    ),
}

_MOVE = (
    sa.update(CLOCKS)
    .where(CLOCKS.c.tenant_id == sa.bindparam("t"), CLOCKS.c.ticket_id == sa.bindparam("k"))
    .values(next_firing_at=sa.bindparam("at"))
)
_RESET = (
    sa.update(CLOCKS)
    .where(CLOCKS.c.tenant_id == sa.bindparam("t"), CLOCKS.c.ticket_id == sa.bindparam("k"))
    .values(next_firing_at=sa.bindparam("at"), fired=sa.bindparam("f", type_=CLOCKS.c.fired.type))
)


class SweepWorld:
    """A tenant with ``tickets`` open tickets, each with clocks on a one-target policy;
    every ``tickets // due``-th is due now (its breach one to two hours ago)."""

    def __init__(self, engine: sa.Engine, tickets: int, due: int) -> None:
        self.engine = engine
        self.storage = SqlStorage(engine)
        self.desk = HelpDesk(self.storage, plugins=Plugins.create([COUNTER]))
        setup = self.setup = Setup(self.desk)
        self.tenant_id = setup.tenant_id
        self.template = self.desk.create_ticket(
            setup.agent.actor,
            project_id=setup.projects[0].id,
            type_id=setup.type.id,
            title="Template",
            requester_id=setup.guests[0].id,
            assignee_id=setup.agent.id,
        )
        self.policy = self.desk.create_sla_policy(
            setup.admin,
            name="Sweep",
            targets={
                "normal": Targets(
                    first_response=Target(duration=SWEEP_TARGET, business_hours=False)
                )
            },
            warnings=(),
        )
        self.desk.flush()
        self.now = datetime.now(UTC)
        #: The due tickets and their clocks' next firing instants, in the sweep's order.
        self.due: list[tuple[UUID, datetime]] = []
        t0 = time.perf_counter()
        self._load(tickets, due)
        settle(engine)
        self.load_seconds = time.perf_counter() - t0

    def _states(self) -> Callable[[datetime], dict[str, Any]]:
        """The storage form of a just-opened ticket's clocks, made once by ``start`` and
        given each ticket's instant (checked against ``start`` itself)."""
        rules = ClockRules.of(self.policy, AROUND_THE_CLOCK)

        def real(at: datetime) -> dict[str, Any]:
            opened = Opened(at=at, priority=Priority.NORMAL, category=StatusCategory.NEW)
            return state_to_dict(start(opened, rules))

        template = real(self.now)

        def at(instant: datetime) -> dict[str, Any]:
            text = instant.isoformat()
            return {
                **template,
                "at": text,
                "clocks": [{**c, "started_at": text} for c in template["clocks"]],
            }

        for sample in (self.now - timedelta(days=3), self.now + timedelta(seconds=7)):
            assert at(sample) == real(sample), "the clock template misses an instant"
        return at

    def _load(self, count: int, due: int) -> None:
        with self.storage.unit_of_work(self.tenant_id) as uow:
            ticket = uow.tickets.get(self.template.id)
            assert ticket is not None
            base = TICKETS.to_row(self.storage.converter, ticket)
        state_at = self._states()
        step = count // due
        span = timedelta(hours=1) / count
        made = 0
        while made < count:
            tickets, clocks = [], []
            for k in range(made, min(made + LOAD_CHUNK, count)):
                is_due = k % step == 0 and len(self.due) < due
                # Due ones breach between two hours and an hour ago, the others in 22-23 h.
                fires = self.now + (-2 * timedelta(hours=1) if is_due else timedelta(hours=22))
                fires += span * k
                created = fires - SWEEP_TARGET
                ident = new_id()
                tickets.append(
                    {
                        **base,
                        "id": ident,
                        "number": 1_000 + k,
                        "title": f"Ticket {k}",
                        "created_at": created,
                        "updated_at": created,
                        "public_updated_at": created,
                        "sla_due_at": fires,
                    }
                )
                clocks.append(
                    {
                        "tenant_id": self.tenant_id,
                        "ticket_id": ident,
                        "policy_id": self.policy.id,
                        "calendar_id": None,
                        "state": state_at(created),
                        "fired": [],
                        "next_firing_at": fires,
                        "next_due_at": fires,
                        "stale": False,
                    }
                )
                if is_due:
                    self.due.append((ident, fires))
            with self.engine.begin() as conn:
                insert(conn, TICKETS, tickets)
                insert(conn, CLOCK_ROWS, clocks)
            made += len(tickets)
        self.due.sort(key=lambda d: (d[1], d[0]))

    # -- the three timings --------------------------------------------------------------

    def range_paged(self, batch: int) -> tuple[float, int]:
        """Seconds and rows of the bare range query, keyset-paged ``batch`` rows a page."""
        params: dict[str, Any] = {"tenant": self.tenant_id, "now": self.now, "limit": batch}
        rows = 0
        start_ = time.perf_counter()
        with reading(self.engine) as conn:
            page = conn.execute(RANGE_FIRST, params).all()
            while page:
                rows += len(page)
                if len(page) < batch:
                    break
                last = page[-1]
                after = {"after_at": last.next_firing_at, "after_id": last.ticket_id}
                page = conn.execute(RANGE_PAGE, {**params, **after}).all()
            conn.rollback()
        return time.perf_counter() - start_, rows

    def range_once(self, batch: int) -> tuple[float, int]:
        """Seconds and rows of the bare range query executed once, fetched completely
        (``batch`` rows a fetch)."""
        rows = 0
        start_ = time.perf_counter()
        with reading(self.engine) as conn:
            result = conn.execute(RANGE_ONCE, {"tenant": self.tenant_id, "now": self.now})
            while chunk := result.fetchmany(batch):
                rows += len(chunk)
            conn.rollback()
        return time.perf_counter() - start_, rows

    def decode(self) -> float:
        """Seconds to decode the due rows' clock states (``state_from_dict``, after the
        driver's text on SQLite is parsed), the part of ``due()`` that is Python's alone."""
        with reading(self.engine) as conn:
            rows = conn.execute(RANGE_ONCE, {"tenant": self.tenant_id, "now": self.now}).all()
        start_ = time.perf_counter()
        for row in rows:
            state_from_dict(json.loads(row.state) if isinstance(row.state, str) else row.state)
        return time.perf_counter() - start_

    def select(self, batch: int) -> tuple[float, int]:
        """Seconds and rows of ``due()`` batches, each in a write unit of work, firing
        nothing."""

        def one_batch() -> list[Any]:
            with self.storage.unit_of_work(self.tenant_id) as uow:
                return uow.clocks.due(self.now, batch)

        return self._batches(batch, one_batch, lambda found: [c.ticket_id for c in found])

    def select_statement(self, batch: int) -> tuple[float, int]:
        """Seconds and rows of ``due()``'s statement alone, batch by batch in a write
        transaction as the sweep's (SQLite's write lock taken first), rows as the driver
        gives them."""
        stmt = DUE_STATEMENT[self.engine.dialect.name]
        params = {"tenant": self.tenant_id, "now": self.now, "limit": batch}

        def one_batch() -> list[Any]:
            with self.engine.connect() as conn:
                found = conn.execute(stmt, params).all()
                conn.commit()
            return found

        return self._batches(batch, one_batch, lambda found: [UUID(str(r[1])) for r in found])

    def _batches(
        self,
        batch: int,
        one_batch: Callable[[], list[Any]],
        ids_of: Callable[[list[Any]], list[UUID]],
    ) -> tuple[float, int]:
        """Seconds and rows of ``one_batch`` called until it finds fewer than ``batch``;
        between batches, off the clock, the tickets of what it found (``ids_of``) leave the
        range, and all are put back at the end."""
        far = self.now + timedelta(days=3650)
        spent, rows = 0.0, 0
        while True:
            start_ = time.perf_counter()
            found = one_batch()
            spent += time.perf_counter() - start_
            rows += len(found)
            if found:
                moves = [{"t": self.tenant_id, "k": k, "at": far} for k in ids_of(found)]
                with self.engine.begin() as conn:
                    conn.execute(_MOVE, moves)
            if len(found) < batch:
                break
        with self.engine.begin() as conn:
            back = [{"t": self.tenant_id, "k": k, "at": at} for k, at in self.due]
            conn.execute(_MOVE, back)
        return spent, rows

    def sweep(self, batch: int) -> tuple[float, Any]:
        """Seconds of ``sweep_sla`` over the tenant and the delivery of its notifications."""
        start_ = time.perf_counter()
        report = self.desk.sweep_sla(self.tenant_id, batch=batch)
        self.desk.flush()
        return time.perf_counter() - start_, report

    def reset(self) -> None:
        """Make the swept tickets due again: their firings forgotten, their clocks back."""
        with self.engine.begin() as conn:
            conn.execute(FIRINGS.delete().where(FIRINGS.c.tenant_id == self.tenant_id))
            back = [{"t": self.tenant_id, "k": k, "at": at, "f": []} for k, at in self.due]
            conn.execute(_RESET, back)

    def plans(self, batch: int) -> dict[str, list[str]]:
        """The query plans of the bare range query and of ``due()``."""

        def bare() -> None:
            with reading(self.engine) as conn:
                conn.execute(RANGE_ONCE, {"tenant": self.tenant_id, "now": self.now}).all()

        def due() -> None:
            with self.storage.unit_of_work(self.tenant_id) as uow:
                uow.clocks.due(self.now, batch)

        found = {}
        for label, run in (("bare range query", bare), ("due()", due)):
            [(statement, parameters)] = captured(self.engine, run, CLOCKS.name)
            found[label] = plan_lines(self.engine, statement, parameters)
        return found


def measure_sweep(engine: sa.Engine, args: argparse.Namespace, count: int) -> list[Figures]:
    due = max(1, count // 100)
    world = SweepWorld(engine, count, due)
    print(
        f"loaded {count:,} tickets with clocks, {due:,} due, in {world.load_seconds:.0f} s "
        f"(batch {args.batch})"
    )
    for label, lines in world.plans(args.batch).items():
        print(f"  plan of the {label}:")
        for line in lines:
            print(f"    {line}")
    rounds: list[Figures] = []
    for r in range(args.rounds):
        paged, rows_paged = world.range_paged(args.batch)
        once, rows_once = world.range_once(args.batch)
        select, rows_select = world.select(args.batch)
        statement, rows_statement = world.select_statement(args.batch)
        decode = world.decode()
        settle(engine, CLOCKS.name)
        swept, report = world.sweep(args.batch)
        assert rows_paged == rows_once == rows_select == rows_statement == due, (
            rows_paged,
            rows_once,
            rows_select,
            rows_statement,
        )
        assert report.tickets == report.breaches == due and report.warnings == 0, report
        figures = {
            "range_paged_ms": paged * 1e3,
            "range_once_ms": once * 1e3,
            "select_ms": select * 1e3,
            "statement_ms": statement * 1e3,
            "decode_ms": decode * 1e3,
            "sweep_ms": swept * 1e3,
            "select_ratio": select / paged,
            "select_ratio_once": select / once,
            "statement_ratio": statement / paged,
            "objects_us_per_row": (select - statement) / due * 1e6,
            "per_breach_us": (swept - select) / report.breaches * 1e6,
        }
        rounds.append(figures)
        print(
            f"  round {r + 1}: T_range {paged * 1e3:7.1f} ms (paged; once {once * 1e3:.1f} ms)"
            f" | T_select {select * 1e3:7.1f} ms (its statement {statement * 1e3:.1f} ms,"
            f" decoding {decode * 1e3:.0f} ms)"
            f" | T_sweep {swept * 1e3:8.1f} ms"
            f" | T_select/T_range {figures['select_ratio']:.2f}"
            f" (once {figures['select_ratio_once']:.2f})"
            f" | per breach {figures['per_breach_us']:.0f} us"
        )
        world.reset()
        settle(engine, CLOCKS.name, FIRINGS.name)
    world.desk.close()
    return rounds


# -- 2. clock computation -------------------------------------------------------------------

#: Monday 14 December 2026, 07:30 UTC: the history runs over Christmas and New Year.
HISTORY_START = datetime(2026, 12, 14, 7, 30, tzinfo=UTC)
HISTORY_STEP = timedelta(hours=2, minutes=13)
BERLIN_OFFICE = {
    "zone": "Europe/Berlin",
    "week": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "holiday_regions": [{"country": "DE"}],
}


def history(setup: Setup, clock: ManualClock, events: int) -> UUID:
    """A ticket with ``events`` history events made through the API: comments from both
    sides, internal notes, pending, solved, reopened, priority changes."""
    desk, agent, guest = setup.desk, setup.agent.actor, setup.guests[0].actor
    ticket = desk.create_ticket(
        guest, project_id=setup.projects[0].id, type_id=setup.type.id, title="Long story"
    )
    tid = ticket.id

    def comment(actor: Any, visibility: Visibility = Visibility.PUBLIC) -> None:
        desk.add_comment(actor, tid, "Noted.", visibility=visibility)

    cycle: list[Callable[[], object]] = [
        lambda: comment(agent),
        lambda: desk.change_status(agent, tid, "pending"),
        lambda: comment(guest),
        lambda: comment(agent, Visibility.INTERNAL),
        lambda: desk.change_status(agent, tid, "open"),
        lambda: desk.update_ticket(agent, tid, priority="high"),
        lambda: comment(guest),
        lambda: comment(agent),
        lambda: desk.update_ticket(agent, tid, priority="normal"),
        lambda: desk.change_status(agent, tid, "solved"),
        lambda: desk.change_status(agent, tid, "open"),
    ]
    made = 1
    while made < events:
        clock.advance(HISTORY_STEP)
        cycle[(made - 1) % len(cycle)]()
        made += 1
    return tid


def measure_clocks(engine: sa.Engine, args: argparse.Namespace) -> list[Figures]:
    storage = SqlStorage(engine)
    clock = ManualClock(HISTORY_START)
    desk = HelpDesk(storage, clock=clock, delivery=DeliveryMode.INLINE)
    setup = Setup(desk)
    desk.create_calendar(setup.admin, name="Berlin office", calendar=BERLIN_OFFICE, is_default=True)
    H = timedelta(hours=1)
    every = {
        "first_response": 2 * H,
        "next_reply": 4 * H,
        "resolution": 16 * H,
        "periodic_update": 8 * H,
        "pausable_update": 8 * H,
    }
    desk.create_sla_policy(
        setup.admin,
        name="Gold",
        targets={"normal": every, "high": {k: v / 2 for k, v in every.items()}},
    )
    tid = history(setup, clock, args.history)
    with storage.unit_of_work(setup.tenant_id) as uow:
        events = uow.events.for_ticket(tid, TRUE)
        assert len(events) == args.history, len(events)
        keeper = ClockKeeper(uow)
        [policy] = keeper.policies()
        [calendar] = keeper.calendars().values()
        providers = keeper.providers()
        workflow = setup.type.workflow
        stored = uow.clocks.get(tid)
        assert stored is not None
    rules = ClockRules.of(policy, calendar.calendar)

    def category_of(status: str) -> StatusCategory:
        found = workflow.status(status)
        return found.category if found is not None else StatusCategory.OPEN

    def recompute() -> object:
        facts = facts_from_events(events, provider_organisations=providers, category_of=category_of)
        return replay(facts, rules)

    assert recompute() == stored.state, "replayed clocks differ from the kept ones"
    kinds = sorted({type(e).__name__ for e in events})
    print(f"history of {len(events)} events ({', '.join(kinds)}), {args.reads} reads a round")
    rounds: list[Figures] = []
    with storage.unit_of_work(setup.tenant_id) as uow:
        for r in range(args.rounds):
            reads, computes = [], []
            for _ in range(args.reads):
                t0 = time.perf_counter()
                uow.events.for_ticket(tid, TRUE)
                t1 = time.perf_counter()
                recompute()
                t2 = time.perf_counter()
                reads.append(t1 - t0)
                computes.append(t2 - t1)
            read_us, compute_us = median(reads) * 1e6, median(computes) * 1e6
            figures = {"read_us": read_us, "compute_us": compute_us, "ratio": compute_us / read_us}
            rounds.append(figures)
            print(
                f"  round {r + 1}: recompute {compute_us:7.0f} us | read of the events "
                f"{read_us:7.0f} us | recompute / read {figures['ratio']:.2f}"
            )
    desk.close()
    return rounds


# -- 3. intake with SLA on and off ----------------------------------------------------------

GOLD = {"sla_level": "Gold"}


class Gold:
    """The operations ``ops``, every ticket opened with the SLA level Gold."""

    def __init__(self, ops: Any) -> None:
        self._ops = ops

    def create_ticket(self, *args: Any, **kwargs: Any) -> Any:
        return self._ops.create_ticket(*args, fields=GOLD, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ops, name)


class GoldSetup(Setup):
    """``bench/tickets.py``'s tenant, its tickets of a type with seed 000's SLA level
    field, each of level Gold; with seed 000's policies when ``sla``."""

    def __init__(self, desk: HelpDesk, *, sla: bool) -> None:
        super().__init__(desk)
        self.type = desk.create_ticket_type(
            self.admin,
            name="Server Crash",
            fields=(
                FieldSpec(
                    name="sla_level",
                    label="SLA level",
                    kind=FieldKind.SINGLE_CHOICE,
                    required=True,
                    choices=("Gold", "Silver", "Bronze"),
                ),
            ),
        )
        if sla:
            seed_000_slas(desk, self.admin)

    def one(self, ops: Any) -> None:
        super().one(Gold(ops))

    def creates(self, n: int) -> float:
        """Tickets/s of ``create_ticket`` alone, one unit of work per call."""
        i, start_ = self.made, time.perf_counter()
        for k in range(n):
            Gold(self.desk).create_ticket(
                self.agent.actor,
                project_id=self.projects[(i + k) % len(self.projects)].id,
                type_id=self.type.id,
                title=f"Ticket {i + k}",
                requester_id=self.guests[(i + k) % len(self.guests)].id,
            )
        self.desk.flush()
        self.made += n
        return n / (time.perf_counter() - start_)


def measure_intake(engine: sa.Engine, args: argparse.Namespace) -> list[Figures]:
    storage = SqlStorage(engine)
    desk = HelpDesk(storage, plugins=Plugins.create([COUNTER]))
    off, on = GoldSetup(desk, sla=False), GoldSetup(desk, sla=True)
    for setup in (off, on):
        setup.batched(WARM_UP)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    later = datetime.now(UTC) + timedelta(days=365)
    for setup, clocks in ((off, 0), (on, WARM_UP)):
        with storage.unit_of_work(setup.tenant_id) as uow:
            assert uow.clocks.count_due(later) == clocks, "SLA is not on (only) where it should be"
    rounds: list[Figures] = []
    size = max(1, args.per_op // args.slices)
    for r in range(args.rounds):
        # Each round in slices, the two tenants taking turns (who goes first alternating),
        # so that the machine's drift within a round reaches both alike.
        seconds: Figures = dict.fromkeys(
            ("per_call_off", "per_call_on", "create_off", "create_on"), 0.0
        )
        for k in range(args.slices):
            for name, setup in (
                (("off", off), ("on", on)) if (r + k) % 2 == 0 else (("on", on), ("off", off))
            ):
                seconds[f"per_call_{name}"] += size / setup.per_operation(size)
                seconds[f"create_{name}"] += size / setup.creates(size)
        figures = {key: size * args.slices / spent for key, spent in seconds.items()}
        figures["per_call_ratio"] = figures["per_call_on"] / figures["per_call_off"]
        figures["create_ratio"] = figures["create_on"] / figures["create_off"]
        rounds.append(figures)
        print(
            f"  round {r + 1}: unit per call (3 calls a ticket) off {figures['per_call_off']:6.0f}"
            f" on {figures['per_call_on']:6.0f} tickets/s, on/off {figures['per_call_ratio']:.2f}"
            f" | create_ticket alone off {figures['create_off']:6.0f}"
            f" on {figures['create_on']:6.0f} tickets/s, on/off {figures['create_ratio']:.2f}"
        )
    desk.close()
    return rounds


# -- the run --------------------------------------------------------------------------------


def summary(label: str, rounds: list[Figures], keys: list[tuple[str, str]]) -> None:
    for key, text in keys:
        values = [f[key] for f in rounds]
        runs = ", ".join(f"{v:.2f}" if v < 100 else f"{v:.0f}" for v in values)
        mid = median(values)
        print(
            f"  {label} {text}: {runs} -> median {mid:.2f}"
            if mid < 100
            else f"  {label} {text}: {runs} -> median {mid:.0f}"
        )


def run_backend(backend: str, args: argparse.Namespace) -> None:
    name = "SQLite (file, WAL)" if backend == "sqlite" else "PostgreSQL"
    count = args.tickets if backend == "sqlite" else args.pg_tickets
    if "sweep" in args.only:
        print(f"\n== {name}: sweep ==")
        with fresh_database(backend, args, "sweep") as engine:
            rounds = measure_sweep(engine, args, count)
        summary(
            name,
            rounds,
            [
                ("range_paged_ms", "T_range ms"),
                ("select_ms", "T_select ms"),
                ("decode_ms", "of which decoding the states, ms"),
                ("sweep_ms", "T_sweep ms"),
                ("select_ratio", "T_select / T_range (TicketClocks built)"),
                ("select_ratio_once", "T_select / T_range executed once"),
                ("statement_ratio", "T_statement / T_range (bar <= 2)"),
                ("objects_us_per_row", "TicketClocks from rows, us per due row"),
                ("per_breach_us", "per breach us"),
            ],
        )
    if "clocks" in args.only:
        print(f"\n== {name}: clock computation ==")
        with fresh_database(backend, args, "clocks") as engine:
            rounds = measure_clocks(engine, args)
        summary(
            name,
            rounds,
            [
                ("compute_us", "recompute us"),
                ("read_us", "read us"),
                ("ratio", "recompute / read"),
            ],
        )
    if "intake" in args.only:
        print(f"\n== {name}: intake, SLA off and on ({args.per_op} tickets a run) ==")
        with fresh_database(backend, args, "intake") as engine:
            rounds = measure_intake(engine, args)
        summary(
            name,
            rounds,
            [
                ("per_call_off", "unit per call, SLA off, tickets/s"),
                ("per_call_on", "unit per call, SLA on, tickets/s"),
                ("per_call_ratio", "unit per call, on / off (bar >= 0.8)"),
                ("create_off", "create_ticket, SLA off, tickets/s"),
                ("create_on", "create_ticket, SLA on, tickets/s"),
                ("create_ratio", "create_ticket, on / off (bar >= 0.8)"),
            ],
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--tickets", type=int, default=1_000_000, help="open tickets for the sweep (SQLite)"
    )
    parser.add_argument(
        "--pg-tickets", type=int, default=1_000_000, help="open tickets for the sweep (PostgreSQL)"
    )
    parser.add_argument("--batch", type=int, default=500, help="the sweep's batch (its default)")
    parser.add_argument("--history", type=int, default=200, help="events in the replayed history")
    parser.add_argument("--reads", type=int, default=200, help="reads and replays per round")
    parser.add_argument(
        "--per-op", type=int, default=600, help="tickets per intake round, each side and way"
    )
    parser.add_argument(
        "--slices", type=int, default=6, help="turns each intake tenant takes per round"
    )
    parser.add_argument("--rounds", type=int, default=3, help="rounds per measure (median)")
    parser.add_argument(
        "--only",
        default="sweep,clocks,intake",
        type=lambda text: set(text.split(",")),
        help="measures to run, of sweep,clocks,intake",
    )
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument(
        "--skip-postgres", action="store_true", help="SQLite only (as --backend sqlite)"
    )
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    if args.skip_postgres:
        args.backend = "sqlite"
    for backend in ("sqlite", "postgres"):
        if args.backend in (backend, "both"):
            run_backend(backend, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
