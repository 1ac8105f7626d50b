"""The application API: one ``HelpDesk`` per host app, every operation acting as a person.

Each operation loads the acting person fresh, resolves what they may see through the
``Policy``, validates *everything* before it stages a single write, records history events
and outbox notifications in the same unit of work, and dispatches them after the commit.
"""

from __future__ import annotations

import abc
import base64
import binascii
import json
import logging
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import datetime
from typing import Any, Final, TypeVar, cast
from uuid import UUID

import attrs

from ticketkit import ids
from ticketkit.application.notifications import Dispatcher, Prepared, RecipientResolver
from ticketkit.application.views import (
    CommentDraft,
    Page,
    TicketSort,
    TicketView,
    TimelineEntry,
    project_ticket,
)
from ticketkit.clock import Clock, SystemClock
from ticketkit.domain.events import (
    Change,
    CommentAdded,
    Event,
    StatusChanged,
    TicketAssigned,
    TicketChanged,
    TicketCreated,
)
from ticketkit.domain.fields import FieldSpec, validate_field_values
from ticketkit.domain.model import (
    Actor,
    Comment,
    FieldValue,
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    Project,
    Role,
    Tenant,
    Ticket,
    TicketType,
    Visibility,
)
from ticketkit.domain.text import MAX_BODY, MAX_TITLE, check_text
from ticketkit.domain.workflow import Workflow, default_workflow
from ticketkit.errors import Conflict, FieldError, NotFound, PermissionDenied, ValidationError
from ticketkit.hooks.plugins import Plugins
from ticketkit.hooks.signals import Signals
from ticketkit.policy.predicates import (
    TRUE,
    Cmp,
    Eq,
    Predicate,
    all_of,
    any_of,
    evaluate,
    one_of,
)
from ticketkit.policy.rules import DEFAULT_POLICY, Action, Policy, Viewer
from ticketkit.ports.repositories import OrderBy, Storage, UnitOfWork

log = logging.getLogger("ticketkit")

T = TypeVar("T")
MAX_PAGE: Final = 200
MAX_NAME: Final = 200
_CHANNEL = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""Marks a keyword argument that was not given (None is a meaningful value)."""


@attrs.frozen(kw_only=True)
class Bootstrap:
    """What ``HelpDesk.bootstrap_tenant`` created."""

    tenant: Tenant
    provider: Organisation
    admin: Person


@attrs.define
class _Context:
    """One operation's view of the world: the unit of work, the actor and their access."""

    uow: UnitOfWork
    person: Person
    viewer: Viewer
    now: datetime


