"""What the policy knows of the acting person: the actions (``Action``), which of them each
role, grant scope and shared child organisation allows (``PERMISSIONS``, ``SCOPE_ACTIONS``,
``CHILD_ACTIONS``), and the ``Viewer`` that ``Policy.viewer`` (``rules.py``) resolves for
one call, with the projects she holds beyond her own organisation (``HeldProject``).
"""

from __future__ import annotations

import enum
from uuid import UUID

import attrs

from ticketkit.domain.grants import GrantScope
from ticketkit.domain.model import Role


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

#: The role → permission matrix. Reading is governed by the policy's visibility predicates
#: (``rules.py``).
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.AGENT: _AGENT,
    Role.LIGHT_AGENT: _LIGHT_AGENT,
    Role.CUSTOMER_ADMIN: _CUSTOMER | {Action.MANAGE_CONTACTS, Action.MANAGE_GRANTS},
    Role.GUEST: _CUSTOMER,
    Role.CUSTOMER_AGENT: _CUSTOMER_AGENT,
}


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


__all__ = [
    "CHILD_ACTIONS",
    "PERMISSIONS",
    "SCOPE_ACTIONS",
    "Action",
    "HeldProject",
    "Viewer",
]
