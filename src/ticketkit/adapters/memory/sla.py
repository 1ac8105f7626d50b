"""The in-memory SLA repositories: each unit of work's changes over the tenant's committed
calendars, policies, clocks, firings and deferred actions, applied at its commit.

The SQL adapter's locks become the tenant's writer lock here: ``due`` and ``record_firing``
hold it until the unit of work ends, as ``tickets.get(for_update=True)`` does, so a second
sweep waits for the first and then sees what it wrote, and a firing is recorded once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Generic, TypeVar
from uuid import UUID

import attrs

from ticketkit.domain.sla.policies import SlaPolicy
from ticketkit.domain.sla.records import ActionState, DeferredAction, SlaCalendar, TicketClocks
from ticketkit.errors import Conflict
from ticketkit.ports.sla import (
    CalendarRepository,
    DeferredActionRepository,
    SlaPolicyRepository,
    TicketClockRepository,
)

if TYPE_CHECKING:
    from ticketkit.adapters.memory.unit_of_work import MemoryUnitOfWork

V = TypeVar("V")


@attrs.define
class SlaData:
    """One tenant's committed SLA data."""

    calendars: dict[UUID, SlaCalendar] = attrs.Factory(dict)
    policies: dict[UUID, SlaPolicy] = attrs.Factory(dict)
    #: Clocks by ticket.
    clocks: dict[UUID, TicketClocks] = attrs.Factory(dict)
    #: Firings by ticket: each key with the instant it was reached.
    firings: dict[UUID, dict[str, datetime]] = attrs.Factory(dict)
    actions: dict[UUID, DeferredAction] = attrs.Factory(dict)


class _Overlay(Generic[V]):
    """Committed values by id overlaid with this unit of work's changes (None: removed)."""

    def __init__(self, committed: Callable[[], dict[UUID, V]]) -> None:
        self._committed = committed
        self.changed: dict[UUID, V | None] = {}

    def get(self, ident: UUID) -> V | None:
        if ident in self.changed:
            return self.changed[ident]
        return self._committed().get(ident)

    def values(self) -> Iterator[V]:
        changed = self.changed
        yield from (v for k, v in self._committed().items() if k not in changed)
        yield from (v for v in changed.values() if v is not None)

    def add(self, ident: UUID, value: V, kind: str) -> None:
        """Stage a new value; an id taken already is a ``Conflict``."""
        if self.get(ident) is not None:
            raise Conflict(kind, ident)
        self.changed[ident] = value

    def replace(self, ident: UUID, value: V, kind: str) -> None:
        """Stage a stored value's replacement; an id stored nowhere is a ``Conflict``."""
        if self.get(ident) is None:
            raise Conflict(kind, ident)
        self.changed[ident] = value

    def remove(self, ident: UUID) -> bool:
        found = self.get(ident) is not None
        if found:
            self.changed[ident] = None
        return found

    def apply(self, committed: dict[UUID, V]) -> None:
        for ident, value in self.changed.items():
            if value is None:
                committed.pop(ident, None)
            else:
                committed[ident] = value


class _Repository:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    @property
    def _data(self) -> SlaData:
        return self._uow._data.sla

    def _writer(self) -> None:
        """Become the tenant's writer for the rest of the unit of work (a write, so refused
        in a read-only one)."""
        self._uow._check_tenant(self._uow)
        self._uow._hold_writer()


