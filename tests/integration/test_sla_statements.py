"""What keeping SLA clocks costs a ticket change, in statements (issue 20): one read of the
tenant's policies and calendars together, the stored clocks of a ticket that has them, and
a write only when a clock moved. Nothing lists the provider organisations, and nothing
reads the organisation chain that no policy condition or calendar looks at."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from tests.support.world import World, build_world
from ticketkit import HelpDesk
from ticketkit.adapters.sqlalchemy import SqlStorage, tables
from ticketkit.clock import ManualClock
from ticketkit.demo_world import seed_000_slas
from ticketkit.domain import Visibility

SLA = "ticketkit_sla_"
CLOCKS = tables.sla_clocks.name
ORGANISATIONS = tables.organisations.name


@pytest.fixture
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """The statements this thread sends while the test runs (not the delivery thread's)."""
    seen: list[str] = []
    mine = threading.get_ident()

    def record(**event: Any) -> None:
        if threading.get_ident() == mine:
            seen.append(" ".join(event["statement"].split()))

    sa.event.listen(engine, "before_cursor_execute", record, named=True)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def world(engine: sa.Engine, clock: ManualClock) -> World:
    w = build_world(HelpDesk(SqlStorage(engine), clock=clock, delivery="inline"), clock)
    seed_000_slas(w.desk, w.admin.actor)
    return w


def sla_statements(seen: list[str]) -> list[str]:
    """What the clock keeper sent: the statements on SLA tables and the reads of
    organisations (the operations here read neither themselves)."""
    return [s for s in seen if SLA in s or s.startswith(f"SELECT {ORGANISATIONS}.")]


def kinds(found: list[str]) -> list[str]:
    def kind(statement: str) -> str:
        if statement.startswith("INSERT INTO " + CLOCKS):
            return "write clocks"
        if f"FROM {CLOCKS}" in statement:
            return "read clocks"
        if "UNION ALL" in statement:
            return "read configuration"
        if statement.startswith(f"SELECT {ORGANISATIONS}."):
            by_key = f"{ORGANISATIONS}.id = " in statement
            return "read organisation by key" if by_key else "list organisations"
        return statement

    return [kind(s) for s in found]


def test_a_ticket_change_reads_the_configuration_once_and_writes_clocks_only_when_they_move(
    world: World, statements: list[str]
) -> None:
    desk, guest, agent = world.desk, world.acme_guest.actor, world.agent.actor
    statements.clear()
    ticket = desk.create_ticket(
        guest,
        project_id=world.acme_project.id,
        type_id=world.incident.id,
        title="Mail is down",
        fields={"sla_level": "Gold"},
    ).id
    assert kinds(sla_statements(statements)) == ["read configuration", "write clocks"]
    statements.clear()
    desk.add_comment(agent, ticket, "Looking into it.", visibility=Visibility.PUBLIC)
    assert kinds(sla_statements(statements)) == [
        "read configuration",
        "read clocks",
        "read organisation by key",  # the author's organisation: a provider's reply?
        "write clocks",
    ]
    statements.clear()
    desk.add_comment(agent, ticket, "Disk again.", visibility=Visibility.INTERNAL)
    assert kinds(sla_statements(statements)) == ["read configuration", "read clocks"]
    sla = desk.ticket_sla(agent, ticket)
    assert sla is not None and sla.policy_name == "Gold"
    first = next(c for c in sla.clocks if c.metric.value == "first_response")
    assert first.state == "met", "the agent's public reply was the provider's"
