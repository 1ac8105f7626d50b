"""Status workflows: the statuses of a ticket type, their categories and allowed moves."""

from __future__ import annotations

import enum
import re

import attrs

_KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


class StatusCategory(enum.StrEnum):
    """The fixed meaning behind every custom status; SLA and reports work on these."""

    NEW = "new"
    OPEN = "open"
    PENDING = "pending"
    SOLVED = "solved"
    CLOSED = "closed"


@attrs.frozen(kw_only=True)
class Status:
    key: str = attrs.field()
    label: str
    category: StatusCategory

    @key.validator
    def _check_key(self, attribute: object, value: str) -> None:
        if not _KEY.match(value):
            raise ValueError(f"key: {value!r} must be lower-case letters, digits and '_'")


@attrs.frozen(kw_only=True)
class Workflow:
    """Statuses plus the transitions between them; ``initial`` is where tickets start."""

    statuses: tuple[Status, ...]
    initial: str
    transitions: frozenset[tuple[str, str]]

    def __attrs_post_init__(self) -> None:
        keys = [s.key for s in self.statuses]
        if not keys:
            raise ValueError("statuses: a workflow needs at least one status")
        if len(set(keys)) != len(keys):
            raise ValueError("statuses: status keys must be unique")
        if self.initial not in keys:
            raise ValueError(f"initial: {self.initial!r} is not a status of this workflow")
        for a, b in self.transitions:
            if a not in keys or b not in keys:
                raise ValueError(f"transitions: ({a!r}, {b!r}) names an unknown status")
            if a == b:
                raise ValueError(f"transitions: ({a!r}, {b!r}) goes nowhere")

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
