"""Changes without an expected version never conflict: concurrent writers of one ticket
queue behind its lock (issue 17, point 3)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.support.world import build_world
from ticketkit import HelpDesk, ManualClock, TicketkitError, Visibility
from ticketkit.adapters.sqlalchemy import SqlStorage, connection, create_sqlite_engine, upgrade
from ticketkit.errors import StorageError

THREADS = 16
COMMENTS = 200


def test_sixteen_writers_add_comments_to_one_ticket_without_a_conflict(
    engine: sa.Engine,
) -> None:
    clock = ManualClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    desk = HelpDesk(SqlStorage(engine), clock=clock)
    w = build_world(desk, clock)
    ticket = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Busy",
        fields={"sla_level": "Gold"},
    )
    writers = [w.agent, w.agent2, w.admin, w.acme_guest]
    failures: list[BaseException] = []
    start = threading.Barrier(THREADS)

    def write(n: int) -> None:
        who = writers[n % len(writers)]
        visibility = Visibility.PUBLIC if who is w.acme_guest else Visibility.INTERNAL
        start.wait()
        for i in range(COMMENTS):
            try:
                desk.add_comment(who.actor, ticket.id, f"{n}/{i}", visibility=visibility)
            except TicketkitError as exc:
                failures.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    timeline = desk.timeline(w.agent.actor, ticket.id)
    bodies = sorted(e.comment.body for e in timeline if e.comment is not None)
    assert bodies == sorted(f"{n}/{i}" for n in range(THREADS) for i in range(COMMENTS))
    assert [e.event.seq for e in timeline] == list(range(1, len(timeline) + 1))
    view = desk.get_ticket(w.agent.actor, ticket.id)
    assert view.comment_count == THREADS * COMMENTS and view.version == len(timeline)


def test_a_writer_queued_behind_another_of_its_process_gives_up_with_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Writers of one process queue on a lock per SQLite engine, bounded like SQLite's busy
    timeout: the second writer gets StorageError, writes nothing, and the lock is free again
    once the first writer ends."""
    monkeypatch.setattr(connection, "BUSY_TIMEOUT_MS", 300)
    engine = create_sqlite_engine(tmp_path / "locked.sqlite")
    upgrade(engine)
    clock = ManualClock(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    desk = HelpDesk(SqlStorage(engine), clock=clock)
    w = build_world(desk, clock)
    holding, done = threading.Event(), threading.Event()

    def hold() -> None:
        with desk.storage.unit_of_work(w.provider.tenant_id) as uow:
            uow.tickets.next_number(w.acme_project.id)  # takes the write lock
            holding.set()
            done.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(5)
    start = time.monotonic()
    with pytest.raises(StorageError, match="stayed locked by another writer"):
        desk.create_ticket(
            w.agent.actor,
            project_id=w.acme_project.id,
            type_id=w.incident.id,
            title="Blocked",
            fields={"sla_level": "Gold"},
            requester_id=w.acme_guest.id,
        )
    assert 0.3 <= time.monotonic() - start < 3
    done.set()
    holder.join()
    assert desk.list_tickets(w.agent.actor).items == (), "the refused operation wrote nothing"
    desk.create_ticket(
        w.agent.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Free again",
        fields={"sla_level": "Gold"},
        requester_id=w.acme_guest.id,
    )
    desk.close()
    engine.dispose()
