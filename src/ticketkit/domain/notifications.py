"""The notification outbox record: who must hear of which event, and how delivery went."""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import attrs


class DeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
    #: The recipient lost access before delivery; nothing was sent.
    DROPPED = "dropped"


@attrs.frozen(kw_only=True)
class Notification:
    """Written in the same transaction as the event, delivered after the commit."""

    tenant_id: UUID
    id: UUID
    event_id: UUID
    ticket_id: UUID
    recipient_id: UUID
    created_at: datetime
    status: DeliveryStatus = DeliveryStatus.PENDING
    attempts: int = 0
    last_error: str | None = None
    #: Plugins that already took this notification; a retry skips them.
    delivered_to: tuple[str, ...] = ()
    updated_at: datetime

    def delivered(self, delivered_to: tuple[str, ...], at: datetime) -> Notification:
        """This notification after an attempt that reached every plugin in ``delivered_to``."""
        return attrs.evolve(
            self,
            status=DeliveryStatus.DELIVERED,
            attempts=self.attempts + 1,
            last_error=None,
            delivered_to=delivered_to,
            updated_at=at,
        )
