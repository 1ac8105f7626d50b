"""Raw domain records for storage-level tests: a seeded tenant, tickets, comments and
outbox rows."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime
from uuid import UUID

import attrs

from ticketkit.domain import Comment as CommentRecord
from ticketkit.domain import (
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    Project,
    Role,
    StatusCategory,
    Tenant,
    Ticket,
    TicketType,
    Visibility,
    default_workflow,
)
from ticketkit.domain.notifications import Notification
from ticketkit.ports import Storage, UnitOfWork

NOW = datetime(2026, 5, 22, 12, 0, tzinfo=UTC)


@attrs.frozen
class Seeded:
    tenant: UUID
    org: UUID
    person: UUID
    project: UUID
    type: UUID


def person(tenant: UUID, org: UUID, role: Role, ident: UUID | None = None) -> Person:
    """A person of ``org`` with ``role`` (a fresh id unless one is given)."""
    ident = ident or uuid.uuid4()
    return Person(
        tenant_id=tenant,
        id=ident,
        organisation_id=org,
        name=role.value.title(),
        email=f"{role.value}-{ident.hex[:8]}@x.example",
        role=role,
        created_at=NOW,
    )


def organisation(
    tenant: UUID, kind: OrganisationKind = OrganisationKind.CUSTOMER, ident: UUID | None = None
) -> Organisation:
    """An organisation of ``kind`` (a fresh id unless one is given)."""
    return Organisation(
        tenant_id=tenant,
        id=ident or uuid.uuid4(),
        name=kind.value.title(),
        kind=kind,
        created_at=NOW,
    )


_PROJECT_NUMBERS = itertools.count(1)


def project(tenant: UUID, org: UUID, name: str = "J", ident: UUID | None = None) -> Project:
    """A project of ``org`` (a fresh id unless one is given; a number no other has)."""
    return Project(
        tenant_id=tenant,
        id=ident or uuid.uuid4(),
        organisation_id=org,
        name=name,
        number=next(_PROJECT_NUMBERS),
        created_at=NOW,
    )


def seed(storage: Storage) -> Seeded:
    t = uuid.uuid4()
    org, admin, ops, type_ = (uuid.uuid4() for _ in range(4))
    with storage.unit_of_work(t) as uow:
        uow.add_tenant(Tenant(id=t, name="T", created_at=NOW))
        uow.organisations.add(organisation(t, OrganisationKind.PROVIDER, org))
        uow.persons.add(person(t, org, Role.ADMIN, admin))
        uow.projects.add(project(t, org, "Ops", ops))
        uow.ticket_types.add(
            TicketType(
                tenant_id=t, id=type_, name="Incident", workflow=default_workflow(), created_at=NOW
            )
        )
        uow.commit()
    return Seeded(t, org, admin, ops, type_)


def customer(uow: UnitOfWork, s: Seeded, *project_names: str) -> tuple[UUID, UUID, list[Project]]:
    """Add a customer organisation with one guest and the named projects to ``uow``;
    return the organisation's id, the guest's id and the projects."""
    org = organisation(s.tenant)
    guest = person(s.tenant, org.id, Role.GUEST)
    uow.organisations.add(org)
    uow.persons.add(guest)
    projects = [project(s.tenant, org.id, n) for n in project_names]
    for p in projects:
        uow.projects.add(p)
    return org.id, guest.id, projects


def ticket(s: Seeded, number: int, **kw: object) -> Ticket:
    values: dict[str, object] = {
        "tenant_id": s.tenant,
        "id": uuid.uuid4(),
        "number": number,
        "project_id": s.project,
        "type_id": s.type,
        "title": f"T{number}",
        "description": "",
        "status": "new",
        "status_category": StatusCategory.NEW,
        "priority": Priority.NORMAL,
        "requester_id": s.person,
        "created_at": NOW,
        "updated_at": NOW,
        "public_updated_at": NOW,
    }
    values.update(kw)
    return Ticket(**values)  # type: ignore[arg-type]


def comment(
    s: Seeded, ticket_id: UUID, vis: Visibility = Visibility.PUBLIC, at: datetime = NOW
) -> CommentRecord:
    return CommentRecord(
        tenant_id=s.tenant,
        id=uuid.uuid4(),
        ticket_id=ticket_id,
        author_id=s.person,
        organisation_id=s.org,
        body="b",
        visibility=vis,
        created_at=at,
    )


def notification(s: Seeded, ticket_id: UUID, created_at: datetime = NOW) -> Notification:
    """A pending outbox row for the seeded person about ``ticket_id``."""
    return Notification(
        tenant_id=s.tenant,
        id=uuid.uuid4(),
        event_id=uuid.uuid4(),
        ticket_id=ticket_id,
        recipient_id=s.person,
        created_at=created_at,
        updated_at=NOW,
    )
