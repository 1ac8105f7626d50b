"""The SQL repositories of SLA: calendars, policies, each ticket's clocks, the once-only
firings and deferred escalation actions. Every write goes to the database at once (no
buffer): a sweep's statements are few and each must see the last.

What makes the sweep safe is in the statements: ``due`` locks the due clocks with their
*tickets* (``FOR UPDATE OF`` the tickets and the clocks ``SKIP LOCKED`` on PostgreSQL, the
ticket first, the order ticket writes lock in; SQLite's write lock, taken first), so the
clocks it returns are the ones stored once the ticket is held; a firing is an insert that
does nothing when its key is there already; finishing an action is an update of a waiting
one only.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from sqlalchemy import (
    Boolean,
    Executable,
    Integer,
    Row,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal,
    literal_column,
    null,
    select,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnClause

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.adapters.sqlalchemy.mapping import TICKETS
from ticketkit.adapters.sqlalchemy.types import Id, UTCDateTime, text_type
from ticketkit.domain.calendars import Calendar, calendar_from_dict, calendar_to_dict
from ticketkit.domain.sla.policies import SlaPolicy
from ticketkit.domain.sla.records import ActionState, DeferredAction, SlaCalendar, TicketClocks
from ticketkit.domain.sla.serialization import (
    policy_from_dict,
    policy_to_dict,
    rule_from_dict,
    rule_to_dict,
    state_from_dict,
    state_to_dict,
)
from ticketkit.errors import Conflict
from ticketkit.ports.sla import (
    CalendarRepository,
    DeferredActionRepository,
    SlaPolicyRepository,
    TicketClockRepository,
)

if TYPE_CHECKING:
    from ticketkit.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork

_cal, _pol, _clk, _fir, _act, _t = (
    tables.sla_calendars,
    tables.sla_policies,
    tables.sla_clocks,
    tables.sla_firings,
    tables.sla_actions,
    tables.tickets,
)
_NOW = bindparam("now", type_=UTCDateTime())
_WAITING: ColumnClause[str] = literal_column(f"'{ActionState.WAITING.value}'")


def _by_id(table: Any, key: str = "id") -> Any:
    return and_(table.c.tenant_id == bindparam("tenant"), table.c[key] == bindparam("ident"))


def _per_dialect(build: Callable[[Any], Executable]) -> dict[str, Executable]:
    """The statement ``build`` makes from each dialect's ``insert`` (their upserts differ)."""
    return {"postgresql": build(postgresql.insert), "sqlite": build(sqlite.insert)}


# -- statements, built once ------------------------------------------------------------------

# Definitions are read as the text they are stored as: the key they are decoded under.
_CALENDAR_COLUMNS = (
    *(c for c in _cal.c if c.name != "definition"),
    cast(_cal.c.definition, Text).label("definition"),
)
_CALENDAR = select(*_CALENDAR_COLUMNS).where(_by_id(_cal))
_CALENDARS = (
    select(*_CALENDAR_COLUMNS)
    .where(_cal.c.tenant_id == bindparam("tenant"))
    .order_by(_cal.c.name, _cal.c.id)
)
_SAVE_CALENDAR = update(_cal).where(_by_id(_cal))

_POLICY_DEFINITION = cast(_pol.c.definition, Text).label("definition")
_POLICY = select(_POLICY_DEFINITION).where(_by_id(_pol))
_POLICIES = (
    select(_POLICY_DEFINITION)
    .where(_pol.c.tenant_id == bindparam("tenant"))
    .order_by(_pol.c.position, _pol.c.id)
)
_SAVE_POLICY = update(_pol).where(_by_id(_pol))

