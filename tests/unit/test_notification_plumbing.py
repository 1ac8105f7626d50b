"""The small parts delivery stands on: outbox records after delivery, per-transaction caches."""

from __future__ import annotations

import gc
from datetime import UTC, datetime, timedelta
from uuid import UUID

import attrs

from ticketkit.adapters.memory import MemoryStorage
from ticketkit.application.notifications import PerUnitOfWork
from ticketkit.domain.notifications import DeliveryStatus, Notification

AT = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)


def test_a_delivered_notification_keeps_everything_but_its_delivery_state() -> None:
    note = Notification(
        tenant_id=UUID(int=1),
        id=UUID(int=2),
        event_id=UUID(int=3),
        ticket_id=UUID(int=4),
        recipient_id=UUID(int=5),
        created_at=AT,
        status=DeliveryStatus.FAILED,
        attempts=2,
        last_error="smtp: refused",
        delivered_to=("mail",),
        updated_at=AT,
    )
    for a in attrs.fields(Notification):  # so that a field delivered() forgets shows
        assert getattr(note, a.name) != a.default, f"give {a.name} a non-default value"
    later = AT + timedelta(minutes=5)
    done = note.delivered(("mail", "chat"), later)
    changed = {"status", "attempts", "last_error", "delivered_to", "updated_at"}
    for a in attrs.fields(Notification):
        if a.name not in changed:
            assert getattr(done, a.name) == getattr(note, a.name), a.name
    assert (done.status, done.attempts, done.last_error) == (DeliveryStatus.DELIVERED, 3, None)
    assert (done.delivered_to, done.updated_at) == (("mail", "chat"), later)


def test_per_unit_of_work_values_are_separate_and_go_with_their_unit() -> None:
    storage = MemoryStorage()
    values = PerUnitOfWork[list[int]](list)
    first, second = storage.unit_of_work(UUID(int=1)), storage.unit_of_work(UUID(int=1))
    values.get(first).append(1)
    values.get(second).append(2)
    assert values.get(first) == [1]
    assert values.get(second) == [2]
    assert values.pop(first) == [1]
    assert values.get(first) == []
    values.clear()
    assert values.get(second) == []
    del first, second
    gc.collect()
    assert len(values._values) == 0
