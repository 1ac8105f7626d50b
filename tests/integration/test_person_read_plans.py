"""Resolving a person (the first read of every operation and page) searches every table it
reads by an index, also in a tenant whose organisations are nearly all roots: statistics
that counted the roots' NULL parents as one value made SQLite scan the organisations
there, once per person and call."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.conftest import new_database
from tests.support.world import World, build_world
from ticketkit import HelpDesk
from ticketkit.adapters.sqlalchemy import SqlStorage, tables, upgrade
from ticketkit.clock import ManualClock
from ticketkit.domain import Organisation, OrganisationKind, Project

ROOTS = 2_000
PERSONS = tables.persons.name
ORGANISATIONS = tables.organisations.name


@pytest.fixture(scope="module")
def roots(sql_backend: str, request: pytest.FixtureRequest) -> Iterator[tuple[World, sa.Engine]]:
    """A tenant with ROOTS more customer organisations, none with a parent, each with a
    project, and the database's statistics taken."""
    engine, drop = new_database(sql_backend, request)
    upgrade(engine)
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    desk = HelpDesk(SqlStorage(engine), clock=clock, delivery="outbox")
    w = build_world(desk, clock, name="Roots")
    with desk.storage.unit_of_work(w.admin.tenant_id) as uow:
        for i in range(ROOTS):
            org = Organisation(
                tenant_id=w.admin.tenant_id,
                id=uuid.uuid4(),
                name=f"Customer {i}",
                kind=OrganisationKind.CUSTOMER,
                created_at=clock.now(),
            )
            uow.organisations.add(org)
            uow.projects.add(
                Project(
                    tenant_id=org.tenant_id,
                    id=uuid.uuid4(),
                    organisation_id=org.id,
                    name=f"Project {i}",
                    number=1_000 + i,
                    created_at=clock.now(),
                )
            )
        uow.commit()
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    yield w, engine
    desk.close()
    drop()


def person_reads(engine: sa.Engine, w: World) -> list[tuple[str, Any]]:
    """The statements that resolve the guest when she lists her tickets."""
    found: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {PERSONS}" in statement:
            found.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        w.desk.list_tickets(w.acme_guest.actor, limit=5)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return found


def scanned(engine: sa.Engine, statement: str, parameters: Any) -> list[str]:
    """The tables the plan of ``statement`` scans whole (PostgreSQL: of those that have more
    than a few pages, which it may rightly read whole)."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            steps = [str(r[-1]) for r in rows]
            return [s for s in steps if s.startswith("SCAN ") and s != "SCAN CONSTANT ROW"]
        raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
        plan = raw.scalar_one()
        plan = plan if isinstance(plan, list) else json.loads(plan)
        found, todo = [], [plan[0]["Plan"]]
        while todo:
            node = todo.pop()
            todo += node.get("Plans", ())
            if node["Node Type"] == "Seq Scan" and node["Relation Name"] == ORGANISATIONS:
                found.append(str(node))
        return found


def test_resolving_a_person_scans_no_table_among_thousands_of_root_organisations(
    roots: tuple[World, sa.Engine],
) -> None:
    w, engine = roots
    statements = person_reads(engine, w)
    assert statements, "no person read seen"
    for statement, parameters in statements:
        assert not scanned(engine, statement, parameters), statement
