"""Throughput and latency of the public API on SQLite and PostgreSQL.

For each backend:
1. create N tickets (default 10,000) through ``HelpDesk`` — each with one public and one
   internal comment, with policy checks, history events, outbox notifications and their
   delivery to a (counting) notifier plugin — in units of work of 1,000 tickets, then with
   one unit of work per ticket, then with one per call; print tickets/s;
2. list a guest's first page of 25 tickets (newest first, each with its count of public
   comments) through the API, and the same page by one hand-written indexed SQL query;
   print p50/p95 at 10,000 and at 100,000 tickets in the tenant.

Figures, not assertions: run ``python bench/tickets.py --help``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import sqlalchemy as sa

from ticketkit import (
    DeliveryMode,
    HelpDesk,
    NotificationMessage,
    OrganisationKind,
    Plugins,
    Role,
    Visibility,
    hookimpl,
)
from ticketkit.adapters.sqlalchemy import (
    SqlStorage,
    create_postgres_engine,
    create_sqlite_engine,
    tables,
    upgrade,
)

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "ticketkit_bench"
CUSTOMERS = 10
BATCH = 1_000
WARM_UP = 500

HAND_WRITTEN = sa.text(
    f"""
    SELECT t.id, t.number, t.title, t.status, t.priority, t.public_updated_at,
           (SELECT count(*) FROM {tables.comments.name} c
             WHERE c.tenant_id = t.tenant_id AND c.ticket_id = t.id
               AND c.visibility = 'public') AS public_comments
      FROM {tables.tickets.name} t
     WHERE t.tenant_id = :tenant AND t.project_id = :project
     ORDER BY t.number DESC
     LIMIT 25
    """
).bindparams(sa.bindparam("tenant", type_=sa.Uuid()), sa.bindparam("project", type_=sa.Uuid()))


class CountingNotifier:
    """A notifier plugin, so delivery runs its whole path (projection, plugin call, outcome)."""

    def __init__(self) -> None:
        self.delivered = 0

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        self.delivered += 1


COUNTER = CountingNotifier()


class Setup:
    """A tenant with one agent, CUSTOMERS customer organisations with a project and guest."""

    def __init__(self, desk: HelpDesk) -> None:
        boot = desk.bootstrap_tenant(
            name="Bench",
            provider_name="Bench Hosting",
            admin_name="Admin",
            admin_email="admin@bench.example",
        )
        admin = boot.admin.actor
        self.desk = desk
        self.tenant_id = boot.tenant.id
        self.agent = desk.add_person(
            admin,
            organisation_id=boot.provider.id,
            name="Agent",
            email="agent@bench.example",
            role=Role.AGENT,
        )
        self.type = desk.create_ticket_type(admin, name="Incident")
        self.projects = []
        self.guests = []
        for i in range(CUSTOMERS):
            org = desk.create_organisation(
                admin, name=f"Customer {i}", kind=OrganisationKind.CUSTOMER
            )
            self.projects.append(desk.create_project(admin, organisation_id=org.id, name=f"P{i}"))
            self.guests.append(
                desk.add_person(
                    admin,
                    organisation_id=org.id,
                    name=f"Guest {i}",
                    email=f"guest{i}@c{i}.example",
                    role=Role.GUEST,
                )
            )
        self.made = 0

    def one(self, ops: Any) -> None:
        """One ticket, opened by the agent for a guest, with a public and an internal comment."""
        i = self.made % CUSTOMERS
        self.made += 1
        actor = self.agent.actor
        t = ops.create_ticket(
            actor,
            project_id=self.projects[i].id,
            type_id=self.type.id,
            title=f"Ticket {self.made}",
            requester_id=self.guests[i].id,
        )
        ops.add_comment(actor, t.id, "We are looking into it.", visibility=Visibility.PUBLIC)
        ops.add_comment(actor, t.id, "Probably the disk again.", visibility=Visibility.INTERNAL)

    def batched(self, n: int) -> float:
        start = time.perf_counter()
        done = 0
        while done < n:
            with self.desk.batch(self.agent.actor) as batch:
                for _ in range(min(BATCH, n - done)):
                    self.one(batch)
                    done += 1
        return n / (time.perf_counter() - start)

    def per_ticket(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            with self.desk.batch(self.agent.actor) as unit:
                self.one(unit)
        return n / (time.perf_counter() - start)

    def core_baseline(self, engine: sa.Engine, n: int) -> float:
        """The machine's yardstick: the same ticket and comment rows (no events, outbox or
        policy) by plain SQLAlchemy Core bulk inserts, 1,000 tickets per transaction."""
        now = datetime.now(UTC)
        start = time.perf_counter()
        for first in range(0, n, BATCH):
            tickets, comments = [], []
            for k in range(first, min(first + BATCH, n)):
                i, ticket_id = k % CUSTOMERS, uuid4()
                tickets.append(
                    {
                        "tenant_id": self.tenant_id,
                        "id": ticket_id,
                        "number": 10_000_000 + k,
                        "project_id": self.projects[i].id,
                        "type_id": self.type.id,
                        "title": f"Core ticket {k}",
                        "description": "",
                        "fields": {},
                        "status": "new",
                        "status_category": "new",
                        "priority": "normal",
                        "requester_id": self.guests[i].id,
                        "assignee_id": None,
                        "created_at": now,
                        "updated_at": now,
                        "public_updated_at": now,
                        "version": 3,
                        "event_seq": 3,
                        "comment_tally": [],
                    }
                )
                for body, visibility, org in (
                    ("We are looking into it.", "public", self.agent.organisation_id),
                    ("Probably the disk again.", "internal", self.agent.organisation_id),
                ):
                    comments.append(
                        {
                            "tenant_id": self.tenant_id,
                            "id": uuid4(),
                            "ticket_id": ticket_id,
                            "author_id": self.agent.id,
                            "organisation_id": org,
                            "body": body,
                            "visibility": visibility,
                            "channel": "web",
                            "created_at": now,
                            "ordinal": k,
                        }
                    )
            with engine.begin() as conn:
                conn.execute(tables.tickets.insert(), tickets)
                conn.execute(tables.comments.insert(), comments)
        rate = n / (time.perf_counter() - start)
        with engine.begin() as conn:  # the yardstick's rows must not enter the page figures
            core = sa.select(tables.tickets.c.id).where(tables.tickets.c.number >= 10_000_000)
            conn.execute(tables.comments.delete().where(tables.comments.c.ticket_id.in_(core)))
            conn.execute(tables.tickets.delete().where(tables.tickets.c.number >= 10_000_000))
        return rate

    def per_operation(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            self.one(self.desk)
        return n / (time.perf_counter() - start)


def latency(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(20):
        fn()
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def measure_page(setup: Setup, engine: sa.Engine, runs: int) -> dict[str, float]:
    guest = setup.guests[0]
    desk = setup.desk

    def api() -> None:
        page = desk.list_tickets(guest.actor, limit=25)
        assert len(page.items) == 25

    def raw() -> None:
        with engine.connect() as conn:
            rows = conn.execute(
                HAND_WRITTEN, {"tenant": setup.tenant_id, "project": setup.projects[0].id}
            ).all()
        assert len(rows) == 25

    # The API answer and the hand-written one must be the same page.
    page = desk.list_tickets(guest.actor, limit=25)
    with engine.connect() as conn:
        rows = conn.execute(
            HAND_WRITTEN, {"tenant": setup.tenant_id, "project": setup.projects[0].id}
        ).all()
    assert [(t.number, t.comment_count) for t in page.items] == [
        (r.number, r.public_comments) for r in rows
    ]
    api50, api95 = latency(api, runs)
    sql50, sql95 = latency(raw, runs)
    return {"api_p50": api50, "api_p95": api95, "sql_p50": sql50, "sql_p95": sql95}


def page_report(setup: Setup, engine: sa.Engine, runs: int) -> dict[str, float]:
    """Measure the guest page at the tenant's current size and print one line."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    f = measure_page(setup, engine, runs)
    print(
        f"guest page at {setup.made:>7} tickets: API p50 {f['api_p50']:.2f} ms  p95 "
        f"{f['api_p95']:.2f} ms | hand-written SQL p50 {f['sql_p50']:.2f} ms  "
        f"p95 {f['sql_p95']:.2f} ms | ratio p95 {f['api_p95'] / f['sql_p95']:.1f}x"
    )
    return f


