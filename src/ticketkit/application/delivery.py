"""Who hears of what, and getting it to them.

Recipients are chosen inside the operation's unit of work (``Session.record``, so the outbox
row commits with the change) and every recipient passes the same visibility policy as a
read would. Delivery runs after the commit — on the dispatcher's own thread unless the
host asks for it inline — gives every plugin call a timeout, isolates plugin failures and
leaves failed rows for ``retry``, which checks the policy again against the state at that
later time.
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import logging
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from ticketkit.application.views import NotificationMessage, as_seen, project_ticket
from ticketkit.clock import Clock
from ticketkit.domain.events import CommentAdded, Event, TicketAssigned
from ticketkit.domain.model import Comment, Ticket, TicketType
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.hooks.plugins import Plugins
from ticketkit.hooks.signals import Signals
from ticketkit.policy.predicates import Cmp, Eq, all_of, any_of
from ticketkit.policy.rules import Access, Policy
from ticketkit.ports.repositories import Storage, UnitOfWork

log = logging.getLogger("ticketkit.notifications")

#: Dispatchers whose delivery thread was started: flushed when the interpreter exits, so a
#: short script that never closes its desk still delivers what it queued.
_RUNNING: weakref.WeakSet[Dispatcher] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for dispatcher in list(_RUNNING):
        try:
            dispatcher.flush()
        except Exception:
            log.exception("delivering at exit failed; the rows stay pending for retry")


def may_receive(recipient: Access, ticket: Ticket, event: Event) -> bool:
    """The notification rule *is* the read rule: the ticket and the event must be visible."""
    return recipient.reads("tickets", ticket) and recipient.reads("events", event)


def recipients(
    ticket: Ticket,
    event: Event,
    *,
    followers: Iterable[UUID] = (),
    group_members: Iterable[UUID] = (),
) -> list[UUID]:
    """Who may hear of ``event``: requester and assignee (old and new, for an assignment),
    the ticket's ``followers``, and ``group_members`` (``Session.record`` passes the members
    of the ticket's group for the event that brought an unassigned ticket to it: a new
    ticket, or one moved to the group); never its actor. Each must still pass
    ``may_receive``."""
    candidates = [ticket.requester_id, ticket.assignee_id]
    if isinstance(event, TicketAssigned):
        candidates += [event.old_assignee_id, event.new_assignee_id]
    candidates += followers
    candidates += group_members
    seen: set[UUID] = {event.actor_id}
    found = []
    for person_id in candidates:
        if person_id is not None and person_id not in seen:
            seen.add(person_id)
            found.append(person_id)
    return found


@attrs.frozen(kw_only=True)
class Prepared:
    """A notification with everything needed to deliver it, as checked in its transaction."""

    notification: Notification
    recipient: Access
    event: Event
    ticket: Ticket
    ticket_type: TicketType
    comment: Comment | None


class DeliveryMode(enum.StrEnum):
    """Where a help desk hands an operation's notifications to the notifier plugins."""

    #: On the help desk's delivery thread: the operation returns at its commit.
    BACKGROUND = "background"
    #: In the caller's thread, before the operation returns (each call still timed out).
    INLINE = "inline"


@attrs.define(eq=False)
class _Call:
    """One plugin call handed to a call thread; the fields after ``fn`` change under the
    ``PluginCalls`` lock."""

    plugin: str
    fn: Callable[[], None]
    done: threading.Event = attrs.field(factory=threading.Event)
    error: BaseException | None = None
    finished: bool = False
    given_up: bool = False


@attrs.frozen(eq=False)
class _CallThread:
    """A thread that makes plugin calls, and where to hand it the next one."""

    inbox: queue.SimpleQueue[_Call | None]
    thread: threading.Thread