class _Operations(abc.ABC):
    """The operations, independent of how units of work are opened (per call or batch)."""

    def __init__(
        self, policy: Policy, clock: Clock, new_id: Callable[[], UUID], *, dispatcher: Dispatcher
    ) -> None:
        self.policy = policy
        self.clock = clock
        self.new_id = new_id
        self._dispatcher = dispatcher
        self._recipients = RecipientResolver(policy, new_id)
        self._types: dict[tuple[UUID, UUID], TicketType] = {}
        #: Types created in a batch that has not committed yet: never cached.
        self._uncommitted_types: set[UUID] = set()

    # -- plumbing ---------------------------------------------------------------------------

    @abc.abstractmethod
    def _unit(
        self, actor: Actor, *, write: bool, people: Iterable[UUID | None] = ()
    ) -> AbstractContextManager[_Context]:
        """Open (or join) the unit of work an operation runs in; ``people`` are others the
        operation will look up, loaded together with the actor."""

    def _context(self, uow: UnitOfWork, actor: Actor, people: Iterable[UUID | None]) -> _Context:
        if not isinstance(actor, Actor):
            raise TypeError("actor: pass Person.actor or an Actor, the acting person first")
        self._recipients.prefetch(uow, (actor.person_id, *people))
        found = self._recipients.person(uow, actor.person_id)
        if found is None or found[0].tenant_id != actor.tenant_id:
            raise NotFound("Person", actor.person_id)
        person, viewer = found
        return _Context(uow=uow, person=person, viewer=viewer, now=self.clock.now())

    def _require(self, ctx: _Context, action: Action, field: str | None = None) -> None:
        if not self.policy.may(ctx.viewer, action):
            raise PermissionDenied(action.value.replace("_", " "), field)

    def _visible_ticket(self, ctx: _Context, ticket_id: UUID) -> Ticket:
        ticket = ctx.uow.tickets.get(ticket_id) if isinstance(ticket_id, UUID) else None
        if ticket is None or not evaluate(self.policy.tickets(ctx.viewer), ticket):
            raise NotFound("Ticket", ticket_id)
        return ticket

    def _ticket_type(self, ctx: _Context, type_id: UUID) -> TicketType:
        key = (ctx.person.tenant_id, type_id)
        cached = self._types.get(key)
        if cached is not None:
            return cached
        found = ctx.uow.ticket_types.get(type_id) if isinstance(type_id, UUID) else None
        if found is None:
            raise NotFound("TicketType", type_id)
        if type_id not in self._uncommitted_types:
            # Ticket types never change once created, so a committed one can be shared.
            if len(self._types) >= 4096:
                self._types.clear()
            self._types[key] = found
        return found

    def _view(
        self, ctx: _Context, ticket: Ticket, ticket_type: TicketType | None = None
    ) -> TicketView:
        ticket_type = ticket_type or self._ticket_type(ctx, ticket.type_id)
        return project_ticket(
            ticket,
            ticket_type,
            internal=self.policy.may_see_internal(ctx.viewer),
            comment_count=self.policy.count_comments(ctx.viewer, ticket.comment_tally),
        )

    def _event_base(self, ctx: _Context, ticket: Ticket, visibility: Visibility) -> dict[str, Any]:
        return {
            "tenant_id": ctx.person.tenant_id,
            "id": self.new_id(),
            "ticket_id": ticket.id,
            "seq": ticket.next_seq(),
            "at": ctx.now,
            "actor_id": ctx.person.id,
            "organisation_id": ctx.person.organisation_id,
            "visibility": visibility,
        }

    def _emit(
        self,
        ctx: _Context,
        ticket: Ticket,
        events: Iterable[Event],
        ticket_type: TicketType,
        comment: Comment | None = None,
    ) -> None:
        """Record events, and the notifications they cause, in the operation's unit of work."""
        self._recipients.prefetch(ctx.uow, (ticket.requester_id, ticket.assignee_id))
        for event in events:
            ctx.uow.record(event)
            for note, person, viewer in self._recipients.for_event(ctx.uow, ticket, event, ctx.now):
                ctx.uow.outbox.add(note)
                # ``ticket`` is this operation's own copy and is not changed after this.
                self._dispatcher.prepare(
                    ctx.uow,
                    Prepared(
                        notification=note,
                        recipient=person,
                        viewer=viewer,
                        event=event,
                        ticket=ticket,
                        ticket_type=ticket_type,
                        comment=comment if isinstance(event, CommentAdded) else None,
                    ),
                )

    # -- directory (admins) ----------------------------------------------------------------

    def create_organisation(
        self,
        actor: Actor,
        *,
        name: str,
        kind: OrganisationKind | str = OrganisationKind.CUSTOMER,
        parent_id: UUID | None = None,
    ) -> Organisation:
        """Add a customer, partner or vendor organisation (admins only)."""
        with self._unit(actor, write=True) as ctx:
            self._require(ctx, Action.MANAGE_DIRECTORY)
            errors = _name_errors("name", name)
            org_kind = _enum(OrganisationKind, kind, "kind", errors)
            if org_kind is OrganisationKind.PROVIDER:
                errors.append(FieldError("kind", "a tenant has exactly one provider organisation"))
            if parent_id is not None and ctx.uow.organisations.get(parent_id) is None:
                raise NotFound("Organisation", parent_id)
            _raise_if(errors)
            assert org_kind is not None
            org = Organisation(
                tenant_id=ctx.person.tenant_id,
                id=self.new_id(),
                name=name.strip(),
                kind=org_kind,
                parent_id=parent_id,
                created_at=ctx.now,
            )
            ctx.uow.organisations.add(org)
            return org

    def add_person(
        self, actor: Actor, *, organisation_id: UUID, name: str, email: str, role: Role | str
    ) -> Person:
        """Add a person to an organisation (admins only). Staff roles belong to the provider."""
        with self._unit(actor, write=True) as ctx:
            self._require(ctx, Action.MANAGE_DIRECTORY)
            org = ctx.uow.organisations.get(organisation_id)
            if org is None:
                raise NotFound("Organisation", organisation_id)
            errors = _name_errors("name", name)
            if not isinstance(email, str) or not _EMAIL.match(email) or len(email) > 254:
                errors.append(FieldError("email", "must be an e-mail address"))
            person_role = _enum(Role, role, "role", errors)
            if person_role is not None:
                provider = org.kind is OrganisationKind.PROVIDER
                if person_role.is_staff and not provider:
                    errors.append(FieldError("role", "staff roles belong to the provider"))
                if not person_role.is_staff and provider:
                    errors.append(FieldError("role", "the provider's people are staff"))
            _raise_if(errors)
            assert person_role is not None
            person = Person(
                tenant_id=ctx.person.tenant_id,
                id=self.new_id(),
                organisation_id=org.id,
                name=name.strip(),
                email=email.strip().lower(),
                role=person_role,
                created_at=ctx.now,
            )
            ctx.uow.persons.add(person)
            self._recipients.forget()
            return person

    def deactivate_person(self, actor: Actor, person_id: UUID) -> Person:
        """Take away a person's access at once (admins only); their history stays."""
        with self._unit(actor, write=True) as ctx:
            self._require(ctx, Action.MANAGE_DIRECTORY)
            person = ctx.uow.persons.get(person_id) if isinstance(person_id, UUID) else None
            if person is None:
                raise NotFound("Person", person_id)
            if person.id == ctx.person.id:
                raise ValidationError.single("person_id", "admins cannot deactivate themselves")
            updated = attrs.evolve(person, active=False)
            ctx.uow.persons.save(updated)
            self._recipients.forget()
            return updated

    def create_project(self, actor: Actor, *, organisation_id: UUID, name: str) -> Project:
        """Add a project (a ticket queue) owned by an organisation (admins only)."""
        with self._unit(actor, write=True) as ctx:
            self._require(ctx, Action.MANAGE_DIRECTORY)
            if ctx.uow.organisations.get(organisation_id) is None:
                raise NotFound("Organisation", organisation_id)
            _raise_if(_name_errors("name", name))
            project = Project(
                tenant_id=ctx.person.tenant_id,
                id=self.new_id(),
                organisation_id=organisation_id,
                name=name.strip(),
                created_at=ctx.now,
            )
            ctx.uow.projects.add(project)
            self._recipients.forget()
            return project

    def create_ticket_type(
        self,
        actor: Actor,
        *,
        name: str,
        fields: Iterable[FieldSpec] = (),
        description_template: str = "",
        workflow: Workflow | None = None,
    ) -> TicketType:
        """Define a kind of ticket: custom fields, description template, workflow."""
        with self._unit(actor, write=True) as ctx:
            self._require(ctx, Action.MANAGE_DIRECTORY)
            errors = _name_errors("name", name)
            problem = check_text(description_template, max_length=MAX_BODY, allow_empty=True)
            if problem:
                errors.append(FieldError("description_template", problem))
            specs = tuple(fields)
            if not all(isinstance(f, FieldSpec) for f in specs):
                errors.append(FieldError("fields", "must be FieldSpec values"))
            _raise_if(errors)
            try:
                ticket_type = TicketType(
                    tenant_id=ctx.person.tenant_id,
                    id=self.new_id(),
                    name=name.strip(),
                    fields=specs,
                    description_template=description_template,
                    workflow=workflow or default_workflow(),
                    created_at=ctx.now,
                )
            except ValueError as exc:
                field, _, message = str(exc).partition(": ")
                raise ValidationError.single(field, message or str(exc)) from exc
            ctx.uow.ticket_types.add(ticket_type)
            if self._in_batch():
                self._uncommitted_types.add(ticket_type.id)
            return ticket_type

    def get_person(self, actor: Actor, person_id: UUID) -> Person:
        """A person of the tenant; customers see only people of their own organisation and
        staff (whose names appear on their tickets)."""
        with self._unit(actor, write=False) as ctx:
            person = ctx.uow.persons.get(person_id) if isinstance(person_id, UUID) else None
            if person is None or not (
                ctx.viewer.is_staff
                or person.role.is_staff
                or person.organisation_id == ctx.person.organisation_id
            ):
                raise NotFound("Person", person_id)
            return person

    def list_projects(self, actor: Actor) -> list[Project]:
        """The projects the person may see and create tickets in, by name."""
        with self._unit(actor, write=False) as ctx:
            found = ctx.uow.projects.list(self.policy.projects(ctx.viewer))
            return sorted(found, key=lambda p: (p.name, p.id))

    # -- tickets ----------------------------------------------------------------------------

    def create_ticket(
        self,
        actor: Actor,
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
    ) -> TicketView:
        """Open a ticket of a type in a project. ``description`` defaults to the type's
        template; ``requester_id`` (someone else) and ``assignee_id`` are for staff."""
        with self._unit(actor, write=True, people=(requester_id, assignee_id)) as ctx:
            uow, viewer = ctx.uow, ctx.viewer
            project = uow.projects.get(project_id) if isinstance(project_id, UUID) else None
            if project is None or not evaluate(self.policy.projects(viewer), project):
                raise NotFound("Project", project_id)
            self._require(ctx, Action.CREATE_TICKET)
            ticket_type = self._ticket_type(ctx, type_id)
            errors: list[FieldError] = []
            _text(errors, "title", title, MAX_TITLE)
            body = ticket_type.description_template if description is None else description
            _text(errors, "description", body, MAX_BODY, allow_empty=True)
            prio = _enum(Priority, priority, "priority", errors)
            _channel(errors, channel)
            values = self._field_values(ctx, ticket_type, fields or {}, errors, creating=True)
            requester = ctx.person
            if requester_id is not None and requester_id != ctx.person.id:
                self._require(ctx, Action.ACT_FOR_OTHERS, "requester_id")
                someone = self._recipients.person(uow, requester_id)
                if someone is None:
                    raise NotFound("Person", requester_id)
                if not evaluate(self.policy.projects(someone[1]), project):
                    errors.append(FieldError("requester_id", "cannot see this project"))
                requester = someone[0]
            if assignee_id is not None:
                self._require(ctx, Action.ASSIGN, "assignee_id")
                self._check_assignee(ctx, assignee_id)
            _raise_if(errors)
            assert prio is not None
            status = ticket_type.workflow.status(ticket_type.workflow.initial)
            assert status is not None
            # Every check passed: from here on, writes.
            ticket = Ticket(
                tenant_id=ctx.person.tenant_id,
                id=self.new_id(),
                number=uow.tickets.next_number(),
                project_id=project.id,
                type_id=ticket_type.id,
                title=title.strip(),
                description=body,
                fields={k: v for k, v in values.items() if v is not None},
                status=status.key,
                status_category=status.category,
                priority=prio,
                requester_id=requester.id,
                assignee_id=None,
                created_at=ctx.now,
                updated_at=ctx.now,
                public_updated_at=ctx.now,
            )
            internal_names = {f.name for f in ticket_type.fields if f.internal}
            created = TicketCreated(
                **self._event_base(ctx, ticket, Visibility.PUBLIC),
                number=ticket.number,
                title=ticket.title,
                description=ticket.description,
                project_id=ticket.project_id,
                type_id=ticket.type_id,
                requester_id=ticket.requester_id,
                status=ticket.status,
                priority=ticket.priority,
                fields={k: v for k, v in ticket.fields.items() if k not in internal_names},
            )
            events: list[Event] = [created]
            internal_values = {k: v for k, v in ticket.fields.items() if k in internal_names}
            if internal_values:
                events.append(
                    TicketChanged(
                        **self._event_base(ctx, ticket, Visibility.INTERNAL),
                        changes=tuple(
                            Change(field=f"fields.{k}", old=None, new=v)
                            for k, v in sorted(internal_values.items())
                        ),
                    )
                )
            if assignee_id is not None:
                ticket.assignee_id = assignee_id
                events.append(
                    TicketAssigned(
                        **self._event_base(ctx, ticket, Visibility.INTERNAL),
                        old_assignee_id=None,
                        new_assignee_id=assignee_id,
                    )
                )
            uow.tickets.add(ticket)
            self._emit(ctx, ticket, events, ticket_type)
            return project_ticket(
                ticket,
                ticket_type,
                internal=self.policy.may_see_internal(viewer),
                comment_count=0,
            )

    def get_ticket(self, actor: Actor, ticket_id: UUID) -> TicketView:
        """One ticket as the person may see it; NotFound also when they may not."""
        with self._unit(actor, write=False) as ctx:
            return self._view(ctx, self._visible_ticket(ctx, ticket_id))

    def list_tickets(
        self,
        actor: Actor,
        *,
        status: str | Iterable[str] | None = None,
        category: str | Iterable[str] | None = None,
        project_id: UUID | None = None,
        assignee_id: UUID | _Unset | None = UNSET,
        requester_id: UUID | None = None,
        type_id: UUID | None = None,
        sort: TicketSort | str = TicketSort.NEWEST,
        limit: int = 25,
        cursor: str | None = None,
    ) -> Page:
        """The tickets the person may see, filtered and sorted, one keyset page at a time.

        ``assignee_id=None`` lists unassigned tickets; filtering or sorting on what the
        person may not see is refused rather than silently ignored.
        """
        with self._unit(actor, write=False) as ctx:
            viewer = ctx.viewer
            errors: list[FieldError] = []
            order = _enum(TicketSort, sort, "sort", errors)
            if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
                errors.append(FieldError("limit", f"must be an integer from 1 to {MAX_PAGE}"))
            internal = self.policy.may_see_internal(viewer)
            filters: list[Predicate] = [self.policy.tickets(viewer)]
            if status is not None:
                filters.append(one_of("status", _strings(status, "status", errors)))
            if category is not None:
                filters.append(one_of("status_category", _strings(category, "category", errors)))
            for name, value in (
                ("project_id", project_id),
                ("requester_id", requester_id),
                ("type_id", type_id),
            ):
                if value is not None:
                    if not isinstance(value, UUID):
                        errors.append(FieldError(name, "must be a UUID"))
                    else:
                        filters.append(Eq(name, value))
            if not isinstance(assignee_id, _Unset):
                if not internal:
                    raise PermissionDenied("filter by assignee", "assignee_id")
                filters.append(Eq("assignee_id", assignee_id))
            _raise_if(errors)
            assert order is not None
            updated = "updated_at" if internal else "public_updated_at"
            keys = _sort_keys(order, updated)
            if cursor is not None:
                filters.append(_after(cursor, order, keys))
            found = ctx.uow.tickets.query(all_of(*filters), keys, limit + 1)
            more = len(found) > limit
            found = found[:limit]
            count = self.policy.comment_counter(viewer)
            types: dict[UUID, TicketType] = {}
            items = []
            for t in found:
                if t.type_id not in types:
                    types[t.type_id] = self._ticket_type(ctx, t.type_id)
                items.append(
                    project_ticket(
                        t,
                        types[t.type_id],
                        internal=internal,
                        comment_count=count(t.comment_tally),
                    )
                )
            next_cursor = _cursor(order, found[-1], keys) if more and found else None
            return Page(items=tuple(items), next_cursor=next_cursor)

    def update_ticket(
        self,
        actor: Actor,
        ticket_id: UUID,
        *,
        title: str | _Unset = UNSET,
        description: str | _Unset = UNSET,
        priority: Priority | str | _Unset = UNSET,
        fields: Mapping[str, object] | None = None,
        assignee_id: UUID | _Unset | None = UNSET,
        status: str | _Unset = UNSET,
        comment: CommentDraft | None = None,
        expected_version: int | None = None,
    ) -> TicketView:
        """Change several things at once, atomically ("update", "update and close").

        Each part needs its own permission. With ``expected_version`` a ticket changed by
        someone else since it was read raises ``Conflict`` instead of overwriting.
        """
        view = self._retrying(
            lambda: self._update(
                actor,
                ticket_id,
                title=title,
                description=description,
                priority=priority,
                fields=fields,
                assignee_id=assignee_id,
                status=status,
                comment=comment,
                expected_version=expected_version,
            ),
            expected_version,
        )[0]
        assert view is not None
        return view

    def _retrying(self, run: Callable[[], T], expected_version: int | None, attempts: int = 3) -> T:
        """Run an update; without an expected version, a concurrent writer only means
        "read again and re-apply", so a Conflict is retried a few times."""
        if expected_version is not None or self._in_batch():
            return run()
        for _ in range(attempts - 1):
            try:
                return run()
            except Conflict:
                continue
        return run()

    def _in_batch(self) -> bool:
        return False

    def _update(
        self,
        actor: Actor,
        ticket_id: UUID,
        *,
        title: str | _Unset,
        description: str | _Unset,
        priority: Priority | str | _Unset,
        fields: Mapping[str, object] | None,
        assignee_id: UUID | _Unset | None,
        status: str | _Unset,
        comment: CommentDraft | None,
        expected_version: int | None,
        want_view: bool = True,
    ) -> tuple[TicketView | None, Comment | None]:
        with self._unit(actor, write=True) as ctx:
            ticket = self._visible_ticket(ctx, ticket_id)
            ticket_type = self._ticket_type(ctx, ticket.type_id)
            if expected_version is not None and expected_version != ticket.version:
                raise Conflict("Ticket", ticket.id, expected_version)
            errors: list[FieldError] = []
            public: list[Change] = []
            internal: list[Change] = []
            if not isinstance(title, _Unset):
                self._require(ctx, Action.UPDATE_PUBLIC_FIELDS, "title")
                if _text(errors, "title", title, MAX_TITLE) and title.strip() != ticket.title:
                    public.append(Change(field="title", old=ticket.title, new=title.strip()))
            if not isinstance(description, _Unset):
                self._require(ctx, Action.UPDATE_PUBLIC_FIELDS, "description")
                if (
                    _text(errors, "description", description, MAX_BODY, allow_empty=True)
                    and description != ticket.description
                ):
                    public.append(
                        Change(field="description", old=ticket.description, new=description)
                    )
            if not isinstance(priority, _Unset):
                self._require(ctx, Action.UPDATE_PUBLIC_FIELDS, "priority")
                prio = _enum(Priority, priority, "priority", errors)
                if prio is not None and prio != ticket.priority:
                    public.append(Change(field="priority", old=ticket.priority, new=prio))
            if fields:
                values = self._field_values(ctx, ticket_type, fields, errors, creating=False)
                specs = {f.name: f for f in ticket_type.fields}
                for name, value in sorted(values.items()):
                    old = ticket.fields.get(name)
                    if value != old:
                        change = Change(field=f"fields.{name}", old=old, new=value)
                        (internal if specs[name].internal else public).append(change)
                if any(not specs[n].internal for n in values):
                    self._require(ctx, Action.UPDATE_PUBLIC_FIELDS, "fields")
            new_assignee: UUID | _Unset | None = UNSET
            if not isinstance(assignee_id, _Unset):
                self._require(ctx, Action.ASSIGN, "assignee_id")
                if assignee_id is not None:
                    self._check_assignee(ctx, assignee_id)
                if assignee_id != ticket.assignee_id:
                    new_assignee = assignee_id
            new_status = None
            if not isinstance(status, _Unset):
                self._require(ctx, Action.CHANGE_STATUS, "status")
                workflow = ticket_type.workflow
                target = workflow.status(status) if isinstance(status, str) else None
                if target is None:
                    errors.append(
                        FieldError("status", f"unknown status {status!r} for this ticket type")
                    )
                elif target.key != ticket.status:
                    if not workflow.allows(ticket.status, target.key):
                        allowed = list(workflow.targets(ticket.status))
                        errors.append(
                            FieldError(
                                "status",
                                f"cannot go from {ticket.status!r} to {target.key!r}; "
                                f"allowed: {allowed}",
                            )
                        )
                    else:
                        new_status = target
            if comment is not None:
                self._check_comment(ctx, comment, errors)
            _raise_if(errors)

            # Every check passed: apply and record.
            base_version = ticket.version
            events: list[Event] = []
            for change in public + internal:
                if change.field.startswith("fields."):
                    name = change.field.removeprefix("fields.")
                    if change.new is None:
                        ticket.fields.pop(name, None)
                    else:
                        ticket.fields[name] = change.new
                elif change.field == "priority":
                    ticket.priority = Priority(str(change.new))
                else:
                    setattr(ticket, change.field, change.new)
            if public:
                events.append(
                    TicketChanged(
                        **self._event_base(ctx, ticket, Visibility.PUBLIC), changes=tuple(public)
                    )
                )
            if internal:
                events.append(
                    TicketChanged(
                        **self._event_base(ctx, ticket, Visibility.INTERNAL),
                        changes=tuple(internal),
                    )
                )
            if not isinstance(new_assignee, _Unset):
                events.append(
                    TicketAssigned(
                        **self._event_base(ctx, ticket, Visibility.INTERNAL),
                        old_assignee_id=ticket.assignee_id,
                        new_assignee_id=new_assignee,
                    )
                )
                ticket.assignee_id = new_assignee
            new_comment = None
            if comment is not None:
                new_comment = self._comment(ctx, ticket, comment)
                ticket.tally_comment(new_comment)
                events.append(
                    CommentAdded(
                        **self._event_base(ctx, ticket, comment.visibility),
                        comment_id=new_comment.id,
                        channel=comment.channel,
                    )
                )
            if new_status is not None:
                events.append(
                    StatusChanged(
                        **self._event_base(ctx, ticket, Visibility.PUBLIC),
                        old_status=ticket.status,
                        new_status=new_status.key,
                        new_category=new_status.category,
                    )
                )
                ticket.status = new_status.key
                ticket.status_category = new_status.category
            if not events:
                return (self._view(ctx, ticket, ticket_type) if want_view else None), None
            ticket.version = base_version + 1
            ticket.updated_at = ctx.now
            for e in events:
                if e.visibility is Visibility.PUBLIC:
                    ticket.public_updated_at = ctx.now
                    break
            ctx.uow.tickets.update(ticket, expected_version=base_version)
            if new_comment is not None:
                ctx.uow.comments.add(new_comment)
            self._emit(ctx, ticket, events, ticket_type, new_comment)
            # Counting comments reads the database, so skip it when nobody needs the view.
            view = self._view(ctx, ticket, ticket_type) if want_view else None
            return view, new_comment

    def assign(
        self,
        actor: Actor,
        ticket_id: UUID,
        assignee_id: UUID | None,
        *,
        comment: CommentDraft | None = None,
        expected_version: int | None = None,
    ) -> TicketView:
        """Give the ticket to an agent (or nobody), optionally with a comment."""
        return self.update_ticket(
            actor,
            ticket_id,
            assignee_id=assignee_id,
            comment=comment,
            expected_version=expected_version,
        )

    def change_status(
        self,
        actor: Actor,
        ticket_id: UUID,
        status: str,
        *,
        comment: CommentDraft | None = None,
        expected_version: int | None = None,
    ) -> TicketView:
        """Move the ticket along its workflow, optionally with a comment in the same step."""
        return self.update_ticket(
            actor, ticket_id, status=status, comment=comment, expected_version=expected_version
        )

    def add_comment(
        self,
        actor: Actor,
        ticket_id: UUID,
        body: str,
        *,
        visibility: Visibility | str,
        channel: str = "api",
        expected_version: int | None = None,
    ) -> Comment:
        """Write a public reply or an internal note; returns the stored comment."""
        errors: list[FieldError] = []
        vis = _enum(Visibility, visibility, "visibility", errors)
        _raise_if(errors)
        assert vis is not None
        draft = CommentDraft(body=body, visibility=vis, channel=channel)
        _, comment = self._retrying(
            lambda: self._update(
                actor,
                ticket_id,
                title=UNSET,
                description=UNSET,
                priority=UNSET,
                fields=None,
                assignee_id=UNSET,
                status=UNSET,
                comment=draft,
                expected_version=expected_version,
                want_view=False,
            ),
            expected_version,
        )
        assert comment is not None
        return comment

    def timeline(self, actor: Actor, ticket_id: UUID) -> list[TimelineEntry]:
        """The ticket's history as this person may see it, oldest first."""
        with self._unit(actor, write=False) as ctx:
            ticket = self._visible_ticket(ctx, ticket_id)
            events = ctx.uow.events.for_ticket(ticket.id, self.policy.events(ctx.viewer))
            comments = {
                c.id: c
                for c in ctx.uow.comments.for_ticket(ticket.id, self.policy.comments(ctx.viewer))
            }
            entries = []
            for event in events:
                if isinstance(event, CommentAdded):
                    found = comments.get(event.comment_id)
                    if found is None:
                        continue
                    entries.append(TimelineEntry(event=event, comment=found))
                else:
                    entries.append(TimelineEntry(event=event))
            return entries

    # -- helpers -----------------------------------------------------------------------------

    def _field_values(
        self,
        ctx: _Context,
        ticket_type: TicketType,
        raw: Mapping[str, object],
        errors: list[FieldError],
        *,
        creating: bool,
    ) -> dict[str, FieldValue | None]:
        if not isinstance(raw, Mapping):
            errors.append(FieldError("fields", "must be a mapping of field names to values"))
            return {}
        sees_internal = self.policy.may_see_internal(ctx.viewer)
        may_set_internal = self.policy.may(ctx.viewer, Action.UPDATE_INTERNAL_FIELDS)
        values, problems, forbidden = validate_field_values(
            ticket_type.fields, raw, may_set_internal=may_set_internal, check_required=creating
        )
        if forbidden:
            if sees_internal:
                raise PermissionDenied("set internal fields", forbidden[0])
            # Those who may not see internal fields are not told they exist.
            problems.extend(FieldError(name, "unknown field") for name in forbidden)
        errors.extend(problems)
        return values  # type: ignore[return-value]

    def _check_assignee(self, ctx: _Context, assignee_id: UUID) -> None:
        found = self._recipients.person(ctx.uow, assignee_id)
        if found is None:
            raise NotFound("Person", assignee_id)
        if not self.policy.may(found[1], Action.BE_ASSIGNED):
            raise ValidationError.single("assignee_id", "this person cannot be assigned tickets")

    def _check_comment(self, ctx: _Context, draft: CommentDraft, errors: list[FieldError]) -> None:
        if not isinstance(draft, CommentDraft):
            errors.append(FieldError("comment", "must be a CommentDraft"))
            return
        vis = _enum(Visibility, draft.visibility, "comment.visibility", errors)
        if vis is Visibility.PUBLIC:
            self._require(ctx, Action.COMMENT_PUBLIC, "comment.visibility")
        elif vis is Visibility.INTERNAL:
            self._require(ctx, Action.COMMENT_INTERNAL, "comment.visibility")
        _text(errors, "comment.body", draft.body, MAX_BODY)
        _channel(errors, draft.channel, "comment.channel")

    def _comment(self, ctx: _Context, ticket: Ticket, draft: CommentDraft) -> Comment:
        return Comment(
            tenant_id=ctx.person.tenant_id,
            id=self.new_id(),
            ticket_id=ticket.id,
            author_id=ctx.person.id,
            organisation_id=ctx.person.organisation_id,
            body=draft.body,
            visibility=Visibility(draft.visibility),
            channel=draft.channel,
            created_at=ctx.now,
        )


