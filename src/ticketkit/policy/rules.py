"""Who may see and do what — defined once, as data.

``Viewer`` holds the facts about the acting person, resolved from current storage state on
every call (never cached across calls). ``Policy`` turns a viewer into predicates over tickets,
comments and events, and answers action checks. Delegation grants and parent/child
organisations arrive as more facts in ``Viewer.project_ids`` resolution, not new code paths.

Delegation grants (``domain/grants.py``) are such facts: a customer-side viewer reads her
organisation's projects and those of her active, unexpired grants, judged with the call's
``now`` when the viewer is resolved; on a project she holds only by a grant, what she may
do is her role's permissions within the grant's scope.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

import attrs

from ticketkit.domain.grants import Grant, GrantScope, GrantTerms
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
    #: Offer, accept requests for, and revoke grants of one's own organisation's projects
    #: (customer admins), or of any organisation's (admins); accept grants to one's own
    #: organisation and request them (customer admins).
    MANAGE_GRANTS = "manage_grants"


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
    Action.MANAGE_GRANTS,
}

#: The role → permission matrix. Reading is governed by the visibility predicates below.
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.AGENT: _AGENT,
    Role.LIGHT_AGENT: _LIGHT_AGENT,
    Role.CUSTOMER_ADMIN: _CUSTOMER | {Action.MANAGE_CONTACTS, Action.MANAGE_GRANTS},
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

    def active_grants(self, person_id: UUID, organisation_id: UUID) -> list[GrantTerms]: ...


#: What each scope of a grant lets its grantee do on the project's tickets (within what
#: the grantee's role allows anywhere). Any other action is refused on a granted project.
SCOPE_ACTIONS: dict[GrantScope, frozenset[Action]] = {
    GrantScope.READ: frozenset(),
    GrantScope.COMMENT: frozenset({Action.COMMENT_PUBLIC}),
    GrantScope.CREATE_TICKETS: frozenset({Action.CREATE_TICKET}),
    GrantScope.ADMINISTER: frozenset(
        {Action.UPDATE_PUBLIC_FIELDS, Action.CHANGE_STATUS, Action.MANAGE_FOLLOWERS}
    ),
}


@attrs.frozen(cache_hash=True)
class GrantedProject:
    """A project a viewer reads through a grant: which grant, and what it allows."""

    project_id: UUID
    grant_id: UUID
    scope: frozenset[GrantScope]
    actions: frozenset[Action]


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
    #: The projects the viewer reads only through an active, unexpired grant (never one of
    #: her own organisation's). Empty for staff.
    granted: frozenset[GrantedProject] = frozenset()
    _by_project: dict[UUID, GrantedProject] = attrs.field(
        init=False, eq=False, hash=False, repr=False
    )

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_project", {g.project_id: g for g in self.granted})

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    def grant_on(self, project_id: UUID) -> GrantedProject | None:
        """The grant the viewer reads ``project_id`` through, or None (own, or none)."""
        return self._by_project.get(project_id)


@attrs.frozen
class Policy:
    """The single definition of visibility and permissions: pure functions of a viewer.

    It keeps no state about the people it is asked about; ``access`` binds it to one
    person for one call, and that object remembers what it worked out.
    """

    permissions: dict[Role, frozenset[Action]] = attrs.field(factory=lambda: dict(PERMISSIONS))

    def viewer(self, person: Person, directory: DirectoryReader, now: datetime) -> Viewer:
        """Resolve what ``person`` may read at ``now``: her organisation's projects and
        those of her grants active at ``now`` (``now < expires_at``), in O(grants)."""
        granted: dict[UUID, GrantedProject] = {}
        if person.role.is_staff:
            projects: frozenset[UUID] | None = None
        else:
            own = directory.project_ids_of([person.organisation_id])
            for grant in directory.active_grants(person.id, person.organisation_id):
                if not grant.active_at(now) or grant.project_id in own:
                    continue
                granted[grant.project_id] = self._merge(granted.get(grant.project_id), grant)
            projects = own | granted.keys()
        return Viewer(
            tenant_id=person.tenant_id,
            person_id=person.id,
            organisation_id=person.organisation_id,
            role=person.role,
            project_ids=projects,
            granted=frozenset(granted.values()),
        )

    @staticmethod
    def _merge(held: GrantedProject | None, grant: GrantTerms) -> GrantedProject:
        """One project under several grants (to her and to her organisation): the union of
        their scopes, named by the oldest-made grant."""
        scope = grant.scope | (held.scope if held is not None else frozenset())
        grant_id = grant.id if held is None else min(held.grant_id, grant.id)
        actions = frozenset().union(*(SCOPE_ACTIONS[s] for s in scope))
        return GrantedProject(grant.project_id, grant_id, scope, actions)

    def access(self, person: Person, directory: DirectoryReader, now: datetime) -> Access:
        """``person``'s access resolved from current state at ``now``, for one call."""
        return Access(self, person, self.viewer(person, directory, now))

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

    def may(self, viewer: Viewer, action: Action, project_id: UUID | None = None) -> bool:
        """Whether the viewer's role allows ``action``; on a project she reads only through
        a grant (``project_id``), also the grant's scope must."""
        if action not in self.permissions.get(viewer.role, frozenset()):
            return False
        held = viewer.grant_on(project_id) if project_id is not None else None
        return held is None or action in held.actions

    def may_see_billing(self, viewer: Viewer, organisation_id: UUID) -> bool:
        """Whether the viewer may see the billing (time entries, contracts, invoices) of
        ``organisation_id``: admins and agents of the provider, and the organisation's own
        customer admins; never guests, light agents, nor anyone through a grant (a grant
        has no billing scope, and a grantee belongs to another organisation)."""
        if viewer.role in (Role.ADMIN, Role.AGENT):
            return True
        return viewer.role is Role.CUSTOMER_ADMIN and viewer.organisation_id == organisation_id

    def manages_contacts_of(self, viewer: Viewer, organisation_id: UUID) -> bool:
        """Whether the viewer may add, invite, deactivate and re-role the contacts (guests,
        customer admins) of ``organisation_id``: admins of any organisation, customer admins
        of their own."""
        if self.may(viewer, Action.MANAGE_DIRECTORY):
            return True
        return (
            self.may(viewer, Action.MANAGE_CONTACTS) and organisation_id == viewer.organisation_id
        )

    def manages_grants_of(self, viewer: Viewer, organisation_id: UUID) -> bool:
        """Whether the viewer may offer, accept requests for, decline and revoke grants of
        ``organisation_id``'s projects: admins for any organisation, customer admins for
        their own (so a grantee never re-delegates a project it only holds a grant to)."""
        if not self.may(viewer, Action.MANAGE_GRANTS):
            return False
        return viewer.role is Role.ADMIN or organisation_id == viewer.organisation_id

    def answers_for_grantee(self, viewer: Viewer, grantee: Grant) -> bool:
        """Whether the viewer speaks for the grantee of ``grantee``: the person herself, or
        a customer admin of the grantee organisation."""
        if grantee.grantee_person_id is not None:
            return grantee.grantee_person_id == viewer.person_id
        return (
            self.may(viewer, Action.MANAGE_GRANTS)
            and not viewer.is_staff
            and grantee.grantee_organisation_id == viewer.organisation_id
        )

    def grants(self, viewer: Viewer) -> Predicate:
        """Grants the viewer may see: admins and agents every one of the tenant (support
        sees who the technical supporter is); customers those of their organisation's
        projects and those to them or their organisation."""
        scope = Eq("tenant_id", viewer.tenant_id)
        if viewer.role in (Role.ADMIN, Role.AGENT):
            return scope
        if viewer.is_staff:
            return FALSE
        return all_of(
            scope,
            any_of(
                Eq("organisation_id", viewer.organisation_id),
                Eq("grantee_organisation_id", viewer.organisation_id),
                Eq("grantee_person_id", viewer.person_id),
            ),
        )

    def may_see_internal(self, viewer: Viewer) -> bool:
        """Whether assignee and internal fields belong in this viewer's projections."""
        return self.may(viewer, Action.SEE_INTERNAL_FIELDS)


#: The policy's reading rules by name, as ``Access`` hands them out.
Rule = Literal[
    "tickets", "comments", "events", "projects", "people", "groups", "followers", "grants"
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


DEFAULT_POLICY = Policy()

__all__ = [
    "DEFAULT_POLICY",
    "PERMISSIONS",
    "SCOPE_ACTIONS",
    "TRUE",
    "Access",
    "Action",
    "DirectoryReader",
    "GrantedProject",
    "Policy",
    "Viewer",
]