class Calendars(_Repository, CalendarRepository):
    """Calendars; one default per tenant, checked on each write and again at commit (as
    SQL's partial unique index does): a second one is ``Conflict("DefaultCalendar")``."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow)
        self.staged = _Overlay[SlaCalendar](lambda: self._data.calendars)

    def add(self, calendar: SlaCalendar) -> None:
        self._uow._check_tenant(calendar)
        self._check_default(calendar, self.staged.values())
        self.staged.add(calendar.id, calendar, "SlaCalendar")

    def get(self, ident: UUID) -> SlaCalendar | None:
        return self.staged.get(ident)

    def save(self, calendar: SlaCalendar) -> None:
        self._uow._check_tenant(calendar)
        self._check_default(calendar, self.staged.values())
        self.staged.replace(calendar.id, calendar, "SlaCalendar")

    def all(self) -> list[SlaCalendar]:
        return sorted(self.staged.values(), key=lambda c: (c.name, c.id))

    @staticmethod
    def _check_default(calendar: SlaCalendar, others: Iterable[SlaCalendar]) -> None:
        if calendar.is_default and any(c.is_default and c.id != calendar.id for c in others):
            raise Conflict("DefaultCalendar", calendar.id)

    def check(self, committed: dict[UUID, SlaCalendar]) -> None:
        """Before commit applies anything: a default calendar staged while another unit
        of work committed a different one is a ``Conflict``."""
        mine = [c for c in self.staged.changed.values() if c is not None]
        theirs = [c for i, c in committed.items() if i not in self.staged.changed]
        for calendar in mine:
            self._check_default(calendar, theirs)


class Policies(_Repository, SlaPolicyRepository):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow)
        self.staged = _Overlay[SlaPolicy](lambda: self._data.policies)

    def add(self, policy: SlaPolicy) -> None:
        self._uow._check_tenant(policy)
        self.staged.add(policy.id, policy, "SlaPolicy")

    def get(self, ident: UUID) -> SlaPolicy | None:
        return self.staged.get(ident)

    def save(self, policy: SlaPolicy) -> None:
        self._uow._check_tenant(policy)
        self.staged.replace(policy.id, policy, "SlaPolicy")

    def remove(self, ident: UUID) -> bool:
        self._uow._check_tenant(self._uow)
        return self.staged.remove(ident)

    def all(self) -> list[SlaPolicy]:
        return sorted(self.staged.values(), key=lambda p: (p.position, p.id))


class Clocks(_Repository, TicketClockRepository):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow)
        self.staged = _Overlay[TicketClocks](lambda: self._data.clocks)
        #: Firings recorded here, by ticket (under the writer lock: no one else records).
        self.fired: dict[UUID, dict[str, datetime]] = {}

    def get(self, ticket_id: UUID) -> TicketClocks | None:
        return self.staged.get(ticket_id)

    def get_many(self, ticket_ids: Iterable[UUID]) -> dict[UUID, TicketClocks]:
        found = {}
        for ident in ticket_ids:
            clocks = self.staged.get(ident)
            if clocks is not None:
                found[ident] = clocks
        return found

    def put(self, clocks: TicketClocks) -> None:
        self._uow._check_tenant(clocks)
        self.staged.changed[clocks.ticket_id] = clocks

    def remove(self, ticket_id: UUID) -> bool:
        self._uow._check_tenant(self._uow)
        return self.staged.remove(ticket_id)

    def due(self, now: datetime, limit: int) -> list[TicketClocks]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        self._writer()
        found = [
            c
            for c in self.staged.values()
            if c.next_firing_at is not None and c.next_firing_at <= now
        ]
        found.sort(key=lambda c: (c.next_firing_at, c.ticket_id))
        return found[:limit]

    def count_due(self, now: datetime) -> int:
        return sum(
            1
            for c in self.staged.values()
            if c.next_firing_at is not None and c.next_firing_at <= now
        )

    def mark_stale(
        self, now: datetime, *, policy_id: UUID | None = None, calendar_id: UUID | None = None
    ) -> int:
        if policy_id is not None and calendar_id is not None:
            raise ValueError("mark_stale: name a policy or a calendar, not both")
        self._uow._check_tenant(self._uow)
        marked = [
            c
            for c in self.staged.values()
            if (policy_id is None or c.policy_id == policy_id)
            and (calendar_id is None or c.calendar_id == calendar_id)
        ]
        for clocks in marked:
            self.staged.changed[clocks.ticket_id] = attrs.evolve(
                clocks, stale=True, next_firing_at=now
            )
        return len(marked)

    def record_firing(self, ticket_id: UUID, key: str, at: datetime) -> bool:
        self._writer()
        if key in self.firings(ticket_id):
            return False
        self.fired.setdefault(ticket_id, {})[key] = at
        return True

    def firings(self, ticket_id: UUID) -> dict[str, datetime]:
        return {**self._data.firings.get(ticket_id, {}), **self.fired.get(ticket_id, {})}

    def apply(self, data: SlaData) -> None:
        self.staged.apply(data.clocks)
        for ticket_id, fired in self.fired.items():
            data.firings.setdefault(ticket_id, {}).update(fired)


class Actions(_Repository, DeferredActionRepository):
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        super().__init__(uow)
        self.staged = _Overlay[DeferredAction](lambda: self._data.actions)

    def add(self, action: DeferredAction) -> None:
        self._uow._check_tenant(action)
        self.staged.add(action.id, action, "DeferredAction")

    def due(self, now: datetime, limit: int) -> list[DeferredAction]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        self._writer()
        found = [
            a for a in self.staged.values() if a.state is ActionState.WAITING and a.run_at <= now
        ]
        found.sort(key=lambda a: (a.run_at, a.id))
        return found[:limit]

    def finish(self, ident: UUID, state: ActionState) -> bool:
        self._writer()  # of two sweeps finishing one action, the second sees it finished
        found = self.staged.get(ident)
        if found is None or found.state is not ActionState.WAITING:
            return False
        self.staged.changed[ident] = attrs.evolve(found, state=ActionState(state))
        return True

    def of_ticket(self, ticket_id: UUID) -> list[DeferredAction]:
        found = [a for a in self.staged.values() if a.ticket_id == ticket_id]
        return sorted(found, key=lambda a: (a.run_at, a.id))


class Sla:
    """A unit of work's four SLA repositories, checked and applied together at commit."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.calendars = Calendars(uow)
        self.policies = Policies(uow)
        self.clocks = Clocks(uow)
        self.actions = Actions(uow)

    def check(self, data: SlaData) -> None:
        """Before commit applies anything (under the store's lock)."""
        self.calendars.check(data.calendars)

    def apply(self, data: SlaData) -> None:
        self.calendars.staged.apply(data.calendars)
        self.policies.staged.apply(data.policies)
        self.clocks.apply(data)
        self.actions.staged.apply(data.actions)


__all__ = ["Actions", "Calendars", "Clocks", "Policies", "Sla", "SlaData"]