class Batch(_Operations):
    """Many operations in one unit of work, committed together (imports, bulk changes).

    A failing operation inside the batch raises and stages nothing; the others stay staged.
    Leaving the ``with`` block commits unless an exception escapes it.
    """

    def __init__(self, desk: HelpDesk, uow: UnitOfWork) -> None:
        super().__init__(desk.policy, desk.clock, desk.new_id, dispatcher=desk._dispatcher)
        self._uow = uow
        self._types = desk._types

    def _in_batch(self) -> bool:
        return True

    def _unit(
        self, actor: Actor, *, write: bool, people: Iterable[UUID | None] = ()
    ) -> AbstractContextManager[_Context]:
        if not isinstance(actor, Actor) or actor.tenant_id != self._uow.tenant_id:
            raise NotFound("Person", getattr(actor, "person_id", actor))
        return nullcontext(self._context(self._uow, actor, people))


class HelpDesk(_Operations):
    """The entry object a host app creates once: storage, clock, policy and plugins.

    ``new_id`` makes the ids of everything created (time-ordered UUIDs by default, see
    ``ticketkit.ids``; ``uuid.uuid4`` where ids must not tell when they were made).

    >>> desk = HelpDesk(MemoryStorage())          # doctest: +SKIP
    >>> boot = desk.bootstrap_tenant(...)        # doctest: +SKIP
    """

    def __init__(
        self,
        storage: Storage,
        *,
        clock: Clock | None = None,
        plugins: Plugins | None = None,
        signals: Signals | None = None,
        policy: Policy = DEFAULT_POLICY,
        new_id: Callable[[], UUID] = ids.new_id,
        max_delivery_attempts: int = 5,
    ) -> None:
        self.storage = storage
        self.plugins = plugins or Plugins.create()
        self.signals = signals or Signals()
        dispatcher = Dispatcher(
            storage=storage,
            policy=policy,
            clock=clock or SystemClock(),
            plugins=self.plugins,
            signals=self.signals,
            sender=self,
            max_attempts=max_delivery_attempts,
        )
        super().__init__(policy, clock or SystemClock(), new_id, dispatcher=dispatcher)
        self._dispatcher = dispatcher

    @contextmanager
    def _unit(
        self, actor: Actor, *, write: bool, people: Iterable[UUID | None] = ()
    ) -> Iterator[_Context]:
        if not isinstance(actor, Actor):
            raise TypeError("actor: pass Person.actor or an Actor, the acting person first")
        with self.storage.unit_of_work(actor.tenant_id, read_only=not write) as uow:
            try:
                yield self._context(uow, actor, people)
                if write:
                    uow.commit()
            except BaseException:
                self._dispatcher.discard(uow)
                raise
            if write:
                self._dispatcher.after_commit(uow)

    @contextmanager
    def batch(self, actor: Actor) -> Iterator[Batch]:
        """Run many operations of ``actor``'s tenant in one unit of work."""
        with self.storage.unit_of_work(actor.tenant_id) as uow:
            try:
                yield Batch(self, uow)
                uow.commit()
            except BaseException:
                self._dispatcher.discard(uow)
                raise
            self._dispatcher.after_commit(uow)

    def bootstrap_tenant(
        self, *, name: str, provider_name: str, admin_name: str, admin_email: str
    ) -> Bootstrap:
        """Create a tenant with its provider organisation and first admin.

        The one operation without an acting person: it is how the first person comes to be.
        The host app decides who may call it.
        """
        errors = _name_errors("name", name) + _name_errors("provider_name", provider_name)
        errors += _name_errors("admin_name", admin_name)
        if not isinstance(admin_email, str) or not _EMAIL.match(admin_email):
            errors.append(FieldError("admin_email", "must be an e-mail address"))
        _raise_if(errors)
        now = self.clock.now()
        tenant = Tenant(id=self.new_id(), name=name.strip(), created_at=now)
        provider = Organisation(
            tenant_id=tenant.id,
            id=self.new_id(),
            name=provider_name.strip(),
            kind=OrganisationKind.PROVIDER,
            created_at=now,
        )
        admin = Person(
            tenant_id=tenant.id,
            id=self.new_id(),
            organisation_id=provider.id,
            name=admin_name.strip(),
            email=admin_email.strip().lower(),
            role=Role.ADMIN,
            created_at=now,
        )
        with self.storage.unit_of_work(tenant.id) as uow:
            uow.add_tenant(tenant)
            uow.organisations.add(provider)
            uow.persons.add(admin)
            uow.commit()
        return Bootstrap(tenant=tenant, provider=provider, admin=admin)

    def flush(self) -> None:
        """Write the delivery acknowledgements held in memory (call it at shutdown)."""
        self._dispatcher.flush()

    def deliver_pending(self, tenant_id: UUID | None = None, *, limit: int = 500) -> int:
        """Retry notifications that are pending or failed (call it from a scheduler).

        Returns how many were attempted.
        """
        tenants = [tenant_id] if tenant_id is not None else self.storage.tenant_ids()
        return sum(self._dispatcher.retry(t, limit=limit) for t in tenants)


