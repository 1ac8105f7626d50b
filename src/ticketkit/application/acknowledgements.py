"""Delivery acknowledgements, written in batches: a delivered notification's outbox row is
marked done ``batch`` rows at a time, or ``delay`` seconds after the first one waiting (by
a timer), or on ``write``, which saves a transaction per operation. An acknowledgement lost
in a crash only means a later retry delivers that notification again: delivery is at least
once anyway.
"""

from __future__ import annotations

import logging
import threading
import time
from uuid import UUID

import attrs

from ticketkit.domain.notifications import Notification
from ticketkit.ports.repositories import Storage

log = logging.getLogger("ticketkit.notifications")


@attrs.define(eq=False)
class Acknowledgements:
    """Deliveries waiting to be written as done, per tenant."""

    storage: Storage
    batch: int = 256
    delay: float = 1.0
    _waiting: dict[UUID, list[Notification]] = attrs.field(factory=dict, init=False)
    _since: float = attrs.field(default=0.0, init=False)
    _lock: threading.Lock = attrs.field(factory=threading.Lock, init=False)
    #: Held for a whole write, so a ``write`` (a flush, a close) returns only after a
    #: write already under way in another thread (the timer's, a full batch's) is done.
    _writing: threading.Lock = attrs.field(factory=threading.Lock, init=False)
    _timer: threading.Timer | None = attrs.field(default=None, init=False)

    def add(self, notes: list[Notification]) -> None:
        """Hold ``notes`` (delivered) for the next write, writing now when it is due."""
        if not notes:
            return
        now = time.monotonic()
        with self._lock:
            if not self._waiting:
                self._since = now
            for note in notes:
                self._waiting.setdefault(note.tenant_id, []).append(note)
            due = (
                sum(len(v) for v in self._waiting.values()) >= self.batch
                or now - self._since >= self.delay
            )
            if not due and self._timer is None:
                # Nothing else may come to write these soon: the timer does, in time.
                self._timer = threading.Timer(self.delay, self._in_time)
                self._timer.daemon = True
                self._timer.start()
        if due:
            self.write()

    def write(self) -> None:
        """Write every acknowledgement held: one set-based write per tenant and set of
        plugins, instead of one row update per notification."""
        with self._writing:
            with self._lock:
                waiting, self._waiting = self._waiting, {}
                timer, self._timer = self._timer, None
            if timer is not None:
                timer.cancel()
            for tenant_id, notes in waiting.items():
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

    def _in_time(self) -> None:
        try:
            self.write()
        except Exception:
            # The rows stay pending; a retry after the grace period delivers them again.
            log.exception("writing delivery acknowledgements failed")


__all__ = ["Acknowledgements"]
