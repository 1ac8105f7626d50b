"""Status workflows: the statuses of a ticket type, their categories and allowed moves."""

from __future__ import annotations

import enum
import re
from collections.abc import Collection, Mapping

import attrs

from ticketkit.domain.text import MAX_LABEL, check_text
from ticketkit.domain.values import member
from ticketkit.errors import FieldError, ValidationError

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class StatusCategory(enum.StrEnum):
    """The fixed meaning behind every custom status; SLA and reports work on these."""

    NEW = "new"
    OPEN = "open"
    #: Waiting on a third party (a vendor the ticket was escalated to): the customer still
    #: waits, so SLA clocks keep running (``docs/sla.md``).
    ON_HOLD = "on_hold"
    #: Waiting on the customer: the resolution clock pauses until she replies.
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


def _category(value: object) -> StatusCategory:
    return member(StatusCategory, value, "category")


@attrs.frozen(kw_only=True)
class Status:
    key: str = attrs.field()
    label: str
    category: StatusCategory = attrs.field(converter=_category)

    @key.validator
    def _check_key(self, attribute: object, value: str) -> None:
        if not isinstance(value, str) or not _KEY.match(value):
            raise ValidationError.single(
                "key", f"{value!r} must be lower-case letters, digits and '_'"
            )

    def __attrs_post_init__(self) -> None:
        problem = (
            check_text(self.label, max_length=MAX_LABEL)
            if isinstance(self.label, str)
            else "must be text"
        )
        if problem:
            raise ValidationError.single("label", problem)


def _statuses(value: object) -> object:
    """A list or tuple of statuses as a tuple; anything else as it is, for the checks."""
    return tuple(value) if isinstance(value, list | tuple) else value


def _transitions(value: object) -> object:
    """Pairs of status keys (as tuples or lists, in any collection but a mapping or text)
    as a frozenset of tuples; anything else as it is, for the checks to refuse by name."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Collection):
        return value
    if not all(isinstance(p, list | tuple) and len(p) == 2 for p in value):
        return value
    return frozenset(tuple(p) for p in value)


@attrs.frozen(kw_only=True)
class Workflow:
    """Statuses plus the transitions between them; ``initial`` is where tickets start.

    A bad definition raises :class:`ValidationError` naming each bad attribute (its first
    problem)."""

    statuses: tuple[Status, ...] = attrs.field(converter=_statuses)
    initial: str
    transitions: frozenset[tuple[str, str]] = attrs.field(converter=_transitions)

    def __attrs_post_init__(self) -> None:
        errors = []
        if not isinstance(self.statuses, tuple) or not all(
            isinstance(s, Status) for s in self.statuses
        ):
            errors.append(FieldError("statuses", "must be a list of Status values"))
        if not isinstance(self.transitions, frozenset):
            errors.append(FieldError("transitions", "must be a set of (from, to) status keys"))
        if not isinstance(self.initial, str):
            errors.append(FieldError("initial", "must be the key of a status"))
        if errors:
            raise ValidationError(errors)
        keys = [s.key for s in self.statuses]
        if not keys:
            errors.append(FieldError("statuses", "a workflow needs at least one status"))
        elif len(set(keys)) != len(keys):
            errors.append(FieldError("statuses", "status keys must be unique"))
        if self.initial not in keys:
            errors.append(
                FieldError("initial", f"{self.initial!r} is not a status of this workflow")
            )
        if problem := self._transitions_problem(keys):
            errors.append(FieldError("transitions", problem))
        if errors:
            raise ValidationError(errors)

    def _transitions_problem(self, keys: list[str]) -> str | None:
        """What is wrong with the first bad transition, if any."""
        for a, b in self.transitions:
            if a not in keys or b not in keys:
                return f"({a!r}, {b!r}) names an unknown status"
            if a == b:
                return f"({a!r}, {b!r}) goes nowhere"
        return None

    def status(self, key: str) -> Status | None:
        for s in self.statuses:
            if s.key == key:
                return s
        return None

    def allows(self, current: str, target: str) -> bool:
        return (current, target) in self.transitions

    def targets(self, current: str) -> tuple[str, ...]:
        """The statuses reachable in one step, in declaration order."""
        return tuple(s.key for s in self.statuses if (current, s.key) in self.transitions)

    @classmethod
    def linear(
        cls, statuses: tuple[Status, ...], *, extra: tuple[tuple[str, str], ...] = ()
    ) -> Workflow:
        """A workflow where every status may move to any later one, plus ``extra`` moves."""
        keys = [s.key for s in statuses]
        moves = {(a, b) for i, a in enumerate(keys) for b in keys[i + 1 :]}
        return cls(statuses=statuses, initial=keys[0], transitions=frozenset(moves | set(extra)))


def default_workflow() -> Workflow:
    """New → Open → Pending → Solved → Closed, with reopening of pending and solved tickets."""
    statuses = (
        Status(key="new", label="New", category=StatusCategory.NEW),
        Status(key="open", label="Open", category=StatusCategory.OPEN),
        Status(key="pending", label="Pending", category=StatusCategory.PENDING),
        Status(key="solved", label="Solved", category=StatusCategory.SOLVED),
        Status(key="closed", label="Closed", category=StatusCategory.CLOSED),
    )
    return Workflow.linear(statuses, extra=(("pending", "open"), ("solved", "open")))
