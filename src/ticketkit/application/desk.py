"""The public façade: one ``HelpDesk`` per host app, and ``Batch`` for many operations in one
unit of work.

The operations themselves, each one line naming how it runs and which capability module
does the work, are ``Operations`` (``operations/``, a mixin per capability). ``HelpDesk``
runs each call in a ``Session`` of its own, commits, and hands what it wrote to delivery;
a ``Batch`` runs every call in the session it holds.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import partial
from types import TracebackType
from typing import Concatenate, Generic, ParamSpec, Self, TypeVar
from uuid import UUID

import attrs

from ticketkit import ids
from ticketkit.application import directory, grants, invitations, sla_sweep
from ticketkit.application import validation as check
from ticketkit.application.delivery import DeliveryMode, Dispatcher
from ticketkit.application.directory import Bootstrap
from ticketkit.application.grants import GrantOfferSent, IssuedOffer
from ticketkit.application.invitations import InvitationSent, InvitationView, Issued
from ticketkit.application.operations import WRITE, Operations, Run
from ticketkit.application.retries import retried
from ticketkit.application.session import Services, Session, check_actor
from ticketkit.application.sla_sweep import SweepReport
from ticketkit.clock import Clock, SystemClock
from ticketkit.domain.model import (
    Actor,
)
from ticketkit.domain.settings import SETTINGS, SettingRegistry
from ticketkit.domain.values import member
from ticketkit.errors import FieldError, ValidationError
from ticketkit.hooks.plugins import PluginFailure, Plugins
from ticketkit.hooks.signals import Signals
from ticketkit.policy.rules import DEFAULT_POLICY, Policy
from ticketkit.ports.repositories import Storage, UnitOfWork

P = ParamSpec("P")
T = TypeVar("T")

#: The most notifications one ``deliver_pending`` call attempts per tenant.
MAX_DELIVERY_BATCH = 10_000

log = logging.getLogger("ticketkit.plugins")


@attrs.define
class _HandOver(Generic[T]):
    """Hands the token an operation issued to its plugins once the change is committed for
    good (``UnitOfWork.on_commit``). At once: ``outcome`` keeps who took it for the
    operation's answer. At a host's later commit (``deferred``): only the log can tell."""

    send: Callable[[T], tuple[list[str], list[PluginFailure]]]
    #: What the token is for, as the log names it.
    describe: Callable[[T], str]
    outcome: tuple[tuple[str, ...], tuple[PluginFailure, ...]] | None = None
    #: Set once the operation has returned: a hand-over after that was deferred.
    returned: bool = False

    def __call__(self, issued: T) -> None:
        delivered, failures = self.send(issued)  # logs each failing plugin
        if not self.returned:
            self.outcome = (tuple(delivered), tuple(failures))
        elif not delivered:
            log.warning(
                "%s: no plugin took its token at the commit (%d failed); send it again",
                self.describe(issued),
                len(failures),
            )

    @property
    def deferred(self) -> bool:
        return self.outcome is None


def _people(uow: UnitOfWork, how: Run, args: tuple[object, ...]) -> tuple[UUID | None, ...]:
    """The people to resolve with the actor: ``how.people``, and for a change to a ticket
    (``how.ticket``, the ticket's id first among ``args``) whom it may notify (requester,
    assignee, followers), read first so that one read resolves them all. The ticket is
    locked then, as the change locks it anyway. An id that is no UUID or names no ticket of
    the tenant adds nobody: the operation says so."""
    ticket_id = args[0] if how.ticket and args else None
    if not isinstance(ticket_id, UUID):
        return how.people
    ticket = uow.tickets.get(ticket_id, for_update=how.write)
    if ticket is None:
        return how.people
    return (*how.people, ticket.requester_id, ticket.assignee_id, *uow.followers.of(ticket_id))


class Batch(Operations):
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
        people = _people(self._uow, how, args)
        if self.session is None:
            self.session = Session(self._services, self._uow, actor, people=people)
        else:
            self.session.act_as(actor, people=people)
        return operation(self.session, *args, **kwargs)


class HelpDesk(Operations):
    """The entry object a host app creates once: storage, clock, policy and plugins.

    ``new_id`` makes the ids of everything created (time-ordered UUIDs by default, see
    ``ticketkit.ids``; ``uuid.uuid4`` where ids must not tell when they were made).
    Notifications go to the plugins on the desk's delivery thread after the operation
    returns (``delivery=DeliveryMode.INLINE``: before it returns), each plugin call given
    up after ``delivery_timeout`` seconds; deliveries are written as done within
    ``acknowledge_within`` seconds (in batches). ``flush()`` waits for queued deliveries;
    ``close()`` (or leaving ``with desk:``) also ends the delivery threads. ``settings`` are
    the settings it knows (``SETTINGS``; a host adds its own with ``with_settings``).

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
        settings: SettingRegistry = SETTINGS,
    ) -> None:
        mode = member(DeliveryMode, delivery, "delivery")
        if not isinstance(settings, SettingRegistry):
            raise ValidationError.single("settings", "must be a SettingRegistry")
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
        self.settings = settings
        self._services = Services(policy=policy, clock=self.clock, new_id=new_id, settings=settings)
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
        return self._run_then(actor, how, None, operation, *args, **kwargs)

    def _run_then(
        self,
        actor: Actor,
        how: Run,
        then: Callable[[T], None] | None,
        operation: Callable[Concatenate[Session, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """``_run``, and ``then(result)`` once the write is committed for good."""
        check_actor(actor)
        once = partial(self._once, actor, how, then, operation, *args, **kwargs)
        return retried(once, 3 if how.retry else 1)

    def _once(
        self,
        actor: Actor,
        how: Run,
        then: Callable[[T], None] | None,
        operation: Callable[Concatenate[Session, P], T],
        /,
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        with self.storage.unit_of_work(actor.tenant_id, read_only=not how.write) as uow:
            session = Session(self._services, uow, actor, people=_people(uow, how, args))
            result = operation(session, *args, **kwargs)
            if how.write:
                uow.commit()
                self._dispatcher.after_commit(uow, session.prepared)
                if then is not None:
                    uow.on_commit(partial(then, result))
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

    # -- magic-link invitations (docs/invitations.md) -------------------------------------

    def invite_guest(
        self, actor: Actor, person_id: UUID, *, expires_in: timedelta | None = None
    ) -> InvitationSent:
        """Enable login for the guest ``person_id`` (admins): issue an invitation valid for
        ``expires_in`` (default 7 days), closing her earlier ones, and hand its token to the
        ``ticketkit_invite`` plugins once committed for good, each given up after
        ``delivery_timeout``. Returns the invitation (never its token) and who took it, or
        ``deferred`` when the hand-over waits for a host's transaction (Django's)."""
        hand_over: _HandOver[Issued] = _HandOver(
            send=lambda issued: self.plugins.invite(issued.message(), call=self._dispatcher.calls),
            describe=lambda issued: f"invitation {issued.invitation.id}",
        )
        issued = self._run_then(
            actor, WRITE, hand_over, invitations.invite_guest, person_id, expires_in=expires_in
        )
        hand_over.returned = True
        delivered, failures = hand_over.outcome or ((), ())
        return InvitationSent(
            invitation=invitations.view(issued.invitation, issued.person),
            delivered_to=delivered,
            failures=failures,
            deferred=hand_over.deferred,
        )

    def send_grant_offer(self, actor: Actor, grant_id: UUID) -> GrantOfferSent:
        """Send an open offer to its grantee by link (the owner's customer admins, admins):
        issue a fresh token (an earlier one of the offer stops working) and hand it to the
        ``ticketkit_grant_offer`` plugins once committed for good, each given up after
        ``delivery_timeout`` (``deferred`` as for ``invite_guest``). The grantee, signed in,
        accepts with ``accept_grant_by_token``; or in the app with ``accept_grant``."""
        hand_over: _HandOver[IssuedOffer] = _HandOver(
            send=lambda issued: self.plugins.grant_offer(
                issued.message, call=self._dispatcher.calls
            ),
            describe=lambda issued: (
                f"grant offer {issued.message.message_id} (grant {issued.grant.id})"
            ),
        )
        issued = self._run_then(actor, WRITE, hand_over, grants.issue_offer_token, grant_id)
        hand_over.returned = True
        delivered, failures = hand_over.outcome or ((), ())
        return GrantOfferSent(
            grant=issued.grant,
            recipients=tuple(r.person_id for r in issued.message.recipients),
            delivered_to=delivered,
            failures=failures,
            deferred=hand_over.deferred,
        )

    def inspect_invitation(self, tenant_id: UUID, token: str) -> InvitationView:
        """Whom ``token`` would log in, without using it up (a confirm page on GET: mail
        scanners open links). ``InvitationRefused`` says why a token cannot be used."""
        return invitations.inspect_invitation(self._services, self.storage, tenant_id, token)

    def redeem_invitation(self, tenant_id: UUID, token: str) -> Actor:
        """Use ``token`` up and return its guest as the principal of the host's session
        (on POST). Single use: of concurrent redemptions exactly one succeeds; the others,
        and expired, superseded, withdrawn, tampered or other tenants' tokens, get
        ``InvitationRefused``. Nothing is written on a refusal."""
        return invitations.redeem_invitation(self._services, self.storage, tenant_id, token)

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

    # -- SLA sweeps (docs/sla.md) ----------------------------------------------------------

    def sweep_sla(
        self,
        tenant_id: UUID | None = None,
        *,
        batch: int = 500,
        progress: Callable[[SweepReport], None] | None = None,
    ) -> SweepReport:
        """Announce the SLA warnings and breaches that are due, once each, run escalation
        rules, and replay clocks whose policy or calendar changed (call it from a
        scheduler every minute or so; sweeps may run side by side). ``progress`` hears of
        each batch of ``batch`` tickets."""
        errors: list[FieldError] = []
        check.ident(errors, tenant_id, "tenant_id", optional=True)
        check.limit(errors, batch, MAX_DELIVERY_BATCH, field="batch")
        if progress is not None and not callable(progress):
            errors.append(FieldError("progress", "must be a function of a SweepReport"))
        check.raise_if(errors)
        tenants = [tenant_id] if tenant_id is not None else self.storage.tenant_ids()
        total = SweepReport()
        for tenant in tenants:
            total += sla_sweep.sweep_tenant(
                self._services,
                self.storage,
                tenant,
                batch=batch,
                after_commit=lambda uow, s: self._dispatcher.after_commit(uow, s.prepared),
                progress=progress,
            )
        return total

    def sla_due_count(self, tenant_id: UUID | None = None) -> int:
        """How many tickets' SLA clocks are due for a sweep now (for a progress bar)."""
        errors: list[FieldError] = []
        check.ident(errors, tenant_id, "tenant_id", optional=True)
        check.raise_if(errors)
        tenants = [tenant_id] if tenant_id is not None else self.storage.tenant_ids()
        now = self.clock.now()
        count = 0
        for tenant in tenants:
            with self.storage.unit_of_work(tenant, read_only=True) as uow:
                count += uow.clocks.count_due(now)
        return count


__all__ = ["MAX_DELIVERY_BATCH", "Batch", "HelpDesk"]
