"""The SQL notification outbox: rows claimed for delivery under a lock that concurrent
claims skip, outcomes buffered like adds, deliveries acknowledged in chunks.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

import attrs
from sqlalchemy import bindparam, select

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.adapters.sqlalchemy.mapping import NOTIFICATIONS
from ticketkit.domain.notifications import DeliveryStatus, Notification
from ticketkit.policy.predicates import Predicate
from ticketkit.ports.repositories import NotificationOutbox

if TYPE_CHECKING:
    from ticketkit.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork


_n = tables.notifications
_ACK_CHUNK = 1_000
_ACKNOWLEDGE = (
    _n.update()
    .where(
        _n.c.tenant_id == bindparam("tenant"),
        _n.c.id.in_(bindparam("ids", expanding=True)),
        _n.c.status == DeliveryStatus.PENDING.value,
    )
    .values(
        status=DeliveryStatus.DELIVERED.value,
        attempts=_n.c.attempts + 1,
        last_error=None,
        delivered_to=bindparam("delivered_to", type_=_n.c.delivered_to.type),
        updated_at=bindparam("at", type_=_n.c.updated_at.type),
    )
)


class Outbox(NotificationOutbox):
    """The notification outbox; delivery outcomes are buffered like adds."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def add(self, notification: Notification) -> None:
        self._uow._stage(NOTIFICATIONS, notification)

    def get(self, ident: UUID) -> Notification | None:
        return self._uow._get(NOTIFICATIONS, ident)

    def claim(self, where: Predicate, limit: int, *, at: datetime) -> list[Notification]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        uow = self._uow
        uow._flush(NOTIFICATIONS)
        # SQLite: the write lock first, so claims take turns. PostgreSQL: the rows stay
        # locked until commit, and a concurrent claim skips them.
        conn = uow._connector.writer()
        stmt = (
            select(_n)
            .where(uow._where(_n, where))
            .order_by(*NOTIFICATIONS.order)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claimed = [
            attrs.evolve(
                NOTIFICATIONS.from_row(uow._conv, row),
                status=DeliveryStatus.PENDING,
                updated_at=at,
            )
            for row in conn.execute(stmt).all()
        ]
        for note in claimed:
            uow._save(NOTIFICATIONS, note)
        return claimed

    def list(self, where: Predicate, limit: int) -> list[Notification]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        return self._uow._select(NOTIFICATIONS, where, limit=limit)

    def save(self, notification: Notification) -> None:
        self._uow._save(NOTIFICATIONS, notification)

    def acknowledge(
        self, ids: Collection[UUID], *, delivered_to: tuple[str, ...], at: datetime
    ) -> int:
        uow = self._uow
        buffered: dict[UUID, Notification] = uow._staged[NOTIFICATIONS.kind].added
        done = 0
        stored: list[UUID] = []
        for ident in ids:
            note = buffered.get(ident)
            if note is None:
                stored.append(ident)
            elif note.status is DeliveryStatus.PENDING:
                buffered[ident] = note.delivered(delivered_to, at)
                done += 1
        if stored:
            uow._flush(NOTIFICATIONS)  # buffered saves of these rows are written first
            conn = uow._connector.writer()
            values = {"delivered_to": list(delivered_to), "at": at, "tenant": uow.tenant_id}
            for first in range(0, len(stored), _ACK_CHUNK):
                chunk = stored[first : first + _ACK_CHUNK]
                done += conn.execute(_ACKNOWLEDGE, {**values, "ids": chunk}).rowcount
            known = uow._staged[NOTIFICATIONS.kind].known
            for ident in stored:  # rows read earlier in this unit of work are stale now
                known.pop(ident, None)
        return done


__all__ = [
    "Outbox",
]