def run_backend(
    name: str, engine: sa.Engine, *, n: int, per_op: int, grow_to: int, runs: int
) -> None:
    upgrade(engine)
    COUNTER.delivered = 0
    # Inline: the figures include delivering each operation's notifications, as before.
    desk = HelpDesk(
        SqlStorage(engine), plugins=Plugins.create([COUNTER]), delivery=DeliveryMode.INLINE
    )
    setup = Setup(desk)
    print(f"\n== {name} ==")
    # A database in use has statistics: autovacuum analyzes new tables within a minute. Without
    # them PostgreSQL plans its foreign-key checks on near-empty tables and keeps those plans
    # per connection, probing a wrong index for minutes (see docs/storage.md).
    setup.batched(WARM_UP)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    rate_core = setup.core_baseline(engine, n)
    print(
        f"yardstick, plain Core bulk inserts:  {rate_core:8.0f} tickets/s  ({n} tickets + 2 "
        "comments each, 1,000 per transaction)"
    )
    rate_batch = setup.batched(n)
    print(
        f"create, one unit of work per {BATCH}: {rate_batch:8.0f} tickets/s  ({n} tickets, "
        "each + 1 public + 1 internal comment)"
    )
    rate_ticket = setup.per_ticket(per_op)
    print(f"create, one unit of work per ticket:  {rate_ticket:8.0f} tickets/s  ({per_op} tickets)")
    rate_call = setup.per_operation(per_op // 4)
    print(
        f"create, one unit of work per call:    {rate_call:8.0f} tickets/s  ({per_op // 4} tickets,"
        " 3 calls each)"
    )
    print(f"notifications delivered to the counting notifier: {COUNTER.delivered}")
    small = page_report(setup, engine, runs)
    total = setup.made
    if grow_to > total:
        t0 = time.perf_counter()
        setup.batched(grow_to - total)
        print(f"(grew to {setup.made} tickets in {time.perf_counter() - t0:.0f} s)")
        big = page_report(setup, engine, runs)
        print(
            f"growth factor of API p95 from {total} to {setup.made}: "
            f"{big['api_p95'] / small['api_p95']:.2f}x"
        )


def fresh_schema(url: str, *, create: bool) -> None:
    """Drop the bench's own PostgreSQL schema, and make it anew when ``create``; then write
    every dirty page out (CHECKPOINT), so that no earlier work is flushed to disk while
    this run, or the next one, is being timed."""
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
        if create:
            conn.execute(sa.text(f"CREATE SCHEMA {PG_SCHEMA}"))
    try:
        with admin.connect() as conn:
            conn.execute(sa.text("CHECKPOINT"))
    except sa.exc.DBAPIError as exc:  # needs superuser or pg_checkpoint
        print(f"(no CHECKPOINT: {exc.orig})")
    admin.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument(
        "--per-op", type=int, default=2_000, help="tickets created with one unit of work each"
    )
    parser.add_argument("--grow-to", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=300, help="samples per latency figure")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    args = parser.parse_args(argv)

    sizes = {"n": args.tickets, "per_op": args.per_op, "grow_to": args.grow_to, "runs": args.runs}
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_sqlite_engine(Path(tmp) / "bench.sqlite")
            run_backend("SQLite (file, WAL)", engine, **sizes)
            engine.dispose()
    if args.backend in ("postgres", "both"):
        fresh_schema(args.postgres_url, create=True)
        engine = create_postgres_engine(
            args.postgres_url, connect_args={"options": f"-csearch_path={PG_SCHEMA}"}
        )
        run_backend("PostgreSQL", engine, **sizes)
        engine.dispose()
        fresh_schema(args.postgres_url, create=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
