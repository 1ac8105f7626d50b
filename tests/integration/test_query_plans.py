"""Every list a portal or an agent desk shows reads its page off one index range: the query
plans on SQLite and PostgreSQL have no full scan of the tickets and no sort of the rows
that pass the filter.

The statements are the ones ``list_tickets`` sends (captured at the driver), explained
with their own parameters, on a tenant of a few thousand tickets where a missing index
would show. The SLA sweeps (due clocks, waiting actions) and a read of clocks by due time
are held to the same: one range of their index, in its order.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from tests.support.plans import nodes, postgres_plan, sent, sqlite_plan
from tests.support.world import World, build_world
from ticketkit import HelpDesk, TicketSort
from ticketkit.adapters.sqlalchemy import SqlStorage, tables
from ticketkit.clock import ManualClock
from ticketkit.domain import Person

TICKETS = 3_000
TABLE = tables.tickets.name


@attrs.frozen
class Desk:
    world: World
    engine: sa.Engine
    group_id: uuid.UUID


@pytest.fixture(scope="module")
def desk(engine: sa.Engine, request: pytest.FixtureRequest) -> Desk:
    """A tenant with TICKETS tickets over its projects, statuses and agents (stored in bulk
    through the adapter, as an import would)."""
    from datetime import UTC, datetime

    clock = ManualClock(datetime(2026, 5, 22, 12, 0, tzinfo=UTC))
    help_desk = HelpDesk(SqlStorage(engine), clock=clock)
    w = build_world(help_desk, clock, name="Plans")
    first = help_desk.create_ticket(
        w.agent.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="template",
        fields={"sla_level": "Gold"},
        requester_id=w.acme_guest.id,
    )
    # Globex's guest sees two projects, Acme's one.
    second = help_desk.create_project(w.admin.actor, organisation_id=w.globex.id, name="Labs")
    group = help_desk.create_group(
        w.admin.actor, name="First line", member_ids=[w.agent.id], project_ids=[w.acme_project.id]
    )
    storage = help_desk.storage
    with storage.unit_of_work(w.admin.tenant_id) as uow:
        template = uow.tickets.get(first.id)
        assert template is not None
        projects = [w.acme_project.id, w.globex_project.id, w.internal_project.id, second.id]
        statuses = [s.key for s in w.incident.workflow.statuses]
        category = {s.key: s.category for s in w.incident.workflow.statuses}
        assignees = [w.agent.id, w.agent2.id, None]
        numbers = dict.fromkeys(projects, 1)
        for i in range(TICKETS):
            project = projects[i % len(projects)]
            numbers[project] += 1
            status = statuses[(i // 3) % len(statuses)]
            at = template.created_at + timedelta(minutes=i)
            uow.tickets.add(
                attrs.evolve(
                    template,
                    id=uuid.uuid4(),
                    number=numbers[project],
                    project_id=project,
                    status=status,
                    status_category=category[status],
                    assignee_id=assignees[(i // 7) % len(assignees)],
                    group_id=group.id if i % 2 else None,
                    created_at=at,
                    updated_at=at + timedelta(seconds=i % 11),
                    public_updated_at=at,
                )
            )
        uow.commit()
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.execute(sa.text(f"ANALYZE {TABLE}"))
    return Desk(world=w, engine=engine, group_id=group.id)


@pytest.fixture
def captured(desk: Desk) -> Iterator[list[tuple[str, Any]]]:
    """The statements that select tickets, with their parameters, as the driver got them."""
    found: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {TABLE}" in statement:
            found.append((statement, parameters))

    sa.event.listen(desk.engine, "before_cursor_execute", record)
    yield found
    sa.event.remove(desk.engine, "before_cursor_execute", record)


def unbounded_scans(node: dict[str, Any], *, bounded: bool = False) -> Iterator[dict[str, Any]]:
    """The scans of the tickets below ``node`` whose rows reach it without passing a
    Limit: what a sort at ``node`` would sort all of."""
    if node.get("Relation Name") == TABLE and not bounded:
        yield node
    for child in node.get("Plans", ()):
        yield from unbounded_scans(child, bounded=bounded or node["Node Type"] == "Limit")


def check_plan(desk: Desk, statement: str, parameters: Any, served_by: set[str]) -> None:
    """Fail on a full scan or a sort; and the tickets must be searched on an index whose
    condition covers ``served_by`` (the columns the list filters on)."""
    with desk.engine.connect() as conn:
        if desk.engine.dialect.name == "sqlite":
            plan = sqlite_plan(conn, statement, parameters)
            text = "\n".join(plan)
            assert "TEMP B-TREE" not in text, f"sorts the filtered rows:\n{text}"
            ticket_steps = [p for p in plan if TABLE in p and "ticketkit_comments" not in p]
            assert ticket_steps, text
            for step in ticket_steps:
                assert step.startswith("SEARCH"), f"scans the tickets:\n{text}"
                condition = step[step.find("(") :]
                for column in served_by:
                    assert f"{column}=" in condition, f"{column} not in the index:\n{text}"
        else:
            plan = postgres_plan(conn, statement, parameters)
            every = list(nodes(plan))
            for node in every:
                if node["Node Type"] in ("Sort", "Incremental Sort"):
                    # Only the few rows of ranges already cut at the page size may be sorted.
                    assert not list(unbounded_scans(node)), f"sorts the filtered rows: {plan}"
            scans = [n for n in every if n.get("Relation Name") == TABLE]
            assert scans, plan
            for scan in scans:
                assert scan["Node Type"] in ("Index Scan", "Index Only Scan"), plan
                for column in served_by:
                    assert column in scan.get("Index Cond", ""), (column, scan)


def lists() -> dict[str, tuple[Callable[[World], Person], dict[str, Any], set[str]]]:
    """Each list a portal or desk shows: who lists, the arguments, the filtered columns the
    index must serve besides ``tenant_id``."""
    updated = {"sort": TicketSort.RECENTLY_UPDATED}
    return {
        "guest, by last public activity": (lambda w: w.acme_guest, updated, {"project_id"}),
        "guest, newest": (lambda w: w.acme_guest, {}, {"project_id"}),
        "guest of two projects, by last public activity": (
            lambda w: w.globex_guest,
            updated,
            {"project_id"},
        ),
        "customer admin, by last public activity": (
            lambda w: w.acme_admin,
            updated,
            {"project_id"},
        ),
        "agent, all by last update": (lambda w: w.agent, updated, set()),
        "agent, newest": (lambda w: w.agent, {}, set()),
        "agent, one status": (lambda w: w.agent, {**updated, "status": "open"}, {"status"}),
        "agent, one category": (
            lambda w: w.agent,
            {**updated, "category": "open"},
            {"status_category"},
        ),
        "agent, several categories": (
            lambda w: w.agent,
            {**updated, "category": ["new", "open", "pending"]},
            {"status_category"},
        ),
        "agent, an assignee's": (lambda w: w.agent, {**updated, "assignee": True}, {"assignee_id"}),
        # A third of the tickets: walking the update order and skipping the assigned ones
        # is what PostgreSQL's planner prefers, and no sort either way.
        "agent, unassigned": (lambda w: w.agent, {**updated, "assignee_id": None}, set()),
        "agent, an assignee's in one status": (
            lambda w: w.agent,
            {**updated, "assignee": True, "status": "open"},
            {"assignee_id", "status"},
        ),
        "agent, a group's": (lambda w: w.agent, {**updated, "group": True}, {"group_id"}),
        "agent, a group's in one status": (
            lambda w: w.agent,
            {**updated, "group": True, "status": "open"},
            {"group_id", "status"},
        ),
        "agent, a customer's project, newest": (
            lambda w: w.agent,
            {"project": True},
            {"project_id"},
        ),
    }


@pytest.mark.parametrize("page", [1, 2])
@pytest.mark.parametrize("name", list(lists()))
def test_each_list_reads_one_index_range_without_sorting(
    desk: Desk, captured: list[tuple[str, Any]], name: str, page: int
) -> None:
    who, arguments, served_by = lists()[name]
    w = desk.world
    kwargs = dict(arguments)
    if kwargs.pop("assignee", False):
        kwargs["assignee_id"] = w.agent.id
    if kwargs.pop("group", False):
        kwargs["group_id"] = desk.group_id
    if kwargs.pop("project", False):
        kwargs["project_id"] = w.acme_project.id
    person = who(w)
    first = w.desk.list_tickets(person.actor, limit=25, **kwargs)
    assert len(first.items) == 25 and first.next_cursor is not None
    if page == 2:
        captured.clear()
        w.desk.list_tickets(person.actor, limit=25, cursor=first.next_cursor, **kwargs)
    statements = [(s, p) for s, p in captured if "LIMIT" in s.upper()]
    assert statements, "no page query seen"
    statement, parameters = statements[-1]
    check_plan(desk, statement, parameters, served_by)


def test_the_plan_check_fails_on_a_list_no_index_serves(desk: Desk) -> None:
    """The check itself: ordering by title has no index, and must be caught."""
    statement = (
        f"SELECT id FROM {TABLE} WHERE tenant_id = :t ORDER BY title LIMIT 25"
        if desk.engine.dialect.name == "sqlite"
        else f"SELECT id FROM {TABLE} WHERE tenant_id = %(t)s ORDER BY title LIMIT 25"
    )
    tenant = desk.world.admin.tenant_id
    parameters: Any = {"t": tenant.hex} if desk.engine.dialect.name == "sqlite" else {"t": tenant}
    with pytest.raises(AssertionError):
        check_plan(desk, statement, parameters, set())


def test_a_list_over_more_values_than_split_reads_each_values_range(
    desk: Desk, captured: list[tuple[str, Any]]
) -> None:
    """More projects than a list splits into (a supporter's 40): SQLite reads through the
    per-project index, leaving each range at the page, and sorts only those rows; left to
    itself, without statistics, it walked the tenant's whole sort order and filtered."""
    if desk.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL plans a list of many values by its own statistics")
    from ticketkit.policy import In
    from ticketkit.ports import OrderBy

    w = desk.world
    projects = frozenset({w.acme_project.id, *(uuid.uuid4() for _ in range(39))})
    order = [OrderBy("created_at", descending=True), OrderBy("id", descending=True)]
    with w.desk.storage.unit_of_work(w.admin.tenant_id) as uow:
        page = uow.tickets.query(In("project_id", projects), order, 25)
    assert len(page) == 25
    statement, parameters = [(s, p) for s, p in captured if "LIMIT" in s.upper()][-1]
    with desk.engine.connect() as conn:
        text = "\n".join(sqlite_plan(conn, statement, parameters))
    assert "SEARCH" in text and "USING INDEX ix_ticketkit_tickets_tenant_id_project_id_" in text
    assert "(tenant_id=? AND project_id=?)" in text, text


# -- SLA: the sweeps and the list by due time -------------------------------------------------

CLOCKS = tables.sla_clocks.name
ACTIONS = tables.sla_actions.name


@attrs.frozen
class Sweep:
    desk: Desk
    #: Half the clocks (and of the waiting actions) are due by then.
    now: datetime


@pytest.fixture(scope="module")
def sweep(desk: Desk) -> Sweep:
    """Clocks for every ticket of ``desk``'s tenant, one a minute (a tenth never fires, a
    tenth has no due time), and an action for every third ticket, one in four waiting."""
    from tests.support.sla import STATE
    from ticketkit.domain.sla import EscalationRule
    from ticketkit.domain.sla.records import ActionState
    from ticketkit.domain.sla.serialization import rule_to_dict, state_to_dict

    tenant = desk.world.admin.tenant_id
    t = tables.tickets
    with desk.engine.connect() as conn:
        ids = conn.execute(sa.select(t.c.id).where(t.c.tenant_id == tenant)).scalars().all()
    start = STATE.at
    state = state_to_dict(STATE)
    clocks = [
        {
            "tenant_id": tenant,
            "ticket_id": ident,
            "policy_id": ident,
            "calendar_id": None,
            "state": state,
            "fired": [],
            "next_firing_at": start + timedelta(minutes=n) if n % 10 else None,
            "next_due_at": start + timedelta(minutes=2 * n) if n % 10 != 5 else None,
            "stale": False,
        }
        for n, ident in enumerate(ids)
    ]
    rule = rule_to_dict(
        EscalationRule(on="breach", action="reassign", person_id=desk.world.agent.id)
    )
    actions = [
        {
            "tenant_id": tenant,
            "id": uuid.uuid4(),
            "ticket_id": ident,
            "firing_key": "resolution:1:breach",
            "rule": rule,
            "run_at": start + timedelta(minutes=n),
            "state": (ActionState.WAITING if n % 4 == 0 else ActionState.DONE).value,
        }
        for n, ident in enumerate(ids[::3])
    ]
    with desk.engine.begin() as conn:
        conn.execute(tables.sla_clocks.insert(), clocks)
        conn.execute(tables.sla_actions.insert(), actions)
    if desk.engine.dialect.name == "postgresql":
        with desk.engine.begin() as conn:
            conn.execute(sa.text(f"ANALYZE {CLOCKS}"))
            conn.execute(sa.text(f"ANALYZE {ACTIONS}"))
    return Sweep(desk=desk, now=start + timedelta(minutes=len(ids) // 2))


def statements_of(
    engine: sa.Engine, table: str, run: Callable[[], object]
) -> list[tuple[str, Any]]:
    """The statements reading ``table`` that ``run`` sends, with their parameters."""

    def reads(statement: str) -> bool:
        return statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement

    return sent(engine, run, reads)


def check_read_off(
    engine: sa.Engine, statement: str, parameters: Any, table: str, index: str
) -> None:
    """Fail unless ``table`` is read by a range of ``index`` in its order: no scan of any
    table, no sort."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            steps = sqlite_plan(conn, statement, parameters)
            text = "\n".join(steps)
            assert "TEMP B-TREE" not in text, f"sorts the rows:\n{text}"
            assert all(step.startswith("SEARCH") for step in steps), f"scans a table:\n{text}"
            steps = [step for step in steps if f"SEARCH {table} " in step]
            assert len(steps) == 1 and f"INDEX {index} (tenant_id=? AND" in steps[0], text
        else:
            plan = postgres_plan(conn, statement, parameters)
            every = list(nodes(plan))
            kinds = {node["Node Type"] for node in every}
            assert not kinds & {"Sort", "Incremental Sort", "Seq Scan"}, plan
            scans = [node for node in every if node.get("Relation Name") == table]
            assert len(scans) == 1, plan
            assert scans[0]["Node Type"] in ("Index Scan", "Index Only Scan"), plan
            assert scans[0]["Index Name"] == index, plan
            assert "tenant_id" in scans[0].get("Index Cond", ""), plan


#: Each sweep: the table it reads, the index that must serve it, and how it is run.
SWEEPS: dict[str, tuple[str, str, Callable[[Any, datetime], list[Any]]]] = {
    "clocks": (
        CLOCKS,
        f"ix_{CLOCKS}_tenant_id_next_firing_at_ticket_id",
        lambda uow, now: uow.clocks.due(now, 25),
    ),
    "deferred actions": (
        ACTIONS,
        f"ix_{ACTIONS}_waiting",
        lambda uow, now: uow.sla_actions.due(now, 25),
    ),
}


@pytest.mark.parametrize("name", list(SWEEPS))
def test_each_sla_sweep_reads_what_is_due_off_its_index(sweep: Sweep, name: str) -> None:
    table, index, take = SWEEPS[name]
    desk = sweep.desk
    storage = SqlStorage(desk.engine)

    def due() -> None:
        with storage.unit_of_work(desk.world.admin.tenant_id) as uow:
            assert len(take(uow, sweep.now)) == 25

    [(statement, parameters)] = statements_of(desk.engine, table, due)
    check_read_off(desk.engine, statement, parameters, table, index)


def test_clocks_by_due_time_are_read_off_their_index(sweep: Sweep) -> None:
    """What a list by due time reads (soonest breach first, ties by ticket)."""
    desk = sweep.desk
    c = tables.sla_clocks
    stmt = (
        sa.select(c.c.ticket_id)
        .where(c.c.tenant_id == desk.world.admin.tenant_id, c.c.next_due_at.is_not(None))
        .order_by(c.c.next_due_at, c.c.ticket_id)
        .limit(25)
    )

    def read() -> None:
        with desk.engine.connect() as conn:
            assert len(conn.execute(stmt).all()) == 25

    [(statement, parameters)] = statements_of(desk.engine, CLOCKS, read)
    index = f"ix_{CLOCKS}_tenant_id_next_due_at_ticket_id"
    check_read_off(desk.engine, statement, parameters, CLOCKS, index)
