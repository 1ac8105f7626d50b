"""What the screens of a guest portal and an agent desk show, read for one person through
the public API: a ticket list, a ticket page, an organisation page and the branding.

Each function makes only the calls a host would make itself, so the policy decides every
value on the page; it gathers what one screen needs (names for ids, labels for keys) so
that a host's view is a line and its template a loop. Names a reader may not look up come
back as None: the template says "someone".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from uuid import UUID

import attrs

from ticketkit.application.desk import HelpDesk
from ticketkit.application.invitations import InvitationView
from ticketkit.application.sla import SlaSummary, SlaView, duration_text
from ticketkit.application.views import (
    PersonView,
    TicketActions,
    TicketTypeView,
    TicketView,
    TimelineEntry,
)
from ticketkit.domain.grants import Grant
from ticketkit.domain.model import Actor, Group, Organisation, Project
from ticketkit.domain.values import FieldValue
from ticketkit.errors import NotFound, PermissionDenied, ValidationError
from ticketkit.web.forms import (
    FormData,
    TicketForm,
    form_id,
    form_values,
    form_version,
    parse_ticket_form,
    ticket_form,
)

#: The settings a portal's look comes from, overridable per customer organisation.
BRAND_SETTINGS = (
    "branding.display_name",
    "branding.logo_url",
    "branding.primary_colour",
    "branding.accent_colour",
)


@attrs.frozen(kw_only=True)
class Brand:
    """How the portal looks for one reader: her organisation's overrides of the branding
    settings, else the tenant's, else the defaults."""

    name: str
    logo_url: str | None
    primary_colour: str
    accent_colour: str


def brand(desk: HelpDesk, actor: Actor | None, *, default_name: str) -> Brand:
    """The branding that counts for ``actor`` (the settings' defaults for a visitor nobody
    has signed in yet); ``default_name`` where no display name is set."""
    values: dict[str, Any]
    if actor is None:
        values = {name: _default(desk, name) for name in BRAND_SETTINGS}
    else:
        values = {name: desk.effective_setting(actor, name) for name in BRAND_SETTINGS}
    return Brand(
        name=values["branding.display_name"] or default_name,
        logo_url=values["branding.logo_url"],
        primary_colour=values["branding.primary_colour"],
        accent_colour=values["branding.accent_colour"],
    )


def _default(desk: HelpDesk, name: str) -> Any:
    setting = desk.settings.get(name)
    assert setting is not None, name
    return setting.default


class _Names:
    """Names of people by id, as the reader may look them up (None: she may not), each
    read once per screen."""

    def __init__(self, desk: HelpDesk, actor: Actor) -> None:
        self._desk = desk
        self._actor = actor
        self._known: dict[UUID, str | None] = {}

    def add(self, people: Iterable[PersonView]) -> None:
        self._known.update({p.id: p.name for p in people})

    def __call__(self, person_id: UUID | None) -> str | None:
        if person_id is None:
            return None
        if person_id not in self._known:
            try:
                self._known[person_id] = self._desk.get_person(self._actor, person_id).name
            except NotFound:
                self._known[person_id] = None
        return self._known[person_id]


def status_options(types: Iterable[TicketTypeView]) -> tuple[tuple[str, str], ...]:
    """Every status of ``types`` once, as (key, label), in workflow order: a status
    filter's choices. A key whose types label it differently shows each label ("Solved /
    Gelöst"), since the filter finds the tickets of every type by the key."""
    seen: dict[str, list[str]] = {}
    for ticket_type in types:
        for status in ticket_type.statuses:
            labels = seen.setdefault(status.key, [])
            if status.label not in labels:
                labels.append(status.label)
    return tuple((key, " / ".join(labels)) for key, labels in seen.items())


def shown(value: FieldValue) -> str:
    """A field's value as a page shows it: choices joined, dates ISO, numbers exact."""
    if isinstance(value, tuple):
        return ", ".join(value)
    return str(value)


# -- the ticket list -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class TicketRow:
    """One line of the list: the ticket as the reader sees it, with names for its ids
    (``assignee`` only for those who see assignments) and its SLA state in a few words
    (None: no clocks, or none the reader may see)."""

    ticket: TicketView
    project: str
    requester: str | None
    assignee: str | None
    sla: str | None = None
    sla_breached: bool = False


