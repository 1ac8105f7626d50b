"""Statements as the driver gets them, and their query plans on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa


def sent(
    engine: sa.Engine, run: Callable[[], object], keep: Callable[[str], bool]
) -> list[tuple[str, Any]]:
    """The statements ``run`` sends that ``keep`` accepts, with their driver parameters."""
    found: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if keep(statement):
            found.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    return found


def sqlite_plan(conn: sa.Connection, statement: str, parameters: Any) -> list[str]:
    """The steps of SQLite's ``EXPLAIN QUERY PLAN``, as text."""
    rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
    return [str(r[-1]) for r in rows]


def postgres_plan(conn: sa.Connection, statement: str, parameters: Any) -> dict[str, Any]:
    """The root node of PostgreSQL's plan (``EXPLAIN (FORMAT JSON)``)."""
    raw = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
    plan = raw if isinstance(raw, list) else json.loads(raw)
    return dict(plan[0]["Plan"])


def nodes(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """``node`` and every node below it."""
    yield node
    for child in node.get("Plans", ()):
        yield from nodes(child)
