"""Getting notifications to the plugins after the commit: the ``Dispatcher``.

Who hears of what is chosen in the operation's unit of work (``recipients``). Delivery runs
after the commit — on the dispatcher's own thread, watched by a watchdog, unless the host
asks for it inline (then through ``plugin_calls``) — gives every plugin call a timeout,
checks each recipient again (``recipients.recheck``), isolates plugin failures,
acknowledges in batches (``acknowledgements``) and leaves failed rows for ``retry``, which
checks the policy again against the state at that later time (``recipients.reload``).
"""

from __future__ import annotations

import atexit
import contextlib
import enum
import logging
import math
import queue
import threading
import time
import weakref
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial
from uuid import UUID

import attrs

from ticketkit.application.acknowledgements import Acknowledgements
from ticketkit.application.plugin_calls import PluginCalls
from ticketkit.application.recipients import Prepared, by_tenant, recheck, reload
from ticketkit.application.views import NotificationMessage, project_ticket
from ticketkit.clock import Clock
from ticketkit.domain.events import Event
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.hooks.plugins import PluginFailure, Plugins
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


class DeliveryMode(enum.StrEnum):
    """Where a help desk hands an operation's notifications to the notifier plugins."""

    #: On the help desk's delivery thread: the operation returns at its commit.
    BACKGROUND = "background"
    #: In the caller's thread, before the operation returns (each call still timed out).
    INLINE = "inline"
    #: Nowhere: the notifications stay in the outbox for ``deliver_pending`` of a process
    #: that has the plugins (the ``ticketkit`` command's desk works so).
    OUTBOX = "outbox"


@attrs.frozen
class _Job:
    """One committed unit of work's notifications, waiting for the delivery thread."""

    prepared: list[Prepared]


@attrs.define(eq=False)
class _Run:
    """Deliveries under way (of ``jobs`` queued jobs, of any tenants): the ones still to
    make and the outcomes so far, kept here so that a replacement thread can finish them
    (see ``Dispatcher._give_up``)."""

    items: list[Prepared]
    now: datetime
    outcomes: list[Notification]
    jobs: int = 0
    position: int = 0


@attrs.define(eq=False)
class _Worker:
    """A delivery thread and the plugin call it is making, which the watchdog times. The
    fields change under the dispatcher's lock."""

    run: _Run | None = None
    #: The plugin being called, since ``started`` (``time.monotonic``); None between calls.
    plugin: str | None = None
    started: float = 0.0
    #: The plugins that took the current notification so far.
    took: list[str] = attrs.field(factory=list)
    #: Given up by the watchdog: another thread carries on, this one's results are dropped.
    retired: bool = False
    thread: threading.Thread | None = None


