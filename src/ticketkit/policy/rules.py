"""Who may see and do what — defined once, as data: the ``Policy``.

``Policy`` turns a ``Viewer`` (``viewers.py``: the facts about the acting person, resolved
from current storage state on every call, never cached across calls) into predicates over
tickets, comments and events, and answers action checks; ``Access`` (``access.py``) binds
it to one person for one call. The names of both modules are re-exported here.

Everything beyond one's own organisation arrives as more facts when the viewer is resolved,
not as new code paths: further memberships (``domain/memberships.py``), the projects of
child organisations a parent shares (the setting ``sharing.child_organisations``), and
delegation grants (``domain/grants.py``, judged with the call's ``now``). Each project she
holds so carries what she may do there (``HeldProject``): the role of the membership it
comes through, narrowed by the sharing or the grant's scope. So what a person sees and does
on one organisation's tickets depends on her standing there only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Protocol
from uuid import UUID

import attrs

from ticketkit.domain.grants import Grant, GrantTerms
from ticketkit.domain.memberships import Membership
from ticketkit.domain.model import Person, Project, Role, TicketType, Visibility
from ticketkit.domain.settings import ChildSharing
from ticketkit.policy.access import Access, Rule
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
    one_of,
)
from ticketkit.policy.viewers import (
    CHILD_ACTIONS,
    PERMISSIONS,
    SCOPE_ACTIONS,
    Action,
    HeldProject,
    Viewer,
)

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
        check = compile_check(rule)

        def count(tally: Mapping[tuple[Visibility, UUID], int]) -> int:
            total = 0
            for group, n in tally.items():
                visible = decided.get(group)
                if visible is None:
                    visible = decided[group] = check(
                        _CommentGroup(viewer.tenant_id, group[0], group[1])
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
    "Rule",
    "Viewer",
]
