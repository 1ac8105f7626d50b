"""A dispatcher process for the multi-process delivery tests: its own engine and help desk
on a shared database, a plugin that appends each notification key it is handed to a file of
its own, and ``deliver_pending`` until nothing is left. Kept free of pytest, so that a
spawned process starts quickly."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from multiprocessing.synchronize import Barrier
from uuid import UUID

from ticketkit.application import HelpDesk, NotificationMessage
from ticketkit.clock import Clock, ManualClock, SystemClock
from ticketkit.hooks import Plugins, hookimpl

#: ``deliver_pending``'s batch: a crash "mid-batch" dies inside one of these.
BATCH = 200


class KeyFile:
    """Appends each notification id to ``path`` as it is delivered (unbuffered, so a
    crash loses nothing written); with ``crash_after``, the process dies right after
    that many keys, before any acknowledgement of its batch is written."""

    def __init__(self, path: str, crash_after: int | None) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self.crash_after = crash_after
        self.count = 0

    @hookimpl
    def ticketkit_notify(self, message: NotificationMessage) -> None:
        os.write(self.fd, f"{message.notification_id}\n".encode())
        self.count += 1
        if self.count == self.crash_after:
            os._exit(17)


def dispatch(  # noqa: PLR0917 (a process target takes its arguments by position)
    url: str,
    schema: str | None,
    tenant: str,
    out: str,
    crash_after: int | None,
    late_minutes: int,
    start: Barrier | None,
    rendezvous: bool = False,
    after: str | None = None,
) -> None:
    """Deliver the tenant's due notifications until none are left (or crash). With
    ``rendezvous`` every dispatcher waits at ``start`` again after its first batch, so each
    has claimed one before any goes on (SQLite hands its write lock to whoever asks first
    after a commit: a dispatcher waiting in its busy handler could be starved). With
    ``after`` (another dispatcher's key file) it starts only once that one has delivered a
    key, so has claimed its first batch: for a dispatcher that crashes within it."""
    from ticketkit.adapters.sqlalchemy import (
        SqlStorage,
        create_postgres_engine,
        create_sqlite_engine,
    )

    if schema is None:
        engine = create_sqlite_engine(url)
    else:
        engine = create_postgres_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    clock: Clock = SystemClock()
    if late_minutes:
        # A dispatcher running later: leases taken now have run out for it.
        clock = ManualClock(clock.now() + timedelta(minutes=late_minutes))
    plugins = Plugins.create([KeyFile(out, crash_after)])
    desk = HelpDesk(SqlStorage(engine), clock=clock, plugins=plugins)
    if start is not None:
        start.wait(60)
    deadline = time.monotonic() + 60
    while after is not None and not _delivered_some(after) and time.monotonic() < deadline:
        time.sleep(0.01)
    delivered = desk.deliver_pending(UUID(tenant), limit=BATCH)
    if start is not None and rendezvous:
        start.wait(60)
    while delivered:
        delivered = desk.deliver_pending(UUID(tenant), limit=BATCH)
    desk.flush()
    engine.dispose()


def _delivered_some(path: str) -> bool:
    return os.path.exists(path) and os.path.getsize(path) > 0
