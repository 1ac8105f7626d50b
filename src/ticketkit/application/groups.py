"""Agent groups and ticket followers: who works on a ticket and who hears of it.

A group is a team of agents that serves projects. A new ticket goes to the oldest group
serving its project, and the group's members hear of it while nobody is assigned (see
``tickets.create_ticket`` and ``Session.record``). Followers hear of every event of a
ticket that they may see: a requester adds colleagues of her own organisation, staff add
staff, and anyone may stop following.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from uuid import UUID

import attrs

from ticketkit.application import validation as check
from ticketkit.application.directory import organisation_of
from ticketkit.application.session import Session
from ticketkit.application.views import PersonView, project_person
from ticketkit.domain.model import Group, OrganisationKind, Person, Ticket
from ticketkit.errors import FieldError, NotFound, PermissionDenied, ValidationError
from ticketkit.policy.rules import Action

#: The most members, or served projects, one group may have.
MAX_GROUP_SIZE = 1000


# -- groups ---------------------------------------------------------------------------------


def create_group(
    s: Session,
    *,
    name: str,
    member_ids: Iterable[UUID] = (),
    project_ids: Iterable[UUID] = (),
    organisation_id: UUID | None = None,
) -> Group:
    """Add an agent group with its members (people who may be assigned tickets) and the
    projects it serves (admins only): the provider's, or (``organisation_id``) a
    customer's own desk's, with its agents, serving its own-desk projects."""
    s.require(Action.MANAGE_DIRECTORY)
    errors = check.name_errors("name", name)
    if check.ident(errors, organisation_id, "organisation_id", optional=True) and (
        organisation_id is not None
    ):
        org = organisation_of(s, organisation_id, "organisation_id")
        if org.kind is OrganisationKind.PROVIDER:
            errors.append(FieldError("organisation_id", "the provider's groups have none"))
    desk = organisation_id if isinstance(organisation_id, UUID) else None
    members = _members(s, member_ids, desk, errors)
    projects = _projects(s, project_ids, desk, errors)
    check.raise_if(errors)
    group = Group(
        tenant_id=s.tenant_id,
        id=s.new_id(),
        name=name.strip(),
        member_ids=members,
        project_ids=projects,
        created_at=s.now,
        organisation_id=desk,
    )
    s.uow.groups.add(group)
    s.directory_changed()
    return group


def update_group(
    s: Session,
    group_id: UUID,
    *,
    name: str | None = None,
    member_ids: Iterable[UUID] | None = None,
    project_ids: Iterable[UUID] | None = None,
) -> Group:
    """Rename a group, or replace its members or served projects (admins only); a part
    left at None stays as it is. Tickets already with the group stay with it."""
    s.require(Action.MANAGE_DIRECTORY)
    group = _visible_group(s, group_id)
    errors: list[FieldError] = []
    changes: dict[str, object] = {}
    if name is not None:
        errors += check.name_errors("name", name)
        changes["name"] = name.strip() if isinstance(name, str) else name
    if member_ids is not None:
        changes["member_ids"] = _members(s, member_ids, group.organisation_id, errors)
    if project_ids is not None:
        changes["project_ids"] = _projects(s, project_ids, group.organisation_id, errors)
    check.raise_if(errors)
    updated = attrs.evolve(group, **changes)  # type: ignore[arg-type]
    if updated != group:
        s.uow.groups.save(updated)
        s.directory_changed()
    return updated


def get_group(s: Session, group_id: UUID) -> Group:
    """One agent group; ``NotFound`` also for those who may not see groups (customers)."""
    return _visible_group(s, group_id)


def list_groups(
    s: Session, *, project_id: UUID | None = None, member_id: UUID | None = None
) -> list[Group]:
    """The agent groups the person may see (staff: all; customers: none), by name; only
    those serving ``project_id`` or with ``member_id`` among their members, when given."""
    errors: list[FieldError] = []
    for field, value in (("project_id", project_id), ("member_id", member_id)):
        if value is not None and not isinstance(value, UUID):
            errors.append(FieldError(field, "must be a UUID"))
    check.raise_if(errors)
    found = [
        g
        for g in s.uow.groups.list(s.actor.groups)
        if (project_id is None or project_id in g.project_ids)
        and (member_id is None or member_id in g.member_ids)
    ]
    return sorted(found, key=lambda g: (g.name, g.id))


def _visible_group(s: Session, group_id: object) -> Group:
    check.require_ident(group_id, "group_id")
    group = s.group(group_id) if isinstance(group_id, UUID) else None
    if group is None or not s.actor.reads("groups", group):
        raise NotFound("Group", group_id)
    return group


def _ids(value: object, field: str, errors: list[FieldError]) -> list[UUID]:
    """``value`` as a list of distinct ids (at most ``MAX_GROUP_SIZE``), or notes why not."""
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        errors.append(FieldError(field, "must be a list of ids"))
        return []
    items = list(itertools.islice(value, MAX_GROUP_SIZE + 1))
    if len(items) > MAX_GROUP_SIZE:
        errors.append(FieldError(field, f"must name at most {MAX_GROUP_SIZE} ids"))
        return []
    if not all(isinstance(i, UUID) for i in items):
        errors.append(FieldError(field, "must be a list of ids"))
        return []
    return list(dict.fromkeys(items))


def _members(
    s: Session, value: object, desk: UUID | None, errors: list[FieldError]
) -> frozenset[UUID]:
    """Members: active people of the tenant who are agents of the group's ``desk`` (the
    provider's staff, or a customer's own agents)."""
    ids = _ids(value, "member_ids", errors)
    s.prefetch(ids)
    for ident in ids:
        found = s.access(ident)
        if found is None or not found.may(Action.BE_ASSIGNED):
            errors.append(FieldError("member_ids", f"{ident} is no one who may be assigned"))
        elif not s.policy.works_desk(found.viewer, desk):
            errors.append(FieldError("member_ids", f"{ident} works at another desk"))
    return frozenset(ids)


def _projects(
    s: Session, value: object, desk: UUID | None, errors: list[FieldError]
) -> frozenset[UUID]:
    """Served projects: projects of the tenant that the group's ``desk`` serves."""
    ids = _ids(value, "project_ids", errors)
    found = s.uow.projects.get_many(ids)
    for ident in ids:
        project = found.get(ident)
        if project is None:
            errors.append(FieldError("project_ids", f"{ident} is no project"))
        elif s.policy.desk_of(project) != desk:
            errors.append(FieldError("project_ids", f"{ident} is served by another desk"))
    return frozenset(ids)


