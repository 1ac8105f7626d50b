"""What the SLA sweep's due read locks on PostgreSQL, and why it must lock the clocks rows
as well as their tickets.

PostgreSQL reads a statement's rows at its snapshot and locks them afterwards. A ticket
write that commits in between (its ticket was not locked yet, so ``SKIP LOCKED`` has
nothing to skip) leaves a locked ticket beside clocks read before that write. Locking the
clocks rows too makes PostgreSQL read each again as committed once it holds it. The tests
stop the due read right after its snapshot (a test-only advisory-lock gate added to the
statement's select list, which PostgreSQL evaluates below the row locking), commit a write,
and open the gate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any, TypeVar

import attrs
import pytest
import sqlalchemy as sa

from tests.conftest import PG_SCHEMA, POSTGRES_URL
from tests.support.records import NOW, seed
from tests.support.sla import MINUTE, clocks, tickets
from tests.support.world import build_world, gold_within_an_hour
from ticketkit import HelpDesk, ManualClock
from ticketkit.adapters.sqlalchemy import SqlStorage, create_postgres_engine
from ticketkit.domain.sla import Metric
from ticketkit.domain.sla.records import TicketClocks

pytestmark = pytest.mark.postgres
T = TypeVar("T")

#: The advisory lock the gate waits on.
GATE = 20_260_522
H = timedelta(hours=1)


@contextmanager
def gated_engine(postgres_engine: sa.Engine) -> Iterator[tuple[sa.Engine, Callable[[], None]]]:
    """An engine whose due-clocks reads wait at the gate after taking their snapshot, and a
    function that waits until one does and returns once it is stopped there; the gate
    opens when the block ends."""
    engine = create_postgres_engine(
        POSTGRES_URL, connect_args={"options": f"-csearch_path={PG_SCHEMA}"}
    )

    @sa.event.listens_for(engine, "before_cursor_execute", retval=True)
    def gate(  # noqa: PLR0917 (the event's signature)
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> tuple[str, Any]:
        if "FROM ticketkit_sla_clocks JOIN ticketkit_tickets" in statement:
            pause = f"SELECT pg_advisory_xact_lock_shared({GATE}) IS NULL AS gate, "
            statement = statement.replace("SELECT ", pause, 1)
        return statement, params

    def stopped() -> None:
        waiting = sa.text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = :gate"
            " AND NOT granted"
        )
        for _ in range(400):
            with postgres_engine.connect() as conn:
                if conn.execute(waiting, {"gate": GATE}).scalar_one():
                    return
            time.sleep(0.025)
        raise AssertionError("the due read never reached the gate")

    with postgres_engine.connect() as holder:
        holder.execute(sa.text("SELECT pg_advisory_lock(:gate)"), {"gate": GATE})
        try:
            yield engine, stopped
        finally:
            holder.execute(sa.text("SELECT pg_advisory_unlock(:gate)"), {"gate": GATE})
            holder.commit()
    engine.dispose()


def in_thread(work: Callable[[], T]) -> tuple[threading.Thread, Callable[[], T]]:
    """``work()`` started in a thread, and a function that waits for its result (raising
    what it raised)."""
    out: list[T] = []
    failed: list[BaseException] = []

    def run() -> None:
        try:
            out.append(work())
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()

    def result() -> T:
        thread.join(30)
        if failed:
            raise failed[0]
        assert out, "still running after 30 s"
        return out[0]

    return thread, result


def test_due_hands_over_the_clocks_a_ticket_write_committed_while_it_read(
    postgres_engine: sa.Engine,
) -> None:
    storage = SqlStorage(postgres_engine)
    s = seed(storage)
    changed, moved_on, untouched = tickets(storage, s, 3)
    with storage.unit_of_work(s.tenant) as uow:
        for t in (changed, moved_on, untouched):
            uow.clocks.put(clocks(s, t, next_firing_at=NOW - MINUTE))
        uow.commit()
    warned = frozenset({"first_response:1:warning:50"})

    with gated_engine(postgres_engine) as (gated, stopped):

        def sweep() -> list[TicketClocks]:
            with SqlStorage(gated).unit_of_work(s.tenant) as uow:
                taken = uow.clocks.due(NOW, 10)
                uow.commit()
            return taken

        _, taken = in_thread(sweep)
        stopped()
        # A ticket write, as every one: the ticket locked, then its clocks written.
        with storage.unit_of_work(s.tenant) as uow:
            for t in (changed, moved_on):
                assert uow.tickets.get(t, for_update=True) is not None
            uow.clocks.put(clocks(s, changed, next_firing_at=NOW - MINUTE, fired=warned))
            uow.clocks.put(clocks(s, moved_on, next_firing_at=NOW + H))
            uow.commit()
    assert {c.ticket_id: c.fired for c in taken()} == {changed: warned, untouched: frozenset()}


def test_marking_clocks_stale_waits_for_the_sweep_holding_them(
    postgres_engine: sa.Engine,
) -> None:
    storage = SqlStorage(postgres_engine)
    s = seed(storage)
    [t] = tickets(storage, s, 1)
    with storage.unit_of_work(s.tenant) as uow:
        uow.clocks.put(clocks(s, t, next_firing_at=NOW - MINUTE))
        uow.commit()

    def policy_changed() -> int:
        with storage.unit_of_work(s.tenant) as uow:
            marked = uow.clocks.mark_stale(NOW)
            uow.commit()
        return marked

    with storage.unit_of_work(s.tenant) as uow:
        [held] = uow.clocks.due(NOW, 10)
        thread, marked = in_thread(policy_changed)
        thread.join(1.0)
        assert thread.is_alive(), "the policy change waits for the sweep"
        uow.clocks.put(attrs.evolve(held, next_firing_at=None))
        uow.commit()
    assert marked() == 1
    with storage.unit_of_work(s.tenant, read_only=True) as uow:
        stored = uow.clocks.get(t)
    assert stored is not None
    assert (stored.stale, stored.next_firing_at) == (True, NOW), "replayed by the next sweep"


def test_a_reply_committed_while_a_sweep_reads_keeps_what_it_did_to_the_clocks(
    postgres_engine: sa.Engine,
) -> None:
    clock = ManualClock(NOW)
    desk = HelpDesk(SqlStorage(postgres_engine), clock=clock, delivery="inline")
    w = build_world(desk, clock)
    gold_within_an_hour(w)
    ticket = desk.create_ticket(
        w.agent.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
        requester_id=w.acme_guest.id,
        assignee_id=w.agent.id,
    ).id
    clock.advance(2 * H)

    with gated_engine(postgres_engine) as (gated, stopped):
        sweeper = HelpDesk(SqlStorage(gated), clock=ManualClock(clock.now()), delivery="inline")
        _, swept = in_thread(lambda: sweeper.sweep_sla(w.provider.tenant_id))
        stopped()
        desk.add_comment(w.agent.actor, ticket, "On it.", visibility="public")
    report = swept()
    assert (report.warnings, report.breaches) == (1, 1), "reached before the reply"
    sla = desk.ticket_sla(w.agent.actor, ticket)
    assert sla is not None
    first = next(c for c in sla.clocks if c.metric is Metric.FIRST_RESPONSE)
    assert first.state == "met", "the sweep did not put back the clocks it read before"
    assert desk.get_ticket(w.agent.actor, ticket).sla_due_at is None
