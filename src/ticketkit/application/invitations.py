"""Magic-link invitations for guests (seed 000): issue, inspect, redeem.

An admin enables login for a guest contact: that issues an invitation, closes the guest's
earlier ones, and hands the token to the notifier plugins (``ticketkit_invite``) once that
is committed for good (at the host's own commit when ticketkit runs inside its
transaction), which build the host's link from it. The token is never stored and never
returned to the inviter, who could otherwise log in as the guest.

The host's login page calls ``inspect_invitation`` on GET (mail scanners open links, and
must not use them up) and ``redeem_invitation`` on POST, which closes the invitation and
returns the guest as the principal of the host's session. Neither has an acting person:
the token is the credential, checked against one tenant.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from uuid import UUID

import attrs

from ticketkit.application import directory, settings
from ticketkit.application import validation as check
from ticketkit.application.session import Services, Session
from ticketkit.domain.invitations import (
    MAX_EXPIRY,
    MIN_EXPIRY,
    Closed,
    Invitation,
    InvitationState,
    hash_secret,
    matches,
    new_secret,
    parse_token,
    token_for,
)
from ticketkit.domain.model import Actor, Person
from ticketkit.errors import Conflict, FieldError, InvitationRefused, NotFound, ValidationError
from ticketkit.hooks.plugins import PluginFailure
from ticketkit.ports.repositories import Storage, UnitOfWork


@attrs.frozen(kw_only=True)
class InvitationView:
    """An invitation as the inviter, or the host's confirm page, sees it: never its token."""

    id: UUID
    person_id: UUID
    person_name: str
    created_at: datetime
    expires_at: datetime
    #: Open (usable), or why not: expired, used, superseded, withdrawn.
    state: InvitationState = InvitationState.OPEN
    closed_at: datetime | None = None


@attrs.frozen(kw_only=True)
class InvitationMessage:
    """What ``ticketkit_invite`` plugins get: whom to send the token to, and until when it
    works. ``invitation_id`` is the idempotency key of this delivery."""

    tenant_id: UUID
    invitation_id: UUID
    person_id: UUID
    name: str
    email: str
    expires_at: datetime
    token: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class InvitationSent:
    """What ``HelpDesk.invite_guest`` returns: the invitation (without its token), the
    plugins that took it and the failures of the others. Nobody got it when
    ``delivered_to`` is empty: invite again. ``deferred``: the token goes to the plugins
    when the host's transaction commits (Django's), after this returned, so who took it is
    unknown here (both empty; the log has failures) and a rollback sends nothing."""

    invitation: InvitationView
    delivered_to: tuple[str, ...]
    failures: tuple[PluginFailure, ...]
    deferred: bool = False


@attrs.frozen(kw_only=True)
class Issued:
    """A new invitation and its token, held in memory until the plugins have it."""

    invitation: Invitation
    person: Person
    token: str = attrs.field(repr=False)

    def message(self) -> InvitationMessage:
        return InvitationMessage(
            tenant_id=self.invitation.tenant_id,
            invitation_id=self.invitation.id,
            person_id=self.person.id,
            name=self.person.name,
            email=self.person.email,
            expires_at=self.invitation.expires_at,
            token=self.token,
        )


#: The setting that says how long an invitation is valid (per organisation).
EXPIRY_SETTING = "invitations.expiry"


def invite_guest(s: Session, person_id: UUID, *, expires_in: timedelta | None = None) -> Issued:
    """Issue an invitation for the contact ``person_id`` (a guest or customer admin; by
    admins, or a customer admin of her organisation), closing her earlier ones.
    It is valid for ``expires_in`` (at least a minute, at most 90 days), by default for
    the ``invitations.expiry`` setting that counts for her organisation (7 days)."""
    errors: list[FieldError] = []
    check.ident(errors, person_id, "person_id")
    if expires_in is not None and (
        not isinstance(expires_in, timedelta) or not MIN_EXPIRY <= expires_in <= MAX_EXPIRY
    ):
        errors.append(FieldError("expires_in", "must be a duration from one minute to 90 days"))
    check.raise_if(errors)
    person = directory.managed_person(s, person_id, contacts_only=False)
    if person.role not in directory.INVITED_ROLES:
        raise ValidationError.single(
            "person_id",
            "only a customer's people (guests, customer admins and agents) log in by invitation",
        )
    if not person.active:
        raise ValidationError.single("person_id", "this person's access was withdrawn")
    now = s.now
    default: timedelta = settings.value_for(s, EXPIRY_SETTING, person.organisation_id)
    s.uow.invitations.close_open(person.id, Closed.SUPERSEDED, at=now)
    ident = s.new_id()
    secret = new_secret()
    invitation = Invitation(
        tenant_id=s.tenant_id,
        id=ident,
        person_id=person.id,
        token_hash=hash_secret(s.tenant_id, ident, secret),
        created_by=s.person.id,
        created_at=now,
        expires_at=now + (expires_in if expires_in is not None else default),
    )
    s.uow.invitations.add(invitation)
    return Issued(invitation=invitation, person=person, token=token_for(ident, secret))


