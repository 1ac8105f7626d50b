"""Ticket operations: open, read, list, change, comment, and the history as one may see it.

Each operation is a function of the call's ``Session`` and its arguments. It checks every
permission and every input before the first write; the ticket's own transitions
(``Ticket.open``, ``edit``, ``assign``, ``move_to``, ``add_comment``) apply the change and
return the events that ``Session.record`` appends with their notifications.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from uuid import UUID

import attrs

from ticketkit.application import paging
from ticketkit.application import validation as check
from ticketkit.application.descriptions import (
    describe,
    named_people,
    visible_groups,
    visible_names,
)
from ticketkit.application.desks import (
    check_assignee,
    check_group,
    require_desk_agent,
    routed_group,
    routing_stamp,
)
from ticketkit.application.directory import usable_type
from ticketkit.application.session import Session
from ticketkit.application.views import (
    UNSET,
    CommentDraft,
    Page,
    TicketActions,
    TicketSort,
    TicketView,
    TimelineEntry,
    Unset,
    as_seen,
    project_ticket_type,
)
from ticketkit.domain.events import Change, CommentAdded, Event
from ticketkit.domain.fields import validate_field_values
from ticketkit.domain.model import (
    Comment,
    FieldValue,
    Priority,
    Ticket,
    TicketType,
    Visibility,
)
from ticketkit.domain.text import MAX_BODY, MAX_TITLE
from ticketkit.domain.workflow import Status
from ticketkit.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationError
from ticketkit.policy.predicates import Cmp, Eq, Not, Predicate, all_of, one_of
from ticketkit.policy.rules import Action


def create_ticket(
    s: Session,
    *,
    project_id: UUID,
    type_id: UUID,
    title: str,
    description: str | None = None,
    fields: Mapping[str, object] | None = None,
    priority: Priority | str = Priority.NORMAL,
    requester_id: UUID | None = None,
    assignee_id: UUID | None = None,
    channel: str = "api",
    group_id: UUID | Unset | None = UNSET,
) -> TicketView:
    """Open a ticket of a type in a project. ``description`` defaults to the type's
    template; ``requester_id`` (someone else), ``assignee_id`` and ``group_id`` are for
    staff. Without ``group_id`` the ticket goes to the oldest group serving the project
    (of those the assignee belongs to, when one is given), or to no group if none does."""
    ids: list[FieldError] = []
    check.ident(ids, project_id, "project_id")
    check.ident(ids, type_id, "type_id")
    check.ident(ids, requester_id, "requester_id", optional=True)
    check.ident(ids, assignee_id, "assignee_id", optional=True)
    if group_id is not UNSET:
        check.ident(ids, group_id, "group_id", optional=True)
    check.raise_if(ids)
    s.prefetch((requester_id, assignee_id))
    project = s.uow.projects.get(project_id)
    if project is None or not s.actor.reads("projects", project):
        raise NotFound("Project", project_id)
    s.require(Action.CREATE_TICKET, project_id=project.id)
    ticket_type = usable_type(s, type_id, project)
    errors: list[FieldError] = []
    check.text(errors, "title", title, MAX_TITLE)
    body = ticket_type.description_template if description is None else description
    check.text(errors, "description", body, MAX_BODY, allow_empty=True)
    prio = check.enum_value(Priority, priority, "priority", errors)
    check.channel(errors, channel)
    values = _field_values(
        s, ticket_type, {} if fields is None else fields, errors, project.id, creating=True
    )
    requester = s.person
    acting = s.actor
    if requester_id is not None and requester_id != s.person.id:
        s.require(Action.ACT_FOR_OTHERS, "requester_id")
        someone = s.access(requester_id)
        if someone is None:
            raise NotFound("Person", requester_id)
        if not someone.reads("projects", project):
            errors.append(FieldError("requester_id", "cannot see this project"))
        requester, acting = someone.person, someone
    if assignee_id is not None:
        require_desk_agent(s, project, "assignee_id")
        check_assignee(s, assignee_id, project)
    if group_id is UNSET:
        group = routed_group(s, project.id, assignee_id)
    else:
        require_desk_agent(s, project, "group_id")
        group = (
            check_group(s, group_id, assignee_id, project, errors) if group_id is not None else None
        )
    check.raise_if(errors)
    assert prio is not None
    # Every check passed: from here on, writes.
    by = s.stamp_on(project.id)
    ticket, events = Ticket.open(
        by=by,
        tenant_id=s.tenant_id,
        number=s.uow.tickets.next_number(project.id),
        project_id=project.id,
        ticket_type=ticket_type,
        title=title.strip(),
        description=body,
        fields={k: v for k, v in values.items() if v is not None},
        priority=prio,
        requester_id=requester.id,
        assignee_id=assignee_id,
        group_id=group.id if group is not None else None,
        routed_by=routing_stamp(s, group, by) if group is not None else None,
        # The requester reads the project through a grant: the history says which.
        grant_id=held.grant_id if (held := acting.viewer.grant_on(project.id)) else None,
    )
    s.keep_clocks(ticket, events, ticket_type)
    s.uow.tickets.add(ticket)
    s.record(ticket, events, ticket_type, followers=())
    return s.view(ticket, ticket_type)


def get_ticket(s: Session, ticket_id: UUID) -> TicketView:
    """One ticket as the person may see it; NotFound also when they may not."""
    return s.view(s.visible_ticket(ticket_id))


def get_ticket_by_number(s: Session, project_id: UUID, number: int) -> TicketView:
    """The ticket numbered ``number`` in the project ("#42" in a link or a mail), as the
    person may see it; NotFound also when they may not, the same for a missing ticket."""
    errors: list[FieldError] = []
    check.ident(errors, project_id, "project_id")
    check.number(errors, number, "number")
    check.raise_if(errors)
    where = all_of(s.actor.tickets, Eq("project_id", project_id), Eq("number", number))
    found = s.uow.tickets.query(where, (), 1)
    if not found:
        raise NotFound("Ticket", f"{project_id}#{number}")
    return s.view(found[0])


def list_tickets(
    s: Session,
    *,
    status: str | Iterable[str] | None = None,
    category: str | Iterable[str] | None = None,
    project_id: UUID | None = None,
    assignee_id: UUID | Unset | None = UNSET,
    requester_id: UUID | None = None,
    type_id: UUID | None = None,
    sort: TicketSort | str = TicketSort.NEWEST,
    limit: int = 25,
    cursor: str | None = None,
    group_id: UUID | Unset | None = UNSET,
    sla_due_before: datetime | None = None,
) -> Page:
    """The tickets the person may see, filtered and sorted, one keyset page at a time.

    ``assignee_id=None`` lists unassigned tickets, ``group_id=None`` those of no group;
    ``sla_due_before`` those whose earliest SLA clock breaches (or breached) by then.
    Filtering or sorting on what the person may not see is refused rather than silently
    ignored.
    """
    errors: list[FieldError] = []
    order = check.enum_value(TicketSort, sort, "sort", errors)
    check.limit(errors, limit, paging.MAX_PAGE)
    # Where the person sees internal work: everywhere she reads (None), or some projects
    # (a customer's agent: her own desk's), to which a filter on it is then confined.
    where_internal = s.policy.internal_projects(s.actor.viewer)
    internal = where_internal is None
    filters: list[Predicate] = [s.actor.tickets]
    if status is not None:
        filters.append(one_of("status", check.strings(status, "status", errors)))
    if category is not None:
        filters.append(one_of("status_category", check.strings(category, "category", errors)))
    for name, value in (
        ("project_id", project_id),
        ("requester_id", requester_id),
        ("type_id", type_id),
    ):
        if check.ident(errors, value, name, optional=True) and value is not None:
            filters.append(Eq(name, value))
    internal_filters: tuple[tuple[str, UUID | Unset | None], ...] = (
        ("assignee_id", assignee_id),
        ("group_id", group_id),
    )
    for name, given in internal_filters:
        if given is UNSET:
            continue
        if where_internal is not None and not where_internal:
            raise PermissionDenied(f"filter by {name.removesuffix('_id')}", name)
        if check.ident(errors, given, name, optional=True):
            filters.append(Eq(name, given))
            if where_internal is not None:
                filters.append(one_of("project_id", where_internal))
    if order is TicketSort.SLA_DUE or sla_due_before is not None:
        if not internal:
            raise PermissionDenied("sort or filter by SLA due time", "sort")
        filters.append(Not(Eq("sla_due_at", None)))
        if check.instant(errors, sla_due_before, "sla_due_before", optional=True):
            filters.append(Cmp("sla_due_at", "<=", sla_due_before))
    check.raise_if(errors)
    assert order is not None
    keys = paging.sort_keys(order, "updated_at" if internal else "public_updated_at")
    if cursor is not None:
        filters.append(paging.after(cursor, order, keys))
    found = s.uow.tickets.query(all_of(*filters), keys, limit + 1)
    more = len(found) > limit
    found = found[:limit]
    items = tuple(s.view(t) for t in found)
    next_cursor = paging.cursor(order, found[-1], keys) if more and found else None
    return Page(items=items, next_cursor=next_cursor)


@attrs.frozen(kw_only=True)
class TicketUpdate:
    """One change to a ticket, of any of its parts at once (the command of ``update_ticket``).

    A part left at None stays as it is; so does the assignee at ``UNSET``, since None
    there means nobody.
    """

    title: str | None = None
    description: str | None = None
    priority: Priority | str | None = None
    fields: Mapping[str, object] | None = None
    assignee_id: UUID | Unset | None = UNSET
    status: str | None = None
    comment: CommentDraft | None = None
    expected_version: int | None = None
    #: The agent group (None: no group). With ``assignee_id`` too, the assignee must be a
    #: member; alone, it keeps an assignee who is a member and unassigns one who is not.
    group_id: UUID | Unset | None = UNSET


def update_ticket(s: Session, ticket_id: UUID, update: TicketUpdate) -> TicketView:
    """Change several things at once, atomically ("update", "update and close").

    Each part needs its own permission. With ``expected_version`` a ticket changed by
    someone else since it was read raises ``Conflict`` instead of overwriting.
    """
    ticket, ticket_type, _ = _apply(s, ticket_id, update)
    return s.view(ticket, ticket_type)


def change_status(
    s: Session,
    ticket_id: UUID,
    status: str,
    *,
    comment: CommentDraft | None = None,
    expected_version: int | None = None,
) -> TicketView:
    """Move the ticket along its workflow, optionally with a comment in the same step
    (``update_ticket`` with a status, which here is not optional)."""
    if not isinstance(status, str):
        raise ValidationError.single("status", "must be the key of a status")
    change = TicketUpdate(status=status, comment=comment, expected_version=expected_version)
    return update_ticket(s, ticket_id, change)


def add_comment(
    s: Session,
    ticket_id: UUID,
    body: str,
    *,
    visibility: Visibility | str,
    channel: str = "api",
    expected_version: int | None = None,
) -> Comment:
    """Write a public reply or an internal note; returns the stored comment."""
    errors: list[FieldError] = []
    vis = check.enum_value(Visibility, visibility, "visibility", errors)
    # Named as this operation's arguments are (a draft's checks would say "comment.body").
    check.text(errors, "body", body, MAX_BODY)
    check.channel(errors, channel)
    check.version(errors, expected_version)
    check.raise_if(errors)
    assert vis is not None
    draft = CommentDraft(body=body, visibility=vis, channel=channel)
    change = TicketUpdate(comment=draft, expected_version=expected_version)
    _, _, comment = _apply(s, ticket_id, change)
    assert comment is not None
    return comment


def ticket_actions(s: Session, ticket_id: UUID) -> TicketActions:
    """What the acting person may do to this ticket now (see ``TicketActions``)."""
    ticket = s.visible_ticket(ticket_id)
    ticket_type = s.ticket_type(ticket.type_id)

    def may(action: Action) -> bool:
        return s.actor.may(action, ticket.project_id)

    public = may(Action.UPDATE_PUBLIC_FIELDS)
    internal = may(Action.UPDATE_INTERNAL_FIELDS)
    fields = [name for name in ("title", "description", "priority") if public]
    fields += [
        f"fields.{f.name}" for f in ticket_type.fields if (internal if f.internal else public)
    ]
    followers = may(Action.MANAGE_FOLLOWERS) and (
        s.actor.viewer.is_staff
        or s.person.id == ticket.requester_id
        or s.person.id in s.uow.followers.of(ticket.id)
    )
    return TicketActions(
        comment_public=may(Action.COMMENT_PUBLIC),
        comment_internal=may(Action.COMMENT_INTERNAL),
        statuses=(ticket_type.workflow.targets(ticket.status) if may(Action.CHANGE_STATUS) else ()),
        assign=may(Action.ASSIGN),
        fields=tuple(fields),
        add_followers=followers,
    )


def timeline(s: Session, ticket_id: UUID) -> list[TimelineEntry]:
    """The ticket's history as this person may see it, oldest first, each entry described
    with the names of the people this person may look up (read once for the timeline)."""
    ticket = s.visible_ticket(ticket_id)
    events = s.uow.events.for_ticket(ticket.id, s.actor.events)
    comments = {c.id: c for c in s.uow.comments.for_ticket(ticket.id, s.actor.comments)}
    ticket_type = project_ticket_type(s.ticket_type(ticket.type_id), s.actor, ticket.project_id)
    names = visible_names(s, named_people(events))
    groups = visible_groups(s, events)
    entries = []
    for position, event in enumerate(events, start=1):
        comment = None
        if isinstance(event, CommentAdded):
            comment = comments.get(event.comment_id)
            if comment is None:
                continue
        entries.append(
            TimelineEntry(
                event=as_seen(event, position, s.actor),
                comment=comment,
                description=describe(
                    event, comment=comment, ticket_type=ticket_type, names=names, groups=groups
                ),
            )
        )
    return entries


# -- the steps of a change ------------------------------------------------------------------


def _apply(
    s: Session, ticket_id: UUID, u: TicketUpdate
) -> tuple[Ticket, TicketType, Comment | None]:
    """Check every part of a change, then apply and record it: the ticket as it is now,
    its type, and the new comment if there is one."""
    types: list[FieldError] = []
    check.version(types, u.expected_version)
    if u.assignee_id is not UNSET:
        check.ident(types, u.assignee_id, "assignee_id", optional=True)
    if u.group_id is not UNSET:
        check.ident(types, u.group_id, "group_id", optional=True)
    check.raise_if(types)
    ticket = s.visible_ticket(ticket_id, for_update=True)
    ticket_type = s.ticket_type(ticket.type_id)
    if u.expected_version is not None and u.expected_version != s.actor.count_events(
        ticket.event_tally
    ):
        # The person's own version: what they saw is out of date only if something they
        # may see changed since.
        raise Conflict("Ticket", ticket.id, u.expected_version)
    errors: list[FieldError] = []
    public: list[Change] = []
    internal: list[Change] = []
    if u.title is not None:
        s.require(Action.UPDATE_PUBLIC_FIELDS, "title", project_id=ticket.project_id)
        if check.text(errors, "title", u.title, MAX_TITLE) and u.title.strip() != ticket.title:
            public.append(Change(field="title", old=ticket.title, new=u.title.strip()))
    if u.description is not None:
        s.require(Action.UPDATE_PUBLIC_FIELDS, "description", project_id=ticket.project_id)
        if (
            check.text(errors, "description", u.description, MAX_BODY, allow_empty=True)
            and u.description != ticket.description
        ):
            public.append(Change(field="description", old=ticket.description, new=u.description))
    if u.priority is not None:
        s.require(Action.UPDATE_PUBLIC_FIELDS, "priority", project_id=ticket.project_id)
        prio = check.enum_value(Priority, u.priority, "priority", errors)
        if prio is not None and prio != ticket.priority:
            public.append(Change(field="priority", old=ticket.priority, new=prio))
    if u.fields is not None:
        values = _field_values(s, ticket_type, u.fields, errors, ticket.project_id, creating=False)
        specs = {f.name: f for f in ticket_type.fields}
        for name, value in sorted(values.items()):
            old = ticket.fields.get(name)
            if value != old:
                change = Change(field=f"fields.{name}", old=old, new=value)
                (internal if specs[name].internal else public).append(change)
        if any(not specs[n].internal for n in values):
            s.require(Action.UPDATE_PUBLIC_FIELDS, "fields", project_id=ticket.project_id)
    group_id, assignee_id = _assignment(s, ticket, u, errors)
    new_status = _target_status(s, ticket, ticket_type, u.status, errors)
    if u.comment is not None:
        _check_comment(s, u.comment, errors, ticket.project_id)
    check.raise_if(errors)

    # Every check passed: apply and record.
    base_version = ticket.version
    by = s.stamp_on(ticket.project_id)
    events: list[Event] = []
    if public:
        events.append(ticket.edit(public, Visibility.PUBLIC, by=by))
    if internal:
        events.append(ticket.edit(internal, Visibility.INTERNAL, by=by))
    if group_id != ticket.group_id:
        events.append(ticket.assign_group(group_id, by=by))
    if assignee_id != ticket.assignee_id:
        events.append(ticket.assign(assignee_id, by=by))
    new_comment = None
    if u.comment is not None:
        new_comment, added = ticket.add_comment(
            u.comment.body, Visibility(u.comment.visibility), u.comment.channel, by=by
        )
        events.append(added)
    if new_status is not None:
        events.append(ticket.move_to(new_status, by=by))
    if not events:
        return ticket, ticket_type, None
    ticket.new_version(events, s.now)
    s.keep_clocks(ticket, events, ticket_type)
    s.uow.tickets.update(ticket, expected_version=base_version)
    if new_comment is not None:
        s.uow.comments.add(new_comment)
    s.record(ticket, events, ticket_type, new_comment)
    return ticket, ticket_type, new_comment


def _target_status(
    s: Session,
    ticket: Ticket,
    ticket_type: TicketType,
    status: str | None,
    errors: list[FieldError],
) -> Status | None:
    """The status to move to, if ``status`` asks for a move the workflow allows."""
    if status is None:
        return None
    s.require(Action.CHANGE_STATUS, "status", project_id=ticket.project_id)
    workflow = ticket_type.workflow
    target = workflow.status(status) if isinstance(status, str) else None
    if target is None:
        errors.append(FieldError("status", f"unknown status {status!r} for this ticket type"))
        return None
    if target.key == ticket.status:
        return None
    if not workflow.allows(ticket.status, target.key):
        allowed = list(workflow.targets(ticket.status))
        errors.append(
            FieldError(
                "status",
                f"cannot go from {ticket.status!r} to {target.key!r}; allowed: {allowed}",
            )
        )
        return None
    return target


def _field_values(
    s: Session,
    ticket_type: TicketType,
    raw: Mapping[str, object],
    errors: list[FieldError],
    project_id: UUID,
    *,
    creating: bool,
) -> dict[str, FieldValue | None]:
    if not isinstance(raw, Mapping):
        errors.append(FieldError("fields", "must be a mapping of field names to values"))
        return {}
    values, problems, forbidden = validate_field_values(
        ticket_type.fields,
        raw,
        may_set_internal=s.actor.may(Action.UPDATE_INTERNAL_FIELDS, project_id),
        check_required=creating,
    )
    if forbidden:
        if s.actor.sees_internal_on(project_id):
            raise PermissionDenied("set internal fields", forbidden[0])
        # Those who may not see internal fields are not told they exist.
        problems.extend(FieldError(name, "unknown field") for name in forbidden)
    errors.extend(problems)
    return values  # type: ignore[return-value]


def _assignment(
    s: Session, ticket: Ticket, u: TicketUpdate, errors: list[FieldError]
) -> tuple[UUID | None, UUID | None]:
    """The group and assignee ``u`` leaves the ticket with (checked, each needing the
    permission to assign). Both given: the assignee must be a member of the group. The
    group alone: an assignee who is no member of it is unassigned. The assignee alone: a
    group they are no member of gives way to the oldest group serving the ticket's project
    that they belong to, or to none."""
    group_id, assignee_id = ticket.group_id, ticket.assignee_id
    if u.assignee_id is UNSET and u.group_id is UNSET:
        return group_id, assignee_id
    project = s.uow.projects.get(ticket.project_id)
    assert project is not None  # a ticket's project is never removed
    if u.assignee_id is not UNSET:
        require_desk_agent(s, project, "assignee_id")
        if u.assignee_id is not None:
            check_assignee(s, u.assignee_id, project)
        assignee_id = u.assignee_id
    if u.group_id is not UNSET:
        require_desk_agent(s, project, "group_id")
        group_id = u.group_id
        if u.group_id is not None:
            given = assignee_id if u.assignee_id is not UNSET else None
            group = check_group(s, u.group_id, given, project, errors)
            if assignee_id is not None and assignee_id not in group.member_ids:
                assignee_id = None
    elif u.assignee_id is not UNSET and assignee_id is not None and group_id is not None:
        current = s.group(group_id)
        if current is None or assignee_id not in current.member_ids:
            routed = routed_group(s, ticket.project_id, assignee_id)
            group_id = routed.id if routed is not None else None
    return group_id, assignee_id


def _check_comment(
    s: Session, draft: CommentDraft, errors: list[FieldError], project_id: UUID
) -> None:
    if not isinstance(draft, CommentDraft):
        errors.append(FieldError("comment", "must be a CommentDraft"))
        return
    vis = check.enum_value(Visibility, draft.visibility, "comment.visibility", errors)
    if vis is Visibility.PUBLIC:
        s.require(Action.COMMENT_PUBLIC, "comment.visibility", project_id=project_id)
    elif vis is Visibility.INTERNAL:
        s.require(Action.COMMENT_INTERNAL, "comment.visibility", project_id=project_id)
    check.text(errors, "comment.body", draft.body, MAX_BODY)
    check.channel(errors, draft.channel, "comment.channel")
