"""Throughput and latency of the public API on SQLite and PostgreSQL.

For each backend:
1. create N tickets (default 10,000) through ``HelpDesk`` — each with one public and one
   internal comment, with policy checks, history events, outbox notifications and their
   delivery to a (counting) notifier plugin — in units of work of 1,000 tickets, then with
   one unit of work per ticket, then with one per call; print tickets/s, beside the
   machine's yardstick (the same rows by plain SQLAlchemy Core bulk inserts);
2. a guest's first page (25 tickets by last public activity, each with its count of public
   comments) through the API and by one hand-written indexed SQL query on ticketkit's own
   schema, with 100, 1,000, 10,000 and 100,000 tickets in the guest's own project;
3. an agent's first page with a status filter (25 open tickets by last update, among mostly
   closed ones) through the API and by hand-written SQL, at the tenant's size after step 1
   and after growing it to 1,000,000 tickets (SQLite; 100,000 on PostgreSQL by default).

Tickets for steps 2 and 3 are stored in bulk through the adapter (copies of one ticket and
its comments opened through the API), as an import would: the API's intake is step 1's.
Step 3's tickets come without comment rows: the agent's page reads none (it counts a
ticket's comments from the ticket's tally), and 2,000,000 comment rows would only slow the
loading.
Figures, not assertions: run ``python bench/tickets.py --help``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import attrs
import sqlalchemy as sa

from ticketkit import (
    HelpDesk,
    NotificationMessage,
    OrganisationKind,
    Plugins,
    Role,
    StatusCategory,
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
from ticketkit.ids import new_id
from ticketkit.policy import TRUE

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
PG_SCHEMA = "ticketkit_bench"
CUSTOMERS = 10
BATCH = 1_000
WARM_UP = 500

GUEST_PAGE = sa.text(
    f"""
    SELECT t.id, t.number, t.title, t.status, t.priority, t.public_updated_at,
           (SELECT count(*) FROM {tables.comments.name} c
             WHERE c.tenant_id = t.tenant_id AND c.ticket_id = t.id
               AND c.visibility = 'public') AS public_comments
      FROM {tables.tickets.name} t
     WHERE t.tenant_id = :tenant AND t.project_id = :project
     ORDER BY t.public_updated_at DESC, t.id DESC
     LIMIT 25
    """
).bindparams(sa.bindparam("tenant", type_=sa.Uuid()), sa.bindparam("project", type_=sa.Uuid()))

AGENT_PAGE = sa.text(
    f"""
    SELECT t.id, t.number, t.title, t.status, t.priority, t.assignee_id, t.updated_at,
           t.comment_tally
      FROM {tables.tickets.name} t
     WHERE t.tenant_id = :tenant AND t.status = 'open'
     ORDER BY t.updated_at DESC, t.id DESC
     LIMIT 25
    """
).bindparams(sa.bindparam("tenant", type_=sa.Uuid()))


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
        admin = self.admin = boot.admin.actor
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
        self.desk.flush()  # until every notification of these tickets is delivered
        return n / (time.perf_counter() - start)

    def per_ticket(self, n: int) -> float:
        start = time.perf_counter()
        for _ in range(n):
            with self.desk.batch(self.agent.actor) as unit:
                self.one(unit)
        self.desk.flush()
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
        self.desk.flush()
        return n / (time.perf_counter() - start)


def as_uuid(value: object) -> UUID:
    """An id as a raw SQLite row holds it (text) or PostgreSQL's (a UUID)."""
    return value if isinstance(value, UUID) else UUID(str(value))


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


