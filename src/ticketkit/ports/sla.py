"""Storage ports of the SLA capability: calendars, policies, each ticket's clocks, the
once-only firings and deferred escalation actions. A unit of work hands them out for its
tenant, like every other repository.

One locking rule keeps sweeps and ticket writes free of deadlocks: a ticket's clocks are
written only by a unit of work that holds the ticket itself for update (``due`` takes the
tickets first, as ``tickets.get(for_update=True)`` does)."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from ticketkit.domain.sla.policies import SlaPolicy
from ticketkit.domain.sla.records import ActionState, DeferredAction, SlaCalendar, TicketClocks


class CalendarRepository(abc.ABC):
    """The tenant's named calendars. At most one is the tenant's default: adding or saving a
    second one is a ``Conflict`` (kind ``DefaultCalendar``), here or at commit when another
    unit of work stored one meanwhile."""

    @abc.abstractmethod
    def add(self, calendar: SlaCalendar) -> None: ...

    @abc.abstractmethod
    def get(self, ident: UUID) -> SlaCalendar | None: ...

    @abc.abstractmethod
    def save(self, calendar: SlaCalendar) -> None:
        """Replace the stored calendar with the same id."""

    @abc.abstractmethod
    def all(self) -> list[SlaCalendar]:
        """Every calendar, by name."""


class SlaPolicyRepository(abc.ABC):
    """The tenant's SLA policies."""

    @abc.abstractmethod
    def add(self, policy: SlaPolicy) -> None: ...

    @abc.abstractmethod
    def get(self, ident: UUID) -> SlaPolicy | None: ...

    @abc.abstractmethod
    def save(self, policy: SlaPolicy) -> None:
        """Replace the stored policy with the same id."""

    @abc.abstractmethod
    def remove(self, ident: UUID) -> bool:
        """Delete the policy; False when there was none."""

    @abc.abstractmethod
    def all(self) -> list[SlaPolicy]:
        """Every policy, in the order they are tried (position, then id)."""


class TicketClockRepository(abc.ABC):
    """Each ticket's stored clocks, and the firings announced for it."""

    @abc.abstractmethod
    def get(self, ticket_id: UUID) -> TicketClocks | None: ...

    @abc.abstractmethod
    def get_many(self, ticket_ids: Iterable[UUID]) -> dict[UUID, TicketClocks]:
        """The clocks of those of ``ticket_ids`` that have any, in one read."""

    @abc.abstractmethod
    def put(self, clocks: TicketClocks) -> None:
        """Store ``clocks`` for its ticket, replacing what was there."""

    @abc.abstractmethod
    def remove(self, ticket_id: UUID) -> bool:
        """Drop the ticket's clocks (its SLA was removed); False when it had none."""

    @abc.abstractmethod
    def due(self, now: datetime, limit: int) -> list[TicketClocks]:
        """Up to ``limit`` clocks with ``next_firing_at`` at or before ``now``, earliest
        first (ties by ticket id): one range read on the index of that column. Each ticket
        and its clocks are held for update for the rest of the unit of work, and the clocks
        are returned as stored once held (what a ticket write committed meanwhile is seen);
        tickets another unit of work holds are skipped (a concurrent sweep or a ticket
        write; the next sweep takes them)."""

    @abc.abstractmethod
    def count_due(self, now: datetime) -> int:
        """How many clocks ``due(now, ...)`` would give without a limit (for progress)."""

    @abc.abstractmethod
    def mark_stale(
        self, now: datetime, *, policy_id: UUID | None = None, calendar_id: UUID | None = None
    ) -> int:
        """Mark the clocks computed on ``policy_id`` (or on ``calendar_id``; neither: all)
        stale and due at ``now``, so the next sweep replays them. Returns how many. Naming
        both is a ``ValueError``."""

    @abc.abstractmethod
    def record_firing(self, ticket_id: UUID, key: str, at: datetime) -> bool:
        """Record that the level ``key`` of the ticket was announced. False, writing
        nothing, when it already was: the unique key that makes a firing happen once."""

    @abc.abstractmethod
    def firings(self, ticket_id: UUID) -> dict[str, datetime]:
        """The keys announced for the ticket, with the instant each was reached."""


class DeferredActionRepository(abc.ABC):
    """Escalation actions waiting for business hours."""

    @abc.abstractmethod
    def add(self, action: DeferredAction) -> None: ...

    @abc.abstractmethod
    def due(self, now: datetime, limit: int) -> list[DeferredAction]:
        """Up to ``limit`` waiting actions with ``run_at`` at or before ``now``, earliest
        first (ties by id), each held for update (skipping those another unit of work holds)."""

    @abc.abstractmethod
    def finish(self, ident: UUID, state: ActionState) -> bool:
        """Move a waiting action to ``state``; False when it was no longer waiting."""

    @abc.abstractmethod
    def of_ticket(self, ticket_id: UUID) -> list[DeferredAction]:
        """The ticket's actions, waiting or not, by ``run_at``."""
