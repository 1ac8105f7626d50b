"""SLA operations: the tenant's calendars and policies (those who manage settings), and a
ticket's clocks as agents see them (``docs/sla.md``).

Clocks are kept by ``sla_clocks.ClockKeeper`` in every ticket change; a change of a policy
or calendar marks the clocks computed on it stale, and the next sweep replays them. As in
Zendesk, a ticket without clocks gets a new policy with its next change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import attrs

from ticketkit.application import validation as check
from ticketkit.application.session import Session
from ticketkit.application.settings import value_for
from ticketkit.application.views import UNSET, Unset
from ticketkit.domain.calendars import Calendar, calendar_from_dict
from ticketkit.domain.sla import (
    ClockReading,
    Condition,
    Elapsed,
    EscalationRule,
    Metric,
    SlaPolicy,
    Targets,
    read,
)
from ticketkit.domain.sla.policies import Attribute
from ticketkit.domain.sla.records import SlaCalendar
from ticketkit.domain.values import Priority
from ticketkit.errors import FieldError, NotFound, PermissionDenied, ValidationError
from ticketkit.policy.predicates import TRUE, all_of, one_of
from ticketkit.policy.rules import Action

#: Most policies and calendars a tenant may have: every ticket change reads them all.
MAX_POLICIES = 200
MAX_CALENDARS = 200


# -- input: objects or plain data, errors named by their path ------------------------------


def _prefixed(path: str, exc: ValidationError) -> list[FieldError]:
    return [FieldError(f"{path}.{e.field}" if e.field else path, e.message) for e in exc.errors]


def _build(cls: type[Any], value: object, path: str, errors: list[FieldError]) -> Any:
    """``value`` as a ``cls`` (given as one, or as a mapping of its attributes), or None
    with its problems added to ``errors`` under ``path``."""
    if isinstance(value, cls):
        return value
    if not isinstance(value, Mapping):
        errors.append(FieldError(path, f"must be a {cls.__name__} or a mapping"))
        return None
    try:
        return cls(**value)
    except ValidationError as exc:
        errors.extend(_prefixed(path, exc))
    except TypeError as exc:
        errors.append(FieldError(path, f"has unknown or missing attributes ({exc})"))
    return None


def _calendar(value: object, errors: list[FieldError]) -> Calendar | None:
    if isinstance(value, Calendar):
        return value
    if not isinstance(value, Mapping):
        errors.append(FieldError("calendar", "must be a Calendar or its storage form"))
        return None
    try:
        return calendar_from_dict(value)
    except ValidationError as exc:
        errors.extend(_prefixed("calendar", exc))
    return None


# -- calendars -----------------------------------------------------------------------------


def create_calendar(
    s: Session,
    *,
    name: str,
    calendar: Calendar | Mapping[str, Any],
    organisation_id: UUID | None = None,
    is_default: bool = False,
) -> SlaCalendar:
    """Add a named business-hour calendar: the tenant's default (``is_default``), an
    organisation's (its tickets, and its children's, count on it) or one policies name."""
    s.require(Action.MANAGE_SETTINGS)
    errors = check.name_errors("name", name)
    found = _calendar(calendar, errors)
    check.flag(errors, is_default, "is_default")
    _organisation(s, organisation_id, errors)
    existing = s.uow.calendars.all()
    if len(existing) >= MAX_CALENDARS:
        errors.append(FieldError("name", f"a tenant has at most {MAX_CALENDARS} calendars"))
    check.raise_if(errors)
    assert found is not None
    made = _calendar_entry(s, s.new_id(), name, found, organisation_id, is_default)
    if is_default:
        _drop_default(s, existing)
    s.uow.calendars.add(made)
    # A new default or organisation calendar may be the calendar of any ticket's clocks.
    _sla_changed(s, calendar_id=None if is_default or organisation_id else made.id)
    return made


def update_calendar(
    s: Session,
    calendar_id: UUID,
    *,
    name: str | None = None,
    calendar: Calendar | Mapping[str, Any] | None = None,
    is_default: bool | None = None,
) -> SlaCalendar:
    """Rename a calendar, change its hours, or make it the tenant's default (or not); the
    clocks computed on it are replayed by the next sweep."""
    s.require(Action.MANAGE_SETTINGS)
    current = _visible_calendar(s, calendar_id)
    errors: list[FieldError] = []
    if name is not None:
        errors += check.name_errors("name", name)
    hours = _calendar(calendar, errors) if calendar is not None else current.calendar
    if is_default is not None:
        check.flag(errors, is_default, "is_default")
    check.raise_if(errors)
    default = current.is_default if is_default is None else is_default
    updated = _calendar_entry(
        s,
        current.id,
        current.name if name is None else name,
        hours or current.calendar,
        current.organisation_id,
        default,
    )
    if updated == current:
        return current
    if default and not current.is_default:
        _drop_default(s, s.uow.calendars.all())
    s.uow.calendars.save(updated)
    everything = updated.is_default != current.is_default
    _sla_changed(s, calendar_id=None if everything else current.id)
    return updated


def list_calendars(s: Session) -> list[SlaCalendar]:
    """The tenant's calendars, by name (staff)."""
    _require_staff(s)
    return sorted(s.uow.calendars.all(), key=lambda c: (c.name, str(c.id)))


