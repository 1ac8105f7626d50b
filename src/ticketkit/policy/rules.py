"""Who may see and do what — defined once, as data.

``Viewer`` holds the facts about the acting person, resolved from current storage state on
every call (never cached across calls). ``Policy`` turns a viewer into predicates over tickets,
comments and events, and answers action checks. Delegation grants and parent/child
organisations arrive as more facts in ``Viewer.project_ids`` resolution, not new code paths.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from typing import Literal, Protocol
from uuid import UUID

import attrs

from ticketkit.domain.model import Person, Role, Visibility
from ticketkit.policy.predicates import (
    FALSE,
    TRUE,
    Eq,
    Predicate,
    all_of,
    any_of,
    attributes,
    compile_check,
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
    #: Add and remove followers of a ticket: customers their own colleagues (when they
    #: requested or follow the ticket), staff other staff. Anyone may stop following.
    MANAGE_FOLLOWERS = "manage_followers"
    #: Set and clear the tenant's settings and organisations' overrides, and list them.
    MANAGE_SETTINGS = "manage_settings"
    #: Add, invite, deactivate and change the role of the contacts (guests and customer
    #: admins) of one's own organisation: a customer admin's part of the directory.
    MANAGE_CONTACTS = "manage_contacts"


_CUSTOMER = frozenset(
    {
        Action.CREATE_TICKET,
        Action.UPDATE_PUBLIC_FIELDS,
        Action.COMMENT_PUBLIC,
        Action.MANAGE_FOLLOWERS,
    }
)
_LIGHT_AGENT = frozenset(
    {
        Action.COMMENT_INTERNAL,
        Action.SEE_ASSIGNEE,
        Action.SEE_INTERNAL_FIELDS,
        Action.MANAGE_FOLLOWERS,
    }
)
_AGENT = frozenset(Action) - {
    Action.MANAGE_DIRECTORY,
    Action.MANAGE_SETTINGS,
    Action.MANAGE_CONTACTS,
}

#: The role → permission matrix. Reading is governed by the visibility predicates below.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.AGENT: _AGENT,
    Role.LIGHT_AGENT: _LIGHT_AGENT,
    Role.CUSTOMER_ADMIN: _CUSTOMER | {Action.MANAGE_CONTACTS},
    Role.GUEST: _CUSTOMER,
}


_TALLY_ATTRIBUTES = frozenset({"tenant_id", "visibility", "organisation_id"})


@attrs.frozen
class _CommentGroup:
    """Stands for all comments (or events) of one visibility by one organisation, for the
    tally counters."""

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
    """The single definition of visibility and permissions: pure functions of a viewer.

    It keeps no state about the people it is asked about; ``access`` binds it to one
    person for one call, and that object remembers what it worked out.
    """

    permissions: dict[Role, frozenset[Action]] = attrs.field(factory=lambda: dict(PERMISSIONS))

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

    def access(self, person: Person, directory: DirectoryReader) -> Access:
        """``person``'s access resolved from current state, for the length of one call."""
        return Access(self, person, self.viewer(person, directory))

    # -- reading ---------------------------------------------------------------------------

    def tickets(self, viewer: Viewer) -> Predicate:
        """Tickets the viewer may read."""
        scope = Eq("tenant_id", viewer.tenant_id)
        if viewer.project_ids is None:
            return scope
        return all_of(scope, one_of("project_id", viewer.project_ids))

    def comments(self, viewer: Viewer) -> Predicate:
        """Comments the viewer may read, on a ticket they may read: public ones, and internal
        ones written inside the viewer's own organisation."""
        return all_of(
            Eq("tenant_id", viewer.tenant_id),
            any_of(
                Eq("visibility", Visibility.PUBLIC),
                Eq("organisation_id", viewer.organisation_id),
            ),
        )

    def events(self, viewer: Viewer) -> Predicate:
        """History events the viewer may read; same rule as comments."""
        return self.comments(viewer)

    def comment_counter(
        self, viewer: Viewer
    ) -> Callable[[Mapping[tuple[Visibility, UUID], int]], int]:
        """A function counting, from a ticket's comment tally, the comments the viewer may read
        (see ``tally_counter``)."""
        return self.tally_counter(viewer, self.comments(viewer))

    def event_counter(
        self, viewer: Viewer
    ) -> Callable[[Mapping[tuple[Visibility, UUID], int]], int]:
        """A function counting, from a ticket's event tally, the history events the viewer
        may read: their version of the ticket (see ``tally_counter``)."""
        return self.tally_counter(viewer, self.events(viewer))

    def tally_counter(
        self, viewer: Viewer, rule: Predicate
    ) -> Callable[[Mapping[tuple[Visibility, UUID], int]], int]:
        """A function counting the entries of a tally per (visibility, organisation) that
        pass ``rule``.

        It evaluates the rule on one representative per group, which is exact because the
        rule reads nothing else (refused otherwise); decisions are remembered per group, so
        counting a page of tickets costs a few evaluations.
        """
        unknown = attributes(rule) - _TALLY_ATTRIBUTES
        if unknown:
            raise ValueError(f"rule reads {sorted(unknown)}, which a tally cannot answer")
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
        return self.comment_counter(viewer)(tally)

    def people(self, viewer: Viewer) -> Predicate:
        """People the viewer may look up: staff see everyone of the tenant; customers see
        the staff (whose names are on their tickets) and their own organisation."""
        scope = Eq("tenant_id", viewer.tenant_id)
        if viewer.is_staff:
            return scope
        staff = [role for role in Role if role.is_staff]
        return all_of(
            scope,
            any_of(one_of("role", staff), Eq("organisation_id", viewer.organisation_id)),
        )

    def groups(self, viewer: Viewer) -> Predicate:
        """Agent groups the viewer may see: staff see every group of the tenant; customers
        none (how the provider organises its agents is internal, like the assignee)."""
        if not viewer.is_staff:
            return FALSE
        return Eq("tenant_id", viewer.tenant_id)

    def followers(self, viewer: Viewer) -> Predicate:
        """Which followers (people) of a ticket the viewer may read it has: staff all;
        customers those who are no staff, as the events that added them were public."""
        if viewer.is_staff:
            return Eq("tenant_id", viewer.tenant_id)
        return all_of(
            self.people(viewer), one_of("role", [role for role in Role if not role.is_staff])
        )

    @staticmethod
    def follower_visibility(follower: Person) -> Visibility:
        """How public the following of ``follower`` is: internal for staff, public for
        customers (whose colleagues may see who else hears of the ticket)."""
        return Visibility.INTERNAL if follower.role.is_staff else Visibility.PUBLIC

    def assignable_roles(self) -> frozenset[Role]:
        """The roles whose people may be assigned tickets."""
        return frozenset(
            r for r, actions in self.permissions.items() if Action.BE_ASSIGNED in actions
        )

    def projects(self, viewer: Viewer) -> Predicate:
        """Projects the viewer may see (and create tickets in)."""
        scope = Eq("tenant_id", viewer.tenant_id)
        if viewer.project_ids is None:
            return scope
        return all_of(scope, one_of("id", viewer.project_ids))

    # -- doing -----------------------------------------------------------------------------

    def may(self, viewer: Viewer, action: Action) -> bool:
        return action in self.permissions.get(viewer.role, frozenset())

    def manages_contacts_of(self, viewer: Viewer, organisation_id: UUID) -> bool:
        """Whether the viewer may add, invite, deactivate and re-role the contacts (guests,
        customer admins) of ``organisation_id``: admins of any organisation, customer admins
        of their own."""
        if self.may(viewer, Action.MANAGE_DIRECTORY):
            return True
        return (
            self.may(viewer, Action.MANAGE_CONTACTS) and organisation_id == viewer.organisation_id
        )

    def may_see_internal(self, viewer: Viewer) -> bool:
        """Whether assignee and internal fields belong in this viewer's projections."""
        return self.may(viewer, Action.SEE_INTERNAL_FIELDS)


#: The policy's reading rules by name, as ``Access`` hands them out.
Rule = Literal["tickets", "comments", "events", "projects", "people", "groups", "followers"]


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

    def may(self, action: Action) -> bool:
        return self.policy.may(self.viewer, action)

    @property
    def sees_internal(self) -> bool:
        """Whether assignee and internal fields belong in this person's projections."""
        return self.policy.may_see_internal(self.viewer)

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
    def groups(self) -> Predicate:
        """Agent groups this person may see."""
        return self._rule("groups")

    @property
    def followers(self) -> Predicate:
        """Followers (people) of a readable ticket this person may know of."""
        return self._rule("followers")

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


DEFAULT_POLICY = Policy()

__all__ = [
    "DEFAULT_POLICY",
    "PERMISSIONS",
    "TRUE",
    "Access",
    "Action",
    "DirectoryReader",
    "Policy",
    "Viewer",
]
