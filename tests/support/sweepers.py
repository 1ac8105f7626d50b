"""Sweeper and writer processes for the multi-process SLA tests: each opens its own engine
and help desk on a shared database (an SQLite file, or a PostgreSQL schema) at a fixed
``now``, waits at a barrier so they all start together, and writes what it saw to files of
its own. Kept free of pytest, so that a spawned process starts quickly."""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import datetime
from multiprocessing.synchronize import Barrier
from typing import Any
from uuid import UUID

import attrs
import sqlalchemy as sa

from ticketkit.application import HelpDesk, NotificationMessage
from ticketkit.clock import ManualClock
from ticketkit.domain import SlaLevelReached
from ticketkit.domain.model import Actor
from ticketkit.hooks import Plugins, hookimpl

#: SQLSTATEs of a transaction PostgreSQL rolled back for a concurrent one: deadlock_detected
#: and serialization_failure. ticketkit retries those; the tests count them.
LOST_RACES = frozenset({"40P01", "40001"})


class FiringFile:
    """Appends ``<ticket id> <firing key> <notification id>`` for each notification of an
    ``SlaLevelReached`` event it is handed (unbuffered)."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        event = message.event
        if isinstance(event, SlaLevelReached):
            line = f"{message.ticket.id} {event.key} {message.notification_id}\n"
            os.write(self.fd, line.encode())


def engine_for(url: str, schema: str | None) -> tuple[sa.Engine, list[str]]:
    """An engine on the shared database, and the list its lost races are noted in."""
    from ticketkit.adapters.sqlalchemy import create_postgres_engine, create_sqlite_engine

    if schema is None:
        engine = create_sqlite_engine(url)
    else:
        engine = create_postgres_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    lost: list[str] = []

    @sa.event.listens_for(engine, "handle_error")
    def note(context: sa.engine.ExceptionContext) -> None:
        state = getattr(context.original_exception, "sqlstate", None)
        if state in LOST_RACES:
            lost.append(state)

    return engine, lost


class _Problems(logging.Handler):
    """Keeps what ticketkit logged at WARNING or above (a delivery left for retry, an
    acknowledgement not written)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []
        logging.getLogger("ticketkit").addHandler(self)

    def emit(self, record: logging.LogRecord) -> None:
        cause = f": {record.exc_info[1]!r}" if record.exc_info else ""
        self.seen.append(f"{record.name}: {record.getMessage()}{cause}")


def _desk(engine: sa.Engine, now: str, plugins: list[object]) -> HelpDesk:
    from ticketkit.adapters.sqlalchemy import SqlStorage

    clock = ManualClock(datetime.fromisoformat(now))
    return HelpDesk(
        SqlStorage(engine), clock=clock, plugins=Plugins.create(plugins), delivery="inline"
    )


def _report(out: str, **values: Any) -> None:
    with open(f"{out}.report", "w", encoding="utf-8") as f:
        json.dump(values, f)


def sweep(  # noqa: PLR0917 (a process target takes its arguments by position)
    url: str, schema: str | None, tenant: str, now: str, out: str, start: Barrier, batch: int
) -> None:
    """Sweep the tenant's SLA clocks once, as a scheduler would, recording each firing's
    notification in ``out``; its ``SweepReport`` and lost races go to ``out.report``."""
    engine, lost = engine_for(url, schema)
    problems = _Problems()
    desk = _desk(engine, now, [FiringFile(out)])
    start.wait(60)
    began = time.perf_counter()
    report = desk.sweep_sla(UUID(tenant), batch=batch)
    seconds = time.perf_counter() - began
    desk.close()
    engine.dispose()
    _report(out, sweep=attrs.asdict(report), lost_races=lost, logged=problems.seen, seconds=seconds)


def comment(  # noqa: PLR0917
    url: str,
    schema: str | None,
    tenant: str,
    now: str,
    out: str,
    start: Barrier,
    agent: str,
    tickets: list[str],
) -> None:
    """As the agent, write one public reply on each of ``tickets`` (a unit of work each)
    while sweeps run; each comment's id goes to ``out``."""
    engine, lost = engine_for(url, schema)
    problems = _Problems()
    desk = _desk(engine, now, [])
    actor = Actor(tenant_id=UUID(tenant), person_id=UUID(agent))
    start.wait(60)
    began = time.perf_counter()
    with open(out, "w", encoding="utf-8") as f:
        for ticket_id in tickets:
            written = desk.add_comment(
                actor, UUID(ticket_id), "Looking into it.", visibility="public"
            )
            f.write(f"{ticket_id} {written.id}\n")
    seconds = time.perf_counter() - began
    desk.close()
    engine.dispose()
    _report(out, lost_races=lost, logged=problems.seen, seconds=seconds)