def _metric(metric: str) -> str:
    return metric.replace("_", " ").capitalize()


def sla_text(summary: SlaSummary) -> str:
    """A list's SLA cell: the metric due first, when, and what is left (or breached)."""
    if summary.metric is None or summary.due_at is None:
        return f"{summary.policy_name}: paused"
    due = summary.due_at.strftime("%Y-%m-%d %H:%M UTC")
    if summary.breached:
        return f"{_metric(summary.metric)} breached {due}"
    left = duration_text(summary.remaining) if summary.remaining is not None else ""
    return f"{_metric(summary.metric)} due {due} ({left} left)"


@attrs.frozen(kw_only=True)
class SlaRow:
    """One metric cycle on a ticket page."""

    metric: str
    state: str
    due: str | None
    remaining: str | None
    breached: bool


def sla_rows(view: SlaView) -> tuple[SlaRow, ...]:
    """The metric cycles of ``view`` worth showing: running, paused, and met ones."""
    return tuple(
        SlaRow(
            metric=_metric(c.metric) + (f" #{c.cycle}" if c.cycle > 1 else ""),
            state=c.state,
            due=c.due_at.strftime("%Y-%m-%d %H:%M UTC") if c.due_at else None,
            remaining=duration_text(c.remaining) if c.remaining is not None else None,
            breached=c.breached,
        )
        for c in view.clocks
        if c.target is not None
    )


@attrs.frozen(kw_only=True)
class TicketList:
    """A page of the reader's tickets, the status filter's choices and the one applied,
    and the cursor of the next page (None on the last)."""

    rows: tuple[TicketRow, ...]
    statuses: tuple[tuple[str, str], ...]
    status: str | None
    next_cursor: str | None


def ticket_list(
    desk: HelpDesk,
    actor: Actor,
    *,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 25,
) -> TicketList:
    """The reader's tickets, newest first, optionally of one status, one page at a time
    (``cursor`` from the page before)."""
    page = desk.list_tickets(actor, status=status or None, cursor=cursor or None, limit=limit)
    projects = {p.id: p.name for p in desk.list_projects(actor)}
    names = _Names(desk, actor)
    slas = desk.sla_summaries(actor, [t.id for t in page.items])
    rows = tuple(
        TicketRow(
            ticket=t,
            project=projects.get(t.project_id, ""),
            requester=names(t.requester_id),
            assignee=names(t.assignee_id),
            sla=sla_text(slas[t.id]) if t.id in slas else None,
            sla_breached=t.id in slas and slas[t.id].breached,
        )
        for t in page.items
    )
    return TicketList(
        rows=rows,
        statuses=status_options(desk.list_ticket_types(actor)),
        status=status or None,
        next_cursor=page.next_cursor,
    )


# -- the ticket page -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class FieldRow:
    """A field of the ticket by its label, and its value as shown."""

    label: str
    value: str


@attrs.frozen(kw_only=True)
class TicketPage:
    """Everything one ticket's page shows the reader: the ticket, its fields by label, the
    timeline she may read, what she may do now (``actions``), the statuses she may move it
    to as (key, label), and whom she may assign it to (people and groups; empty unless
    ``actions.assign``)."""

    ticket: TicketView
    type_name: str
    project: str
    #: The organisation whose project it is, if the reader may look it up.
    organisation_id: UUID | None
    organisation: str | None
    requester: str | None
    assignee: str | None
    group: str | None
    fields: tuple[FieldRow, ...]
    timeline: tuple[TimelineEntry, ...]
    actions: TicketActions
    statuses: tuple[tuple[str, str], ...]
    assignees: tuple[PersonView, ...]
    groups: tuple[Group, ...]
    #: The SLA policy's name and its clocks, for those who may see them.
    sla_policy: str | None = None
    sla: tuple[SlaRow, ...] = ()


