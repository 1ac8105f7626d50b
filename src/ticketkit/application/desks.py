"""Desks: who works a ticket, and moving it between them (seed 002, Taskfire).

Every project is served by a desk: the provider's, or, for a project that is its
organisation's ``own_desk``, the organisation's own agents (``Role.CUSTOMER_AGENT``) and
groups. A ticket's assignee and group belong to the desk serving its project
(``Policy.works_desk``), and a new or moved ticket goes to the oldest group serving the
project, assigned in that desk's name, so the internal event stays inside the desk's
organisation.

``move_ticket`` escalates a ticket from a customer's own desk to a project of the same
customer that the provider serves, or transfers it back: one ticket, one history, a public
``TicketMoved`` and the next number of the new project. Internal notes stay with the
organisation that wrote them, on either side of the move.
"""

from __future__ import annotations

from uuid import UUID

import attrs

from ticketkit.application import validation as check
from ticketkit.application.session import Session
from ticketkit.application.views import TicketView
from ticketkit.domain.events import Event
from ticketkit.domain.model import Group, OrganisationKind, Project, Stamp
from ticketkit.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationError
from ticketkit.policy.predicates import Eq
from ticketkit.policy.rules import Action


def require_desk_agent(s: Session, project: Project, field: str) -> None:
    """``PermissionDenied`` unless the acting person may assign on ``project``'s tickets:
    the permission to assign there, as the provider's staff or an agent of its desk."""
    s.require(Action.ASSIGN, field, project_id=project.id)
    viewer = s.actor.viewer
    if not viewer.is_staff and not s.policy.works_desk(viewer, s.policy.desk_of(project)):
        raise PermissionDenied("assign on another desk", field)


def check_assignee(s: Session, assignee_id: UUID, project: Project) -> None:
    """``assignee_id`` may be assigned ``project``'s tickets: an active person who is an
    agent of its desk (``NotFound`` for someone the acting person may not look up)."""
    found = s.access(assignee_id)
    if found is None or not s.actor.reads("people", found.person):
        raise NotFound("Person", assignee_id)
    if not found.may(Action.BE_ASSIGNED):
        raise ValidationError.single("assignee_id", "this person cannot be assigned tickets")
    if not s.policy.works_desk(found.viewer, s.policy.desk_of(project)):
        raise ValidationError.single("assignee_id", "works at another desk than this project's")


def check_group(
    s: Session,
    group_id: UUID,
    assignee_id: UUID | None,
    project: Project,
    errors: list[FieldError],
) -> Group:
    """The group to assign, if the acting person may see it (``NotFound`` as for a group
    that does not exist) and it belongs to the project's desk; notes an ``assignee_id``
    who is not one of its members."""
    group = s.group(group_id)
    if group is None or not s.actor.reads("groups", group):
        raise NotFound("Group", group_id)
    if group.organisation_id != s.policy.desk_of(project):
        errors.append(FieldError("group_id", "belongs to another desk than this project's"))
    if assignee_id is not None and assignee_id not in group.member_ids:
        errors.append(FieldError("assignee_id", "is not a member of the group"))
    return group


def routed_group(s: Session, project_id: UUID, assignee_id: UUID | None) -> Group | None:
    """The group a ticket of ``project_id`` goes to: the oldest serving the project (of
    those ``assignee_id`` belongs to, when given), or None."""
    for group in s.serving_groups(project_id):
        if assignee_id is None or assignee_id in group.member_ids:
            return group
    return None


def routing_stamp(s: Session, group: Group, stamp: Stamp) -> Stamp:
    """The stamp of a ticket's routing to ``group``: ``stamp`` (the acting person's), in the
    name of the group's desk, so the internal event stays inside the desk's organisation
    (in a customer's organisation her colleagues would see the provider's routing)."""
    desk = group.organisation_id
    if desk is None:
        if s.actor.viewer.is_staff:
            return stamp
        desk = provider_id(s)
    if desk == stamp.organisation_id:
        return stamp
    return attrs.evolve(stamp, organisation_id=desk)


def provider_id(s: Session) -> UUID:
    """The tenant's provider organisation."""
    providers = s.uow.organisations.list(Eq("kind", OrganisationKind.PROVIDER))
    if not providers:  # pragma: no cover - every tenant is bootstrapped with its provider
        raise NotFound("Organisation", OrganisationKind.PROVIDER.value)
    return providers[0].id


def move_ticket(
    s: Session,
    ticket_id: UUID,
    project_id: UUID,
    *,
    expected_version: int | None = None,
) -> TicketView:
    """Move a ticket to another project of its organisation, and with it to the desk that
    serves that project: escalate it from a customer's own desk to the provider, or
    transfer it back. The agents of the desk working it now (or the provider's staff) may;
    the ticket leaves its assignee if they work elsewhere and goes to the new project's
    group."""
    errors: list[FieldError] = []
    check.ident(errors, ticket_id, "ticket_id")
    check.ident(errors, project_id, "project_id")
    check.version(errors, expected_version)
    check.raise_if(errors)
    ticket = s.visible_ticket(ticket_id, for_update=True)
    if expected_version is not None and expected_version != s.actor.count_events(
        ticket.event_tally
    ):
        raise Conflict("Ticket", ticket.id, expected_version)
    source = s.uow.projects.get(ticket.project_id)
    assert source is not None  # a ticket's project is never removed
    require_desk_agent(s, source, "project_id")
    target = s.uow.projects.get(project_id)
    if target is None or not s.actor.reads("projects", target):
        raise NotFound("Project", project_id)
    if target.id == source.id:
        raise ValidationError.single("project_id", "is the ticket's project already")
    if target.organisation_id != source.organisation_id:
        raise ValidationError.single(
            "project_id", "a ticket moves only between projects of its organisation"
        )
    ticket_type = s.ticket_type(ticket.type_id)
    # Every check passed: from here on, writes.
    base = ticket.version
    by = s.stamp_on(source.id)
    events: list[Event] = [ticket.move(target.id, s.uow.tickets.next_number(target.id), by=by)]
    desk = s.policy.desk_of(target)
    if ticket.assignee_id is not None:
        assignee = s.access(ticket.assignee_id)
        if assignee is None or not s.policy.works_desk(assignee.viewer, desk):
            events.append(ticket.assign(None, by=by))
    group = routed_group(s, target.id, ticket.assignee_id)
    new_group = group.id if group is not None else None
    if new_group != ticket.group_id:
        stamp = routing_stamp(s, group, by) if group is not None else by
        events.append(ticket.assign_group(new_group, by=stamp))
    ticket.new_version(events, s.now)
    s.keep_clocks(ticket, events, ticket_type)
    s.uow.tickets.update(ticket, expected_version=base)
    s.record(ticket, events, ticket_type)
    return s.view(ticket, ticket_type)


__all__ = [
    "check_assignee",
    "check_group",
    "move_ticket",
    "require_desk_agent",
    "routed_group",
    "routing_stamp",
]
