"""Notifications go through the policy per recipient, survive failing plugins, and retry."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from tests.support.world import World, build_world
from ticketkit.application import (
    CommentDraft,
    DeliveryMode,
    HelpDesk,
    NotificationMessage,
    TicketView,
)
from ticketkit.clock import ManualClock
from ticketkit.domain import Visibility
from ticketkit.domain.notifications import DeliveryStatus
from ticketkit.errors import ValidationError
from ticketkit.hooks import Plugins, Signals, hookimpl
from ticketkit.policy import TRUE
from ticketkit.ports import Storage


class Recorder:
    def __init__(self) -> None:
        self.messages: list[NotificationMessage] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        self.messages.append(message)

    def log(self) -> list[tuple[str, str, str | None]]:
        return [
            (
                m.recipient.name,
                m.event.kind,
                m.comment.body if m.comment is not None else None,
            )
            for m in self.messages
        ]


class Broken:
    def __init__(self) -> None:
        self.broken = True
        self.calls = 0

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        self.calls += 1
        if self.broken:
            raise ConnectionError("SMTP server down")


def desk_with(
    storage: Storage,
    clock: ManualClock,
    *plugins: object,
    delivery: DeliveryMode = DeliveryMode.BACKGROUND,
) -> tuple[HelpDesk, World]:
    desk = HelpDesk(storage, clock=clock, plugins=Plugins.create(plugins), delivery=delivery)
    return desk, build_world(desk, clock)


def agent_opens_ticket_for_guest(desk: HelpDesk, w: World) -> TicketView:
    return desk.create_ticket(
        w.agent.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
        requester_id=w.acme_guest.id,
    )


def statuses(storage: Storage, w: World) -> list[DeliveryStatus]:
    w.desk.flush()
    with storage.unit_of_work(w.provider.tenant_id) as uow:
        return [n.status for n in uow.outbox.list(TRUE, 1000)]


def test_recipients_are_requester_and_assignee_filtered_by_policy(
    storage: Storage, clock: ManualClock
) -> None:
    rec = Recorder()
    desk, w = desk_with(storage, clock, rec)
    t = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )
    desk.assign(
        w.agent.actor,
        t.id,
        w.agent2.id,
        comment=CommentDraft(body="internal hint", visibility=Visibility.INTERNAL),
    )
    desk.update_ticket(w.agent2.actor, t.id, fields={"cost_centre": "CC"})
    desk.change_status(w.agent2.actor, t.id, "open")
    desk.add_comment(w.agent2.actor, t.id, "public answer", visibility=Visibility.PUBLIC)
    desk.add_comment(w.acme_guest.actor, t.id, "thanks", visibility=Visibility.PUBLIC)
    desk.flush()  # delivered off the caller's thread, in commit order
    assert rec.log() == [
        ("Bob", "ticket_assigned", None),
        ("Bob", "comment_added", "internal hint"),
        ("Gina", "status_changed", None),
        ("Gina", "comment_added", "public answer"),
        ("Bob", "comment_added", "thanks"),
    ]
    # The guest's payload is her projection: no assignee, no internal field.
    to_gina = [m for m in rec.messages if m.recipient.id == w.acme_guest.id]
    assert all(m.ticket.assignee_id is None for m in to_gina)
    assert all("cost_centre" not in m.ticket.fields for m in to_gina)
    assert all(m.ticket.comment_count <= 2 for m in to_gina)
    assert set(statuses(storage, w)) == {DeliveryStatus.DELIVERED}


def test_a_failing_plugin_neither_breaks_the_operation_nor_stops_others(
    storage: Storage, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    rec, broken = Recorder(), Broken()
    failed: list[Any] = []
    desk, w = desk_with(storage, clock, broken, rec)
    desk.signals.notification_failed.connect(lambda sender, **kw: failed.append(kw), weak=False)
    t = agent_opens_ticket_for_guest(desk, w)
    with caplog.at_level(logging.ERROR, logger="ticketkit"):
        comment = desk.add_comment(w.agent.actor, t.id, "hello", visibility="public")
        desk.flush()
    assert comment.body == "hello"
    assert desk.get_ticket(w.acme_guest.actor, t.id).comment_count == 1
    assert [m.event.kind for m in rec.messages] == ["ticket_created", "comment_added"]
    assert "SMTP server down" in caplog.text
    assert len(failed) == 2 and failed[0]["notification"].status is DeliveryStatus.FAILED
    assert statuses(storage, w) == [DeliveryStatus.FAILED, DeliveryStatus.FAILED]

    broken.broken = False
    assert desk.deliver_pending(w.provider.tenant_id) == 2
    assert statuses(storage, w) == [DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]
    assert broken.calls == 4
    assert len(rec.messages) == 2, "a retry reaches only the plugin that failed"
    assert desk.deliver_pending(w.provider.tenant_id) == 0


def test_failed_notifications_stop_after_max_attempts(storage: Storage, clock: ManualClock) -> None:
    broken = Broken()
    desk = HelpDesk(storage, clock=clock, plugins=Plugins.create([broken]), max_delivery_attempts=2)
    w = build_world(desk, clock)
    agent_opens_ticket_for_guest(desk, w)
    assert desk.deliver_pending(w.provider.tenant_id) == 1
    assert desk.deliver_pending(w.provider.tenant_id) == 0
    with storage.unit_of_work(w.provider.tenant_id) as uow:
        [note] = uow.outbox.list(TRUE, 10)
    assert note.attempts == 2 and "SMTP server down" in (note.last_error or "")


def test_access_revoked_before_delivery_drops_the_notification(
    storage: Storage, clock: ManualClock
) -> None:
    broken = Broken()
    desk, w = desk_with(storage, clock, broken)
    agent_opens_ticket_for_guest(desk, w)
    desk.flush()  # its first attempt has failed
    desk.deactivate_person(w.admin.actor, w.acme_guest.id)
    broken.broken = False
    desk.deliver_pending(w.provider.tenant_id)
    assert statuses(storage, w) == [DeliveryStatus.DROPPED]
    assert broken.calls == 1


def test_deactivated_person_can_no_longer_act(storage: Storage, clock: ManualClock) -> None:
    from ticketkit.errors import NotFound

    desk, w = desk_with(storage, clock)
    actor = w.acme_guest.actor
    assert desk.list_tickets(actor).items == ()
    desk.deactivate_person(w.admin.actor, w.acme_guest.id)
    with pytest.raises(NotFound):
        desk.list_tickets(actor)


def test_signals_fire_after_commit_and_a_raising_listener_is_isolated(
    storage: Storage, clock: ManualClock
) -> None:
    signals = Signals()
    seen: list[str] = []

    def listener(sender: object, **kw: Any) -> None:
        seen.append(kw["event"].kind)

    def bad(sender: object, **kw: Any) -> None:
        raise RuntimeError("listener bug")

    signals.event_recorded.connect(bad)
    signals.event_recorded.connect(listener)
    desk = HelpDesk(storage, clock=clock, signals=signals)
    w = build_world(desk, clock)
    t = desk.create_ticket(
        w.acme_guest.actor,
        project_id=w.acme_project.id,
        type_id=w.incident.id,
        title="Down",
        fields={"sla_level": "Gold"},
    )
    desk.change_status(w.agent.actor, t.id, "open")
    assert seen == ["ticket_created", "status_changed"]


def test_acknowledgements_are_batched_and_never_cause_a_retry_in_the_same_process(
    storage: Storage, clock: ManualClock
) -> None:
    rec = Recorder()
    desk, w = desk_with(storage, clock, rec, delivery=DeliveryMode.INLINE)
    t = agent_opens_ticket_for_guest(desk, w)
    assert len(rec.messages) == 1
    with storage.unit_of_work(w.provider.tenant_id) as uow:
        assert [n.status for n in uow.outbox.list(TRUE, 10)] == [DeliveryStatus.PENDING]
    clock.advance(timedelta(hours=1))
    assert desk.deliver_pending(w.provider.tenant_id) == 0, "flushed first, not delivered twice"
    assert len(rec.messages) == 1
    desk.add_comment(w.agent.actor, t.id, "hi", visibility="public")
    assert statuses(storage, w) == [DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]


def test_a_pending_row_is_retried_only_after_the_grace_period(
    storage: Storage, clock: ManualClock
) -> None:
    first = Recorder()
    desk, w = desk_with(storage, clock, first, delivery=DeliveryMode.INLINE)
    agent_opens_ticket_for_guest(desk, w)
    # The process "crashes" before acknowledging; another one sweeps the outbox.
    second = Recorder()
    other = HelpDesk(storage, clock=clock, plugins=Plugins.create([second]))
    assert other.deliver_pending(w.provider.tenant_id) == 0, "maybe still in flight"
    clock.advance(timedelta(minutes=3))
    assert other.deliver_pending(w.provider.tenant_id) == 1
    assert [m.notification_id for m in second.messages] == [
        m.notification_id for m in first.messages
    ], "at least once: the same notification id, for de-duplication"


class Exiting:
    """A notifier that exits the process, or is interrupted, on its first calls."""

    def __init__(self) -> None:
        self.raising: list[BaseException] = [SystemExit(3), KeyboardInterrupt()]

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        if self.raising:
            raise self.raising.pop(0)


def test_a_plugin_exiting_after_the_commit_does_not_make_the_operation_look_failed(
    storage: Storage, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    rec, exiting = Recorder(), Exiting()
    desk, w = desk_with(storage, clock, exiting, rec)
    with caplog.at_level(logging.CRITICAL, logger="ticketkit"):
        t = agent_opens_ticket_for_guest(desk, w)
        comment = desk.add_comment(w.agent.actor, t.id, "hello", visibility="public")
        desk.flush()
    assert comment.body == "hello", "both operations returned: they had committed"
    assert [m.event.kind for m in rec.messages] == ["ticket_created", "comment_added"]
    assert statuses(storage, w) == [DeliveryStatus.FAILED, DeliveryStatus.FAILED]
    assert desk.deliver_pending(w.provider.tenant_id) == 2
    assert statuses(storage, w) == [DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]


class Counting:
    """Counts deliveries per notification; fails every delivery while ``failing``."""

    def __init__(self) -> None:
        self.failing = True
        self.seen: Counter[UUID] = Counter()
        self._lock = threading.Lock()

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        if self.failing:
            raise ConnectionError("down")
        time.sleep(0.001)  # a real notifier takes a moment: the other retry runs meanwhile
        with self._lock:
            self.seen[message.notification_id] += 1


def test_two_concurrent_retries_deliver_each_failed_notification_once(
    storage: Storage, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    counting = Counting()
    desk, w = desk_with(storage, clock, counting)
    with caplog.at_level(logging.CRITICAL, logger="ticketkit"):
        t = agent_opens_ticket_for_guest(desk, w)
        for i in range(20):
            desk.add_comment(w.agent.actor, t.id, f"update {i}", visibility="public")
        failed = statuses(storage, w)
    assert failed == [DeliveryStatus.FAILED] * 21
    counting.failing = False
    attempted: list[int] = []
    start = threading.Barrier(2)

    def retry() -> None:
        start.wait()
        attempted.append(desk.deliver_pending(w.provider.tenant_id))

    threads = [threading.Thread(target=retry) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(counting.seen.values()) == [1] * 21, "each exactly once"
    assert sum(attempted) == 21
    assert statuses(storage, w) == [DeliveryStatus.DELIVERED] * 21


def test_deliveries_are_acknowledged_in_time_without_another_call(
    storage: Storage, clock: ManualClock
) -> None:
    rec = Recorder()
    desk = HelpDesk(
        storage,
        clock=clock,
        plugins=Plugins.create([rec]),
        acknowledge_within=0.1,
        delivery=DeliveryMode.INLINE,
    )
    w = build_world(desk, clock)
    agent_opens_ticket_for_guest(desk, w)
    assert len(rec.messages) == 1
    with storage.unit_of_work(w.provider.tenant_id) as uow:
        assert [n.status for n in uow.outbox.list(TRUE, 10)] == [DeliveryStatus.PENDING]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with storage.unit_of_work(w.provider.tenant_id) as uow:
            if [n.status for n in uow.outbox.list(TRUE, 10)] == [DeliveryStatus.DELIVERED]:
                break
        time.sleep(0.05)
    with storage.unit_of_work(w.provider.tenant_id) as uow:
        assert [n.status for n in uow.outbox.list(TRUE, 10)] == [DeliveryStatus.DELIVERED]


class Slow:
    """A notifier that takes ``seconds`` over every comment it is handed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.messages: list[NotificationMessage] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        if message.event.kind == "comment_added":
            time.sleep(self.seconds)
        self.messages.append(message)