# -- followers ------------------------------------------------------------------------------


def list_followers(s: Session, ticket_id: UUID) -> list[PersonView]:
    """The ticket's followers the person may know of, in the order they started following:
    staff see all; customers the followers who are no staff."""
    ticket = s.visible_ticket(ticket_id)
    return _followers_seen(s, s.uow.followers.of(ticket.id))


def add_follower(s: Session, ticket_id: UUID, person_id: UUID) -> list[PersonView]:
    """Let ``person_id`` hear of what they may see of the ticket from now on. Staff add
    staff; a customer who requested or follows the ticket adds colleagues of her own
    organisation. Adding a follower twice changes nothing. Returns the followers as the
    acting person may see them."""
    check.require_ident(person_id, "person_id")
    ticket = s.visible_ticket(ticket_id, for_update=True)
    followers = s.uow.followers.of(ticket.id)
    person = _follower(s, ticket, person_id, followers, adding=True)
    if person.id in followers:
        return _followers_seen(s, followers)
    after = [*followers, person.id]
    _change(s, ticket, person, after, adding=True)
    s.uow.followers.add(ticket.id, person.id, at=s.now)
    return _followers_seen(s, after)


def remove_follower(s: Session, ticket_id: UUID, person_id: UUID) -> list[PersonView]:
    """Stop ``person_id`` following the ticket. Anyone may stop following; staff may
    remove any follower, a customer (who requested or follows the ticket) colleagues of
    her own organisation. Removing someone who does not follow changes nothing."""
    check.require_ident(person_id, "person_id")
    ticket = s.visible_ticket(ticket_id, for_update=True)
    followers = s.uow.followers.of(ticket.id)
    person = _follower(s, ticket, person_id, followers, adding=False)
    if person.id not in followers:
        return _followers_seen(s, followers)
    after = [p for p in followers if p != person.id]
    _change(s, ticket, person, after, adding=False)
    s.uow.followers.remove(ticket.id, person.id)
    return _followers_seen(s, after)


def _follower(
    s: Session, ticket: Ticket, person_id: UUID, followers: list[UUID], *, adding: bool
) -> Person:
    """The person to add or remove, once every rule about who may do so has passed."""
    person = s.uow.persons.get(person_id) if isinstance(person_id, UUID) else None
    if person is None or not s.actor.reads("people", person):
        raise NotFound("Person", person_id)
    if not adding and person.id == s.person.id:
        return person  # anyone may stop following
    s.require(Action.MANAGE_FOLLOWERS, "person_id", project_id=ticket.project_id)
    if s.actor.viewer.is_staff:
        if adding and not person.role.is_staff:
            raise ValidationError.single("person_id", "staff add only staff as followers")
    else:
        if s.person.id != ticket.requester_id and s.person.id not in followers:
            raise PermissionDenied("change the followers of this ticket", "person_id")
        if person.role.is_staff or person.organisation_id != s.person.organisation_id:
            raise ValidationError.single(
                "person_id", "customers add colleagues of their own organisation only"
            )
    if adding:
        found = s.access(person.id)
        if found is None:
            raise ValidationError.single("person_id", "is no longer active")
        if not found.reads("tickets", ticket):
            raise ValidationError.single("person_id", "cannot see this ticket")
    return person


def _change(s: Session, ticket: Ticket, person: Person, after: list[UUID], *, adding: bool) -> None:
    """Record a follower change on the ticket: its event (internal for a staff follower,
    public for a customer), a new version, and the notifications it causes."""
    base = ticket.version
    visibility = s.policy.follower_visibility(person)
    by = s.stamp_on(ticket.project_id)
    event = (
        ticket.follow(person.id, visibility, by=by)
        if adding
        else ticket.unfollow(person.id, visibility, by=by)
    )
    ticket.new_version([event], s.now)
    s.uow.tickets.update(ticket, expected_version=base)
    s.record(ticket, [event], s.ticket_type(ticket.type_id), followers=after)


def _followers_seen(s: Session, followers: list[UUID]) -> list[PersonView]:
    people = s.uow.persons.get_many(followers)
    shown = []
    for ident in followers:
        person = people.get(ident)
        if person is not None and s.actor.reads("followers", person):
            shown.append(project_person(person, s.actor))
    return shown