#: Calendars and policies in one read (``configuration``): the calendars first, by name,
#: then the policies by position, each in the columns of its own read (NULL where the
#: other kind has one).
_CONFIGURATION = union_all(
    select(
        literal("calendar").label("kind"),
        type_coerce(null(), Integer()).label("position"),
        *_CALENDAR_COLUMNS,
    ).where(_cal.c.tenant_id == bindparam("tenant")),
    select(
        literal("policy").label("kind"),
        _pol.c.position,
        _pol.c.tenant_id,
        _pol.c.id,
        type_coerce(null(), text_type()).label("name"),
        type_coerce(null(), Id()).label("organisation_id"),
        type_coerce(null(), Boolean()).label("is_default"),
        _POLICY_DEFINITION,
    ).where(_pol.c.tenant_id == bindparam("tenant")),
).order_by(literal_column("kind"), literal_column("position"), literal_column("name"), "id")
_REMOVE_POLICY = delete(_pol).where(_by_id(_pol))

_CLOCKS = select(_clk).where(_by_id(_clk, "ticket_id"))
_CLOCKS_OF = select(_clk).where(
    _clk.c.tenant_id == bindparam("tenant"),
    _clk.c.ticket_id.in_(bindparam("idents", expanding=True)),
)
_REMOVE_CLOCKS = delete(_clk).where(_by_id(_clk, "ticket_id"))
#: Clocks that are due, earliest first, locked with their tickets (the ticket first, the
#: order ticket writes lock in): a concurrent sweep or ticket write holding one makes it
#: skipped, never waited for. The clocks rows are locked too, not only read: a row that a
#: ticket write changed after this statement's snapshot, and committed before its ticket
#: was locked here, is then read again as committed (and dropped if no longer due) instead
#: of handed over as it was; and marking clocks stale waits for the sweep holding them
#: instead of being overwritten by it. (SQLite renders no FOR UPDATE: there the write lock,
#: taken before, serialises the sweeps.)
_DUE_CLOCKS = (
    select(_clk)
    .join(_t, and_(_t.c.tenant_id == _clk.c.tenant_id, _t.c.id == _clk.c.ticket_id))
    .where(_clk.c.tenant_id == bindparam("tenant"), _clk.c.next_firing_at <= _NOW)
    .order_by(_clk.c.next_firing_at, _clk.c.ticket_id)
    .limit(bindparam("limit"))
    .with_for_update(of=(_t, _clk), skip_locked=True)
)
_COUNT_DUE = (
    select(func.count())
    .select_from(_clk)
    .where(_clk.c.tenant_id == bindparam("tenant"), _clk.c.next_firing_at <= _NOW)
)
_CLOCK_VALUES = ("policy_id", "calendar_id", "state", "fired", "next_firing_at", "next_due_at")


def _upsert(insert_into: Any) -> Executable:
    stmt = insert_into(_clk)
    changed = {name: stmt.excluded[name] for name in (*_CLOCK_VALUES, "stale")}
    return stmt.on_conflict_do_update(index_elements=["tenant_id", "ticket_id"], set_=changed)  # type: ignore[no-any-return]


_PUT_CLOCKS = _per_dialect(_upsert)


def _mark_stale(*where: Any) -> Executable:
    return (
        update(_clk)
        .where(_clk.c.tenant_id == bindparam("tenant"), *where)
        .values(stale=True, next_firing_at=_NOW)
    )


_STALE_ALL = _mark_stale()
_STALE_OF_POLICY = _mark_stale(_clk.c.policy_id == bindparam("ident"))
_STALE_OF_CALENDAR = _mark_stale(_clk.c.calendar_id == bindparam("ident"))

#: An insert's row count (0: the key was there) is kept only when asked for.
_RECORD_FIRING = _per_dialect(
    lambda insert_into: (
        insert_into(_fir)
        .on_conflict_do_nothing(index_elements=["tenant_id", "ticket_id", "key"])
        .execution_options(preserve_rowcount=True)
    )
)
_FIRINGS = select(_fir.c.key, _fir.c.at).where(_by_id(_fir, "ticket_id"))

