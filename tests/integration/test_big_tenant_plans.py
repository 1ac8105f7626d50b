"""Everyday operations in a tenant with thousands of customers read none of its big tables
whole (organisations, people, projects), on SQLite and PostgreSQL, with statistics taken.

Found so: resolving a person checked whether her organisation has children by scanning
the organisations (SQLite's statistics counted the roots' NULL parents as one value, so
an index by parent looked useless); routing a customer's ticket found the provider by
scanning them too; the assignable agents were found among every customer's people.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from tests.integration.conftest import new_database
from tests.support.plans import nodes, postgres_plan, sent, sqlite_plan
from tests.support.world import World, build_world
from ticketkit import HelpDesk
from ticketkit.adapters.sqlalchemy import SqlStorage, tables, upgrade
from ticketkit.clock import ManualClock
from ticketkit.domain import Organisation, OrganisationKind, Person, Project, Role, Visibility

CUSTOMERS = 2_000
BIG = {tables.organisations.name, tables.persons.name, tables.projects.name}


@pytest.fixture(scope="module")
def big(sql_backend: str, request: pytest.FixtureRequest) -> Iterator[tuple[World, sa.Engine]]:
    """The world's tenant with CUSTOMERS more customer organisations (roots), each with a
    project and a guest, stored in bulk; a group serves Acme's project."""
    engine, drop = new_database(sql_backend, request)
    upgrade(engine)
    clock = ManualClock(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    desk = HelpDesk(SqlStorage(engine), clock=clock, delivery="inline")
    w = build_world(desk, clock, name="Big")
    desk.create_group(
        w.admin.actor, name="First line", member_ids=[w.agent.id], project_ids=[w.acme_project.id]
    )
    tenant, now = w.admin.tenant_id, clock.now()
    with desk.storage.unit_of_work(tenant) as uow:
        for i in range(CUSTOMERS):
            org = Organisation(
                tenant_id=tenant,
                id=uuid.uuid4(),
                name=f"Customer {i}",
                kind=OrganisationKind.CUSTOMER,
                created_at=now,
            )
            uow.organisations.add(org)
            uow.projects.add(
                Project(
                    tenant_id=tenant,
                    id=uuid.uuid4(),
                    organisation_id=org.id,
                    name=f"Project {i}",
                    number=1_000 + i,
                    created_at=now,
                )
            )
            uow.persons.add(
                Person(
                    tenant_id=tenant,
                    id=uuid.uuid4(),
                    organisation_id=org.id,
                    name=f"Guest {i}",
                    email=f"guest@customer{i}.example",
                    role=Role.GUEST,
                    created_at=now,
                )
            )
        uow.commit()
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))
    yield w, engine
    desk.close()
    drop()


def big_tables_scanned(engine: sa.Engine, statement: str, parameters: Any) -> list[str]:
    """The big tables the plan of ``statement`` reads whole."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # SQLite names a table read under an alias by the alias.
            aliases = dict((a, t) for t, a in re.findall(r"(\w+) AS (\w+)", statement))
            steps = sqlite_plan(conn, statement, parameters)
            scans = [s.split()[1] for s in steps if s.startswith("SCAN ")]
            return [aliases.get(n, n) for n in scans if aliases.get(n, n) in BIG]
        plan = postgres_plan(conn, statement, parameters)
        return [
            n["Relation Name"]
            for n in nodes(plan)
            if n["Node Type"] == "Seq Scan" and n["Relation Name"] in BIG
        ]


def reads_or_writes(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("SELECT", "UPDATE", "DELETE", "WITH"))


def open_and_work(w: World) -> None:
    """A guest opens a ticket; an agent comments, takes it, opens it; both look at it."""
    desk, guest, agent = w.desk, w.acme_guest.actor, w.agent.actor
    t = desk.create_ticket(
        guest,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )
    desk.add_comment(agent, t.id, "On it.", visibility=Visibility.PUBLIC)
    desk.assign(agent, t.id, assignee_id=w.agent.id)
    desk.change_status(agent, t.id, "open")
    desk.timeline(guest, t.id)
    desk.ticket_actions(agent, t.id)


#: What a portal and a desk do all day.
OPERATIONS: dict[str, Callable[[World], object]] = {
    "a guest opens a ticket, an agent works on it": open_and_work,
    "the guest's tickets": lambda w: w.desk.list_tickets(w.acme_guest.actor, limit=25),
    "the assignable agents": lambda w: w.desk.list_people(w.agent.actor, assignable=True),
    "the ticket types a guest may use": lambda w: w.desk.list_ticket_types(w.acme_guest.actor),
    "a person by e-mail": lambda w: w.desk.list_people(w.agent.actor, email=w.acme_guest.email),
}


@pytest.mark.parametrize("name", list(OPERATIONS))
def test_everyday_operations_read_no_big_table_whole(
    big: tuple[World, sa.Engine], name: str
) -> None:
    w, engine = big
    found = sent(engine, lambda: OPERATIONS[name](w), reads_or_writes)
    assert found, "no statement seen"
    for statement, parameters in found:
        assert not big_tables_scanned(engine, statement, parameters), statement
