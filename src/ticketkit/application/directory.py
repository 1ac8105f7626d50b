"""Directory operations: tenants, organisations, people, projects and ticket types.

Each operation is a function of the call's ``Session`` and its arguments; ``HelpDesk`` and
``Batch`` run it in a session and commit. Changes to who belongs where end with
``Session.directory_changed``, so access resolved earlier in the call is worked out again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

import attrs

from ticketkit.application import validation as check
from ticketkit.application.session import Services, Session
from ticketkit.application.views import (
    PersonView,
    TicketTypeView,
    project_person,
    project_ticket_type,
)
from ticketkit.domain.fields import FieldSpec
from ticketkit.domain.invitations import Closed
from ticketkit.domain.model import (
    Organisation,
    OrganisationKind,
    Person,
    Project,
    Role,
    Tenant,
    TicketType,
)
from ticketkit.domain.text import MAX_BODY
from ticketkit.domain.workflow import Workflow, default_workflow
from ticketkit.errors import FieldError, NotFound, PermissionDenied, ValidationError
from ticketkit.policy.predicates import Eq, Predicate, all_of, evaluate, one_of
from ticketkit.policy.rules import Action
from ticketkit.ports.repositories import Storage

#: The most people one listing hands out.
MAX_PEOPLE = 200


@attrs.frozen(kw_only=True)
class Bootstrap:
    """What ``HelpDesk.bootstrap_tenant`` created."""

    tenant: Tenant
    provider: Organisation
    admin: Person


def bootstrap_tenant(
    services: Services,
    storage: Storage,
    *,
    name: str,
    provider_name: str,
    admin_name: str,
    admin_email: str,
) -> Bootstrap:
    """A tenant with its provider organisation and first admin: the one operation without
    an acting person, since it is how the first person comes to be."""
    errors = check.name_errors("name", name) + check.name_errors("provider_name", provider_name)
    errors += check.name_errors("admin_name", admin_name)
    check.email(errors, admin_email, "admin_email")
    check.raise_if(errors)
    now = services.clock.now()
    tenant = Tenant(id=services.new_id(), name=name.strip(), created_at=now)
    provider = Organisation(
        tenant_id=tenant.id,
        id=services.new_id(),
        name=provider_name.strip(),
        kind=OrganisationKind.PROVIDER,
        created_at=now,
    )
    admin = Person(
        tenant_id=tenant.id,
        id=services.new_id(),
        organisation_id=provider.id,
        name=admin_name.strip(),
        email=admin_email.strip().lower(),
        role=Role.ADMIN,
        created_at=now,
    )
    with storage.unit_of_work(tenant.id) as uow:
        uow.add_tenant(tenant)
        uow.organisations.add(provider)
        uow.persons.add(admin)
        uow.commit()
    return Bootstrap(tenant=tenant, provider=provider, admin=admin)


def create_organisation(
    s: Session,
    *,
    name: str,
    kind: OrganisationKind | str = OrganisationKind.CUSTOMER,
    parent_id: UUID | None = None,
) -> Organisation:
    """Add a customer, partner or vendor organisation (admins only)."""
    s.require(Action.MANAGE_DIRECTORY)
    errors = check.name_errors("name", name)
    org_kind = check.enum_value(OrganisationKind, kind, "kind", errors)
    if org_kind is OrganisationKind.PROVIDER:
        errors.append(FieldError("kind", "a tenant has exactly one provider organisation"))
    if check.ident(errors, parent_id, "parent_id", optional=True) and parent_id is not None:
        organisation_of(s, parent_id, "parent_id")
    check.raise_if(errors)
    assert org_kind is not None
    org = Organisation(
        tenant_id=s.tenant_id,
        id=s.new_id(),
        name=name.strip(),
        kind=org_kind,
        parent_id=parent_id,
        created_at=s.now,
    )
    s.uow.organisations.add(org)
    return org


#: The roles of a customer organisation's people: its contacts, which its customer admins
#: manage (see ``Policy.manages_contacts_of``).
CONTACT_ROLES = frozenset({Role.GUEST, Role.CUSTOMER_ADMIN})
#: The roles whose people log in by a magic-link invitation: a customer's people.
INVITED_ROLES = CONTACT_ROLES | {Role.CUSTOMER_AGENT}


def add_person(
    s: Session, *, organisation_id: UUID, name: str, email: str, role: Role | str
) -> Person:
    """Add a person to an organisation: admins anyone (staff roles belong to the provider),
    customer admins a guest or customer admin of their own organisation."""
    admin = s.actor.may(Action.MANAGE_DIRECTORY)
    if not admin:
        if not s.policy.manages_contacts(s.actor.viewer):
            raise PermissionDenied(Action.MANAGE_CONTACTS.value.replace("_", " "))
        check.require_ident(organisation_id, "organisation_id")
        if not s.policy.manages_contacts_of(s.actor.viewer, organisation_id):
            raise PermissionDenied("add people to another organisation", "organisation_id")
    org = organisation_of(s, organisation_id, "organisation_id")
    errors = check.name_errors("name", name)
    check.email(errors, email)
    if isinstance(email, str) and all(e.field != "email" for e in errors):
        _email_is_free(s, email.strip().lower(), errors)
    person_role = check.enum_value(Role, role, "role", errors)
    if person_role is not None:
        provider = org.kind is OrganisationKind.PROVIDER
        if person_role.is_staff and not provider:
            errors.append(FieldError("role", "staff roles belong to the provider"))
        if not person_role.is_staff and provider:
            errors.append(FieldError("role", "the provider's people are staff"))
        if not admin and person_role not in CONTACT_ROLES:
            errors.append(FieldError("role", "customer admins add guests and customer admins"))
    check.raise_if(errors)
    assert person_role is not None
    person = Person(
        tenant_id=s.tenant_id,
        id=s.new_id(),
        organisation_id=org.id,
        name=name.strip(),
        email=email.strip().lower(),
        role=person_role,
        created_at=s.now,
    )
    s.uow.persons.add(person)
    s.directory_changed()
    return person


def deactivate_person(s: Session, person_id: UUID) -> Person:
    """Take away a person's access at once (admins: anyone; customer admins: their own
    organisation's contacts): every call of theirs is refused from now on, and their open
    invitations are withdrawn; their history stays."""
    person = managed_person(s, person_id, contacts_only=False)
    if person.id == s.person.id:
        raise ValidationError.single("person_id", "nobody can deactivate themselves")
    updated = attrs.evolve(person, active=False)
    s.uow.persons.save(updated)
    s.uow.invitations.close_open(person.id, Closed.WITHDRAWN, at=s.now)
    s.directory_changed()
    return updated


def change_contact_role(s: Session, person_id: UUID, role: Role | str) -> Person:
    """Make a contact a guest or a customer admin (admins, and customer admins for their own
    organisation's contacts; not oneself)."""
    person = managed_person(s, person_id, contacts_only=True)
    errors: list[FieldError] = []
    new_role = check.enum_value(Role, role, "role", errors)
    if new_role is not None and new_role not in CONTACT_ROLES:
        errors.append(FieldError("role", "a contact is a guest or a customer admin"))
    check.raise_if(errors)
    assert new_role is not None
    if person.id == s.person.id:
        raise ValidationError.single("person_id", "nobody can change their own role")
    if new_role is person.role:
        return person
    updated = attrs.evolve(person, role=new_role)
    s.uow.persons.save(updated)
    s.directory_changed()
    return updated


def managed_person(s: Session, person_id: object, *, contacts_only: bool) -> Person:
    """The person ``person_id`` if the acting person manages them: admins anyone of the
    tenant (only contacts where ``contacts_only``), customer admins the contacts of their
    own organisation. ``NotFound`` for someone they may not look up, ``PermissionDenied``
    for someone they may see but not manage."""
    if not s.policy.manages_contacts(s.actor.viewer):
        raise PermissionDenied(Action.MANAGE_CONTACTS.value.replace("_", " "))
    check.require_ident(person_id, "person_id")
    assert isinstance(person_id, UUID)
    person = s.uow.persons.get(person_id)
    if person is None or not s.actor.reads("people", person):
        raise NotFound("Person", person_id)
    admin = s.actor.may(Action.MANAGE_DIRECTORY)
    if not s.policy.manages_contacts_of(s.actor.viewer, person.organisation_id) or (
        (contacts_only or not admin) and person.role not in CONTACT_ROLES
    ):
        raise PermissionDenied("manage this person", "person_id")
    return person


def create_project(
    s: Session, *, organisation_id: UUID, name: str, own_desk: bool = False
) -> Project:
    """Add a project (a ticket queue) owned by an organisation (admins only): served by the
    provider, or by the organisation's ``own_desk`` (its customer agents)."""
    s.require(Action.MANAGE_DIRECTORY)
    org = organisation_of(s, organisation_id, "organisation_id")
    errors = check.name_errors("name", name)
    check.flag(errors, own_desk, "own_desk")
    if own_desk is True and org.kind is OrganisationKind.PROVIDER:
        errors.append(FieldError("own_desk", "the provider's projects are its desk's already"))
    check.raise_if(errors)
    project = Project(
        tenant_id=s.tenant_id,
        id=s.new_id(),
        organisation_id=organisation_id,
        name=name.strip(),
        number=s.uow.projects.next_number(),
        created_at=s.now,
        own_desk=own_desk,
    )
    s.uow.projects.add(project)
    s.directory_changed()
    return project


def create_ticket_type(
    s: Session,
    *,
    name: str,
    fields: Iterable[FieldSpec] = (),
    description_template: str = "",
    workflow: Workflow | None = None,
    organisation_id: UUID | None = None,
    shared: bool = False,
    confidential: bool = False,
) -> TicketType:
    """Define a kind of ticket: custom fields, description template, workflow; the
    provider's for everyone, or one organisation's own (``organisation_id``), which may be
    ``shared`` down its tree or ``confidential`` (see ``TicketType``). Admins only."""
    s.require(Action.MANAGE_DIRECTORY)
    errors = check.name_errors("name", name)
    check.text(errors, "description_template", description_template, MAX_BODY, allow_empty=True)
    specs = check.field_specs(errors, fields)
    check.instance(errors, workflow, Workflow, "workflow", optional=True)
    check.flag(errors, shared, "shared")
    check.flag(errors, confidential, "confidential")
    if check.ident(errors, organisation_id, "organisation_id", optional=True):
        if organisation_id is not None:
            organisation_of(s, organisation_id, "organisation_id")
        elif confidential is True:
            errors.append(FieldError("confidential", "only an organisation's own type can be"))
        elif shared is True:
            errors.append(FieldError("shared", "the provider's types are everyone's already"))
    if confidential is True and shared is True:
        errors.append(FieldError("shared", "a confidential type is never shared"))
    check.raise_if(errors)
    ticket_type = TicketType(
        tenant_id=s.tenant_id,
        id=s.new_id(),
        name=name.strip(),
        fields=specs,
        description_template=description_template,
        workflow=workflow or default_workflow(),
        created_at=s.now,
        organisation_id=organisation_id,
        shared=shared,
        confidential=confidential,
    )
    s.uow.ticket_types.add(ticket_type)
    return ticket_type


def usable_type(s: Session, type_id: UUID, project: Project) -> TicketType:
    """The ticket type ``type_id`` for a new ticket in ``project``: one the acting person
    may see (``NotFound`` otherwise, as for a type that does not exist) and that fits the
    project's organisation (a ``ValidationError`` naming ``type_id`` otherwise)."""
    ticket_type = s.ticket_type(type_id)
    if ticket_type.organisation_id is None:
        return ticket_type  # the provider's: everyone's, in every project
    if not evaluate(_type_rule(s), ticket_type):
        raise NotFound("TicketType", type_id)
    chain = s.uow.access.chain_of(project.organisation_id)
    if not s.policy.type_fits(ticket_type, chain):
        raise ValidationError.single("type_id", "is not a type of this project's organisation")
    return ticket_type


def _type_rule(s: Session) -> Predicate:
    """The ticket types the acting person may see (``Policy.ticket_types``), with the
    parents of her organisations read for the types they share down."""
    viewer = s.actor.viewer
    above: set[UUID] = set()
    if not viewer.is_staff:
        for org in viewer.organisation_ids:
            above.update(s.uow.access.chain_of(org)[1:])
    return s.policy.ticket_types(viewer, above=above)


def get_person(s: Session, person_id: UUID) -> PersonView:
    """A person of the tenant as the acting person may see them: customers see only people
    of their own organisation and staff (whose names, not e-mails, appear on their
    tickets)."""
    check.require_ident(person_id, "person_id")
    person = s.uow.persons.get(person_id)
    if person is None or not s.actor.reads("people", person):
        raise NotFound("Person", person_id)
    return project_person(person, s.actor)


def list_people(
    s: Session,
    *,
    organisation_id: UUID | None = None,
    email: str | None = None,
    assignable: bool = False,
    limit: int = MAX_PEOPLE,
) -> list[PersonView]:
    """The people the acting person may look up, by name: members of an organisation, the
    person with an e-mail address, or those who may be assigned tickets (active ones).

    Customers find by e-mail only people of their own organisation: an address they may
    not see is not confirmed by a search either.
    """
    errors: list[FieldError] = []
    filters: list[Predicate] = [s.actor.people]
    if check.ident(errors, organisation_id, "organisation_id", optional=True) and (
        organisation_id is not None
    ):
        filters.append(Eq("organisation_id", organisation_id))
    if email is not None:
        check.email(errors, email)
        if isinstance(email, str):
            filters.append(Eq("email", email.strip().lower()))
        if not s.actor.viewer.is_staff:
            filters.append(Eq("organisation_id", s.person.organisation_id))
    check.flag(errors, assignable, "assignable")
    if assignable is True:
        filters += [one_of("role", s.policy.assignable_roles()), Eq("active", True)]
    check.limit(errors, limit, MAX_PEOPLE)
    check.raise_if(errors)
    found = sorted(s.uow.persons.list(all_of(*filters)), key=lambda p: (p.name, p.id))
    return [project_person(p, s.actor) for p in found[:limit]]


@attrs.frozen(kw_only=True)
class SeatReport:
    """Active people by role, and how many are billable seats: the provider's staff
    (admins, agents, light agents). Guests and customer admins are free."""

    by_role: Mapping[Role, int]
    billable: int
    free: int


def seat_report(s: Session) -> SeatReport:
    """How many seats the tenant uses (admins): active people counted by role."""
    s.require(Action.MANAGE_DIRECTORY)
    counts = dict.fromkeys(Role, 0)
    for person in s.uow.persons.list(Eq("active", True)):
        counts[person.role] += 1
    billable = sum(n for role, n in counts.items() if role.is_staff)
    return SeatReport(by_role=counts, billable=billable, free=sum(counts.values()) - billable)


def list_ticket_types(s: Session) -> list[TicketTypeView]:
    """The ticket types of the tenant, by name, each with the fields the person may see:
    what a form for a new ticket is built from."""
    found = s.uow.ticket_types.list(_type_rule(s))
    return [project_ticket_type(t, s.actor) for t in sorted(found, key=lambda t: (t.name, t.id))]


def get_organisation(s: Session, organisation_id: UUID) -> Organisation:
    """The organisation ``organisation_id`` if the person may look it up (the policy's
    ``organisations`` rule); ``NotFound`` otherwise, the same as for no such organisation."""
    org = organisation_of(s, organisation_id, "organisation_id")
    if not s.actor.reads("organisations", org):
        raise NotFound("Organisation", organisation_id)
    return org


def list_organisations(s: Session) -> list[Organisation]:
    """The organisations the person may look up, by name: staff all of the tenant,
    customers their own."""
    found = s.uow.organisations.list(s.actor.organisations)
    return sorted(found, key=lambda o: (o.name, o.id))


def list_projects(s: Session) -> list[Project]:
    """The projects the person may see and create tickets in, by name."""
    found = s.uow.projects.list(s.actor.projects)
    return sorted(found, key=lambda p: (p.name, p.id))


def get_project_by_number(s: Session, number: int) -> Project:
    """The project numbered ``number``, if the person may see it (NotFound otherwise, the
    same as for a number no project has)."""
    errors: list[FieldError] = []
    check.number(errors, number, "number")
    check.raise_if(errors)
    project = s.uow.projects.by_number(number)
    if project is None or not s.actor.reads("projects", project):
        raise NotFound("Project", f"#{number}")
    return project


def _email_is_free(s: Session, address: str, errors: list[FieldError]) -> None:
    """Notes an ``email`` error when a person of this tenant (active or not) has the
    address already. Addresses are stored lower-cased, so they compare as mail systems
    treat them in practice; a unique index backs this up against concurrent writers."""
    if s.uow.persons.list(Eq("email", address)):
        errors.append(FieldError("email", "another person of this tenant has this address"))


def organisation_of(s: Session, ident: object, field: str) -> Organisation:
    """An organisation of this tenant; ``NotFound`` for any other id, and a
    ``ValidationError`` naming ``field`` for a value that is no id at all (on every
    backend alike, before it reaches a driver)."""
    check.require_ident(ident, field)
    assert isinstance(ident, UUID)
    found = s.uow.organisations.get(ident)
    if found is None:
        raise NotFound("Organisation", ident)
    return found
