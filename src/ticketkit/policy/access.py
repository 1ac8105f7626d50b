"""One person's access for one call: the ``Policy`` (``rules.py``) bound to her resolved
``Viewer``, each reading rule built on first use. ``Policy.access`` makes it; nothing keeps
it across calls.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Literal
from uuid import UUID

from ticketkit.domain.model import Person, Visibility
from ticketkit.policy.predicates import Predicate, compile_check
from ticketkit.policy.viewers import Action, Viewer

if TYPE_CHECKING:
    from ticketkit.policy.rules import Policy


#: The policy's reading rules by name, as ``Access`` hands them out.
Rule = Literal[
    "tickets",
    "comments",
    "events",
    "projects",
    "people",
    "organisations",
    "groups",
    "followers",
    "grants",
]


class Access:
    """One person's access for one call: the policy's answers for them, each rule built
    (and compiled for in-memory checks) on first use and kept for the rest of the call.

    Never kept across calls: access is decided from current state on every call.
    """

    __slots__ = ("_checks", "_counter", "_events", "_rules", "person", "policy", "viewer")

    def __init__(self, policy: Policy, person: Person, viewer: Viewer) -> None:
        self.policy = policy
        self.person = person
        self.viewer = viewer
        self._rules: dict[Rule, Predicate] = {}
        self._checks: dict[Rule, Callable[[object], bool]] = {}
        self._counter: Callable[[Mapping[tuple[Visibility, UUID], int]], int] | None = None
        self._events: Callable[[Mapping[tuple[Visibility, UUID], int]], int] | None = None

    def may(self, action: Action, project_id: UUID | None = None) -> bool:
        """Whether this person may do ``action`` (on ``project_id``'s tickets, when given:
        a project held through a grant narrows it to the grant's scope)."""
        return self.policy.may(self.viewer, action, project_id)

    @property
    def sees_internal(self) -> bool:
        """Whether internal work belongs in this person's projections of every ticket she
        reads (a list's sort key, its filters by assignee or group); see
        ``sees_internal_on`` for one ticket's."""
        return self.policy.internal_projects(self.viewer) is None

    def sees_internal_on(self, project_id: UUID) -> bool:
        """Whether assignee, group and internal fields belong in this person's view of
        ``project_id``'s tickets."""
        return self.policy.may_see_internal(self.viewer, project_id)

    @property
    def tickets(self) -> Predicate:
        """Tickets this person may read."""
        return self._rule("tickets")

    @property
    def comments(self) -> Predicate:
        """Comments this person may read (on a ticket they may read)."""
        return self._rule("comments")

    @property
    def events(self) -> Predicate:
        """History events this person may read (on a ticket they may read)."""
        return self._rule("events")

    @property
    def projects(self) -> Predicate:
        """Projects this person may see and create tickets in."""
        return self._rule("projects")

    @property
    def people(self) -> Predicate:
        """People this person may look up."""
        return self._rule("people")

    @property
    def organisations(self) -> Predicate:
        """Organisations this person may look up."""
        return self._rule("organisations")

    @property
    def groups(self) -> Predicate:
        """Agent groups this person may see."""
        return self._rule("groups")

    @property
    def followers(self) -> Predicate:
        """Followers (people) of a readable ticket this person may know of."""
        return self._rule("followers")

    @property
    def grants(self) -> Predicate:
        """Delegation grants this person may see."""
        return self._rule("grants")

    def reads(self, rule: Rule, record: object) -> bool:
        """Whether ``record`` passes the rule named ``rule`` (tickets, comments, events,
        projects, people) for this person: the in-memory side of the predicate that SQL
        filters by."""
        check = self._checks.get(rule)
        if check is None:
            check = self._checks[rule] = compile_check(self._rule(rule))
        return check(record)

    def count_comments(self, tally: Mapping[tuple[Visibility, UUID], int]) -> int:
        """How many comments of one ticket (by its tally) this person may read."""
        if self._counter is None:
            self._counter = self.policy.comment_counter(self.viewer)
        return self._counter(tally)

    def count_events(self, tally: Mapping[tuple[Visibility, UUID], int]) -> int:
        """How many history events of one ticket (by its event tally) this person may read:
        their version of the ticket, which moves only on changes they can see."""
        if self._events is None:
            self._events = self.policy.event_counter(self.viewer)
        return self._events(tally)

    def _rule(self, name: Rule) -> Predicate:
        found = self._rules.get(name)
        if found is None:
            build: Callable[[Viewer], Predicate] = getattr(self.policy, name)
            found = self._rules[name] = build(self.viewer)
        return found


__all__ = ["Access", "Rule"]
