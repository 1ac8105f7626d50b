"""The public façade: one ``HelpDesk`` per host app, and ``Batch`` for many operations in one
unit of work.

Every method takes the acting person first and is one line: it names how to run (see
``Run``) and the capability module's operation that does the work. ``HelpDesk`` runs each
call in a ``Session`` of its own, commits, and hands what it wrote to delivery; a ``Batch``
runs every call in the session it holds.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import Concatenate, ParamSpec, Self, TypeVar
from uuid import UUID

import attrs

from ticketkit import ids
from ticketkit.application import directory, groups, tickets
from ticketkit.application import validation as check
from ticketkit.application.delivery import DeliveryMode, Dispatcher
from ticketkit.application.directory import Bootstrap
from ticketkit.application.session import Services, Session, check_actor
from ticketkit.application.tickets import TicketUpdate
from ticketkit.application.views import (
    UNSET,
    CommentDraft,
    Page,
    PersonView,
    TicketActions,
    TicketSort,
    TicketTypeView,
    TicketView,
    TimelineEntry,
    Unset,
)
from ticketkit.clock import Clock, SystemClock
from ticketkit.domain.fields import FieldSpec
from ticketkit.domain.model import (
    Actor,
    Comment,
    Group,
    Organisation,
    OrganisationKind,
    Person,
    Priority,
    Project,
    Role,
    TicketType,
    Visibility,
)
from ticketkit.domain.values import member
from ticketkit.domain.workflow import Workflow
from ticketkit.errors import Conflict, FieldError, ValidationError
from ticketkit.hooks.plugins import Plugins
from ticketkit.hooks.signals import Signals
from ticketkit.policy.rules import DEFAULT_POLICY, Policy
from ticketkit.ports.repositories import Storage, UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")


@attrs.frozen
class Run:
    """How an operation runs: reading or writing; whether a write that lost a race to a
    concurrent one is run again; and which people to load with the actor in one read."""

    write: bool
    #: A write that lost a race in storage runs again, whole, up to three times: it reads
    #: afresh and checks again, ``expected_version`` included, against the person's own
    #: version, so only a change they can see is a conflict of theirs.
    retry: bool = False
    people: tuple[UUID | None, ...] = ()


#: The most notifications one ``deliver_pending`` call attempts per tenant.
MAX_DELIVERY_BATCH = 10_000

READ = Run(write=False)
WRITE = Run(write=True)
#: Changes to a ticket, which concurrent writers race for.
UPDATE = Run(write=True, retry=True)


class _Facade(abc.ABC):
    """The operations a host calls, each delegating to its capability module."""

    @abc.abstractmethod
    def _run(
        self,
        actor: Actor,
        how: Run,
        operation: Callable[Concatenate[Session, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Run ``operation`` in a session acting as ``actor``."""

    # -- directory ---------------------------------------------------------------------------

    def create_organisation(
        self,
        actor: Actor,
        *,
        name: str,
        kind: OrganisationKind | str = OrganisationKind.CUSTOMER,
        parent_id: UUID | None = None,
    ) -> Organisation:
        """Add a customer, partner or vendor organisation (admins only)."""
        return self._run(
            actor,
            WRITE,
            directory.create_organisation,
            name=name,
            kind=kind,
            parent_id=parent_id,
        )

    def add_person(
        self, actor: Actor, *, organisation_id: UUID, name: str, email: str, role: Role | str
    ) -> Person:
        """Add a person to an organisation (admins only). Staff roles belong to the provider."""
        return self._run(
            actor,
            # Run again after losing a race for the e-mail address (the unique index's
            # Conflict): the second run's check then names ``email``.
            UPDATE,
            directory.add_person,
            organisation_id=organisation_id,
            name=name,
            email=email,
            role=role,
        )

    def deactivate_person(self, actor: Actor, person_id: UUID) -> Person:
        """Take away a person's access at once (admins only); their history stays."""
        return self._run(actor, WRITE, directory.deactivate_person, person_id)

    def create_project(self, actor: Actor, *, organisation_id: UUID, name: str) -> Project:
        """Add a project (a ticket queue) owned by an organisation (admins only)."""
        return self._run(
            actor, WRITE, directory.create_project, organisation_id=organisation_id, name=name
        )

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
        return self._run(
            actor,
            WRITE,
            directory.create_ticket_type,
            name=name,
            fields=fields,
            description_template=description_template,
            workflow=workflow,
        )

    def get_person(self, actor: Actor, person_id: UUID) -> PersonView:
        """A person of the tenant as the actor may see them; customers see only people of
        their own organisation and staff (whose names, not e-mails, are on their tickets)."""
        return self._run(actor, READ, directory.get_person, person_id)

    def list_people(
        self,
        actor: Actor,
        *,
        organisation_id: UUID | None = None,
        email: str | None = None,
        assignable: bool = False,
        limit: int = directory.MAX_PEOPLE,
    ) -> list[PersonView]:
        """People the actor may look up, by name: an organisation's members, the person
        with an e-mail address, or those who may be assigned tickets."""
        return self._run(
            actor,
            READ,
            directory.list_people,
            organisation_id=organisation_id,
            email=email,
            assignable=assignable,
            limit=limit,
        )

    def list_ticket_types(self, actor: Actor) -> list[TicketTypeView]:
        """The tenant's ticket types by name, each with the fields the actor may see."""
        return self._run(actor, READ, directory.list_ticket_types)

    def list_projects(self, actor: Actor) -> list[Project]:
        """The projects the person may see and create tickets in, by name."""
        return self._run(actor, READ, directory.list_projects)

    # -- groups and followers ----------------------------------------------------------------

    def create_group(
        self,
        actor: Actor,
        *,
        name: str,
        member_ids: Iterable[UUID] = (),
        project_ids: Iterable[UUID] = (),
    ) -> Group:
        """Add an agent group with its members and the projects it serves (admins only)."""
        return self._run(
            actor,
            WRITE,
            groups.create_group,
            name=name,
            member_ids=member_ids,
            project_ids=project_ids,
        )

    def update_group(
        self,
        actor: Actor,
        group_id: UUID,
        *,
        name: str | None = None,
        member_ids: Iterable[UUID] | None = None,
        project_ids: Iterable[UUID] | None = None,
    ) -> Group:
        """Rename a group or replace its members or served projects (admins only)."""
        return self._run(
            actor,
            WRITE,
            groups.update_group,
            group_id,
            name=name,
            member_ids=member_ids,
            project_ids=project_ids,
        )

    def get_group(self, actor: Actor, group_id: UUID) -> Group:
        """One agent group (staff only; NotFound for customers)."""
        return self._run(actor, READ, groups.get_group, group_id)

    def list_groups(
        self, actor: Actor, *, project_id: UUID | None = None, member_id: UUID | None = None
    ) -> list[Group]:
        """The agent groups (staff see all, customers none), by name, optionally only
        those serving a project or with a member."""
        return self._run(
            actor, READ, groups.list_groups, project_id=project_id, member_id=member_id
        )

    def list_followers(self, actor: Actor, ticket_id: UUID) -> list[PersonView]:
        """The ticket's followers the actor may know of (customers: no staff)."""
        return self._run(actor, READ, groups.list_followers, ticket_id)

    def add_follower(self, actor: Actor, ticket_id: UUID, person_id: UUID) -> list[PersonView]:
        """Let someone follow the ticket: staff add staff, a requester her colleagues."""
        return self._run(
            actor,
            Run(write=True, retry=True, people=(person_id,)),
            groups.add_follower,
            ticket_id,
            person_id,
        )

    def remove_follower(self, actor: Actor, ticket_id: UUID, person_id: UUID) -> list[PersonView]:
        """Stop someone following the ticket (anyone may stop following themselves)."""
        return self._run(
            actor,
            Run(write=True, retry=True, people=(person_id,)),
            groups.remove_follower,
            ticket_id,
            person_id,
        )

    # -- tickets -----------------------------------------------------------------------------

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
        group_id: UUID | Unset | None = UNSET,
    ) -> TicketView:
        """Open a ticket of a type in a project. ``description`` defaults to the type's
        template; ``requester_id`` (someone else), ``assignee_id`` and ``group_id`` are for
        staff. Without ``group_id`` it goes to the oldest group serving the project."""
        return self._run(
            actor,
            Run(write=True, people=(requester_id, assignee_id)),
            tickets.create_ticket,
            project_id=project_id,
            type_id=type_id,
            title=title,
            description=description,
            fields=fields,
            priority=priority,
            requester_id=requester_id,
            assignee_id=assignee_id,
            channel=channel,
            group_id=group_id,
        )

    def get_ticket(self, actor: Actor, ticket_id: UUID) -> TicketView:
        """One ticket as the person may see it; NotFound also when they may not."""
        return self._run(actor, READ, tickets.get_ticket, ticket_id)

    def get_ticket_by_number(self, actor: Actor, project_id: UUID, number: int) -> TicketView:
        """The ticket numbered ``number`` in the project ("#42" in links and mails; numbers
        count per project) as the person may see it; NotFound also when they may not."""
        return self._run(actor, READ, tickets.get_ticket_by_number, project_id, number)

    def list_tickets(
        self,
        actor: Actor,
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
    ) -> Page:
        """The tickets the person may see, filtered and sorted, one keyset page at a time.

        ``assignee_id=None`` lists unassigned tickets, ``group_id=None`` those of no group
        (staff only); filtering or sorting on what the person may not see is refused
        rather than silently ignored.
        """
        return self._run(
            actor,
            READ,
            tickets.list_tickets,
            status=status,
            category=category,
            project_id=project_id,
            assignee_id=assignee_id,
            requester_id=requester_id,
            type_id=type_id,
            sort=sort,
            limit=limit,
            cursor=cursor,
            group_id=group_id,
        )

    def update_ticket(
        self,
        actor: Actor,
        ticket_id: UUID,
        *,
        title: str | None = None,
        description: str | None = None,
        priority: Priority | str | None = None,
        fields: Mapping[str, object] | None = None,
        assignee_id: UUID | Unset | None = UNSET,
        status: str | None = None,
        comment: CommentDraft | None = None,
        expected_version: int | None = None,
        group_id: UUID | Unset | None = UNSET,
    ) -> TicketView:
        """Change several things at once, atomically ("update", "update and close").

        Each part needs its own permission; ``None`` (and ``UNSET`` for the assignee) leaves
        a part as it is. With ``expected_version`` a ticket changed by someone else since it
        was read raises ``Conflict`` instead of overwriting.
        """
        return self._run(
            actor,
            UPDATE,
            tickets.update_ticket,
            ticket_id,
            TicketUpdate(
                title=title,
                description=description,
                priority=priority,
                fields=fields,
                assignee_id=assignee_id,
                status=status,
                comment=comment,
                expected_version=expected_version,
                group_id=group_id,
            ),
        )

    def assign(
        self,
        actor: Actor,
        ticket_id: UUID,
        assignee_id: UUID | Unset | None = UNSET,
        *,
        group_id: UUID | Unset | None = UNSET,
        comment: CommentDraft | None = None,
        expected_version: int | None = None,
    ) -> TicketView:
        """Give the ticket to an agent (or nobody), to an agent group (or none), or to an
        agent of a group (who must be a member), optionally with a comment."""
        return self._run(
            actor,
            UPDATE,
            tickets.update_ticket,
            ticket_id,
            TicketUpdate(
                assignee_id=assignee_id,
                group_id=group_id,
                comment=comment,
                expected_version=expected_version,
            ),
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
        return self._run(
            actor,
            UPDATE,
            tickets.change_status,
            ticket_id,
            status,
            comment=comment,
            expected_version=expected_version,
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
        return self._run(
            actor,
            UPDATE,
            tickets.add_comment,
            ticket_id,
            body,
            visibility=visibility,
            channel=channel,
            expected_version=expected_version,
        )

    def ticket_actions(self, actor: Actor, ticket_id: UUID) -> TicketActions:
        """What the actor may do to the ticket now: comment (publicly, internally), move it
        to which statuses, assign it, update which fields. For a UI's buttons."""
        return self._run(actor, READ, tickets.ticket_actions, ticket_id)

    def timeline(self, actor: Actor, ticket_id: UUID) -> list[TimelineEntry]:
        """The ticket's history as this person may see it, oldest first."""
        return self._run(actor, READ, tickets.timeline, ticket_id)


class Batch(_Facade):
    """Many operations in one unit of work, committed together (imports, bulk changes).

    A failing operation inside the batch raises and stages nothing; the others stay staged.
    Leaving the ``with`` block commits unless an exception escapes it. Every operation runs
    in the batch's one session, acting as the person it is given.
    """

    def __init__(self, services: Services, uow: UnitOfWork) -> None:
        self._services = services
        self._uow = uow
        self.session: Session | None = None

    def _run(
        self,
        actor: Actor,
        how: Run,
        operation: Callable[Concatenate[Session, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        if self.session is None:
            self.session = Session(self._services, self._uow, actor, people=how.people)
        else:
            self.session.act_as(actor, people=how.people)
        return operation(self.session, *args, **kwargs)


class HelpDesk(_Facade):
    """The entry object a host app creates once: storage, clock, policy and plugins.

    ``new_id`` makes the ids of everything created (time-ordered UUIDs by default, see
    ``ticketkit.ids``; ``uuid.uuid4`` where ids must not tell when they were made).
    Notifications go to the plugins on the desk's delivery thread after the operation
    returns (``delivery=DeliveryMode.INLINE``: before it returns), each plugin call given
    up after ``delivery_timeout`` seconds; deliveries are written as done within
    ``acknowledge_within`` seconds (in batches). ``flush()`` waits for queued deliveries;
    ``close()`` (or leaving ``with desk:``) also ends the delivery threads.

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
        acknowledge_within: float = 1.0,
        delivery: DeliveryMode | str = DeliveryMode.BACKGROUND,
        delivery_timeout: float = 10.0,
    ) -> None:
        mode = member(DeliveryMode, delivery, "delivery")
        if (
            isinstance(delivery_timeout, bool)
            or not isinstance(delivery_timeout, int | float)
            or not math.isfinite(delivery_timeout)
            or delivery_timeout <= 0
        ):
            raise ValidationError.single(
                "delivery_timeout", f"must be a positive number of seconds: {delivery_timeout!r}"
            )
        self.storage = storage
        self.clock = clock or SystemClock()
        self.policy = policy
        self.new_id = new_id
        self.plugins = plugins or Plugins.create()
        self.signals = signals or Signals()
        self._services = Services(policy=policy, clock=self.clock, new_id=new_id)
        self._dispatcher = Dispatcher(
            storage=storage,
            policy=policy,
            clock=self.clock,
            plugins=self.plugins,
            signals=self.signals,
            sender=self,
            max_attempts=max_delivery_attempts,
            ack_delay=acknowledge_within,
            mode=mode,
            attempt_timeout=float(delivery_timeout),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(
        self,
        actor: Actor,
        how: Run,
        operation: Callable[Concatenate[Session, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        check_actor(actor)
        attempts = 3 if how.retry else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._once(actor, how, operation, *args, **kwargs)
            except Conflict:
                if attempt == attempts:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(
        self,
        actor: Actor,
        how: Run,
        operation: Callable[Concatenate[Session, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        with self.storage.unit_of_work(actor.tenant_id, read_only=not how.write) as uow:
            session = Session(self._services, uow, actor, people=how.people)
            result = operation(session, *args, **kwargs)
            if how.write:
                uow.commit()
                self._dispatcher.after_commit(uow, session.prepared)
        return result

    @contextmanager
    def batch(self, actor: Actor) -> Iterator[Batch]:
        """Run many operations of ``actor``'s tenant in one unit of work."""
        check_actor(actor)
        with self.storage.unit_of_work(actor.tenant_id) as uow:
            batch = Batch(self._services, uow)
            yield batch
            uow.commit()
            self._dispatcher.after_commit(uow, batch.session.prepared if batch.session else [])

    def bootstrap_tenant(
        self, *, name: str, provider_name: str, admin_name: str, admin_email: str
    ) -> Bootstrap:
        """Create a tenant with its provider organisation and first admin.

        The one operation without an acting person: it is how the first person comes to be.
        The host app decides who may call it.
        """
        return directory.bootstrap_tenant(
            self._services,
            self.storage,
            name=name,
            provider_name=provider_name,
            admin_name=admin_name,
            admin_email=admin_email,
        )

    def flush(self) -> None:
        """Wait until the notifications of the operations so far are delivered (each plugin
        call given up after ``delivery_timeout``) and write their acknowledgements."""
        self._dispatcher.flush()

    def close(self) -> None:
        """``flush``, then end the delivery threads (call it at shutdown). The desk stays
        usable: a later operation starts them again."""
        self._dispatcher.close()

    def deliver_pending(self, tenant_id: UUID | None = None, *, limit: int = 500) -> int:
        """Retry notifications that are pending or failed (call it from a scheduler).

        Returns how many were attempted.
        """
        errors: list[FieldError] = []
        check.ident(errors, tenant_id, "tenant_id", optional=True)
        check.limit(errors, limit, MAX_DELIVERY_BATCH)
        check.raise_if(errors)
        tenants = [tenant_id] if tenant_id is not None else self.storage.tenant_ids()
        return sum(self._dispatcher.retry(t, limit=limit) for t in tenants)


__all__ = ["READ", "UPDATE", "WRITE", "Batch", "HelpDesk", "Run"]
