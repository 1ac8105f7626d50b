"""The small parts delivery stands on: outbox records after delivery, per-call caches."""

from __future__ import annotations

import contextlib
import gc
import threading
import types
import weakref
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import attrs

from ticketkit.adapters.memory import MemoryStorage
from ticketkit.application import HelpDesk
from ticketkit.application.acknowledgements import Acknowledgements
from ticketkit.application.session import Services, Session
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.policy import DEFAULT_POLICY, Policy
from ticketkit.ports.repositories import Storage

AT = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)


def notification(**changes: Any) -> Notification:
    return Notification(
        tenant_id=UUID(int=1),
        id=UUID(int=2),
        event_id=UUID(int=3),
        ticket_id=UUID(int=4),
        recipient_id=UUID(int=5),
        created_at=AT,
        updated_at=AT,
        **changes,
    )


def test_a_delivered_notification_keeps_everything_but_its_delivery_state() -> None:
    note = notification(
        status=DeliveryStatus.FAILED,
        attempts=2,
        last_error="smtp: refused",
        delivered_to=("mail",),
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


def test_a_sessions_caches_are_its_own_and_go_with_it() -> None:
    """Per-call facts (resolved access, built rules, ticket types) live in the session:
    two calls share nothing, and nothing long-lived keeps them once the call is over."""
    storage = MemoryStorage()
    desk = HelpDesk(storage)
    boot = desk.bootstrap_tenant(
        name="T", provider_name="P", admin_name="Ada", admin_email="ada@p.example"
    )
    admin = boot.admin.actor
    services = Services(policy=DEFAULT_POLICY, clock=desk.clock, new_id=desk.new_id)
    first = Session(services, storage.unit_of_work(boot.tenant.id), admin)
    second = Session(services, storage.unit_of_work(boot.tenant.id), admin)
    assert first.access(boot.admin.id) is first.actor, "asked twice, resolved once"
    assert first.actor is not second.actor
    assert first.actor.tickets is first.actor.tickets, "a rule is built once per call"
    assert first.actor.tickets is not second.actor.tickets
    assert [a.name for a in attrs.fields(Policy)] == ["permissions"], "the policy keeps no state"
    gone = weakref.ref(first.actor.tickets)
    del first
    gc.collect()
    assert gone() is None


class _SlowOutbox:
    """An outbox whose acknowledgement waits until the test lets it go."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.acknowledged: list[UUID] = []

    def acknowledge(self, ids: list[UUID], *, delivered_to: tuple[str, ...], at: datetime) -> int:
        self.entered.set()
        assert self.release.wait(5)
        self.acknowledged.extend(ids)
        return len(ids)


class _SlowStorage:
    def __init__(self) -> None:
        self.outbox = _SlowOutbox()

    @contextlib.contextmanager
    def unit_of_work(self, tenant_id: UUID) -> Iterator[Any]:
        yield types.SimpleNamespace(outbox=self.outbox, commit=lambda: None)


def test_a_flush_returns_only_after_an_acknowledgement_write_under_way_is_done() -> None:
    storage = _SlowStorage()
    acks = Acknowledgements(cast(Storage, storage), batch=1)
    note = notification().delivered(("mail",), AT)
    writer = threading.Thread(target=acks.add, args=([note],))  # a full batch: writes
    writer.start()
    assert storage.outbox.entered.wait(5)
    flushed = threading.Event()
    flusher = threading.Thread(target=lambda: (acks.write(), flushed.set()))
    flusher.start()
    # The flush found nothing waiting, but must not return before the write under way.
    assert not flushed.wait(0.3)
    storage.outbox.release.set()
    assert flushed.wait(5)
    assert storage.outbox.acknowledged == [note.id]
    writer.join(5)
    flusher.join(5)
