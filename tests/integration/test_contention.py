"""Changes without an expected version never conflict: concurrent writers of one ticket
queue behind its lock (issue 17, point 3)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import sqlalchemy as sa

from tests.support.world import build_world
from ticketkit import HelpDesk, ManualClock, TicketkitError, Visibility
from ticketkit.adapters.sqlalchemy import SqlStorage

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
