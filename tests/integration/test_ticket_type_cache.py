"""Committed ticket types are answered without a query; nothing uncommitted is shared."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import attrs
import pytest
import sqlalchemy as sa

from tests.support.records import NOW, seed
from ticketkit.adapters.sqlalchemy import SqlStorage
from ticketkit.domain import TicketType, default_workflow


@pytest.fixture
def selects(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(**event: Any) -> None:
        if event["statement"].lstrip().upper().startswith("SELECT"):
            seen.append(event["statement"])

    sa.event.listen(engine, "before_cursor_execute", record, named=True)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def a_type(tenant: uuid.UUID, name: str = "Incident") -> TicketType:
    return TicketType(
        tenant_id=tenant, id=uuid.uuid4(), name=name, workflow=default_workflow(), created_at=NOW
    )


def test_a_committed_type_is_read_once_per_storage(engine: sa.Engine, selects: list[str]) -> None:
    s = seed(SqlStorage(engine))
    storage = SqlStorage(engine)  # another process, say: it has not seen the type yet
    selects.clear()
    for _ in range(3):
        with storage.unit_of_work(s.tenant, read_only=True) as uow:
            found = uow.ticket_types.get(s.type)
            assert found is not None and found.id == s.type
    assert len(selects) == 1


def test_a_type_of_a_unit_of_work_that_rolled_back_is_never_answered(engine: sa.Engine) -> None:
    storage = SqlStorage(engine)
    s = seed(storage)
    kept, dropped = a_type(s.tenant, "Kept"), a_type(s.tenant, "Dropped")
    with storage.unit_of_work(s.tenant) as uow:
        uow.ticket_types.add(dropped)
        assert uow.ticket_types.get(dropped.id) == dropped, "a unit of work reads its own"
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.ticket_types.get(dropped.id) is None
        uow.ticket_types.add(kept)
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.ticket_types.get(kept.id) == kept


def test_another_tenant_never_gets_a_cached_type(engine: sa.Engine) -> None:
    storage = SqlStorage(engine)
    s, other = seed(storage), seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        assert uow.ticket_types.get(s.type) is not None
    with storage.unit_of_work(other.tenant) as uow:
        assert uow.ticket_types.get(s.type) is None


def test_saving_a_type_drops_the_cached_copy(engine: sa.Engine) -> None:
    storage = SqlStorage(engine)
    s = seed(storage)
    with storage.unit_of_work(s.tenant) as uow:
        found = uow.ticket_types.get(s.type)
        assert found is not None
        uow.ticket_types.save(attrs.evolve(found, name="Renamed"))
        uow.commit()
    with storage.unit_of_work(s.tenant) as uow:
        again = uow.ticket_types.get(s.type)
        assert again is not None and again.name == "Renamed"