# -- small pure helpers ------------------------------------------------------------------------


def _raise_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationError(errors)


def _text(
    errors: list[FieldError],
    name: str,
    value: object,
    max_length: int,
    *,
    allow_empty: bool = False,
) -> bool:
    if not isinstance(value, str):
        errors.append(FieldError(name, "must be text"))
        return False
    problem = check_text(value, max_length=max_length, allow_empty=allow_empty)
    if problem:
        errors.append(FieldError(name, problem))
        return False
    return True


def _name_errors(field: str, value: object) -> list[FieldError]:
    errors: list[FieldError] = []
    _text(errors, field, value, MAX_NAME)
    return errors


def _channel(errors: list[FieldError], value: object, field: str = "channel") -> None:
    if not isinstance(value, str) or not _CHANNEL.match(value):
        errors.append(FieldError(field, "must be a short lower-case channel name like 'email'"))


E = TypeVar("E", bound=Any)


def _enum(cls: type[E], value: object, field: str, errors: list[FieldError]) -> E | None:
    try:
        return cast(E, cls(value))
    except ValueError:
        allowed = [m.value for m in cls]
        errors.append(FieldError(field, f"unknown value {value!r}; expected one of {allowed}"))
        return None


def _strings(value: str | Iterable[str], field: str, errors: list[FieldError]) -> list[str]:
    items = [value] if isinstance(value, str) else list(value)
    if not items or not all(isinstance(i, str) for i in items):
        errors.append(FieldError(field, "must be a name or a list of names"))
        return []
    return items