@attrs.define
class PluginCalls:
    """Runs plugin calls on threads of their own and waits at most ``timeout`` seconds
    for each: a call that takes longer is given up, which is a failure of that attempt.

    Python cannot stop a thread: a call given up runs on until the plugin returns, and its
    result is ignored (the attempt is already recorded failed and will be retried). While a
    plugin has such a call running, further calls to it fail at once instead of taking
    another thread, so a hung plugin holds at most one thread and no caller for longer than
    ``timeout``. Idle threads end after ``idle_exit`` seconds.
    """

    timeout: float
    idle_exit: float = 10.0
    _idle: list[_CallThread] = attrs.field(factory=list, init=False)
    _hung: dict[str, int] = attrs.field(factory=dict, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    def __call__(self, plugin: str, fn: Callable[[], None]) -> None:
        """Call ``fn`` (a call to ``plugin``); raise what it raised, or ``TimeoutError``."""
        call = _Call(plugin=plugin, fn=fn)
        with self._lock:
            if self._hung.get(plugin):
                raise TimeoutError(
                    f"still busy with a call given up after {self.timeout:g} s; not called"
                )
            caller = self._idle.pop() if self._idle else self._start_thread()
        caller.inbox.put(call)
        if not call.done.wait(self.timeout):
            with self._lock:
                if not call.finished:
                    call.given_up = True
                    self._hung[plugin] = self._hung.get(plugin, 0) + 1
                    raise TimeoutError(f"no answer within {self.timeout:g} s")
        if call.error is not None:
            raise call.error

    def close(self) -> None:
        """End the idle threads (a hung call's thread ends when its plugin returns)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for caller in idle:
            caller.inbox.put(None)
        for caller in idle:
            caller.thread.join()

    def _start_thread(self) -> _CallThread:
        inbox: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        caller = _CallThread(
            inbox,
            threading.Thread(
                target=self._serve, args=(inbox,), name="ticketkit-plugin-call", daemon=True
            ),
        )
        caller.thread.start()
        return caller

    def _serve(self, inbox: queue.SimpleQueue[_Call | None]) -> None:
        while True:
            try:
                call = inbox.get(timeout=self.idle_exit)
            except queue.Empty:
                with self._lock:
                    mine = [c for c in self._idle if c.inbox is inbox]
                    if mine:
                        self._idle.remove(mine[0])
                        return
                continue  # taken by a caller just now: its call is on the way
            if call is None:
                return
            try:
                call.fn()
            except BaseException as exc:  # the plugin's failure, reported to the caller
                call.error = exc
            with self._lock:
                call.finished = True
                if call.given_up:
                    self._hung[call.plugin] -= 1
                    log.warning(
                        "notifier %s returned after its attempt was given up (%s)",
                        call.plugin,
                        "failed" if call.error is not None else "succeeded",
                    )
                self._idle.append(_CallThread(inbox, threading.current_thread()))
            call.done.set()


@attrs.frozen
class _Job:
    """One committed unit of work's notifications, waiting for the delivery thread."""

    tenant_id: UUID
    prepared: list[Prepared]


@attrs.define(eq=False)  # by identity: kept in a WeakSet
class Dispatcher:
    """After a commit: fire signals, then deliver the new notifications.

    Failures are written to the outbox at once. Successful deliveries are acknowledged in
    batches (``ack_batch`` rows, or ``ack_delay`` seconds after the first one waiting, by a
    timer, whichever comes first, and on ``flush``), which saves a transaction per
    operation. An acknowledgement lost in a crash
    only means a later ``retry`` delivers that notification again — delivery is at least
    once anyway — and ``retry`` leaves pending rows younger than ``pending_grace`` alone, so
    it does not race deliveries still in flight.

    In ``DeliveryMode.BACKGROUND`` a committed operation's notifications are queued for one
    delivery thread, started when needed (it ends after ``idle_exit`` seconds without work);
    ``flush`` waits for the queue, ``close`` also ends the threads. At most ``queue_limit``
    operations wait: beyond that, their rows stay pending for ``retry``. Every plugin call
    runs under ``PluginCalls`` with ``attempt_timeout``.
    """

    storage: Storage
    policy: Policy
    clock: Clock
    plugins: Plugins
    signals: Signals
    sender: object
    max_attempts: int = 5
    ack_batch: int = 256
    ack_delay: float = 1.0
    pending_grace: timedelta = timedelta(minutes=2)
    mode: DeliveryMode = DeliveryMode.BACKGROUND
    attempt_timeout: float = 10.0
    queue_limit: int = 10_000
    idle_exit: float = 5.0
    _calls: PluginCalls = attrs.field(init=False)
    _queue: queue.Queue[_Job | None] = attrs.field(init=False)
    _worker: threading.Thread | None = attrs.field(default=None, init=False)
    #: Jobs queued and jobs done so far: ``flush`` waits for those queued before it.
    _queued: int = attrs.field(default=0, init=False)
    _done: int = attrs.field(default=0, init=False)
    _progress: threading.Condition = attrs.field(init=False)
    _acks: dict[UUID, list[Notification]] = attrs.field(factory=dict, init=False)
    _acks_since: float = attrs.field(default=0.0, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)
    _timer: threading.Timer | None = attrs.field(default=None, init=False)

    def __attrs_post_init__(self) -> None:
        self._calls = PluginCalls(self.attempt_timeout)
        self._queue = queue.Queue(self.queue_limit)
        self._progress = threading.Condition(self._lock)

    def after_commit(self, uow: UnitOfWork, prepared: list[Prepared]) -> None:
        """Signal ``uow``'s committed events, then deliver the notifications it wrote: queued
        for the delivery thread, or here in ``DeliveryMode.INLINE``."""
        events = list(uow.new_events)
        uow.new_events.clear()
        for event in events:
            self.signals.send(self.signals.event_recorded, self.sender, event=event)
        if not prepared:
            return
        if self.mode is DeliveryMode.INLINE:
            self._deliver_safely(_Job(uow.tenant_id, prepared))
            return
        with self._lock:
            try:
                self._queue.put_nowait(_Job(uow.tenant_id, prepared))
            except queue.Full:
                # Committed rows are never lost: retry() takes them after the grace period.
                log.warning(
                    "delivery queue full (%d operations); %d notifications left for retry",
                    self.queue_limit,
                    len(prepared),
                )
                return
            self._queued += 1
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._work, name="ticketkit-delivery", daemon=True
                )
                self._worker.start()
                _RUNNING.add(self)

    def _work(self) -> None:
        """The delivery thread: deliver queued jobs in commit order; end when there is
        nothing left to do (idle, or told by ``close``)."""
        while True:
            try:
                job = self._queue.get(timeout=self.idle_exit)
            except queue.Empty:
                job = None
            else:
                try:
                    if job is not None:
                        self._deliver_safely(job)
                except BaseException:
                    # Even SystemExit from a signal receiver: this thread must go on, or
                    # flush() would wait for it forever.
                    log.exception("the delivery thread caught an exit; it goes on")
                finally:
                    self._queue.task_done()
                    if job is not None:
                        with self._progress:
                            self._done += 1
                            self._progress.notify_all()
            if job is None:
                with self._lock:
                    # after_commit queues under this lock: an empty queue stays empty until
                    # a new thread is started for it.
                    if self._queue.empty():
                        if self._worker is threading.current_thread():
                            self._worker = None
                        return

    def _deliver_safely(self, job: _Job) -> None:
        try:
            self._deliver(job.tenant_id, job.prepared)
        except Exception:
            # The change is committed and the outbox rows with it; retry() picks them up.
            log.exception("delivering %d notifications failed; left for retry", len(job.prepared))

    def flush(self) -> None:
        """Wait until the notifications queued so far are delivered (not those queued
        meanwhile, so a steady stream cannot hold it), then write every acknowledgement
        still held in memory."""
        if threading.current_thread() is not self._worker:
            with self._progress:
                target = self._queued
                self._progress.wait_for(lambda: self._done >= target)
        self._write_acks()

    def close(self) -> None:
        """``flush``, then end the delivery thread and the idle plugin-call threads. A
        later operation starts them again."""
        self.flush()
        with self._lock:
            worker = self._worker
            if worker is threading.current_thread():
                worker = None
            if worker is not None:
                with contextlib.suppress(queue.Full):
                    self._queue.put_nowait(None)
        if worker is not None:
            worker.join()
        self._calls.close()

    def _write_acks(self) -> None:
        """Write every acknowledgement held in memory: one set-based write per tenant and
        set of plugins, instead of one row update per notification."""
        with self._lock:
            acks, self._acks = self._acks, {}
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        for tenant_id, notes in acks.items():
            groups: dict[tuple[str, ...], list[Notification]] = {}
            for note in notes:
                groups.setdefault(note.delivered_to, []).append(note)
            with self.storage.unit_of_work(tenant_id) as uow:
                for delivered_to, group in groups.items():
                    uow.outbox.acknowledge(
                        [n.id for n in group],
                        delivered_to=delivered_to,
                        at=max(n.updated_at for n in group),
                    )
                uow.commit()

    def _acknowledge(self, notes: list[Notification]) -> None:
        if not notes:
            return
        now = time.monotonic()
        with self._lock:
            if not self._acks:
                self._acks_since = now
            self._acks.setdefault(notes[0].tenant_id, []).extend(notes)
            due = (
                sum(len(v) for v in self._acks.values()) >= self.ack_batch
                or now - self._acks_since >= self.ack_delay
            )
            if not due and self._timer is None:
                # Nothing else may come to write these soon: the timer does, in time.
                self._timer = threading.Timer(self.ack_delay, self._flush_in_time)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self._write_acks()

    def _flush_in_time(self) -> None:
        try:
            self._write_acks()
        except Exception:
            # The rows stay pending; a retry after the grace period delivers them again.
            log.exception("writing delivery acknowledgements failed")

    def retry(self, tenant_id: UUID, *, limit: int) -> int:
        """Deliver notifications that failed fewer than ``max_attempts`` times, or are still
        pending after ``pending_grace`` (a crash between commit and delivery), after checking
        each recipient's access again against current state."""
        self.flush()
        now = self.clock.now()
        stale = now - self.pending_grace
        with self.storage.unit_of_work(tenant_id) as uow:
            due = uow.outbox.claim(
                all_of(
                    Eq("tenant_id", tenant_id),
                    Cmp("attempts", "<", self.max_attempts),
                    any_of(
                        Eq("status", DeliveryStatus.FAILED),
                        all_of(
                            Eq("status", DeliveryStatus.PENDING), Cmp("updated_at", "<=", stale)
                        ),
                    ),
                ),
                limit,
                at=now,
            )
            prepared: list[Prepared] = []
            dropped: list[Notification] = []
            people: dict[UUID, Access | None] = {}
            for note in due:
                ready = self._reload(uow, note, people)
                if ready is None:
                    now = self.clock.now()
                    dropped.append(
                        attrs.evolve(note, status=DeliveryStatus.DROPPED, updated_at=now)
                    )
                else:
                    prepared.append(ready)
            for note in dropped:
                uow.outbox.save(note)
            uow.commit()
        if prepared:
            self._deliver(tenant_id, prepared, defer_acks=False, checked=True)
        return len(due)

    def _recheck(
        self, tenant_id: UUID, prepared: list[Prepared], now: datetime
    ) -> tuple[list[Prepared], list[Notification]]:
        """Check every recipient again against the state at delivery, not only when the
        notification was written: someone deactivated or moved out of access since (a
        follower, say) gets nothing, and the row is marked dropped. Returns the deliveries
        that may go, each with its recipient's current access, and the dropped rows."""
        ready: list[Prepared] = []
        dropped: list[Notification] = []
        with self.storage.unit_of_work(tenant_id, read_only=True) as uow:
            found = uow.access.people({item.notification.recipient_id for item in prepared})
            current: dict[UUID, Access | None] = {}
            for item in prepared:
                ident = item.notification.recipient_id
                if ident not in current:
                    person = found.get(ident)
                    current[ident] = (
                        self.policy.access(person, uow.access)
                        if person is not None and person.active
                        else None
                    )
                access = current[ident]
                if (
                    access is None
                    or not may_receive(access, item.ticket, item.event)
                    or (item.comment is not None and not access.reads("comments", item.comment))
                ):
                    dropped.append(
                        attrs.evolve(
                            item.notification, status=DeliveryStatus.DROPPED, updated_at=now
                        )
                    )
                else:
                    ready.append(attrs.evolve(item, recipient=access))
        return ready, dropped

    def _reload(
        self,
        uow: UnitOfWork,
        note: Notification,
        people: dict[UUID, Access | None],
    ) -> Prepared | None:
        """Rebuild a delivery from storage, or None when the recipient may no longer see it."""
        if note.recipient_id not in people:
            person = uow.access.people([note.recipient_id]).get(note.recipient_id)
            people[note.recipient_id] = (
                self.policy.access(person, uow.access)
                if person is not None and person.active
                else None
            )
        recipient = people[note.recipient_id]
        event = uow.events.get(note.event_id)
        ticket = uow.tickets.get(note.ticket_id)
        if recipient is None or event is None or ticket is None:
            return None
        if not may_receive(recipient, ticket, event):
            return None
        visible = uow.events.for_ticket(ticket.id, recipient.events)
        event = as_seen(event, sum(1 for e in visible if e.seq <= event.seq))
        ticket_type = uow.ticket_types.get(ticket.type_id)
        comment = None
        if isinstance(event, CommentAdded):
            comment = uow.comments.get(event.comment_id)
            if comment is None or not recipient.reads("comments", comment):
                return None
        if ticket_type is None:
            return None
        return Prepared(
            notification=note,
            recipient=recipient,
            event=event,
            ticket=ticket,
            ticket_type=ticket_type,
            comment=comment,
        )

    def _deliver(
        self,
        tenant_id: UUID,
        prepared: list[Prepared],
        *,
        defer_acks: bool = True,
        checked: bool = False,
    ) -> None:
        has_notifiers = bool(self.plugins.manager.hook.ticketkit_notify.get_hookimpls())
        # One delivery time for the lot: they are sent together, after one commit.
        now = self.clock.now()
        dropped: list[Notification] = []
        if has_notifiers and not checked:
            prepared, dropped = self._recheck(tenant_id, prepared, now)
        outcomes = [self._deliver_one(item, has_notifiers, now) for item in prepared]
        outcomes += dropped
        delivered = [n for n in outcomes if n.status is DeliveryStatus.DELIVERED]
        if defer_acks:
            self._acknowledge(delivered)
        write_now = [
            n for n in outcomes if not defer_acks or n.status is not DeliveryStatus.DELIVERED
        ]
        if write_now:
            with self.storage.unit_of_work(tenant_id) as uow:
                for note in write_now:
                    uow.outbox.save(note)
                uow.commit()

    def _deliver_one(self, item: Prepared, has_notifiers: bool, now: datetime) -> Notification:
        note = item.notification
        if not has_notifiers:
            return note.delivered(note.delivered_to, now)
        message = NotificationMessage(
            tenant_id=note.tenant_id,
            notification_id=note.id,
            recipient=item.recipient.person,
            event=item.event,
            ticket=project_ticket(item.ticket, item.ticket_type, item.recipient),
            comment=item.comment,
        )
        delivered, failures = self.plugins.notify(message, skip=note.delivered_to, call=self._calls)
        delivered_to = (*note.delivered_to, *delivered)
        if failures:
            failed = attrs.evolve(
                note,
                delivered_to=delivered_to,
                status=DeliveryStatus.FAILED,
                attempts=note.attempts + 1,
                last_error="; ".join(f"{f.plugin}: {f.error}" for f in failures)[:2000],
                updated_at=now,
            )
            self.signals.send(
                self.signals.notification_failed,
                self.sender,
                notification=failed,
                failures=failures,
            )
            return failed
        return note.delivered(delivered_to, now)