class Loader:
    """Stores copies of one ticket and its two comments (opened through the API) in bulk
    through the adapter, 10,000 per unit of work, as an import would."""

    def __init__(self, setup: Setup, storage: SqlStorage) -> None:
        self.storage = storage
        self.setup = setup
        template = setup.desk.create_ticket(
            setup.agent.actor,
            project_id=setup.projects[0].id,
            type_id=setup.type.id,
            title="Template",
            requester_id=setup.guests[0].id,
        )
        setup.desk.add_comment(
            setup.agent.actor, template.id, "We are on it.", visibility=Visibility.PUBLIC
        )
        setup.desk.add_comment(
            setup.agent.actor, template.id, "Disk again.", visibility=Visibility.INTERNAL
        )
        with storage.unit_of_work(setup.tenant_id) as uow:
            ticket = uow.tickets.get(template.id)
            assert ticket is not None
            self.ticket = ticket
            self.comments = uow.comments.for_ticket(template.id, TRUE)
        self.at = datetime.now(UTC)
        self.loaded = 0

    def load(
        self,
        project_id: UUID,
        requester_id: UUID,
        count: int,
        *,
        status: Callable[[int], str],
        comments: bool = True,
    ) -> None:
        """``count`` more tickets in the project; without ``comments`` only the tickets
        (for lists that read no comments: the agent's page counts them from the ticket)."""
        categories = {"open": StatusCategory.OPEN, "closed": StatusCategory.CLOSED}
        done = 0
        while done < count:
            with self.storage.unit_of_work(self.setup.tenant_id) as uow:
                for _ in range(min(10_000, count - done)):
                    self.at += timedelta(seconds=1)
                    key = status(self.loaded)
                    ticket = attrs.evolve(
                        self.ticket,
                        id=new_id(),
                        number=uow.tickets.next_number(project_id),
                        project_id=project_id,
                        requester_id=requester_id,
                        status=key,
                        status_category=categories[key],
                        created_at=self.at,
                        updated_at=self.at,
                        public_updated_at=self.at,
                    )
                    uow.tickets.add(ticket)
                    for c in self.comments if comments else ():
                        uow.comments.add(
                            attrs.evolve(c, id=new_id(), ticket_id=ticket.id, created_at=self.at)
                        )
                    done += 1
                    self.loaded += 1
                uow.commit()


def compare(
    label: str,
    engine: sa.Engine,
    api: Callable[[], list[Any]],
    raw: Callable[[sa.Connection], list[Any]],
    runs: int,
) -> dict[str, float]:
    """p50/p95 of ``api`` and of the hand-written ``raw``, after checking they give the same
    page; prints one line."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
    with engine.connect() as conn:
        mine, theirs = api(), raw(conn)
        assert mine == theirs, f"the API and the hand-written query disagree: {mine} {theirs}"

    def by_hand() -> None:
        with engine.connect() as conn:
            raw(conn)

    api50, api95 = latency(api, runs)
    sql50, sql95 = latency(by_hand, runs)
    print(
        f"{label}: API p50 {api50:.2f} ms  p95 {api95:.2f} ms | hand-written SQL p50 "
        f"{sql50:.2f} ms  p95 {sql95:.2f} ms | ratio p95 {api95 / sql95:.1f}x"
    )
    return {"api_p50": api50, "api_p95": api95, "sql_p50": sql50, "sql_p95": sql95}


def guest_pages(
    setup: Setup, loader: Loader, engine: sa.Engine, sizes: list[int], runs: int
) -> None:
    """The guest's first page as her own project grows through ``sizes``."""
    admin = setup.admin
    org = setup.desk.create_organisation(admin, name="Big Customer", kind=OrganisationKind.CUSTOMER)
    project = setup.desk.create_project(admin, organisation_id=org.id, name="Big")
    guest = setup.desk.add_person(
        admin, organisation_id=org.id, name="Big Guest", email="guest@big.example", role=Role.GUEST
    )

    def api() -> list[Any]:
        page = setup.desk.list_tickets(guest.actor, sort="recently_updated", limit=25)
        return [(t.id, t.comment_count) for t in page.items]

    def raw(conn: sa.Connection) -> list[Any]:
        rows = conn.execute(GUEST_PAGE, {"tenant": setup.tenant_id, "project": project.id})
        return [(as_uuid(r.id), r.public_comments) for r in rows]

    figures, have = [], 0
    for size in sizes:
        loader.load(project.id, guest.id, size - have, status=lambda k: "open")
        have = size
        figures.append(
            compare(f"guest page, {size:>7} tickets in her project", engine, api, raw, runs)
        )
    if len(figures) > 1:
        growth = figures[-1]["api_p95"] / figures[0]["api_p95"]
        print(f"guest page: API p95 growth from {sizes[0]} to {sizes[-1]} tickets: {growth:.2f}x")