def _sort_keys(order: TicketSort, updated: str) -> tuple[OrderBy, ...]:
    if order is TicketSort.NEWEST:
        return (OrderBy("number", descending=True),)
    if order is TicketSort.OLDEST:
        return (OrderBy("number"),)
    desc = order is TicketSort.RECENTLY_UPDATED
    return (OrderBy(updated, descending=desc), OrderBy("number", descending=desc))


def _cursor(order: TicketSort, last: Ticket, keys: tuple[OrderBy, ...]) -> str:
    values = [
        v.isoformat() if isinstance(v, datetime) else v
        for v in (getattr(last, k.attr) for k in keys)
    ]
    raw = json.dumps([order.value, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(cursor: str, order: TicketSort, keys: tuple[OrderBy, ...]) -> Predicate:
    """The keyset condition "strictly after the cursor's row" for ``keys``."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(data, list) or data[0] != order.value or len(data) != len(keys) + 1:
            raise ValueError("cursor belongs to another sort")
        values: list[object] = []
        for key, raw in zip(keys, data[1:], strict=True):
            if key.attr == "number":
                if not isinstance(raw, int):
                    raise ValueError("number")
                values.append(raw)
            else:
                parsed = datetime.fromisoformat(raw)
                if parsed.tzinfo is None:
                    raise ValueError("naive")
                values.append(parsed)
    except (ValueError, TypeError, IndexError, binascii.Error, json.JSONDecodeError) as exc:
        raise ValidationError.single("cursor", "is not a cursor of this listing") from exc
    result: Predicate = TRUE
    # Lexicographic "after": k1 > v1, or k1 == v1 and k2 > v2, … (reversed for descending).
    for i in reversed(range(len(keys))):
        key = keys[i]
        strictly = Cmp(key.attr, "<" if key.descending else ">", values[i])
        result = (
            strictly
            if i == len(keys) - 1
            else any_of(strictly, all_of(Eq(key.attr, values[i]), result))
        )
    return result
