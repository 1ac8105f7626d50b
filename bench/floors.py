"""What bounds the public API's speed: the application's work and the database's, apart.

``bench/tickets.py`` measures the whole stack. This script splits its two slowest cases into
the parts no storage adapter can remove, and prints the ceiling their sum implies:

- **the application alone**: the same tickets (each with a public and an internal comment,
  policy checks, history, outbox notifications and their delivery) on the in-memory
  adapter. That adapter's own work (dicts, a copy of the ticket per read and write) is
  included, so the ceiling comes out a little low;
- **the database alone**: the very statements the SQL adapter sent for that work, captured
  from SQLAlchemy's cursor events and replayed on the bare driver (``sqlite3``, psycopg),
  with no Python layer above it. For PostgreSQL also the same statements through
  SQLAlchemy's ``Connection``, as the adapter sends them: the difference is what
  SQLAlchemy's execution layer costs.

Cases: SQLite with 1,000 tickets per unit of work, and PostgreSQL with one unit of work per
ticket (the two targets of the core issue that are missed). Figures, not assertions:
``python bench/floors.py --help``.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg
import sqlalchemy as sa
from sqlalchemy import event
from tickets import BATCH, COUNTER, DEFAULT_PG, Setup

from ticketkit import DeliveryMode, HelpDesk, Plugins
from ticketkit.adapters.memory import MemoryStorage
from ticketkit.adapters.sqlalchemy import (
    SqlStorage,
    create_postgres_engine,
    create_sqlite_engine,
    tables,
    upgrade,
)
from ticketkit.ids import new_id

PG_SCHEMA = "ticketkit_floors"
#: One round's figures in µs per ticket: "api", "app", "db" (and "db_sa" for PostgreSQL).
Round = dict[str, float]
_TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK")
Captured = list[tuple[str, Any, bool]]
#: How the adapter's statements of one unit start: the ticket number taken, the ticket written.
_TAKE_NUMBER = f"UPDATE {tables.ticket_counters.name}"
_INSERT_TICKETS = f"INSERT INTO {tables.tickets.name}"


def desk_on(storage: Any) -> tuple[HelpDesk, Setup]:
    # Inline: the floors include delivery, and no delivery thread's statement joins a capture.
    desk = HelpDesk(storage, plugins=Plugins.create([COUNTER]), delivery=DeliveryMode.INLINE)
    return desk, Setup(desk)


def capture(engine: sa.Engine, work: Callable[[], object]) -> tuple[float, Captured]:
    """Run ``work``; return its seconds and every statement it sent (SQL, parameters as the
    driver received them, whether by executemany)."""
    sent: Captured = []

    def record(*args: Any) -> None:  # conn, cursor, sql, parameters, context, executemany
        sent.append((args[2], args[3], args[5]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        start = time.perf_counter()
        work()
        return time.perf_counter() - start, sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def memory_rate(n: int, *, per_ticket: bool) -> float:
    """Microseconds per ticket of the application alone: ``n`` tickets in units of work of
    ``BATCH`` tickets, or of one ticket each."""
    desk, setup = desk_on(MemoryStorage())
    setup.batched(500)
    start = time.perf_counter()
    if per_ticket:
        setup.per_ticket(n)
    else:
        setup.batched(n)
    desk._dispatcher.flush()
    return (time.perf_counter() - start) / n * 1e6


def sqlite_round(tmp: Path) -> Round:
    """One round for SQLite batches: µs per ticket of the API, of its statements replayed
    on sqlite3 against a copy of the database as it was before, and of the application."""
    path, copy = tmp / "api.sqlite", tmp / "replay.sqlite"
    for p in (path, copy):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{p}{suffix}").unlink(missing_ok=True)
    engine = create_sqlite_engine(path)
    upgrade(engine)
    desk, setup = desk_on(SqlStorage(engine))
    setup.batched(3 * BATCH)
    desk._dispatcher.flush()
    engine.dispose()
    with sqlite3.connect(path, isolation_level=None) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    shutil.copy(path, copy)

    def batch() -> None:
        setup.batched(BATCH)
        desk._dispatcher.flush()  # the acknowledgements, as bench/tickets.py's runs write them

    # The replay runs under the adapter's own settings (WAL checkpoint interval included:
    # with SQLite's default the replay's commit would pay a checkpoint the batch does not).
    with engine.connect() as conn:
        pragmas = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "wal_autocheckpoint")
        }
    api, sent = capture(engine, batch)
    engine.dispose()
    replay = sqlite3.connect(copy, isolation_level=None)
    try:
        for name, value in pragmas.items():
            replay.execute(f"PRAGMA {name}={value}")
        start = time.perf_counter()
        # Each unit of work's statements ran in their own transactions; here all in one.
        replay.execute("BEGIN IMMEDIATE")
        for sql, params, many in sent:
            if sql.lstrip().upper().startswith(_TRANSACTION_CONTROL):
                continue
            if many:
                replay.executemany(sql, params)
            else:
                replay.execute(sql, params)
        replay.execute("COMMIT")
        db = time.perf_counter() - start
    finally:
        replay.close()
    return {
        "api": api / BATCH * 1e6,
        "db": db / BATCH * 1e6,
        "app": memory_rate(BATCH, per_ticket=False),
    }


def _fresh(value: Any, directory: set[UUID], new: dict[UUID, UUID]) -> Any:
    if isinstance(value, UUID) and value not in directory:
        return new.setdefault(value, new_id())
    return value


def _one_unit(desk: HelpDesk, setup: Setup, engine: sa.Engine) -> tuple[Captured, Captured]:
    """The reads and writes of one unit of work per ticket, as the adapter sent them."""
    for _ in range(5):
        desk._dispatcher.flush()  # so that no acknowledgement write joins the unit
        _, sent = capture(engine, lambda: setup.per_ticket(1))
        reads, writes = sent[:2], sent[2:]
        if (
            reads[0][0].lstrip().startswith("SELECT")
            and reads[1][0].lstrip().startswith(_TAKE_NUMBER)
            and writes
            and writes[0][0].startswith(_INSERT_TICKETS)
            and all(sql.startswith("INSERT") and not many for sql, _, many in writes)
            and all(isinstance(params, tuple) for _, params, _ in writes)
        ):
            return reads, writes
    raise RuntimeError("unexpected statements: " + "; ".join(s[:40] for s, _, _ in sent))


def postgres_round(url: str, n: int, chunk: int = 100) -> Round:
    """One round for PostgreSQL, one unit of work per ticket: µs per ticket (wall) of the
    API, of one unit's statements replayed (new ids, a new ticket number each) on psycopg
    and through SQLAlchemy's ``Connection``, and of the application. The first three take
    turns, ``chunk`` units each, so that a machine changing speed affects them alike."""
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        conn.execute(sa.text(f"CREATE SCHEMA {PG_SCHEMA}"))
    options = f"-csearch_path={PG_SCHEMA}"
    engine = create_postgres_engine(url, connect_args={"options": options})
    raw: psycopg.Connection[Any] | None = None
    try:
        upgrade(engine)
        desk, setup = desk_on(SqlStorage(engine))
        setup.batched(2 * BATCH)
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        setup.per_ticket(200)
        reads, writes = _one_unit(desk, setup, engine)
        directory = {setup.tenant_id, setup.agent.id, setup.agent.organisation_id, setup.type.id}
        directory |= {p.id for p in setup.projects} | {g.id for g in setup.guests}
        directory |= {g.organisation_id for g in setup.guests}
        taken = writes[0][1][2]  # tickets: tenant_id, id, number, ...
        raw = psycopg.connect(url.replace("postgresql+psycopg", "postgresql"), options=options)
        driver_conn = raw

        def units(count: int) -> list[list[tuple[str, tuple[Any, ...]]]]:
            """The writes of ``count`` units, each with ids of its own (made before timing)."""
            made = []
            for _ in range(count):
                new: dict[UUID, UUID] = {}
                made.append(
                    [
                        (sql, tuple(_fresh(v, directory, new) for v in params))
                        for sql, params, _ in writes
                    ]
                )
            return made

        def numbered(sql: str, values: tuple[Any, ...], number: int) -> tuple[Any, ...]:
            if sql.startswith(_INSERT_TICKETS):
                return (*values[:2], number, *values[3:])
            return values

        def on_driver(unit: list[tuple[str, tuple[Any, ...]]]) -> None:
            cur = driver_conn.cursor()
            cur.execute(reads[0][0], reads[0][1]).fetchall()
            (number,) = cur.execute(reads[1][0], reads[1][1]).fetchone() or (taken,)
            with driver_conn.pipeline():
                for sql, values in unit:
                    driver_conn.execute(sql, numbered(sql, values, number))
                driver_conn.execute(b"COMMIT", prepare=False)

        def through_sqlalchemy(unit: list[tuple[str, tuple[Any, ...]]]) -> None:
            # As the adapter runs them: a pooled Connection, its execution machinery and
            # cursor events, the writes and COMMIT in one psycopg pipeline.
            with engine.connect() as conn:
                conn.begin()
                conn.exec_driver_sql(reads[0][0], reads[0][1]).all()
                number = conn.exec_driver_sql(reads[1][0], reads[1][1]).scalar_one()
                driver: Any = conn.connection.driver_connection
                with driver.pipeline():
                    for sql, values in unit:
                        conn.exec_driver_sql(sql, numbered(sql, values, number))
                    driver.execute(b"COMMIT", prepare=False)
                conn.commit()

        for unit in units(200):  # warm up: the driver prepares statements after 5 runs
            on_driver(unit)
        for unit in units(200):
            through_sqlalchemy(unit)
        seconds = {"api": 0.0, "db": 0.0, "db_sa": 0.0}
        done = 0
        while done < n:
            size = min(chunk, n - done)
            start = time.perf_counter()
            setup.per_ticket(size)
            seconds["api"] += time.perf_counter() - start
            for name, run in (("db", on_driver), ("db_sa", through_sqlalchemy)):
                prepared = units(size)
                start = time.perf_counter()
                for unit in prepared:
                    run(unit)
                seconds[name] += time.perf_counter() - start
            done += size
    finally:
        if raw is not None:
            raw.close()
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        admin.dispose()
    timed = {name: total / n * 1e6 for name, total in seconds.items()}
    return {**timed, "app": memory_rate(n, per_ticket=True)}


def report(title: str, rounds: list[Round], target: float) -> None:
    f = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    floor = f["db"] + f["app"]
    print(f"\n== {title} (medians of {len(rounds)} rounds) ==")
    lines = [
        ("the public API", f["api"]),
        ("application alone (memory adapter)", f["app"]),
        ("database alone (bare driver)", f["db"]),
    ]
    if "db_sa" in f:
        lines.append(("the same statements through SQLAlchemy", f["db_sa"]))
    for label, us in lines:
        print(f"{label + ':':40s} {us:6.0f} µs/ticket {1e6 / us:7.0f} tickets/s")
    print(
        f"{'application + database, a ceiling:':40s} {floor:6.0f} µs/ticket {1e6 / floor:7.0f} "
        f"tickets/s (target {target:,.0f}/s; the adapter's share now {f['api'] - floor:.0f} µs)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--per-ticket", type=int, default=1_000, help="PostgreSQL units")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            rounds = [sqlite_round(Path(tmp)) for _ in range(args.rounds)]
        report(f"SQLite, {BATCH:,} tickets per unit of work", rounds, 2_000)
    if args.backend in ("postgres", "both"):
        rounds = [postgres_round(args.postgres_url, args.per_ticket) for _ in range(args.rounds)]
        report("PostgreSQL, one unit of work per ticket", rounds, 300)
    return 0


if __name__ == "__main__":
    sys.exit(main())
