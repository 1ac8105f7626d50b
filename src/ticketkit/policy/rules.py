"""Who may see and do what — defined once, as data.

``Viewer`` holds the facts about the acting person, resolved from current storage state on
every call (never cached across calls). ``Policy`` turns a viewer into predicates over tickets,
comments and events, and answers action checks.

Everything beyond one's own organisation arrives as more facts when the viewer is resolved,
not as new code paths: further memberships (``domain/memberships.py``), the projects of
child organisations a parent shares (the setting ``sharing.child_organisations``), and
delegation grants (``domain/grants.py``, judged with the call's ``now``). Each project she
holds so carries what she may do there (``HeldProject``): the role of the membership it
comes through, narrowed by the sharing or the grant's scope. So what a person sees and does
on one organisation's tickets depends on her standing there only.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Literal, Protocol
from uuid import UUID

import attrs

from ticketkit.domain.grants import Grant, GrantScope, GrantTerms
from ticketkit.domain.memberships import Membership
from ticketkit.domain.model import Person, Project, Role, TicketType, Visibility
from ticketkit.domain.settings import ChildSharing
from ticketkit.policy.predicates import (
    FALSE,
    TRUE,
    Eq,
    Not,
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
#: A customer's own help-desk agent: an agent's work on her organisation's tickets; no
#: directory, settings, contacts or grants (the provider's and customer admins' part).
_CUSTOMER_AGENT = _CUSTOMER | {
    Action.UPDATE_INTERNAL_FIELDS,
    Action.ASSIGN,
    Action.CHANGE_STATUS,
    Action.COMMENT_INTERNAL,
    Action.SEE_ASSIGNEE,
    Action.SEE_INTERNAL_FIELDS,
    Action.ACT_FOR_OTHERS,
    Action.BE_ASSIGNED,
}
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
    Role.CUSTOMER_AGENT: _CUSTOMER_AGENT,
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
    """The reads the policy needs to resolve a viewer (``AccessReader``, implemented by
    every unit of work)."""

    def project_ids_of(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]: ...

    def active_grants(
        self, person_id: UUID, organisation_ids: Iterable[UUID]
    ) -> list[GrantTerms]: ...

    def memberships_of(self, person_id: UUID) -> list[Membership]: ...

    def child_sharing(self, organisation_ids: Iterable[UUID]) -> dict[UUID, ChildSharing]: ...

    def descendants_of(self, organisation_id: UUID) -> frozenset[UUID]: ...

    def confidential_types(self) -> dict[UUID, UUID]: ...

    def own_desk_projects(self, organisation_ids: Iterable[UUID]) -> frozenset[UUID]: ...


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

#: What a parent organisation's people may do on its children's projects when it shares
#: them ``read_write`` (within their role): a customer's own part of a ticket, nothing
#: internal. ``read`` allows none of it.
CHILD_ACTIONS = _CUSTOMER


@attrs.frozen(cache_hash=True)
class HeldProject:
    """A project the viewer reads other than as her own organisation's project: as a
    further membership's, as a parent of its organisation, or through a grant; and what she
    may do on its tickets there.

    ``organisation_id`` is the organisation she acts as on it (her membership's, or her
    own); ``borrowed`` projects (a child's, a grant's) hide their organisation's
    confidential ticket types; ``grant_id`` names the grant when one gives it.
    """

    project_id: UUID
    organisation_id: UUID
    actions: frozenset[Action]
    borrowed: bool
    grant_id: UUID | None = None

    def merge(self, other: HeldProject) -> HeldProject:
        """One project reached two ways: what either allows; named by the oldest grant."""
        grants = [g for g in (self.grant_id, other.grant_id) if g is not None]
        return attrs.evolve(
            self,
            actions=self.actions | other.actions,
            borrowed=self.borrowed and other.borrowed,
            grant_id=min(grants) if grants else None,
        )


@attrs.frozen(kw_only=True, cache_hash=True)
class Viewer:
    """The acting person's access, resolved for one call.

    ``project_ids`` is None for staff (every project of the tenant) and otherwise the set of
    projects whose tickets the person may read: her own organisation's (with her role's
    permissions), and those she holds otherwise (``held``), each with its own.
    """

    tenant_id: UUID
    person_id: UUID
    organisation_id: UUID
    role: Role
    project_ids: frozenset[UUID] | None
    #: The projects she reads other than as her own organisation's. Empty for staff.
    held: frozenset[HeldProject] = frozenset()
    #: Her further memberships: (organisation, her role there).
    memberships: frozenset[tuple[UUID, Role]] = frozenset()
    #: The organisations whose projects she borrows (children she sees as a parent, the
    #: owners of her grants' projects).
    borrowed_from: frozenset[UUID] = frozenset()
    #: Confidential ticket types whose tickets she may not read on borrowed projects.
    hidden_types: frozenset[UUID] = frozenset()
    _by_project: dict[UUID, HeldProject] = attrs.field(init=False, eq=False, hash=False, repr=False)
    _roles: dict[UUID, Role] = attrs.field(init=False, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_by_project", {h.project_id: h for h in self.held})
        roles = dict(self.memberships)
        roles[self.organisation_id] = self.role
        object.__setattr__(self, "_roles", roles)

    @property
    def is_staff(self) -> bool:
        return self.role.is_staff

    @property
    def organisation_ids(self) -> frozenset[UUID]:
        """Her own organisation and those of her further memberships."""
        return frozenset(self._roles)

    def role_in(self, organisation_id: UUID) -> Role | None:
        """Her role as a member of ``organisation_id`` (None: she is none)."""
        return self._roles.get(organisation_id)

    def held_on(self, project_id: UUID) -> HeldProject | None:
        """How she holds ``project_id`` when not as her own organisation's (None: own, or
        not at all)."""
        return self._by_project.get(project_id)

    def grant_on(self, project_id: UUID) -> HeldProject | None:
        """How she holds ``project_id`` when a grant gives it to her, else None."""
        held = self._by_project.get(project_id)
        return held if held is not None and held.grant_id is not None else None


@attrs.frozen
class Policy:
    """The single definition of visibility and permissions: pure functions of a viewer.

    It keeps no state about the people it is asked about; ``access`` binds it to one
    person for one call, and that object remembers what it worked out.
    """

    permissions: dict[Role, frozenset[Action]] = attrs.field(factory=lambda: dict(PERMISSIONS))

    def viewer(self, person: Person, directory: DirectoryReader, now: datetime) -> Viewer:
        """Resolve what ``person`` may read at ``now``, in O(memberships + children +
        grants) reads of facts, never one per ticket:

        - her organisation's projects, with her role;
        - each further membership's organisation's projects, with her role there;
        - where one of her organisations shares its children (``sharing.child_organisations``
          read or read_write), the projects of every organisation below it, to read, or to
          read and write as a customer (``CHILD_ACTIONS``), with her role there;
        - the projects of her grants active at ``now`` (``now < expires_at``), within
          their scopes and the role of the membership they were given to.

        On a child's or a grant's project, tickets of the owner's confidential types stay
        hidden. A project reached several ways allows what any of them allows.
        """
        if person.role.is_staff:
            return Viewer(
                tenant_id=person.tenant_id,
                person_id=person.id,
                organisation_id=person.organisation_id,
                role=person.role,
                project_ids=None,
            )
        home = person.organisation_id
        roles = {home: person.role}
        for membership in directory.memberships_of(person.id):
            roles.setdefault(membership.organisation_id, membership.role)
        own = directory.project_ids_of([home])
        held: dict[UUID, HeldProject] = {}

        def hold(found: HeldProject) -> None:
            earlier = held.get(found.project_id)
            held[found.project_id] = found if earlier is None else earlier.merge(found)

        if Action.SEE_INTERNAL_FIELDS in self.permissions[person.role]:
            # A customer's own agent works its own desk; on the projects the provider
            # serves she is the customer, and the provider's work there stays its own.
            desk = directory.own_desk_projects([home])
            customer = self.permissions[person.role] & CHILD_ACTIONS
            for project_id in own - desk:
                hold(HeldProject(project_id, home, customer, borrowed=False))
        for org, role in roles.items():
            if org != home:
                for project_id in directory.project_ids_of([org]):
                    hold(HeldProject(project_id, org, self.permissions[role], borrowed=False))
        members = own | held.keys()
        borrowed_from: set[UUID] = set()
        for org, sharing in directory.child_sharing(roles).items():
            below = directory.descendants_of(org) - roles.keys()
            if not below:
                continue
            borrowed_from |= below
            actions = (
                self.permissions[roles[org]] & CHILD_ACTIONS
                if sharing is ChildSharing.READ_WRITE
                else frozenset()
            )
            for project_id in directory.project_ids_of(below) - members:
                hold(HeldProject(project_id, org, actions, borrowed=True))
        for grant in directory.active_grants(person.id, roles):
            if not grant.active_at(now) or grant.project_id in members:
                continue
            given_to = (
                home if grant.grantee_person_id == person.id else grant.grantee_organisation_id
            )
            if given_to is None or given_to not in roles:
                continue
            org = given_to
            scoped = frozenset[Action]().union(*(SCOPE_ACTIONS[s] for s in grant.scope))
            actions = self.permissions[roles[org]] & scoped
            borrowed_from.add(grant.organisation_id)
            hold(HeldProject(grant.project_id, org, actions, borrowed=True, grant_id=grant.id))
        hidden: frozenset[UUID] = frozenset()
        if borrowed_from:
            hidden = frozenset(
                type_id
                for type_id, owner in directory.confidential_types().items()
                if owner in borrowed_from and owner not in roles
            )
        return Viewer(
            tenant_id=person.tenant_id,
            person_id=person.id,
            organisation_id=home,
            role=person.role,
            project_ids=own | held.keys(),
            held=frozenset(held.values()),
            memberships=frozenset((org, role) for org, role in roles.items() if org != home),
            borrowed_from=frozenset(borrowed_from - roles.keys()),
            hidden_types=hidden,
        )

    def access(self, person: Person, directory: DirectoryReader, now: datetime) -> Access:
        """``person``'s access resolved from current state at ``now``, for one call."""
        return Access(self, person, self.viewer(person, directory, now))

    # -- reading ---------------------------------------------------------------------------

    def tickets(self, viewer: Viewer) -> Predicate:
        """Tickets the viewer may read: those of her projects; on a borrowed project (a
        child's, a grant's) not those of its organisation's confidential types."""
        scope = Eq("tenant_id", viewer.tenant_id)
        if viewer.project_ids is None:
            return scope
        if not viewer.hidden_types:
            return all_of(scope, one_of("project_id", viewer.project_ids))
        borrowed = {h.project_id for h in viewer.held if h.borrowed}
        return all_of(
            scope,
            any_of(
                one_of("project_id", viewer.project_ids - borrowed),
                all_of(
                    one_of("project_id", borrowed),
                    Not(one_of("type_id", viewer.hidden_types)),
                ),
            ),
        )

    def comments(self, viewer: Viewer) -> Predicate:
        """Comments the viewer may read, on a ticket they may read: public ones, and, for
        those who see internal work (staff, a customer's own agents), the internal ones
        written inside their own organisation. Internal means internal to the author's
        organisation: the provider never reads a customer desk's notes, nor the customer
        the provider's; a customer's guests read neither."""
        internal = (
            Eq("organisation_id", viewer.organisation_id)
            if self.may_see_internal(viewer)
            else FALSE
        )
        return all_of(
            Eq("tenant_id", viewer.tenant_id),
            any_of(Eq("visibility", Visibility.PUBLIC), internal),
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
            any_of(one_of("role", staff), one_of("organisation_id", viewer.organisation_ids)),
        )

    def organisations(self, viewer: Viewer) -> Predicate:
        """Organisations the viewer may look up: staff every one of the tenant; customers
        those they belong to (home and further memberships)."""
        scope = Eq("tenant_id", viewer.tenant_id)
        if viewer.is_staff:
            return scope
        return all_of(scope, one_of("id", viewer.organisation_ids))

    def groups(self, viewer: Viewer) -> Predicate:
        """Agent groups the viewer may see: staff every group of the tenant; a customer's
        own agents their organisation's; other customers none (how a desk organises its
        agents is internal, like the assignee)."""
        scope = Eq("tenant_id", viewer.tenant_id)
        if viewer.is_staff:
            return scope
        if not self.may_see_internal(viewer):
            return FALSE
        return all_of(scope, Eq("organisation_id", viewer.organisation_id))

    def followers(self, viewer: Viewer) -> Predicate:
        """Which followers (people) of a ticket the viewer may read it has: staff all;
        customers the contacts among them (whose following was public), never the agents
        of a desk."""
        if viewer.is_staff:
            return Eq("tenant_id", viewer.tenant_id)
        return all_of(self.people(viewer), one_of("role", self._contact_roles()))

    def follower_visibility(self, follower: Person) -> Visibility:
        """How public the following of ``follower`` is: internal for agents (staff, a
        customer's own agents), public for contacts (whose colleagues may see who else
        hears of the ticket)."""
        internal = Action.SEE_INTERNAL_FIELDS in self.permissions.get(follower.role, frozenset())
        return Visibility.INTERNAL if internal else Visibility.PUBLIC

    def _contact_roles(self) -> list[Role]:
        """The roles that see nothing internal: a customer's contacts."""
        return [
            role
            for role, actions in self.permissions.items()
            if Action.SEE_INTERNAL_FIELDS not in actions
        ]

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
        """Whether the viewer may do ``action``: her role allows it; on the tickets of a
        project she holds other than as her own organisation's (``project_id``), what
        she holds it by allows it (a membership's role, a child's sharing, a grant's
        scope). Nothing on a project she may not read at all."""
        if project_id is not None:
            if viewer.project_ids is not None and project_id not in viewer.project_ids:
                return False
            held = viewer.held_on(project_id)
            if held is not None:
                return action in held.actions
        return action in self.permissions.get(viewer.role, frozenset())

    @staticmethod
    def desk_of(project: Project) -> UUID | None:
        """Whose agents serve ``project``: its organisation's, for its own desk; the
        provider's (None) otherwise."""
        return project.organisation_id if project.own_desk else None

    def works_desk(self, viewer: Viewer, desk: UUID | None) -> bool:
        """Whether the viewer is an agent of ``desk`` (``desk_of``), who may be assigned
        its tickets and assign them: the provider's staff for the provider's desk (None),
        a customer's own agents for its desk."""
        if Action.BE_ASSIGNED not in self.permissions.get(viewer.role, frozenset()):
            return False
        if desk is None:
            return viewer.is_staff
        return not viewer.is_staff and viewer.organisation_id == desk

    def may_see_billing(self, viewer: Viewer, organisation_id: UUID) -> bool:
        """Whether the viewer may see the billing (time entries, contracts, invoices) of
        ``organisation_id``: admins and agents of the provider, and the organisation's own
        customer admins; never guests, light agents, nor anyone through a grant (a grant
        has no billing scope, and a grantee belongs to another organisation)."""
        if viewer.role in (Role.ADMIN, Role.AGENT):
            return True
        return viewer.role_in(organisation_id) is Role.CUSTOMER_ADMIN

    def manages_contacts(self, viewer: Viewer) -> bool:
        """Whether the viewer manages anyone's contacts: admins, and customer admins (of
        her own organisation or through a membership)."""
        if self.may(viewer, Action.MANAGE_DIRECTORY):
            return True
        return any(
            self._member_may(viewer, o, Action.MANAGE_CONTACTS) for o in viewer.organisation_ids
        )

    def manages_contacts_of(self, viewer: Viewer, organisation_id: UUID) -> bool:
        """Whether the viewer may add, invite, deactivate and re-role the contacts (guests,
        customer admins) of ``organisation_id``: admins of any organisation, customer admins
        of their own."""
        if self.may(viewer, Action.MANAGE_DIRECTORY):
            return True
        return self._member_may(viewer, organisation_id, Action.MANAGE_CONTACTS)

    def sees_invitations_of(self, viewer: Viewer, organisation_id: UUID) -> bool:
        """Whether the viewer may read who of ``organisation_id`` was invited and how each
        invitation stands: staff (the organisation page of their desk), and those who
        manage the organisation's contacts."""
        return viewer.is_staff or self.manages_contacts_of(viewer, organisation_id)

    def manages_grants_of(self, viewer: Viewer, organisation_id: UUID) -> bool:
        """Whether the viewer may offer, accept requests for, decline and revoke grants of
        ``organisation_id``'s projects: admins for any organisation, customer admins for
        their own (so a grantee never re-delegates a project it only holds a grant to)."""
        if viewer.role is Role.ADMIN:
            return True
        return self._member_may(viewer, organisation_id, Action.MANAGE_GRANTS)

    def _member_may(self, viewer: Viewer, organisation_id: UUID, action: Action) -> bool:
        """Whether the viewer's role as a member of ``organisation_id`` allows ``action``
        (False when she is none)."""
        role = viewer.role_in(organisation_id)
        return role is not None and action in self.permissions.get(role, frozenset())

    def answers_for_grantee(self, viewer: Viewer, grantee: Grant) -> bool:
        """Whether the viewer speaks for the grantee of ``grantee``: the person herself, or
        a customer admin of the grantee organisation."""
        if grantee.grantee_person_id is not None:
            return grantee.grantee_person_id == viewer.person_id
        return (
            not viewer.is_staff
            and grantee.grantee_organisation_id is not None
            and self._member_may(viewer, grantee.grantee_organisation_id, Action.MANAGE_GRANTS)
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
                one_of("organisation_id", viewer.organisation_ids),
                one_of("grantee_organisation_id", viewer.organisation_ids),
                Eq("grantee_person_id", viewer.person_id),
            ),
        )

    def ticket_types(self, viewer: Viewer, *, above: Iterable[UUID] = ()) -> Predicate:
        """Ticket types the viewer may see and choose: staff every one of the tenant;
        others the provider's, their organisations' own, those an organisation ``above``
        one of theirs (its parents, read by the caller) shares down the tree, and those of
        the organisations whose projects they borrow, except confidential ones."""
        scope = Eq("tenant_id", viewer.tenant_id)
        if viewer.is_staff:
            return scope
        return all_of(
            scope,
            any_of(
                Eq("organisation_id", None),
                one_of("organisation_id", viewer.organisation_ids),
                all_of(Eq("shared", True), one_of("organisation_id", above)),
                all_of(Eq("confidential", False), one_of("organisation_id", viewer.borrowed_from)),
            ),
        )

    @staticmethod
    def type_fits(ticket_type: TicketType, chain: Sequence[UUID]) -> bool:
        """Whether ``ticket_type`` may be used in a project of the organisation whose
        ``chain`` (it and its parents, nearest first) is given: the provider's types
        everywhere, an organisation's own in its projects, and shared ones below it too."""
        owner = ticket_type.organisation_id
        if owner is None or (chain and chain[0] == owner):
            return True
        return ticket_type.shared and owner in chain

    def may_see_internal(self, viewer: Viewer, project_id: UUID | None = None) -> bool:
        """Whether internal work (assignee, group, internal fields, internal notes of one's
        own organisation) belongs in this viewer's projections: on ``project_id``'s
        tickets, or (without it) anywhere she sees internal work at all."""
        return self.may(viewer, Action.SEE_INTERNAL_FIELDS, project_id)

    def internal_projects(self, viewer: Viewer) -> frozenset[UUID] | None:
        """The projects on whose tickets the viewer sees internal work: None for all she
        reads (staff, or a customer's agent whose organisation has only its own desk)."""
        if not self.may_see_internal(viewer):
            return frozenset()
        if viewer.project_ids is None:
            return None
        found = frozenset(
            p for p in viewer.project_ids if self.may(viewer, Action.SEE_INTERNAL_FIELDS, p)
        )
        return None if found == viewer.project_ids else found


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


DEFAULT_POLICY = Policy()

__all__ = [
    "CHILD_ACTIONS",
    "DEFAULT_POLICY",
    "PERMISSIONS",
    "SCOPE_ACTIONS",
    "TRUE",
    "Access",
    "Action",
    "DirectoryReader",
    "HeldProject",
    "Policy",
    "Viewer",
]
