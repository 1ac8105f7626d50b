"""SLA policies: which tickets a policy covers, its targets per priority, when it warns, and
what it does on a warning or breach. Values only; choosing and storing them is elsewhere.

A tenant's policies are ordered; a ticket gets the first whose conditions all hold
(``select_policy``). Conditions look at what a ticket is: a custom field (SLA level Gold),
its organisation or any parent of it, its priority, ticket type or project.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from uuid import UUID

import attrs

from ticketkit.domain.text import MAX_LABEL, check_text
from ticketkit.domain.values import FieldValue, Priority, member
from ticketkit.errors import FieldError, ValidationError


class Metric(enum.StrEnum):
    """What an SLA measures (``docs/sla.md`` says exactly when each runs)."""

    #: From the ticket's creation to the provider's first public reply.
    FIRST_RESPONSE = "first_response"
    #: From the requester's oldest unanswered public comment to the provider's next reply.
    NEXT_REPLY = "next_reply"
    #: From creation to solved, not counting time waiting on the customer.
    RESOLUTION = "resolution"
    #: Between the provider's public comments while the ticket is not solved.
    PERIODIC_UPDATE = "periodic_update"
    #: The same, not counting time waiting on the customer.
    PAUSABLE_UPDATE = "pausable_update"


#: Most warning levels a policy may have (each fires once per metric cycle).
MAX_WARNINGS = 5
#: Longest target: ten years, so every due time stays a representable instant.
MAX_TARGET = timedelta(days=3653)


@attrs.frozen(kw_only=True)
class Target:
    """How long a metric may run: in business time on the policy's calendar (the default),
    or in real elapsed time (``business_hours=False``, for around-the-clock promises)."""

    duration: timedelta
    business_hours: bool = True

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.duration, timedelta) or isinstance(self.duration, bool):
            raise ValidationError.single("duration", "must be a timedelta")
        if self.duration <= timedelta(0):
            raise ValidationError.single("duration", "must be positive")
        if self.duration > MAX_TARGET:
            raise ValidationError.single("duration", f"must be at most {MAX_TARGET.days} days")
        if not isinstance(self.business_hours, bool):
            raise ValidationError.single("business_hours", "must be true or false")


def _target(value: object) -> Target | None:
    if value is None or isinstance(value, Target):
        return value
    if isinstance(value, timedelta):
        return Target(duration=value)
    raise ValidationError.single("target", "must be a Target, a timedelta or None")


@attrs.frozen(kw_only=True)
class Targets:
    """The targets for one priority; a metric without a target is measured but never due."""

    first_response: Target | None = attrs.field(default=None, converter=_target)
    next_reply: Target | None = attrs.field(default=None, converter=_target)
    resolution: Target | None = attrs.field(default=None, converter=_target)
    periodic_update: Target | None = attrs.field(default=None, converter=_target)
    pausable_update: Target | None = attrs.field(default=None, converter=_target)

    def of(self, metric: Metric | str) -> Target | None:
        """The target for ``metric``, if there is one."""
        target: Target | None = getattr(self, member(Metric, metric, "metric").value)
        return target


class Attribute(enum.StrEnum):
    """What a policy condition can look at; custom fields are ``fields.<name>``."""

    PRIORITY = "priority"
    ORGANISATION = "organisation"
    TICKET_TYPE = "ticket_type"
    PROJECT = "project"


_FIELD = re.compile(r"^fields\.[a-z][a-z0-9_]{0,62}$")
#: Most values one condition may list.
MAX_CONDITION_VALUES = 200


def _strings(value: object) -> object:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        return value
    return tuple(str(v) if isinstance(v, UUID | Priority) else v for v in value)


@attrs.frozen(kw_only=True)
class Condition:
    """Holds when the ticket's ``attribute`` is one of ``values``. An organisation
    condition also holds for the organisation's children, at any depth; a multiple-choice
    field holds when any of its choices is listed. Ids are compared as text."""

    attribute: str
    values: tuple[str, ...] = attrs.field(converter=_strings)

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        if not isinstance(self.attribute, str) or not (
            self.attribute in Attribute.__members__.values() or _FIELD.match(self.attribute)
        ):
            allowed = [a.value for a in Attribute] + ["fields.<name>"]
            errors.append(
                FieldError("attribute", f"unknown attribute {self.attribute!r}; use {allowed}")
            )
        if not isinstance(self.values, tuple) or not self.values:
            errors.append(FieldError("values", "must list at least one value"))
        elif len(self.values) > MAX_CONDITION_VALUES:
            errors.append(FieldError("values", f"must list at most {MAX_CONDITION_VALUES}"))
        else:
            for i, v in enumerate(self.values):
                problem = (
                    check_text(v, max_length=MAX_LABEL) if isinstance(v, str) else "must be text"
                )
                if problem:
                    errors.append(FieldError(f"values[{i}]", problem))
                    break
        if not errors and self.attribute == Attribute.PRIORITY:
            for i, v in enumerate(self.values):
                try:
                    member(Priority, v, f"values[{i}]")
                except ValidationError as exc:
                    errors.extend(exc.errors)
        if not errors and self.attribute in (
            Attribute.ORGANISATION,
            Attribute.TICKET_TYPE,
            Attribute.PROJECT,
        ):
            for i, v in enumerate(self.values):
                try:
                    UUID(v)
                except ValueError:
                    errors.append(FieldError(f"values[{i}]", f"{v!r} is not an id"))
                    break
        if errors:
            raise ValidationError(errors)

    @property
    def field_name(self) -> str | None:
        """The custom field this condition reads, if it reads one."""
        return self.attribute.removeprefix("fields.") if self.attribute[:7] == "fields." else None

    def holds(self, ticket: PolicySubject) -> bool:
        """Whether ``ticket`` meets this condition."""
        wanted = set(self.values)
        match self.attribute:
            case Attribute.PRIORITY:
                return ticket.priority.value in wanted
            case Attribute.ORGANISATION:
                return any(str(o) in wanted for o in ticket.organisation_ids)
            case Attribute.TICKET_TYPE:
                return str(ticket.type_id) in wanted
            case Attribute.PROJECT:
                return str(ticket.project_id) in wanted
        value = ticket.fields.get(self.attribute.removeprefix("fields."))
        if isinstance(value, tuple):
            return any(v in wanted for v in value)
        return value is not None and str(value) in wanted


@attrs.frozen(kw_only=True)
class PolicySubject:
    """What conditions read of a ticket. ``organisation_ids`` is the organisation whose
    project the ticket is in, followed by its parents up to the root."""

    priority: Priority
    organisation_ids: tuple[UUID, ...]
    type_id: UUID
    project_id: UUID
    fields: Mapping[str, FieldValue]


class Level(enum.StrEnum):
    """How far a metric has run: a warning (its percentage of the target) or a breach."""

    WARNING = "warning"
    BREACH = "breach"


class ActionKind(enum.StrEnum):
    """What an escalation rule does."""

    #: Tell a person or every member of a group (a notification through the hooks).
    NOTIFY = "notify"
    #: Give the ticket to a person, or to a group (and nobody in it yet).
    REASSIGN = "reassign"
    #: Raise the ticket's priority to ``priority`` (never lowers it).
    RAISE_PRIORITY = "raise_priority"


def _level(value: object) -> Level:
    return member(Level, value, "on")


def _action(value: object) -> ActionKind:
    return member(ActionKind, value, "action")


def _metric(value: object) -> Metric | None:
    return None if value is None else member(Metric, value, "metric")


def _priority(value: object) -> Priority | None:
    return None if value is None else member(Priority, value, "priority")


def _percent(value: object) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise ValidationError.single("percent", "must be a whole percentage")


@attrs.frozen(kw_only=True)
class EscalationRule:
    """On a warning or breach of ``metric`` (any metric when None), do ``action``.

    ``percent`` picks one warning level (None: every warning); it is ignored for breaches.
    With ``business_hours_only`` the action waits for the calendar's next opening rather
    than firing at 03:00 on a Sunday; the warning or breach itself is recorded at once.
    """

    on: Level = attrs.field(converter=_level)
    action: ActionKind = attrs.field(converter=_action)
    metric: Metric | None = attrs.field(default=None, converter=_metric)
    percent: int | None = attrs.field(default=None, converter=_percent)
    person_id: UUID | None = None
    group_id: UUID | None = None
    priority: Priority | None = attrs.field(default=None, converter=_priority)
    business_hours_only: bool = False

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        whom = (self.person_id is not None) + (self.group_id is not None)
        if self.action is ActionKind.RAISE_PRIORITY:
            if self.priority is None:
                errors.append(FieldError("priority", "raising the priority needs a priority"))
            if whom:
                errors.append(FieldError("person_id", "raising the priority names nobody"))
        else:
            if whom != 1:
                errors.append(FieldError("person_id", "name exactly one person or one group"))
            if self.priority is not None:
                errors.append(FieldError("priority", f"{self.action.value} sets no priority"))
        for name in ("person_id", "group_id"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, UUID):
                errors.append(FieldError(name, "must be an id"))
        if self.percent is not None and not 0 < self.percent < 100:
            errors.append(FieldError("percent", "must be between 1 and 99"))
        if not isinstance(self.business_hours_only, bool):
            errors.append(FieldError("business_hours_only", "must be true or false"))
        if errors:
            raise ValidationError(errors)

    def applies(self, metric: Metric, level: Level, percent: int | None) -> bool:
        """Whether this rule acts on ``metric`` reaching ``level`` (at ``percent``)."""
        if self.on is not level or (self.metric is not None and self.metric is not metric):
            return False
        return level is Level.BREACH or self.percent is None or self.percent == percent


def _priorities(value: object) -> object:
    if not isinstance(value, Mapping):
        return value
    out: dict[Priority, Targets] = {}
    for key, targets in value.items():
        out[member(Priority, key, f"targets.{key}")] = targets
    return out


def _ints(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def _tuple(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


@attrs.frozen(kw_only=True)
class SlaPolicy:
    """One service level: who it covers, its targets per priority, its warnings (percent
    of a target, each fired once) and its escalation rules. ``calendar_id`` is the policy's
    own calendar (a customer in another time zone); without one the ticket's organisation's
    or the tenant's default calendar counts. Lower ``position`` is tried first."""

    tenant_id: UUID
    id: UUID
    name: str
    position: int
    conditions: tuple[Condition, ...] = attrs.field(default=(), converter=_tuple)
    targets: Mapping[Priority, Targets] = attrs.field(factory=dict, converter=_priorities)
    calendar_id: UUID | None = None
    warnings: tuple[int, ...] = attrs.field(default=(75, 90), converter=_ints)
    escalations: tuple[EscalationRule, ...] = attrs.field(default=(), converter=_tuple)

    def __attrs_post_init__(self) -> None:
        errors: list[FieldError] = []
        problem = (
            check_text(self.name, max_length=MAX_LABEL)
            if isinstance(self.name, str)
            else ("must be text")
        )
        if problem:
            errors.append(FieldError("name", problem))
        if not isinstance(self.position, int) or isinstance(self.position, bool):
            errors.append(FieldError("position", "must be a whole number"))
        if not isinstance(self.conditions, tuple) or not all(
            isinstance(c, Condition) for c in self.conditions
        ):
            errors.append(FieldError("conditions", "must be a list of Condition values"))
        if not isinstance(self.targets, Mapping) or not all(
            isinstance(t, Targets) for t in self.targets.values()
        ):
            errors.append(FieldError("targets", "must map priorities to Targets"))
        elif not any(t.of(m) is not None for t in self.targets.values() for m in Metric):
            errors.append(FieldError("targets", "a policy needs at least one target"))
        if not isinstance(self.warnings, tuple) or not all(
            isinstance(w, int) and not isinstance(w, bool) and 0 < w < 100 for w in self.warnings
        ):
            errors.append(FieldError("warnings", "must be percentages between 1 and 99"))
        elif len(set(self.warnings)) != len(self.warnings) or len(self.warnings) > MAX_WARNINGS:
            errors.append(
                FieldError("warnings", f"must be distinct, at most {MAX_WARNINGS} of them")
            )
        if not isinstance(self.escalations, tuple) or not all(
            isinstance(r, EscalationRule) for r in self.escalations
        ):
            errors.append(FieldError("escalations", "must be a list of EscalationRule values"))
        if errors:
            raise ValidationError(errors)

    def targets_for(self, priority: Priority | str) -> Targets:
        """The targets at ``priority`` (none at all when the policy sets none for it)."""
        return self.targets.get(member(Priority, priority, "priority"), _NO_TARGETS)

    def covers(self, ticket: PolicySubject) -> bool:
        """Whether every condition holds for ``ticket`` (a policy without any covers all)."""
        return all(c.holds(ticket) for c in self.conditions)


_NO_TARGETS = Targets()


def select_policy(policies: Sequence[SlaPolicy], ticket: PolicySubject) -> SlaPolicy | None:
    """The first policy, by position, that covers ``ticket``; None when none does."""
    for policy in sorted(policies, key=lambda p: (p.position, str(p.id))):
        if policy.covers(ticket):
            return policy
    return None
