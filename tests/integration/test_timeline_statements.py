"""A timeline costs the same statements however many entries and people it has: the names
its descriptions show are read once per timeline, not once per entry (issue 17, point 5)."""

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
from ticketkit.domain import Person, Role


@pytest.fixture
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    """Every statement the engine sends for the test's own thread while the test runs (not
    the delivery acknowledgements a timer thread may write meanwhile)."""
    seen: list[str] = []
    mine = threading.get_ident()

    def record(**event: Any) -> None:
        if threading.get_ident() == mine:
            seen.append(event["statement"])

    sa.event.listen(engine, "before_cursor_execute", record, named=True)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


@pytest.fixture
def world(engine: sa.Engine, clock: ManualClock) -> World:
    return build_world(HelpDesk(SqlStorage(engine), clock=clock), clock)


def timeline_statements(w: World, reader: Person, ticket_id: Any, seen: list[str]) -> list[str]:
    w.desk.flush()  # acknowledgements waiting for their timer are written now, not in between
    seen.clear()
    entries = w.desk.timeline(reader.actor, ticket_id)
    assert all(e.description.text for e in entries)
    return list(seen)


def test_names_are_read_once_per_timeline_not_once_per_entry(
    world: World, statements: list[str]
) -> None:
    desk, admin = world.desk, world.admin.actor

    def open_ticket(title: str) -> Any:
        return desk.create_ticket(
            world.acme_guest.actor,
            project_id=world.acme_project.id,
            type_id=world.incident.id,
            title=title,
            fields={"sla_level": "Gold"},
        ).id

    short = open_ticket("Short")
    long = open_ticket("Long")
    agents = [
        desk.add_person(
            admin,
            organisation_id=world.provider.id,
            name=f"Agent {i}",
            email=f"agent{i}@x.example",
            role=Role.AGENT,
        )
        for i in range(8)
    ]
    for i, agent in enumerate(agents):
        desk.add_comment(agent.actor, long, f"public {i}", visibility="public")
        desk.add_comment(agent.actor, long, f"internal {i}", visibility="internal")
        desk.assign(agent.actor, long, agents[(i + 1) % len(agents)].id)
    for reader in (world.agent, world.acme_guest):
        few = timeline_statements(world, reader, short, statements)
        many = timeline_statements(world, reader, long, statements)
        assert len(desk.timeline(reader.actor, long)) > 8
        assert len(many) == len(few), (reader.name, few, many)
        people = [s for s in many if tables.persons.name in s]
        # One read loads the reader with their access, one reads the names.
        assert len(people) == 2, people