def ticket_page(desk: HelpDesk, actor: Actor, ticket_id: UUID) -> TicketPage:
    """The page of ``ticket_id`` for ``actor``; ``NotFound`` for a ticket she may not read,
    the same as for none."""
    ticket = desk.get_ticket(actor, ticket_id)
    timeline = desk.timeline(actor, ticket_id)
    actions = desk.ticket_actions(actor, ticket_id)
    types = {t.id: t for t in desk.list_ticket_types(actor)}
    ticket_type = types.get(ticket.type_id)
    labels = {s.key: s.label for s in ticket_type.statuses} if ticket_type else {}
    specs = {f.name: f.label for f in ticket_type.fields} if ticket_type else {}
    project = next((p for p in desk.list_projects(actor) if p.id == ticket.project_id), None)
    owner = _organisation(desk, actor, project.organisation_id) if project is not None else None
    names = _Names(desk, actor)
    assignees: tuple[PersonView, ...] = ()
    groups: tuple[Group, ...] = ()
    if actions.assign:
        assignees = tuple(desk.list_people(actor, assignable=True))
        names.add(assignees)
        groups = tuple(desk.list_groups(actor))
    group_names = {g.id: g.name for g in groups}
    try:
        sla = desk.ticket_sla(actor, ticket_id)
    except PermissionDenied:
        sla = None
    return TicketPage(
        ticket=ticket,
        type_name=ticket_type.name if ticket_type else "",
        project=project.name if project is not None else "",
        organisation_id=owner.id if owner is not None else None,
        organisation=owner.name if owner is not None else None,
        requester=names(ticket.requester_id),
        assignee=names(ticket.assignee_id),
        group=group_names.get(ticket.group_id) if ticket.group_id else None,
        fields=tuple(
            FieldRow(label=specs.get(name, name), value=shown(value))
            for name, value in ticket.fields.items()
        ),
        timeline=tuple(timeline),
        actions=actions,
        statuses=tuple((key, labels.get(key, key)) for key in actions.statuses),
        assignees=assignees,
        groups=groups,
        sla_policy=sla.policy_name if sla is not None else None,
        sla=sla_rows(sla) if sla is not None else (),
    )


def ticket_by_number(desk: HelpDesk, actor: Actor, project_number: int, number: int) -> TicketView:
    """The ticket a portal's address names by its project's number and its own (``NotFound``
    for a project or ticket the reader may not see, as for none)."""
    project = desk.get_project_by_number(actor, project_number)
    return desk.get_ticket_by_number(actor, project.id, number)


# -- the new ticket and the ticket's forms -----------------------------------------------


@attrs.frozen(kw_only=True)
class NewTicket:
    """The new-ticket screen: the types to choose from until one is chosen, then its form
    (with what was sent and each error at its input) and the projects to put it in; once a
    submitted form was good, the ticket ``created``. ``status`` is the HTTP status to
    answer with (422 for a form sent back with errors)."""

    types: tuple[TicketTypeView, ...]
    form: TicketForm | None
    projects: tuple[Project, ...]
    project: str
    created: TicketView | None = None
    status: int = 200


def new_ticket(
    desk: HelpDesk, actor: Actor, data: FormData, *, submit: bool, channel: str = "web"
) -> NewTicket:
    """The new-ticket screen for ``data`` (the request's query or form: ``type``,
    ``project``, and on ``submit`` the ticket form's inputs), creating the ticket when a
    submitted form is good. A type she may not use is as if none were chosen."""
    types = tuple(desk.list_ticket_types(actor))
    chosen = next((t for t in types if str(t.id) == _one(data, "type")), None)
    projects = tuple(desk.list_projects(actor))
    screen = NewTicket(types=types, form=None, projects=projects, project=_one(data, "project"))
    if chosen is None:
        return screen
    if not submit:
        return attrs.evolve(screen, form=ticket_form(chosen))
    try:
        draft = parse_ticket_form(chosen, data)
        created = desk.create_ticket(
            actor,
            project_id=form_id(data, "project"),
            type_id=chosen.id,
            title=draft.title,
            description=draft.description,
            fields=draft.fields,
            channel=channel,
        )
    except ValidationError as error:
        return attrs.evolve(screen, form=ticket_form(chosen, data, error=error), status=422)
    return attrs.evolve(screen, form=ticket_form(chosen, data), created=created)


def _one(data: FormData, name: str) -> str:
    try:
        return str(form_id(data, name) or "")
    except ValidationError:
        return ""