def view(invitation: Invitation, person: Person, now: datetime | None = None) -> InvitationView:
    """``invitation`` without its token; its state at ``now`` (open when not given: one
    just issued or found usable)."""
    return InvitationView(
        id=invitation.id,
        person_id=person.id,
        person_name=person.name,
        created_at=invitation.created_at,
        expires_at=invitation.expires_at,
        state=invitation.state_at(now) if now is not None else InvitationState.OPEN,
        closed_at=invitation.closed_at,
    )


def list_invitations(s: Session, organisation_id: UUID) -> list[InvitationView]:
    """Every invitation of ``organisation_id``'s people, newest first, with how it stands
    now: for staff and those who manage the organisation's contacts (an organisation page).
    Anyone else is told the organisation is not found."""
    org = directory.organisation_of(s, organisation_id, "organisation_id")
    if not s.policy.sees_invitations_of(s.actor.viewer, org.id):
        raise NotFound("Organisation", organisation_id)
    found = s.uow.invitations.of_organisation(org.id)
    people = s.uow.persons.get_many({i.person_id for i in found})
    return [view(i, people[i.person_id], s.now) for i in found]


def inspect_invitation(
    services: Services, storage: Storage, tenant_id: UUID, token: str
) -> InvitationView:
    """What ``token`` would log in as, without using it up; ``InvitationRefused`` when it
    cannot be used."""
    _check_call(tenant_id, token)
    with storage.unit_of_work(tenant_id, read_only=True) as uow:
        invitation, person = _usable(uow, token, services.clock.now())
        return view(invitation, person)


def redeem_invitation(services: Services, storage: Storage, tenant_id: UUID, token: str) -> Actor:
    """Use ``token`` up and return its guest as the principal of the host's session; of
    concurrent redemptions exactly one succeeds, the others get ``InvitationRefused``."""
    _check_call(tenant_id, token)
    now = services.clock.now()
    try:
        with storage.unit_of_work(tenant_id) as uow:
            invitation, person = _usable(uow, token, now)
            if not uow.invitations.close(invitation.id, Closed.USED, at=now):
                raise InvitationRefused("used")
            uow.commit()
    except Conflict:  # another redemption committed first (the memory store finds out here)
        raise InvitationRefused("used") from None
    return Actor(tenant_id=tenant_id, person_id=person.id)


def _check_call(tenant_id: object, token: object) -> None:
    errors: list[FieldError] = []
    check.ident(errors, tenant_id, "tenant_id")
    if not isinstance(token, str):
        errors.append(FieldError("token", "must be a string"))
    check.raise_if(errors)


def _usable(uow: UnitOfWork, token: str, now: datetime) -> tuple[Invitation, Person]:
    """The open invitation ``token`` names in ``uow``'s tenant, and its active guest."""
    parsed = parse_token(token)
    if parsed is None:
        raise InvitationRefused("invalid")
    ident, secret = parsed
    invitation = uow.invitations.get(ident)
    if invitation is None or not matches(invitation, secret):
        raise InvitationRefused("invalid")
    person = uow.persons.get(invitation.person_id)
    if person is None or not person.active or invitation.closed is Closed.WITHDRAWN:
        raise InvitationRefused("withdrawn")
    if invitation.closed is not None:
        raise InvitationRefused(invitation.closed.value)
    if now >= invitation.expires_at:
        raise InvitationRefused("expired")
    return invitation, person


__all__ = [
    "InvitationMessage",
    "InvitationSent",
    "InvitationView",
    "Issued",
    "inspect_invitation",
    "invite_guest",
    "list_invitations",
    "redeem_invitation",
]
