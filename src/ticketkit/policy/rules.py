"""Who may see and do what — defined once, as data.

``Viewer`` holds the facts about the acting person, resolved from current storage state on
every call (never cached across calls). ``Policy`` turns a viewer into predicates over tickets,
comments and events, and answers action checks. Delegation grants and parent/child
organisations arrive as more facts in ``Viewer.project_ids`` resolution, not new code paths.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol
from uuid import UUID

import attrs

from ticketkit.domain.model import Person, Role, Visibility
from ticketkit.policy.predicates import (
    TRUE,
    Eq,
    Predicate,
    all_of,
    any_of,
    attributes,
    evaluate,
    one_of,
)


class Action(enum.StrEnum):
    """Everything a person may be allowed to do to a ticket or the directory."""

    CREATE_TICKET = "create_ticket"
    UPDATE_PUBLIC_FIELDS = "update_public_fields"
    UPDATE_INTERNAL_FIELDS = "update_internal_fields"
    ASSIGN = "assign"
    CHANGE_STATUS = "change_status"
    COMMENT_PUBLIC = "comment_public"
    COMMENT_INTERNAL = "comment_internal"
    SEE_ASSIGNEE = "see_assignee"
    SEE_INTERNAL_FIELDS = "see_internal_fields"
    ACT_FOR_OTHERS = "act_for_others"
    BE_ASSIGNED = "be_assigned"
    MANAGE_DIRECTORY = "manage_directory"


_CUSTOMER = frozenset({Action.CREATE_TICKET, Action.UPDATE_PUBLIC_FIELDS, Action.COMMENT_PUBLIC})
_LIGHT_AGENT = frozenset({Action.COMMENT_INTERNAL, Action.SEE_ASSIGNEE, Action.SEE_INTERNAL_FIELDS})
_AGENT = frozenset(Action) - {Action.MANAGE_DIRECTORY}

#: The role → permission matrix. Reading is governed by the visibility predicates below.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.AGENT: _AGENT,
    Role.LIGHT_AGENT: _LIGHT_AGENT,
    Role.CUSTOMER_ADMIN: _CUSTOMER,
    Role.GUEST: _CUSTOMER,
}


_TALLY_ATTRIBUTES = frozenset({"tenant_id", "visibility", "organisation_id"})


@attrs.frozen
class _CommentGroup:
    """Stands for all comments of one visibility by one organisation, for ``count_comments``."""

    tenant_id: UUID
    visibility: Visibility
    organisation_id: UUID


class DirectoryReader(Protocol):
    """The reads the policy needs to resolve a viewer (implemented by every unit of work)."""

    def project_ids_of(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]: ...


@attrs.frozen(kw_only=True, cache_hash=True)
class Viewer:
    """The acting person's access, resolved for one call.

    ``project_ids`` is None for staff (every project of the tenant) and otherwise the set of
    projects whose tickets the person may read.
    """

    tenant_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: Role
    project_ids: frozenset[UUID] | None

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff


@attrs.frozen
class Policy:
    """The single definition of visibility and permissions."""

    permissions: dict[Role, frozenset[Action]] = attrs.field(factory=lambda: dict(PERMISSIONS))
    _predicates: dict[tuple[str, Viewer], Predicate] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )
    #: id(viewer) -> (viewer, what was worked out for it): holding the viewer keeps its id
    #: unique while the entry lives.
    _by_object: dict[int, tuple[Viewer, dict[str, Any]]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False
    )

    def viewer(self, person: Person, directory: DirectoryReader) -> Viewer:
        """Resolve what ``person`` may read right now."""
        if person.role.is_staff:
            projects: frozenset[UUID] | None = None
        else:
            projects = directory.project_ids_of([person.organisation_id])
        return Viewer(
            tenant_id=person.tenant_id,
            person_id=person.id,
            organisation_id=person.organisation_id,
            role=person.role,
            project_ids=projects,
        )

    # -- reading ---------------------------------------------------------------------------

    def _for(self, viewer: Viewer) -> dict[str, Any]:
        """What has been worked out for this viewer object (predicates, counters)."""
        mine = self._by_object.get(id(viewer))
        if mine is None or mine[0] is not viewer:
            if len(self._by_object) >= 1024:
                self._by_object.clear()
            mine = self._by_object[id(viewer)] = (viewer, {})
        return mine[1]

    def _memo(self, name: str, viewer: Viewer, build: Callable[[Viewer], Predicate]) -> Predicate:
        """Predicates are values: build each once per viewer (hot paths ask many times).

        Looked up by the viewer object first (no comparison of viewers), then by value."""
        mine = self._for(viewer)
        found: Predicate | None = mine.get(name)
        if found is None:
            key = (name, viewer)
            found = self._predicates.get(key)
            if found is None:
                if len(self._predicates) >= 4096:
                    self._predicates.clear()
                found = self._predicates[key] = build(viewer)
            mine[name] = found
        return found

    def tickets(self, viewer: Viewer) -> Predicate:
        """Tickets the viewer may read."""
        return self._memo("tickets", viewer, self._tickets)

    def _tickets(self, viewer: Viewer) -> Predicate:
        scope = Eq("tenant_id", viewer.tenant_id)
        if viewer.project_ids is None:
            return scope
        return all_of(scope, one_of("project_id", viewer.project_ids))

    def _entries(self, viewer: Viewer) -> Predicate:
        return all_of(
            Eq("tenant_id", viewer.tenant_id),
            any_of(
                Eq("visibility", Visibility.PUBLIC),
                Eq("organisation_id", viewer.organisation_id),
            ),
        )

    def comments(self, viewer: Viewer) -> Predicate:
        """Comments the viewer may read, on a ticket they may read: public ones, and internal
        ones written inside the viewer's own organisation."""
        return self._memo("entries", viewer, self._entries)

    def events(self, viewer: Viewer) -> Predicate:
        """History events the viewer may read; same rule as comments."""
        return self._memo("entries", viewer, self._entries)

    def comment_counter(
        self, viewer: Viewer
    ) -> Callable[[Mapping[tuple[Visibility, UUID], int]], int]:
        """A function counting, from a ticket's comment tally, the comments the viewer may read.

        It evaluates the same ``comments`` rule on one representative per (visibility,
        organisation) group, which is exact because the rule reads nothing else; decisions
        are remembered per group, so counting a page of tickets costs a few evaluations.
        """
        rule = self.comments(viewer)
        unknown = attributes(rule) - _TALLY_ATTRIBUTES
        if unknown:
            raise ValueError(f"comment rule reads {sorted(unknown)}, which a tally cannot answer")
        decided: dict[tuple[Visibility, UUID], bool] = {}

        def count(tally: Mapping[tuple[Visibility, UUID], int]) -> int:
            total = 0
            for group, n in tally.items():
                visible = decided.get(group)
                if visible is None:
                    visible = decided[group] = evaluate(
                        rule, _CommentGroup(viewer.tenant_id, group[0], group[1])
                    )
                if visible:
                    total += n
            return total

        return count

    def count_comments(self, viewer: Viewer, tally: Mapping[tuple[Visibility, UUID], int]) -> int:
        """How many comments of one ticket the viewer may read (see ``comment_counter``)."""
        mine = self._for(viewer)
        counter = mine.get("comment_counter")
        if counter is None:
            counter = mine["comment_counter"] = self.comment_counter(viewer)
        result: int = counter(tally)
        return result

    def projects(self, viewer: Viewer) -> Predicate:
        """Projects the viewer may see (and create tickets in)."""
        return self._memo("projects", viewer, self._projects)

    def _projects(self, viewer: Viewer) -> Predicate:
        scope = Eq("tenant_id", viewer.tenant_id)
        if viewer.project_ids is None:
            return scope
        return all_of(scope, one_of("id", viewer.project_ids))

    # -- doing -----------------------------------------------------------------------------

    def may(self, viewer: Viewer, action: Action) -> bool:
        return action in self.permissions.get(viewer.role, frozenset())

    def may_see_internal(self, viewer: Viewer) -> bool:
        """Whether assignee and internal fields belong in this viewer's projections."""
        return self.may(viewer, Action.SEE_INTERNAL_FIELDS)


DEFAULT_POLICY = Policy()

__all__ = [
    "DEFAULT_POLICY",
    "PERMISSIONS",
    "TRUE",
    "Action",
    "DirectoryReader",
    "Policy",
    "Viewer",
]