#: What a ticket page's forms do, by the name a host routes them under.
TICKET_ACTIONS = ("comments", "status", "assign")


def ticket_action(
    desk: HelpDesk, actor: Actor, ticket_id: UUID, action: str, data: FormData
) -> TicketView:
    """Carry out one of the ticket page's forms (``TICKET_ACTIONS``): a comment (its
    ``visibility`` from the button pressed; no version, so it never conflicts), a status
    change, or an assignment to a person and a group (both checked against the
    ``version`` the page was drawn at: a change seen meanwhile is a ``Conflict``).
    ``NotFound`` for an action that is none of them."""
    if action == "comments":
        desk.add_comment(
            actor,
            ticket_id,
            _text(data, "body"),
            visibility=_text(data, "visibility"),
            channel="web",
        )
    elif action == "status":
        desk.change_status(
            actor, ticket_id, _text(data, "status"), expected_version=form_version(data)
        )
    elif action == "assign":
        desk.assign(
            actor,
            ticket_id,
            form_id(data, "assignee", optional=True),
            group_id=form_id(data, "group", optional=True),
            expected_version=form_version(data),
        )
    else:
        raise NotFound("Action", action)
    return desk.get_ticket(actor, ticket_id)


def _text(data: FormData, name: str) -> str:
    """The one text submitted as ``name`` ("" for none; the operation says what is
    wrong with it)."""
    values = [v for v in form_values(data, name) if isinstance(v, str)]
    if len(values) > 1:
        raise ValidationError.single(name, "must be given once")
    return values[0] if values else ""


def _organisation(desk: HelpDesk, actor: Actor, organisation_id: UUID) -> Organisation | None:
    """The organisation, if the reader may look it up (one read, not the tenant's list)."""
    try:
        return desk.get_organisation(actor, organisation_id)
    except NotFound:
        return None


# -- the organisation page -------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class GrantRow:
    """A grant of one of the organisation's projects: the project's and the grantee's
    names beside it."""

    grant: Grant
    project: str
    grantee: str | None


@attrs.frozen(kw_only=True)
class OrganisationPage:
    """An organisation as its page shows it to staff and its customer admins: its people,
    projects, invitations (newest first, with how each stands) and the grants of its
    projects."""

    organisation: Organisation
    people: tuple[PersonView, ...]
    projects: tuple[Project, ...]
    invitations: tuple[InvitationView, ...]
    grants: tuple[GrantRow, ...]


def organisation_page(desk: HelpDesk, actor: Actor, organisation_id: UUID) -> OrganisationPage:
    """The page of ``organisation_id``; ``NotFound`` for a reader who may not see its
    invitations (anyone but staff and its customer admins), as for no such organisation."""
    organisation = desk.get_organisation(actor, organisation_id)
    invitations = desk.list_invitations(actor, organisation_id)
    people = tuple(desk.list_people(actor, organisation_id=organisation_id))
    projects = tuple(p for p in desk.list_projects(actor) if p.organisation_id == organisation_id)
    project_names = {p.id: p.name for p in projects}
    names = _Names(desk, actor)
    names.add(people)
    organisations: Mapping[UUID, str] = {o.id: o.name for o in desk.list_organisations(actor)}
    grants = tuple(
        GrantRow(
            grant=g,
            project=project_names.get(g.project_id, ""),
            grantee=(
                names(g.grantee_person_id)
                if g.grantee_organisation_id is None
                else organisations.get(g.grantee_organisation_id)
            ),
        )
        for g in desk.list_grants(actor).granted
        if g.organisation_id == organisation_id
    )
    return OrganisationPage(
        organisation=organisation,
        people=people,
        projects=projects,
        invitations=tuple(invitations),
        grants=grants,
    )


__all__ = [
    "BRAND_SETTINGS",
    "TICKET_ACTIONS",
    "Brand",
    "FieldRow",
    "GrantRow",
    "NewTicket",
    "OrganisationPage",
    "TicketList",
    "TicketPage",
    "TicketRow",
    "brand",
    "new_ticket",
    "organisation_page",
    "shown",
    "status_options",
    "ticket_action",
    "ticket_by_number",
    "ticket_list",
    "ticket_page",
]