def agent_pages(setup: Setup, loader: Loader, engine: sa.Engine, grow_to: int, runs: int) -> None:
    """An agent's first page of open tickets, now and with the tenant grown to ``grow_to``."""
    agent = setup.agent

    def api() -> list[Any]:
        page = setup.desk.list_tickets(agent.actor, status="open", sort="recently_updated")
        return [t.id for t in page.items]

    def raw(conn: sa.Connection) -> list[Any]:
        return [as_uuid(r.id) for r in conn.execute(AGENT_PAGE, {"tenant": setup.tenant_id})]

    def total() -> int:
        with engine.connect() as conn:
            count = sa.select(sa.func.count()).select_from(tables.tickets)
            return int(
                conn.execute(
                    count.where(tables.tickets.c.tenant_id == setup.tenant_id)
                ).scalar_one()
            )

    first = total()
    small = compare(f"agent page (status filter), {first:>7} tickets", engine, api, raw, runs)
    if grow_to > first:
        t0 = time.perf_counter()
        # One ticket in twenty is open; the rest are closed, as in a desk that has run a while.
        missing = grow_to - first
        per = missing // CUSTOMERS
        for i in range(CUSTOMERS):
            count = per if i < CUSTOMERS - 1 else missing - per * (CUSTOMERS - 1)
            loader.load(
                setup.projects[i].id,
                setup.guests[i].id,
                count,
                status=lambda k: "open" if k % 20 == 0 else "closed",
                comments=False,
            )
        print(f"(grew the tenant to {total()} tickets in {time.perf_counter() - t0:.0f} s)")
        big = compare(f"agent page (status filter), {grow_to:>7} tickets", engine, api, raw, runs)
        print(f"agent page: API p95 growth: {big['api_p95'] / small['api_p95']:.2f}x")


def run_backend(
    name: str,
    engine: sa.Engine,
    *,
    n: int,
    per_op: int,
    guest_sizes: list[int],
    agent_size: int,
    runs: int,
    only_intake: bool,
    only_pages: bool = False,
) -> None:
    upgrade(engine)
    COUNTER.delivered = 0
    storage = SqlStorage(engine)
    # Delivery as hosts get it by default, off the caller's thread; each figure's clock
    # stops only once its tickets' notifications are delivered (flush), so it includes them.
    desk = HelpDesk(storage, plugins=Plugins.create([COUNTER]))
    setup = Setup(desk)
    print(f"\n== {name} ==")
    # A database in use has statistics: autovacuum analyzes new tables within a minute. Without
    # them PostgreSQL plans its foreign-key checks on near-empty tables and keeps those plans
    # per connection, probing a wrong index for minutes (see docs/storage.md).
    setup.batched(WARM_UP)
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    if not only_pages:
        intake(setup, engine, n, per_op)
    if only_intake:
        return
    loader = Loader(setup, storage)
    guest_pages(setup, loader, engine, guest_sizes, runs)
    agent_pages(setup, loader, engine, agent_size, runs)


def intake(setup: Setup, engine: sa.Engine, n: int, per_op: int) -> None:
    """Step 1: tickets/s beside the yardstick."""
    desk = setup.desk
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
    desk.flush()
    print(f"notifications delivered to the counting notifier: {COUNTER.delivered}")


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
    parser.add_argument(
        "--guest-sizes",
        default="100,1000,10000,100000",
        help="tickets in the guest's own project at which her page is measured",
    )
    parser.add_argument(
        "--agent-size", type=int, default=1_000_000, help="tickets in the tenant (SQLite)"
    )
    parser.add_argument(
        "--pg-agent-size", type=int, default=100_000, help="tickets in the tenant (PostgreSQL)"
    )
    parser.add_argument("--runs", type=int, default=300, help="samples per latency figure")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--postgres-url", default=DEFAULT_PG)
    parser.add_argument(
        "--only-intake", action="store_true", help="measure the intake only (step 1)"
    )
    parser.add_argument(
        "--only-pages", action="store_true", help="measure the pages only (steps 2 and 3)"
    )
    args = parser.parse_args(argv)

    sizes: dict[str, Any] = {
        "n": args.tickets,
        "per_op": args.per_op,
        "guest_sizes": [int(x) for x in args.guest_sizes.split(",")],
        "runs": args.runs,
        "only_intake": args.only_intake,
        "only_pages": args.only_pages,
    }
    if args.backend in ("sqlite", "both"):
        with tempfile.TemporaryDirectory() as tmp:
            engine = create_sqlite_engine(Path(tmp) / "bench.sqlite")
            run_backend("SQLite (file, WAL)", engine, agent_size=args.agent_size, **sizes)
            engine.dispose()
    if args.backend in ("postgres", "both"):
        fresh_schema(args.postgres_url, create=True)
        engine = create_postgres_engine(
            args.postgres_url, connect_args={"options": f"-csearch_path={PG_SCHEMA}"}
        )
        run_backend("PostgreSQL", engine, agent_size=args.pg_agent_size, **sizes)
        engine.dispose()
        fresh_schema(args.postgres_url, create=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