def _calendar_entry(  # noqa: PLR0917 - the calendar's attributes, in their order
    s: Session,
    ident: UUID,
    name: str,
    calendar: Calendar,
    organisation_id: UUID | None,
    is_default: bool,
) -> SlaCalendar:
    return SlaCalendar(  # an organisation's calendar as the default: ValidationError
        tenant_id=s.tenant_id,
        id=ident,
        name=name.strip(),
        calendar=calendar,
        organisation_id=organisation_id,
        is_default=is_default,
    )


def _drop_default(s: Session, calendars: Iterable[SlaCalendar]) -> None:
    for other in calendars:
        if other.is_default:
            s.uow.calendars.save(attrs.evolve(other, is_default=False))


def _visible_calendar(s: Session, calendar_id: UUID) -> SlaCalendar:
    check.require_ident(calendar_id, "calendar_id")
    found = s.uow.calendars.get(calendar_id)
    if found is None:
        raise NotFound("Calendar", calendar_id)
    return found


def _organisation(s: Session, organisation_id: object, errors: list[FieldError]) -> None:
    given = check.ident(errors, organisation_id, "organisation_id", optional=True)
    if given and isinstance(organisation_id, UUID) and not s.uow.organisations.get(organisation_id):
        errors.append(FieldError("organisation_id", "no such organisation"))


# -- policies ------------------------------------------------------------------------------


def create_sla_policy(
    s: Session,
    *,
    name: str,
    targets: Mapping[Priority | str, Targets | Mapping[str, Any]],
    conditions: Iterable[Condition | Mapping[str, Any]] = (),
    calendar_id: UUID | None = None,
    warnings: Iterable[int] = (75, 90),
    escalations: Iterable[EscalationRule | Mapping[str, Any]] = (),
    position: int | None = None,
) -> SlaPolicy:
    """Add a policy; it is tried after the existing ones unless ``position`` says
    otherwise (lower first). Conditions, calendar and escalation targets are checked
    against the tenant's ticket types, organisations, projects, people and groups."""
    s.require(Action.MANAGE_SETTINGS)
    existing = s.uow.sla_policies.all()
    errors: list[FieldError] = []
    if len(existing) >= MAX_POLICIES:
        errors.append(FieldError("name", f"a tenant has at most {MAX_POLICIES} policies"))
    if position is None:
        position = max((p.position for p in existing), default=0) + 10
    policy = _policy(
        s,
        s.new_id(),
        errors,
        name=name,
        position=position,
        conditions=conditions,
        targets=targets,
        calendar_id=calendar_id,
        warnings=warnings,
        escalations=escalations,
    )
    s.uow.sla_policies.add(policy)
    _sla_changed(s)
    return policy


def update_sla_policy(
    s: Session,
    policy_id: UUID,
    *,
    name: str | None = None,
    targets: Mapping[Priority | str, Targets | Mapping[str, Any]] | None = None,
    conditions: Iterable[Condition | Mapping[str, Any]] | None = None,
    calendar_id: UUID | Unset | None = UNSET,
    warnings: Iterable[int] | None = None,
    escalations: Iterable[EscalationRule | Mapping[str, Any]] | None = None,
    position: int | None = None,
) -> SlaPolicy:
    """Change a policy; parts left out stay. The clocks of every ticket are replayed by
    the next sweep (a ticket may now fall under another policy)."""
    s.require(Action.MANAGE_SETTINGS)
    current = _visible_policy(s, policy_id)
    policy = _policy(
        s,
        current.id,
        [],
        name=current.name if name is None else name,
        position=current.position if position is None else position,
        conditions=current.conditions if conditions is None else conditions,
        targets=current.targets if targets is None else targets,
        calendar_id=current.calendar_id if calendar_id is UNSET else calendar_id,
        warnings=current.warnings if warnings is None else warnings,
        escalations=current.escalations if escalations is None else escalations,
    )
    if policy != current:
        s.uow.sla_policies.save(policy)
        _sla_changed(s)
    return policy


def delete_sla_policy(s: Session, policy_id: UUID) -> None:
    """Remove a policy: its tickets fall to the next policy that covers them, or have no
    SLA, once the next sweep has replayed them; nothing fires for them meanwhile."""
    s.require(Action.MANAGE_SETTINGS)
    _visible_policy(s, policy_id)
    s.uow.sla_policies.remove(policy_id)
    _sla_changed(s)