@attrs.frozen
class _Resume:
    """Where a replacement thread takes over: the notification whose plugin call was given
    up, the plugins that took it before, and that call's failure."""

    run: _Run
    took: tuple[str, ...]
    failure: PluginFailure


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
    operations wait: beyond that, their rows stay pending for ``retry``. A job after a
    quiet spell is delivered at once; in a stream, a run starts ``linger`` seconds after
    the last one began (sooner when ``flush`` hurries it) and takes all the jobs waiting
    then, up to ``drain_limit`` notifications: a stream of operations costs one wake-up,
    one re-check read and one write per tenant every ``linger``, not per operation.

    Every plugin call is given up after ``attempt_timeout``. The delivery thread calls
    plugins itself, watched by a watchdog thread: handing each call to another thread
    would cost two thread switches per notification and plugin, more than a quick plugin
    takes. When a call overruns, the watchdog records that attempt failed and starts a
    new delivery thread, which finishes the job and goes on with the queue; the old one
    ends when its plugin returns. Calls made in a caller's thread (``DeliveryMode.INLINE``,
    ``retry``) run on ``PluginCalls`` threads instead, so that no caller waits longer.
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
    drain_limit: int = 1_000
    linger: float = 0.05
    idle_exit: float = 5.0
    _calls: PluginCalls = attrs.field(init=False)
    _queue: queue.Queue[_Job | None] = attrs.field(init=False)
    #: The delivery thread at work (a retired one is no longer here), and its watchdog.
    _worker: _Worker | None = attrs.field(default=None, init=False)
    _watchdog: threading.Thread | None = attrs.field(default=None, init=False)
    #: Wakes the watchdog when the delivery thread ends.
    _watching: threading.Condition = attrs.field(init=False)
    #: Jobs queued and jobs done so far: ``flush`` waits for those queued before it.
    _queued: int = attrs.field(default=0, init=False)
    _done: int = attrs.field(default=0, init=False)
    _progress: threading.Condition = attrs.field(init=False)
    #: Set by ``flush``: deliver what is queued without lingering.
    _hurry: threading.Event = attrs.field(factory=threading.Event, init=False)
    #: When the last run was taken (``time.monotonic``), for pacing the next one.
    _last_run: float = attrs.field(default=-math.inf, init=False)
    _acks: Acknowledgements = attrs.field(init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)

    @property
    def calls(self) -> PluginCalls:
        """How a caller's thread calls plugins: each call on a ``PluginCalls`` thread, given
        up after ``attempt_timeout`` (invitations go out this way too)."""
        return self._calls

    def __attrs_post_init__(self) -> None:
        self._calls = PluginCalls(self.attempt_timeout)
        self._acks = Acknowledgements(self.storage, batch=self.ack_batch, delay=self.ack_delay)
        self._queue = queue.Queue(self.queue_limit)
        self._progress = threading.Condition(self._lock)
        self._watching = threading.Condition(self._lock)

    def after_commit(self, uow: UnitOfWork, prepared: list[Prepared]) -> None:
        """Once ``uow``'s writes are committed for good (``UnitOfWork.on_commit``: at once,
        or when a host's outer transaction commits), signal its events, then deliver the
        notifications it wrote."""
        events = list(uow.new_events)
        uow.new_events.clear()
        if events or prepared:
            uow.on_commit(partial(self._committed, events, prepared))

    def _committed(self, events: list[Event], prepared: list[Prepared]) -> None:
        """Signal committed ``events``, then deliver ``prepared``: queued for the delivery
        thread, or here in ``DeliveryMode.INLINE``."""
        for event in events:
            self.signals.send(self.signals.event_recorded, self.sender, event=event)
        if not prepared or self.mode is DeliveryMode.OUTBOX:
            return
        if self.mode is DeliveryMode.INLINE:
            try:
                self._deliver(prepared)
            except Exception:
                # The change is committed and the outbox rows with it; retry() takes them.
                log.exception("delivering %d notifications failed; left for retry", len(prepared))
            return
        with self._lock:
            try:
                self._queue.put_nowait(_Job(prepared))
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
                self._start_worker(None)
                _RUNNING.add(self)

    def _start_worker(self, resume: _Resume | None) -> None:
        """Start a delivery thread (under the lock), and the watchdog if none runs."""
        worker = self._worker = _Worker(run=resume.run if resume else None)
        worker.thread = threading.Thread(
            target=self._work, args=(worker, resume), name="ticketkit-delivery", daemon=True
        )
        worker.thread.start()
        if self._watchdog is None:
            self._watchdog = threading.Thread(
                target=self._watch, name="ticketkit-delivery-watchdog", daemon=True
            )
            self._watchdog.start()

    def _work(self, worker: _Worker, resume: _Resume | None) -> None:
        """A delivery thread: finish the run it took over, if any, then deliver queued jobs
        in commit order; end when there is nothing left to do (idle, or told by ``close``)
        or when the watchdog retired it."""
        if resume is not None:
            self._run_jobs(worker, resume.run.jobs, partial(self._resume, worker, resume))
        while not worker.retired:
            jobs = self._take()
            if jobs:
                prepared = [item for job in jobs for item in job.prepared]
                deliver = partial(self._deliver, prepared, worker=worker, jobs=len(jobs))
                self._run_jobs(worker, len(jobs), deliver)
                continue
            with self._lock:
                # after_commit queues under this lock: an empty queue stays empty until
                # a new thread is started for it.
                if self._queue.empty() and self._worker is worker:
                    self._worker = None
                    self._watching.notify_all()
                    return

    def _take(self) -> list[_Job]:
        """The jobs waiting, in commit order, delivered as one run (one re-check and one
        write per tenant for the lot): at least one, waiting up to ``idle_exit`` for it;
        then, if the last run began less than ``linger`` seconds ago, waiting for others
        until it did; and those queued by then up to ``drain_limit`` notifications. None
        when idle or told to end by ``close``."""
        try:
            job = self._queue.get(timeout=self.idle_exit)
        except queue.Empty:
            return []
        if job is not None:
            # After a quiet spell the job goes at once; in a stream, runs keep ``linger`` apart.
            wait = self._last_run + self.linger - time.monotonic()
            if wait > 0:
                self._hurry.wait(wait)
            self._hurry.clear()
            self._last_run = time.monotonic()
        jobs: list[_Job] = []
        size = 0
        while job is not None:
            jobs.append(job)
            size += len(job.prepared)
            if size >= self.drain_limit:
                break
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is None:  # close() asks to end: after these, so back it goes
                with contextlib.suppress(queue.Full):
                    self._queue.put_nowait(None)
        return jobs

    def _run_jobs(self, worker: _Worker, jobs: int, deliver: Callable[[], None]) -> None:
        """Run ``deliver`` (of ``jobs`` queued jobs) and count them done, unless the
        watchdog handed the run to another thread meanwhile."""
        try:
            deliver()
        except BaseException:
            # Even SystemExit from a signal receiver: this thread must go on, or flush()
            # would wait for it forever. The rows are committed; retry() takes them.
            log.exception("delivering %d jobs' notifications failed; left for retry", jobs)
        with self._progress:
            worker.run = None
            if not worker.retired:
                self._done += jobs
                self._progress.notify_all()

    def _watch(self) -> None:
        """The watchdog: give up the delivery thread's plugin call once it has run
        ``attempt_timeout``; end with the delivery thread. It wakes once per timeout at
        most, plus once per call given up."""
        with self._lock:
            while (worker := self._worker) is not None:
                if worker.plugin is None:
                    self._watching.wait(self.attempt_timeout)
                    continue
                left = worker.started + self.attempt_timeout - time.monotonic()
                if left > 0:
                    self._watching.wait(left)
                else:
                    self._give_up(worker)
            self._watchdog = None

    def _give_up(self, worker: _Worker) -> None:
        """Retire ``worker`` (under the lock): its current call counts as a failed attempt,
        and a new delivery thread finishes its job from there."""
        plugin, run = worker.plugin, worker.run
        assert plugin is not None and run is not None
        worker.retired = True
        self._calls.hung(plugin, by=1)
        error = TimeoutError(f"no answer within {self.attempt_timeout:g} s")
        failure = PluginFailure(plugin=plugin, error=repr(error))
        self._start_worker(_Resume(run, tuple(worker.took), failure))

    def _watched(self, worker: _Worker) -> Callable[[str, Callable[[], None]], None]:
        """How the delivery thread calls a plugin: itself, in the watchdog's view."""

        def call(plugin: str, fn: Callable[[], None]) -> None:
            with self._lock:
                if worker.retired:
                    return  # not called: a retired thread's outcomes are dropped
                self._calls.check(plugin)
                worker.plugin, worker.started = plugin, time.monotonic()
            ok = False
            try:
                fn()
                ok = True
            finally:
                with self._lock:
                    worker.plugin = None
                    if worker.retired:
                        self._calls.hung(plugin, by=-1)
                        log.warning(
                            "notifier %s returned after its attempt was given up (%s)",
                            plugin,
                            "succeeded" if ok else "failed",
                        )
                    elif ok:
                        worker.took.append(plugin)

        return call

    def flush(self) -> None:
        """Wait until the notifications queued so far are delivered (not those queued
        meanwhile, so a steady stream cannot hold it), then write every acknowledgement
        still held in memory."""
        worker = self._worker
        if worker is None or threading.current_thread() is not worker.thread:
            self._hurry.set()
            with self._progress:
                target = self._queued
                self._progress.wait_for(lambda: self._done >= target)
        self._acks.write()

    def close(self) -> None:
        """``flush``, then end the delivery thread, its watchdog and the idle plugin-call
        threads. A later operation starts them again."""
        self.flush()
        with self._lock:
            worker = self._worker
            thread = worker.thread if worker is not None else None
            if thread is threading.current_thread():
                thread = None
            if thread is not None:
                with contextlib.suppress(queue.Full):
                    self._queue.put_nowait(None)
            watchdog = self._watchdog
        if thread is not None:
            thread.join()
        if watchdog is not None and watchdog is not threading.current_thread():
            watchdog.join()
        self._calls.close()

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
                ready = reload(uow, note, people, policy=self.policy, clock=self.clock)
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
            self._deliver(prepared, defer_acks=False, checked=True)
        return len(due)

    def _deliver(
        self,
        prepared: list[Prepared],
        *,
        worker: _Worker | None = None,
        jobs: int = 0,
        defer_acks: bool = True,
        checked: bool = False,
    ) -> None:
        """Deliver ``prepared``, each recipient checked again first unless ``checked``: on
        ``worker``'s own thread, watched, or else with each call on ``PluginCalls``."""
        has_notifiers = bool(self.plugins.manager.hook.ticketkit_notify.get_hookimpls())
        # One delivery time for the lot: they are sent together, after one commit.
        now = self.clock.now()
        dropped: list[Notification] = []
        if has_notifiers and not checked:
            prepared, dropped = recheck(prepared, now, storage=self.storage, policy=self.policy)
        run = _Run(prepared, now, outcomes=dropped, jobs=jobs)
        if worker is None:
            for item in prepared:
                run.outcomes.append(self._deliver_one(item, has_notifiers, now, self._calls))
            self._record(run, defer_acks=defer_acks)
            return
        with self._lock:
            worker.run = run
        self._continue(worker, run, has_notifiers)

    def _resume(self, worker: _Worker, resume: _Resume) -> None:
        """Finish a retired thread's job: its current notification, to the plugins that
        neither took it nor hung, then the rest."""
        run = resume.run
        item = run.items[run.position]
        outcome = self._deliver_one(
            item, True, run.now, self._watched(worker), took=resume.took, failed=[resume.failure]
        )
        with self._lock:
            if worker.retired:
                return
            run.outcomes.append(outcome)
            run.position += 1
        self._continue(worker, run, True)

    def _continue(self, worker: _Worker, run: _Run, has_notifiers: bool) -> None:
        """Deliver the rest of ``run`` on ``worker``'s thread and record the outcomes;
        stop, recording nothing, once the watchdog has retired it."""
        call = self._watched(worker)
        while True:
            with self._lock:
                if worker.retired:
                    return
                if run.position == len(run.items):
                    break
                item = run.items[run.position]
                worker.took.clear()
            outcome = self._deliver_one(item, has_notifiers, run.now, call)
            with self._lock:
                if worker.retired:
                    return
                run.outcomes.append(outcome)
                run.position += 1
        self._record(run)

    def _record(self, run: _Run, *, defer_acks: bool = True) -> None:
        """Write the outcomes of ``run``: failures and drops at once, deliveries as batched
        acknowledgements (at once too, without ``defer_acks``)."""
        delivered = [n for n in run.outcomes if n.status is DeliveryStatus.DELIVERED]
        if defer_acks:
            self._acks.add(delivered)
        write_now = [
            n for n in run.outcomes if not defer_acks or n.status is not DeliveryStatus.DELIVERED
        ]
        for tenant_id, notes in by_tenant(write_now, lambda n: n.tenant_id).items():
            with self.storage.unit_of_work(tenant_id) as uow:
                for note in notes:
                    uow.outbox.save(note)
                uow.commit()

    def _deliver_one(
        self,
        item: Prepared,
        has_notifiers: bool,
        now: datetime,
        call: Callable[[str, Callable[[], None]], None],
        *,
        took: Iterable[str] = (),
        failed: Iterable[PluginFailure] = (),
    ) -> Notification:
        """Hand one notification to every plugin that has not had it yet, the plugins that
        ``took`` it or ``failed`` on it in this attempt aside; return its outcome."""
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
        failures = list(failed)
        earlier = (*note.delivered_to, *took)
        delivered, new_failures = self.plugins.notify(
            message, skip=(*earlier, *(f.plugin for f in failures)), call=call
        )
        delivered_to = (*earlier, *delivered)
        failures += new_failures
        if failures:
            failed_note = attrs.evolve(
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
                notification=failed_note,
                failures=failures,
            )
            return failed_note
        return note.delivered(delivered_to, now)