_DUE_ACTIONS = (
    select(_act)
    # The literal, not a parameter: only so is the partial index of waiting ones usable.
    .where(_act.c.tenant_id == bindparam("tenant"), _act.c.state == _WAITING, _act.c.run_at <= _NOW)
    .order_by(_act.c.run_at, _act.c.id)
    .limit(bindparam("limit"))
    .with_for_update(skip_locked=True)
)
_FINISH = (
    update(_act).where(_by_id(_act), _act.c.state == _WAITING).values(state=bindparam("new_state"))
)
_ACTIONS_OF = select(_act).where(_by_id(_act, "ticket_id")).order_by(_act.c.run_at, _act.c.id)


# -- rows --------------------------------------------------------------------------------------

#: How many decoded definitions a process keeps (a tenant has a few of each).
DECODED_DEFINITIONS = 256


@functools.lru_cache(maxsize=DECODED_DEFINITIONS)
def _decoded_calendar(text: str) -> Calendar:
    """The calendar stored as ``text``, decoded once per process. Every unit of work that
    changes a ticket reads the tenant's calendars and policies; decoding them (validating
    the hours and holiday regions, structuring the targets) cost more than reading them.
    Keyed by the stored text itself, so a changed definition is decoded anew and no
    process ever serves one that is gone; the values are immutable, shared safely."""
    return calendar_from_dict(json.loads(text))


@functools.lru_cache(maxsize=DECODED_DEFINITIONS)
def _decoded_policy(text: str) -> SlaPolicy:
    """The policy stored as ``text``, decoded once per process (as ``_decoded_calendar``;
    its targets are a read-only ``Mapping``)."""
    return policy_from_dict(json.loads(text))


def _calendar_row(calendar: SlaCalendar) -> dict[str, Any]:
    return {
        "name": calendar.name,
        "organisation_id": calendar.organisation_id,
        "is_default": calendar.is_default,
        "definition": calendar_to_dict(calendar.calendar),
    }


def _calendar(row: Row[Any]) -> SlaCalendar:
    return SlaCalendar(
        tenant_id=row.tenant_id,
        id=row.id,
        name=row.name,
        calendar=_decoded_calendar(row.definition),
        organisation_id=row.organisation_id,
        is_default=row.is_default,
    )


def _policy_row(policy: SlaPolicy) -> dict[str, Any]:
    return {"name": policy.name, "position": policy.position, "definition": policy_to_dict(policy)}


def _clocks(row: Row[Any]) -> TicketClocks:
    return TicketClocks(
        tenant_id=row.tenant_id,
        ticket_id=row.ticket_id,
        policy_id=row.policy_id,
        calendar_id=row.calendar_id,
        state=state_from_dict(row.state),
        fired=frozenset(row.fired),
        next_firing_at=row.next_firing_at,
        next_due_at=row.next_due_at,
        stale=row.stale,
    )


def _action(row: Row[Any]) -> DeferredAction:
    return DeferredAction(
        tenant_id=row.tenant_id,
        id=row.id,
        ticket_id=row.ticket_id,
        firing_key=row.firing_key,
        rule=rule_from_dict(row.rule),
        run_at=row.run_at,
        state=ActionState(row.state),
    )


class _Repository:
    """What the SLA repositories share: their unit of work and its connection."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def _read(self, stmt: Executable, **params: Any) -> list[Row[Any]]:
        uow = self._uow
        return list(uow._connector.reader().execute(stmt, {"tenant": uow.tenant_id, **params}))

    def _change(self, stmt: Executable, **params: Any) -> int:
        """Run the update or delete ``stmt`` on this tenant's rows; how many it changed."""
        return self._write(stmt, {"tenant": self._uow.tenant_id, **params})

    def _write(self, stmt: Executable, params: dict[str, Any]) -> int:
        """Run ``stmt`` (after the checks every write passes); how many rows it wrote."""
        uow = self._uow
        uow._check_tenant(uow)
        return int(uow._connector.writer().execute(stmt, params).rowcount)

    def _unique(self, stmt: Executable, params: dict[str, Any], conflict: Conflict) -> int:
        """``_write`` for a row a unique index may refuse: then the whole unit of work is
        rolled back (on PostgreSQL the failed statement aborted it anyway) and ``conflict``
        is raised."""
        try:
            return self._write(stmt, params)
        except IntegrityError as exc:
            self._uow.rollback()
            raise conflict from exc