def list_sla_policies(s: Session) -> list[SlaPolicy]:
    """The tenant's policies in the order they are tried (staff)."""
    _require_staff(s)
    return s.uow.sla_policies.all()


def _visible_policy(s: Session, policy_id: UUID) -> SlaPolicy:
    check.require_ident(policy_id, "policy_id")
    found = s.uow.sla_policies.get(policy_id)
    if found is None:
        raise NotFound("SlaPolicy", policy_id)
    return found


def _policy(
    s: Session,
    ident: UUID,
    errors: list[FieldError],
    *,
    name: object,
    position: object,
    conditions: Iterable[object],
    targets: Mapping[Any, object],
    calendar_id: object,
    warnings: Iterable[int],
    escalations: Iterable[object],
) -> SlaPolicy:
    """A checked policy, or ``ValidationError`` naming every bad part."""
    errors += check.name_errors("name", name)
    check.number(errors, position, "position")
    built_conditions = _listed(Condition, conditions, "conditions", errors)
    for i, condition in enumerate(built_conditions):
        if condition is not None:
            _check_condition(s, condition, f"conditions[{i}]", errors)
    built_targets: dict[Priority, Targets] = {}
    if not isinstance(targets, Mapping):
        errors.append(FieldError("targets", "must map priorities to targets"))
    else:
        for key, value in targets.items():
            prio = check.enum_value(Priority, key, f"targets.{key}", errors)
            made = _build(Targets, value, f"targets.{key}", errors)
            if prio is not None and made is not None:
                built_targets[prio] = made
    given = check.ident(errors, calendar_id, "calendar_id", optional=True)
    if given and isinstance(calendar_id, UUID) and s.uow.calendars.get(calendar_id) is None:
        errors.append(FieldError("calendar_id", "no such calendar"))
    built_rules = _listed(EscalationRule, escalations, "escalations", errors)
    for i, rule in enumerate(built_rules):
        if rule is not None:
            _check_rule(s, rule, f"escalations[{i}]", errors)
    check.raise_if(errors)
    try:
        return SlaPolicy(
            tenant_id=s.tenant_id,
            id=ident,
            name=str(name).strip(),
            position=int(position),  # type: ignore[call-overload]
            conditions=tuple(c for c in built_conditions if c is not None),
            targets=built_targets,
            calendar_id=calendar_id,  # type: ignore[arg-type]
            warnings=tuple(warnings) if isinstance(warnings, Iterable) else warnings,
            escalations=tuple(r for r in built_rules if r is not None),
        )
    except ValidationError as exc:
        raise ValidationError(exc.errors) from None


def _listed(cls: type[Any], values: object, path: str, errors: list[FieldError]) -> list[Any]:
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        errors.append(FieldError(path, "must be a list"))
        return []
    items = list(values)
    if len(items) > 50:
        errors.append(FieldError(path, "must have at most 50 entries"))
        return []
    return [_build(cls, v, f"{path}[{i}]", errors) for i, v in enumerate(items)]


def _check_condition(s: Session, c: Condition, path: str, errors: list[FieldError]) -> None:
    """A condition may name only fields and things this tenant has."""
    field = c.field_name
    if field is not None:
        known = {f.name for t in s.uow.ticket_types.list(TRUE) for f in t.fields}
        if field not in known:
            errors.append(FieldError(f"{path}.attribute", f"no ticket type has a field {field!r}"))
        return
    lookups = {
        Attribute.ORGANISATION: s.uow.organisations.get,
        Attribute.PROJECT: s.uow.projects.get,
        Attribute.TICKET_TYPE: s.uow.ticket_types.get,
    }
    get = lookups.get(Attribute(c.attribute))
    if get is None:
        return
    for i, value in enumerate(c.values):
        if get(UUID(value)) is None:
            errors.append(FieldError(f"{path}.values[{i}]", f"no such {c.attribute}"))


def _check_rule(s: Session, rule: EscalationRule, path: str, errors: list[FieldError]) -> None:
    if rule.person_id is not None:
        person = s.access(rule.person_id)
        if person is None or not person.person.role.is_staff:
            errors.append(FieldError(f"{path}.person_id", "must be an active staff member"))
    if rule.group_id is not None and s.group(rule.group_id) is None:
        errors.append(FieldError(f"{path}.group_id", "no such group"))


def _sla_changed(s: Session, *, calendar_id: UUID | None = None) -> None:
    """Policies or calendars changed: replay the clocks computed on them at the next
    sweep (on ``calendar_id`` only, when given), and read them afresh in this session."""
    s.uow.clocks.mark_stale(s.now, calendar_id=calendar_id)
    s.clock_keeper.forget()


def _require_staff(s: Session) -> None:
    if not s.person.role.is_staff:
        raise PermissionDenied("read SLA configuration")