def test_a_plugin_taking_two_seconds_does_not_hold_the_operation(
    storage: Storage, clock: ManualClock
) -> None:
    slow = Slow(2.0)
    desk, w = desk_with(storage, clock, slow)
    with desk:
        t = agent_opens_ticket_for_guest(desk, w)
        start = time.monotonic()
        comment = desk.add_comment(w.agent.actor, t.id, "hello", visibility="public")
        took = time.monotonic() - start
        assert took < 0.5, f"add_comment took {took:.2f} s: it waited for the plugin"
        desk.flush()
        assert time.monotonic() - start >= 2.0, "flush waited for the delivery"
    assert [m.comment.id for m in slow.messages if m.comment] == [comment.id]
    assert statuses(storage, w) == [DeliveryStatus.DELIVERED, DeliveryStatus.DELIVERED]


def test_inline_delivery_runs_in_the_operation_and_is_held_at_most_the_timeout(
    storage: Storage, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    quick, slow = Slow(0.3), Slow(3.0)
    desk = HelpDesk(
        storage,
        clock=clock,
        plugins=Plugins.create([quick]),
        delivery="inline",
        delivery_timeout=1.0,
    )
    w = build_world(desk, clock)
    t = agent_opens_ticket_for_guest(desk, w)
    start = time.monotonic()
    desk.add_comment(w.agent.actor, t.id, "hello", visibility="public")
    assert time.monotonic() - start >= 0.3, "inline: delivered before the operation returned"
    assert len(quick.messages) == 2
    desk.plugins.unregister(quick)
    desk.plugins.register(slow)
    start = time.monotonic()
    with caplog.at_level(logging.CRITICAL, logger="ticketkit"):
        desk.add_comment(w.agent.actor, t.id, "again", visibility="public")
    took = time.monotonic() - start
    assert 1.0 <= took < 2.5, f"held {took:.2f} s: the timeout, not the plugin's 3 s"
    assert statuses(storage, w)[-1] is DeliveryStatus.FAILED
    desk.close()


class Hanging:
    """A notifier whose first call hangs until released; it records every key it handled
    (the hung call's too, when it ends), as a de-duplicating plugin would see them."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.returned = threading.Event()
        self.calls = 0
        self.keys: list[UUID] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        self.calls += 1
        if self.calls == 1:
            self.release.wait(10)
            self.keys.append(message.notification_id)
            self.returned.set()
            return
        self.keys.append(message.notification_id)


def test_a_plugin_hanging_past_the_timeout_is_a_failed_attempt_and_retried(
    storage: Storage, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    hanging, rec = Hanging(), Recorder()
    desk = HelpDesk(
        storage, clock=clock, plugins=Plugins.create([hanging, rec]), delivery_timeout=0.5
    )
    w = build_world(desk, clock)
    with caplog.at_level(logging.CRITICAL, logger="ticketkit"):
        t = agent_opens_ticket_for_guest(desk, w)
        desk.flush()
        with storage.unit_of_work(w.provider.tenant_id) as uow:
            [first] = uow.outbox.list(TRUE, 10)
        assert first.status is DeliveryStatus.FAILED and first.attempts == 1
        assert "TimeoutError" in (first.last_error or "")
        assert len(rec.messages) == 1, "the other plugin got it all the same"
        # While its call still hangs, the plugin holds nobody: it fails at once.
        start = time.monotonic()
        desk.add_comment(w.agent.actor, t.id, "hello", visibility="public")
        desk.flush()
        assert time.monotonic() - start < 0.5
        assert len(rec.messages) == 2
        assert statuses(storage, w) == [DeliveryStatus.FAILED] * 2
        hanging.release.set()
        assert hanging.returned.wait(5)
        time.sleep(0.1)  # its thread is free again
        assert desk.deliver_pending(w.provider.tenant_id) == 2
    assert statuses(storage, w) == [DeliveryStatus.DELIVERED] * 2
    assert len(rec.messages) == 2, "a retry reaches only the plugin that failed"
    assert Counter(hanging.keys) == {first.id: 2, rec.messages[1].notification_id: 1}, (
        "at least once: the given-up call delivered too, under the same key"
    )
    desk.close()


def test_delivery_options_are_checked(storage: Storage) -> None:
    with pytest.raises(ValidationError) as bad_mode:
        HelpDesk(storage, delivery="later")
    assert set(bad_mode.value.fields) == {"delivery"}
    for timeout in (0, -1.0, float("nan"), float("inf"), "5", True):
        with pytest.raises(ValidationError) as bad_timeout:
            HelpDesk(storage, delivery_timeout=timeout)  # type: ignore[arg-type]
        assert set(bad_timeout.value.fields) == {"delivery_timeout"}


def delivery_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("ticketkit-")}


def test_closing_the_desk_delivers_what_is_queued_and_ends_its_threads(
    storage: Storage, clock: ManualClock
) -> None:
    before = delivery_threads()
    rec = Recorder()
    with HelpDesk(storage, clock=clock, plugins=Plugins.create([rec])) as desk:
        w = build_world(desk, clock)
        t = agent_opens_ticket_for_guest(desk, w)
        for i in range(5):
            desk.add_comment(w.agent.actor, t.id, f"update {i}", visibility="public")
        assert delivery_threads() - before, "a delivery thread was started"
    assert not delivery_threads() - before
    assert len(rec.messages) == 6
    with storage.unit_of_work(w.provider.tenant_id) as uow:
        assert {n.status for n in uow.outbox.list(TRUE, 10)} == {DeliveryStatus.DELIVERED}
    desk.add_comment(w.agent.actor, t.id, "after close", visibility="public")
    desk.close()
    assert len(rec.messages) == 7, "a closed desk still works; it starts its threads again"


SCRIPT = """
import sys, time
from datetime import UTC, datetime
from tests.operations.test_delivery import agent_opens_ticket_for_guest, desk_with
from ticketkit.adapters.memory import MemoryStorage
from ticketkit.clock import ManualClock
from ticketkit import hookimpl

class Slow:
    @hookimpl
    def ticketkit_notify(self, message):
        time.sleep(0.5)
        with open(sys.argv[1], "a") as out:
            out.write(f"{message.notification_id}\\n")

desk, w = desk_with(MemoryStorage(), ManualClock(datetime(2026, 5, 22, tzinfo=UTC)), Slow())
agent_opens_ticket_for_guest(desk, w)
print("returned")
"""


def test_a_script_that_never_closes_its_desk_still_delivers_at_exit(tmp_path: Path) -> None:
    out = tmp_path / "keys"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(out)],
        cwd=Path(__file__).parents[2],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "returned"
    assert len(out.read_text().split()) == 1, "delivered at exit, not lost"


class HangsOnSecond:
    """A notifier whose second call hangs until released; it records every key it handled."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.returned = threading.Event()
        self.calls = 0
        self.keys: list[UUID] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        self.calls += 1
        if self.calls == 2:
            self.release.wait(10)
            self.returned.set()
        self.keys.append(message.notification_id)


def test_a_call_given_up_mid_job_leaves_the_rest_of_the_job_to_a_new_delivery_thread(
    storage: Storage, clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    hanging, rec = HangsOnSecond(), Recorder()
    # Registered last, the hanging plugin is called first for each notification.
    desk = HelpDesk(
        storage, clock=clock, plugins=Plugins.create([rec, hanging]), delivery_timeout=0.5
    )
    w = build_world(desk, clock)
    before = delivery_threads()
    with caplog.at_level(logging.CRITICAL, logger="ticketkit"):
        with desk.batch(w.agent.actor) as batch:  # one job of three notifications
            for _ in range(3):
                agent_opens_ticket_for_guest(batch, w)  # type: ignore[arg-type]
        start = time.monotonic()
        desk.flush()
        assert 0.5 <= time.monotonic() - start < 2.0, "the job waited for the timeout only"
        with storage.unit_of_work(w.provider.tenant_id) as uow:
            by_id = {n.id: n for n in uow.outbox.list(TRUE, 10)}
        assert len(rec.messages) == 3, "the plugin after the hung one still got its message"
        first, second, third = (by_id[m.notification_id] for m in rec.messages)
        assert first.status is DeliveryStatus.DELIVERED
        assert second.status is DeliveryStatus.FAILED and "TimeoutError('no answer" in (
            second.last_error or ""
        )
        assert third.status is DeliveryStatus.FAILED and "still busy" in (third.last_error or "")
        assert second.delivered_to == third.delivered_to == (desk.plugins.manager.get_name(rec),)
        hanging.release.set()
        assert hanging.returned.wait(5)
        time.sleep(0.2)  # the retired thread ends; it records nothing and calls no one else
        assert len(rec.messages) == 3
        assert sorted(statuses(storage, w)) == sorted(
            [DeliveryStatus.DELIVERED] + [DeliveryStatus.FAILED] * 2
        )
        assert desk.deliver_pending(w.provider.tenant_id) == 2
    assert set(statuses(storage, w)) == {DeliveryStatus.DELIVERED}
    assert len(rec.messages) == 3, "a retry reaches only the plugin that failed"
    assert Counter(hanging.keys) == {first.id: 1, second.id: 2, third.id: 1}
    desk.close()
    assert not delivery_threads() - before, "the retired thread ended with its plugin"


class Gate:
    """A notifier whose first call waits until opened, so that operations queue behind it."""

    def __init__(self) -> None:
        self.open = threading.Event()
        self.entered = threading.Event()
        self.messages: list[NotificationMessage] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        if not self.entered.is_set():
            self.entered.set()
            self.open.wait(5)
        self.messages.append(message)


class CountingReads:
    """A storage that counts its read-only units of work (the delivery's re-check reads)."""

    def __init__(self, inner: Storage) -> None:
        self.inner = inner
        self.reads = 0

    def unit_of_work(self, tenant_id: UUID, *, read_only: bool = False) -> Any:
        self.reads += read_only
        return self.inner.unit_of_work(tenant_id, read_only=read_only)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_operations_queued_behind_a_slow_delivery_go_out_together_one_read_per_tenant(
    storage: Storage, clock: ManualClock
) -> None:
    gate, counting = Gate(), CountingReads(storage)
    desk = HelpDesk(counting, clock=clock, plugins=Plugins.create([gate]))  # type: ignore[arg-type]
    acme, other = build_world(desk, clock), build_world(desk, clock, name="Other Hosting")
    agent_opens_ticket_for_guest(desk, acme)
    assert gate.entered.wait(5), "the first delivery is under way, and held"
    tickets = [agent_opens_ticket_for_guest(desk, w) for w in (acme, other, acme, other)]
    reads_before = counting.reads
    gate.open.set()
    desk.flush()
    assert counting.reads - reads_before == 2, "the four waiting jobs: one re-check per tenant"
    assert [m.ticket.id for m in gate.messages[1:]] == [t.id for t in tickets], "commit order"
    for w in (acme, other):
        assert set(statuses(storage, w)) == {DeliveryStatus.DELIVERED}, "acknowledged per tenant"
    desk.close()


class Arrivals:
    """A notifier that notes when each notification arrives."""

    def __init__(self) -> None:
        self.at: list[float] = []

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        self.at.append(time.monotonic())


def test_a_lone_operation_is_delivered_at_once_and_a_stream_in_runs_linger_apart(
    storage: Storage, clock: ManualClock
) -> None:
    arrivals, counting = Arrivals(), CountingReads(storage)
    desk = HelpDesk(counting, clock=clock, plugins=Plugins.create([arrivals]))  # type: ignore[arg-type]
    desk._dispatcher.linger = 1.0  # long, so that neither assertion depends on timing luck
    w = build_world(desk, clock)
    started = time.monotonic()
    agent_opens_ticket_for_guest(desk, w)  # one notification: to the requester
    deadline = started + 5
    while not arrivals.at and time.monotonic() < deadline:
        time.sleep(0.005)
    assert arrivals.at and arrivals.at[0] - started < 0.5, "after a quiet spell: no lingering"
    reads_before = counting.reads
    for _ in range(4):
        agent_opens_ticket_for_guest(desk, w)
    while len(arrivals.at) < 5 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert len(arrivals.at) == 5
    assert arrivals.at[1] - arrivals.at[0] >= 0.9, "the next run waits out the linger"
    assert counting.reads - reads_before == 1, "the four that came meanwhile: one run"
    desk.close()