class Calendars(_Repository, CalendarRepository):
    """The tenant's calendars, each in ``calendar_to_dict``'s form. A second default
    calendar is refused by the partial unique index: ``Conflict("DefaultCalendar")``."""

    def add(self, calendar: SlaCalendar) -> None:
        self._uow._check_tenant(calendar)
        # Read first, so that the unique index refusing the insert means a second default.
        if self.get(calendar.id) is not None:
            raise Conflict("SlaCalendar", calendar.id)
        row = {"tenant_id": calendar.tenant_id, "id": calendar.id, **_calendar_row(calendar)}
        self._unique(insert(_cal), row, Conflict("DefaultCalendar", calendar.id))

    def get(self, ident: UUID) -> SlaCalendar | None:
        rows = self._read(_CALENDAR, ident=ident)
        return _calendar(rows[0]) if rows else None

    def save(self, calendar: SlaCalendar) -> None:
        self._uow._check_tenant(calendar)
        row = {"tenant": calendar.tenant_id, "ident": calendar.id, **_calendar_row(calendar)}
        if not self._unique(_SAVE_CALENDAR, row, Conflict("DefaultCalendar", calendar.id)):
            raise Conflict("SlaCalendar", calendar.id)

    def all(self) -> list[SlaCalendar]:
        return [_calendar(r) for r in self._read(_CALENDARS)]


class Policies(_Repository, SlaPolicyRepository):
    """The tenant's policies, each in ``policy_to_dict``'s form beside its name and
    position (the order they are tried in)."""

    def add(self, policy: SlaPolicy) -> None:
        self._uow._check_tenant(policy)
        row = {"tenant_id": policy.tenant_id, "id": policy.id, **_policy_row(policy)}
        self._unique(insert(_pol), row, Conflict("SlaPolicy", policy.id))

    def get(self, ident: UUID) -> SlaPolicy | None:
        rows = self._read(_POLICY, ident=ident)
        return _decoded_policy(rows[0].definition) if rows else None

    def save(self, policy: SlaPolicy) -> None:
        self._uow._check_tenant(policy)
        if not self._change(_SAVE_POLICY, ident=policy.id, **_policy_row(policy)):
            raise Conflict("SlaPolicy", policy.id)

    def remove(self, ident: UUID) -> bool:
        return self._change(_REMOVE_POLICY, ident=ident) == 1

    def all(self) -> list[SlaPolicy]:
        return [_decoded_policy(r.definition) for r in self._read(_POLICIES)]

    def configuration(self) -> tuple[list[SlaPolicy], list[SlaCalendar]]:
        """Every policy and every calendar, in one read (``UnitOfWork.sla_configuration``)."""
        policies, calendars = [], []
        for row in self._read(_CONFIGURATION):
            if row.kind == "policy":
                policies.append(_decoded_policy(row.definition))
            else:
                calendars.append(_calendar(row))
        return policies, calendars