# -- a ticket's clocks ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class SlaView:
    """A ticket's SLA as of ``now``: its policy, every metric cycle, and the times
    reported per ticket (each in business and real time)."""

    ticket_id: UUID
    policy_id: UUID
    policy_name: str
    #: The calendar counted on (None: around the clock, UTC).
    calendar_name: str | None
    now: datetime
    clocks: tuple[ClockReading, ...]
    #: The earliest breach instant of a running clock (past: it breached).
    next_due_at: datetime | None
    breached: bool
    agent_work_time: Elapsed
    requester_wait_time: Elapsed
    on_hold_time: Elapsed
    agent_wait_time: Elapsed
    #: False while a policy or calendar change waits for the sweep to replay the clocks.
    current: bool = True


def ticket_sla(s: Session, ticket_id: UUID) -> SlaView | None:
    """The ticket's SLA clocks (None: no policy covers it). Staff who see the ticket's
    internal work read them; customers only where the ``sla.guests_see_clocks`` setting
    is on for their organisation (otherwise ``PermissionDenied``)."""
    ticket = s.visible_ticket(ticket_id)
    if not _may_read_clocks(s, ticket.project_id):
        raise PermissionDenied("read SLA clocks", "ticket_id")
    stored = s.uow.clocks.get(ticket.id)
    if stored is None:
        return None
    keeper = s.clock_keeper
    rules = keeper.rules_for(stored)
    policy = next((p for p in keeper.policies() if p.id == stored.policy_id), None)
    if rules is None or policy is None:
        return None  # removed; the next sweep drops the clocks
    calendar = keeper.calendars().get(stored.calendar_id) if stored.calendar_id else None
    state = stored.state.at_time(s.now, rules)
    readings = tuple(read(stored.state, s.now, rules))
    return SlaView(
        ticket_id=ticket.id,
        policy_id=policy.id,
        policy_name=policy.name,
        calendar_name=calendar.name if calendar else None,
        now=s.now,
        clocks=readings,
        next_due_at=stored.next_due_at,
        breached=any(r.breached and r.state == "running" for r in readings),
        agent_work_time=state.agent_work_time,
        requester_wait_time=state.requester_wait_time,
        on_hold_time=state.on_hold_time,
        agent_wait_time=state.agent_wait_time,
        current=not stored.stale,
    )


@attrs.frozen(kw_only=True)
class SlaSummary:
    """One line of SLA state for a ticket in a list: the running metric due first, when,
    the target time left (business or real, as its target counts) and whether it breached."""

    ticket_id: UUID
    policy_name: str
    metric: Metric | None
    cycle: int | None
    due_at: datetime | None
    remaining: timedelta | None
    breached: bool


def sla_summaries(s: Session, ticket_ids: Iterable[UUID]) -> dict[UUID, SlaSummary]:
    """The SLA state of those of ``ticket_ids`` that the person may see the clocks of and
    that have a policy, in one read of the clocks (a list page's worth: at most 200)."""
    errors: list[FieldError] = []
    wanted = check.idents(errors, ticket_ids, "ticket_ids", maximum=200)
    check.raise_if(errors)
    if not wanted:
        return {}
    visible = s.uow.tickets.query(all_of(s.actor.tickets, one_of("id", wanted)), (), len(wanted))
    allowed = [t.id for t in visible if _may_read_clocks(s, t.project_id)]
    keeper = s.clock_keeper
    names = {p.id: p.name for p in keeper.policies()}
    found: dict[UUID, SlaSummary] = {}
    for ticket_id, stored in s.uow.clocks.get_many(allowed).items():
        rules = keeper.rules_for(stored)
        if rules is None or stored.policy_id not in names:
            continue
        running = [r for r in read(stored.state, s.now, rules) if r.state == "running"]
        dated = [(r.due_at, r) for r in running if r.due_at is not None]
        first = min(dated, key=lambda pair: pair[0])[1] if dated else None
        found[ticket_id] = SlaSummary(
            ticket_id=ticket_id,
            policy_name=names[stored.policy_id],
            metric=first.metric if first else None,
            cycle=first.cycle if first else None,
            due_at=first.due_at if first else None,
            remaining=first.remaining if first else None,
            breached=any(r.breached for r in running),
        )
    return found


def _may_read_clocks(s: Session, project_id: UUID) -> bool:
    if s.actor.sees_internal_on(project_id):
        return True
    return bool(value_for(s, "sla.guests_see_clocks", s.person.organisation_id))


def duration_text(value: timedelta) -> str:
    """A duration as a page shows it: ``3 d 4 h``, ``2 h 10 min``, ``2 h``, ``45 min``."""
    minutes = int(value.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {mins} min" if mins else f"{hours} h"
    return f"{mins} min"
