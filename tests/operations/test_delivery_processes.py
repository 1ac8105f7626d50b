"""At least once, across processes: two dispatcher processes share one outbox of 2,000
notifications on SQLite and on PostgreSQL; a recording plugin sees each key at least once,
and at most once per crash."""

from __future__ import annotations

import logging
import multiprocessing
from collections import Counter
from pathlib import Path
from uuid import UUID

import pytest
import sqlalchemy as sa

from tests.operations.conftest import Database
from tests.support.dispatchers import BATCH, dispatch
from tests.support.world import build_world
from ticketkit.adapters.sqlalchemy import SqlStorage
from ticketkit.application import HelpDesk, NotificationMessage
from ticketkit.clock import ManualClock
from ticketkit.domain.notifications import DeliveryStatus
from ticketkit.hooks import Plugins, hookimpl
from ticketkit.policy import TRUE

NOTIFICATIONS = 2000


class Down:
    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        raise ConnectionError("down while the operations ran")


def failed_outbox(engine: sa.Engine, clock: ManualClock) -> str:
    """A tenant with ``NOTIFICATIONS`` notifications whose first delivery failed, due now
    for any dispatcher: tickets an agent opened for a guest (or more notifications, should
    more people hear of a new ticket one day). Returns the tenant id."""
    desk = HelpDesk(SqlStorage(engine), clock=clock, plugins=Plugins.create([Down()]))
    w = build_world(desk, clock)
    with desk.batch(w.agent.actor) as batch:
        for i in range(NOTIFICATIONS):
            batch.create_ticket(
                w.agent.actor,
                project_id=w.acme_project.id,
                type_id=w.incident.id,
                title=f"Down {i}",
                fields={"sla_level": "Gold"},
                requester_id=w.acme_guest.id,
            )
    desk.flush()
    with desk.storage.unit_of_work(w.provider.tenant_id) as uow:
        rows = uow.outbox.list(TRUE, 2 * NOTIFICATIONS)
    assert len(rows) >= NOTIFICATIONS
    assert {n.status for n in rows} == {DeliveryStatus.FAILED}
    return str(w.provider.tenant_id)


@pytest.fixture
def tenant(
    database: Database,
    clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> str:
    """The tenant of ``failed_outbox`` on ``database``."""
    with caplog.at_level(logging.CRITICAL, logger="ticketkit"):
        return failed_outbox(database[0], clock)


def keys(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def run(
    database: Database,
    tenant: str,
    outs: list[Path],
    *,
    crash_after: int | None = None,
    late_minutes: int = 0,
) -> list[int | None]:
    """Run one dispatcher process per file in ``outs`` at once (the first one crashing
    after ``crash_after`` keys); return their exit codes."""
    _, url, schema = database
    ctx = multiprocessing.get_context("spawn")
    start = ctx.Barrier(len(outs)) if len(outs) > 1 else None
    processes = [
        ctx.Process(
            target=dispatch,
            args=(
                url,
                schema,
                tenant,
                str(out),
                crash_after if i == 0 else None,
                late_minutes,
                start,
                crash_after is None,
                # the others begin once the crashing one has claimed its batch
                str(outs[0]) if crash_after is not None and i > 0 else None,
            ),
        )
        for i, out in enumerate(outs)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(120)
    for p in processes:
        if p.is_alive():
            p.kill()
    return [p.exitcode for p in processes]


def outbox(engine: sa.Engine, tenant: str) -> dict[str, DeliveryStatus]:
    with SqlStorage(engine).unit_of_work(UUID(tenant)) as uow:
        return {str(n.id): n.status for n in uow.outbox.list(TRUE, 2 * NOTIFICATIONS)}


def test_two_dispatcher_processes_deliver_each_key_once(
    database: Database, tenant: str, tmp_path: Path
) -> None:
    engine = database[0]
    outs = [tmp_path / "a.keys", tmp_path / "b.keys"]
    assert run(database, tenant, outs) == [0, 0]
    a, b = keys(outs[0]), keys(outs[1])
    assert a and b, "both dispatchers delivered"
    seen = Counter(a + b)
    assert set(seen) == set(outbox(engine, tenant)), "every key at least once"
    assert set(seen.values()) == {1}, "and, without a crash, exactly once"
    assert set(outbox(engine, tenant).values()) == {DeliveryStatus.DELIVERED}


def test_a_dispatcher_crashing_mid_batch_costs_at_most_one_more_delivery_per_key(
    database: Database, tenant: str, tmp_path: Path
) -> None:
    engine = database[0]
    outs = [tmp_path / "a.keys", tmp_path / "b.keys"]
    crash_after = BATCH // 2
    # "a" dies with os._exit after delivering half of its first batch, before writing any
    # of its outcomes; "b" goes on with the rows "a" had not claimed.
    assert run(database, tenant, outs, crash_after=crash_after) == [17, 0]
    a, b = keys(outs[0]), keys(outs[1])
    assert len(a) == crash_after and b
    left = {k for k, status in outbox(engine, tenant).items() if status is DeliveryStatus.PENDING}
    assert set(a) <= left, "what the crashed one delivered is not acknowledged"
    # Its lease runs out; the next dispatcher delivers what it had claimed.
    later = tmp_path / "c.keys"
    assert run(database, tenant, [later], late_minutes=3) == [0]
    seen = Counter(a + b + keys(later))
    assert set(seen) == set(outbox(engine, tenant)), "every key at least once"
    assert {k for k, n in seen.items() if n > 1} == set(a), "twice only what the crash lost"
    assert max(seen.values()) == 2, "at most once per crash"
    assert set(outbox(engine, tenant).values()) == {DeliveryStatus.DELIVERED}