class Clocks(_Repository, TicketClockRepository):
    """Each ticket's clocks, a row per ticket, and its firings, a row per key."""

    def get(self, ticket_id: UUID) -> TicketClocks | None:
        rows = self._read(_CLOCKS, ident=ticket_id)
        return _clocks(rows[0]) if rows else None

    def get_many(self, ticket_ids: Iterable[UUID]) -> dict[UUID, TicketClocks]:
        wanted = list(dict.fromkeys(ticket_ids))
        if not wanted:
            return {}
        return {r.ticket_id: _clocks(r) for r in self._read(_CLOCKS_OF, idents=wanted)}

    def put(self, clocks: TicketClocks) -> None:
        self._uow._check_tenant(clocks)
        dialect = self._uow._connector.writer().dialect.name
        row = {
            "tenant_id": clocks.tenant_id,
            "ticket_id": clocks.ticket_id,
            "policy_id": clocks.policy_id,
            "calendar_id": clocks.calendar_id,
            "state": state_to_dict(clocks.state),
            "fired": sorted(clocks.fired),
            "next_firing_at": clocks.next_firing_at,
            "next_due_at": clocks.next_due_at,
            "stale": clocks.stale,
        }
        self._write(_PUT_CLOCKS[dialect], row)

    def remove(self, ticket_id: UUID) -> bool:
        return self._change(_REMOVE_CLOCKS, ident=ticket_id) == 1

    def due(self, now: datetime, limit: int) -> list[TicketClocks]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        uow = self._uow
        uow._check_tenant(uow)
        uow._flush(TICKETS)  # the join must see the tickets this unit of work opened
        conn = uow._connector.writer()
        params = {"tenant": uow.tenant_id, "now": now, "limit": limit}
        return [_clocks(r) for r in conn.execute(_DUE_CLOCKS, params)]

    def count_due(self, now: datetime) -> int:
        return int(self._read(_COUNT_DUE, now=now)[0][0])

    def mark_stale(
        self, now: datetime, *, policy_id: UUID | None = None, calendar_id: UUID | None = None
    ) -> int:
        if policy_id is not None and calendar_id is not None:
            raise ValueError("mark_stale: name a policy or a calendar, not both")
        if policy_id is not None:
            return self._change(_STALE_OF_POLICY, now=now, ident=policy_id)
        if calendar_id is not None:
            return self._change(_STALE_OF_CALENDAR, now=now, ident=calendar_id)
        return self._change(_STALE_ALL, now=now)

    def record_firing(self, ticket_id: UUID, key: str, at: datetime) -> bool:
        uow = self._uow
        uow._check_tenant(uow)
        stmt = _RECORD_FIRING[uow._connector.writer().dialect.name]
        row = {"tenant_id": uow.tenant_id, "ticket_id": ticket_id, "key": key, "at": at}
        return self._write(stmt, row) == 1

    def firings(self, ticket_id: UUID) -> dict[str, datetime]:
        return {r.key: r.at for r in self._read(_FIRINGS, ident=ticket_id)}


class Actions(_Repository, DeferredActionRepository):
    """Escalation actions waiting for business hours; a sweep takes the due ones under
    row locks, skipping those another sweep holds."""

    def add(self, action: DeferredAction) -> None:
        self._uow._check_tenant(action)
        row = {
            "tenant_id": action.tenant_id,
            "id": action.id,
            "ticket_id": action.ticket_id,
            "firing_key": action.firing_key,
            "rule": rule_to_dict(action.rule),
            "run_at": action.run_at,
            "state": action.state.value,
        }
        self._unique(insert(_act), row, Conflict("DeferredAction", action.id))

    def due(self, now: datetime, limit: int) -> list[DeferredAction]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        uow = self._uow
        uow._check_tenant(uow)
        conn = uow._connector.writer()
        params = {"tenant": uow.tenant_id, "now": now, "limit": limit}
        return [_action(r) for r in conn.execute(_DUE_ACTIONS, params)]

    def finish(self, ident: UUID, state: ActionState) -> bool:
        return self._change(_FINISH, ident=ident, new_state=ActionState(state).value) == 1

    def of_ticket(self, ticket_id: UUID) -> list[DeferredAction]:
        return [_action(r) for r in self._read(_ACTIONS_OF, ident=ticket_id)]


__all__ = ["Actions", "Calendars", "Clocks", "Policies"]
