"""People in several organisations (issue 18, point 4): a consultant who belongs to two
customers, with the organisation chosen per ticket by the project it is opened in.

A person belongs to her own organisation and, through memberships, to further customer or
partner organisations, each with a contact role of its own (guest or customer admin). What
a membership lets her read and do is the policy's (``policy/rules.py``): the projects of
the membership's organisation, with the membership's role and nothing of her other
organisations. Nothing here decides access.

- Admins add memberships: making someone a member of an organisation gives her its
  tickets, which only the provider may decide for a person of another organisation.
- Admins, and the customer admins of the membership's organisation, end them (and change
  the role of one through ``change_membership_role``); the person herself may leave.
- Memberships end rather than disappear, so the history of who belonged where stays.

Every check runs before the first write: bad input is a ``ValidationError`` naming the
field, and writes nothing.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import attrs

from ticketkit.application import validation as check
from ticketkit.application.directory import CONTACT_ROLES, organisation_of
from ticketkit.application.session import Session
from ticketkit.application.views import PersonView, project_person
from ticketkit.domain.memberships import Membership
from ticketkit.domain.model import OrganisationKind, Person, Role
from ticketkit.errors import FieldError, NotFound, PermissionDenied, ValidationError
from ticketkit.policy.predicates import Eq, all_of
from ticketkit.policy.rules import Action


@attrs.frozen(kw_only=True)
class MembershipView:
    """A membership in force as a members page shows it: who, where, with which role."""

    id: UUID
    person: PersonView
    organisation_id: UUID
    role: Role
    created_at: datetime


def add_membership(
    s: Session, person_id: UUID, organisation_id: UUID, role: Role | str = Role.GUEST
) -> Membership:
    """Make a contact (a guest or customer admin) a member of a further customer or partner
    organisation, with a contact role there (admins only)."""
    s.require(Action.MANAGE_DIRECTORY)
    errors: list[FieldError] = []
    check.ident(errors, person_id, "person_id")
    check.ident(errors, organisation_id, "organisation_id")
    new_role = check.enum_value(Role, role, "role", errors)
    if new_role is not None and new_role not in CONTACT_ROLES:
        errors.append(FieldError("role", "a membership's role is guest or customer admin"))
    check.raise_if(errors)
    assert new_role is not None
    person = _person(s, person_id)
    org = organisation_of(s, organisation_id, "organisation_id")
    if person.role not in CONTACT_ROLES:
        errors.append(FieldError("person_id", "only contacts belong to further organisations"))
    elif not person.active:
        errors.append(FieldError("person_id", "is deactivated"))
    if org.kind not in (OrganisationKind.CUSTOMER, OrganisationKind.PARTNER):
        errors.append(FieldError("organisation_id", "must be a customer or partner"))
    elif org.id == person.organisation_id:
        errors.append(FieldError("organisation_id", "is the person's own organisation"))
    elif _in_force(s, person.id, org.id) is not None:
        errors.append(FieldError("organisation_id", "the person is a member already"))
    check.raise_if(errors)
    membership = Membership(
        tenant_id=s.tenant_id,
        id=s.new_id(),
        person_id=person.id,
        organisation_id=org.id,
        role=new_role,
        created_by=s.person.id,
        created_at=s.now,
    )
    s.uow.memberships.add(membership)
    s.directory_changed()
    return membership


def end_membership(s: Session, person_id: UUID, organisation_id: UUID) -> Membership:
    """End a person's membership of an organisation: admins, the organisation's customer
    admins, and the person herself. Her access to its tickets ends at once."""
    membership = _managed(s, person_id, organisation_id, leaving=True)
    ended = membership.end(by=s.person.id, at=s.now)
    s.uow.memberships.save(ended)
    s.directory_changed()
    return ended


def change_membership_role(
    s: Session, person_id: UUID, organisation_id: UUID, role: Role | str
) -> Membership:
    """Make a member a guest or a customer admin of the membership's organisation (admins,
    and its customer admins; not for oneself)."""
    errors: list[FieldError] = []
    new_role = check.enum_value(Role, role, "role", errors)
    if new_role is not None and new_role not in CONTACT_ROLES:
        errors.append(FieldError("role", "a membership's role is guest or customer admin"))
    check.raise_if(errors)
    assert new_role is not None
    membership = _managed(s, person_id, organisation_id, leaving=False)
    if membership.person_id == s.person.id:
        raise ValidationError.single("person_id", "nobody can change their own role")
    if membership.role is new_role:
        return membership
    changed = attrs.evolve(membership, role=new_role)
    s.uow.memberships.save(changed)
    s.directory_changed()
    return changed


def list_memberships(
    s: Session, *, person_id: UUID | None = None, organisation_id: UUID | None = None
) -> list[MembershipView]:
    """Memberships in force, of one person (oneself by default) or of one organisation: a
    person sees her own; admins and agents any; customer admins those of the organisations
    whose contacts they manage (with the members' e-mail addresses: they are its members)."""
    errors: list[FieldError] = []
    check.ident(errors, person_id, "person_id", optional=True)
    check.ident(errors, organisation_id, "organisation_id", optional=True)
    check.raise_if(errors)
    staff = s.actor.may(Action.SEE_INTERNAL_FIELDS) and s.actor.viewer.is_staff
    if organisation_id is not None:
        if not staff and not s.policy.manages_contacts_of(s.actor.viewer, organisation_id):
            raise PermissionDenied("list this organisation's members", "organisation_id")
        found = s.uow.memberships.list(
            all_of(Eq("organisation_id", organisation_id), Eq("ended_at", None))
        )
    else:
        whose = s.person.id if person_id is None else person_id
        if whose != s.person.id and not staff:
            person = s.uow.persons.get(whose)
            if person is None or not s.actor.reads("people", person):
                raise NotFound("Person", whose)
            found = [
                m
                for m in s.uow.memberships.of_person(whose)
                if s.policy.manages_contacts_of(s.actor.viewer, m.organisation_id)
            ]
        else:
            found = s.uow.memberships.of_person(whose)
    people = s.uow.persons.get_many({m.person_id for m in found})
    views = []
    for m in sorted(found, key=lambda m: (m.created_at, m.id)):
        person = people.get(m.person_id)
        if person is None:  # pragma: no cover - memberships refer to people who exist
            continue
        shown = attrs.evolve(project_person(person, s.actor), email=person.email)
        views.append(
            MembershipView(
                id=m.id,
                person=shown,
                organisation_id=m.organisation_id,
                role=m.role,
                created_at=m.created_at,
            )
        )
    return views


# -- shared steps -----------------------------------------------------------------------------


def _person(s: Session, person_id: UUID) -> Person:
    person = s.uow.persons.get(person_id)
    if person is None or not s.actor.reads("people", person):
        raise NotFound("Person", person_id)
    return person


def _in_force(s: Session, person_id: UUID, organisation_id: UUID) -> Membership | None:
    for m in s.uow.memberships.of_person(person_id):
        if m.organisation_id == organisation_id:
            return m
    return None


def _managed(s: Session, person_id: UUID, organisation_id: UUID, *, leaving: bool) -> Membership:
    """The membership in force of ``person_id`` in ``organisation_id``, if the acting
    person may end or change it: admins, the organisation's customer admins, and (when
    ``leaving``) the member herself. ``NotFound`` when there is none she may know of."""
    errors: list[FieldError] = []
    check.ident(errors, person_id, "person_id")
    check.ident(errors, organisation_id, "organisation_id")
    check.raise_if(errors)
    herself = leaving and person_id == s.person.id
    if not herself and not s.policy.manages_contacts_of(s.actor.viewer, organisation_id):
        raise PermissionDenied("manage this organisation's members", "organisation_id")
    found = _in_force(s, person_id, organisation_id)
    if found is None:
        raise NotFound("Membership", f"{person_id}@{organisation_id}")
    return found


__all__ = [
    "MembershipView",
    "add_membership",
    "change_membership_role",
    "end_membership",
    "list_memberships",
]
