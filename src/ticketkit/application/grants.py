"""Delegation grants (seed 001): a customer lends one project to a technical supporter.

Two ways in, one way out:

- the owner's customer admin (or a provider admin) *offers* a grant of a project to a
  person or an organisation elsewhere in the tenant; the grantee *accepts* it;
- a supporter's customer admin *requests* a grant by the project's number, for her own
  organisation; the owner's customer admin (or a provider admin) *accepts* or *declines*;
- the owner side *revokes* a grant at any time; the grantee may give it up the same way.

What a grant lets its grantee read and do is the policy's (``policy/rules.py``): an active,
unexpired grant adds its project to the grantee's readable projects, and narrows what she
may do there to the grant's scope. Nothing here decides access.

Every check runs before the first write: bad input is a ``ValidationError`` naming the
field, and writes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

import attrs

from ticketkit.application import validation as check
from ticketkit.application.session import Session
from ticketkit.domain.grants import OPEN_STATES, Grant, GrantScope, GrantState
from ticketkit.domain.model import Person, Project, Role
from ticketkit.domain.tokens import hash_secret, new_secret, parse_token, secret_matches, token_for
from ticketkit.errors import FieldError, NotFound, PermissionDenied, ValidationError
from ticketkit.hooks.plugins import PluginFailure
from ticketkit.policy.predicates import Eq, all_of
from ticketkit.policy.rules import Action

#: Most scopes one grant names (there are four; the rest would be repeats).
_MAX_SCOPES = 16
_MANAGE = Action.MANAGE_GRANTS


@attrs.frozen(kw_only=True)
class GrantOverview:
    """The three lists of seed 001's overview, each holding grants the person may see.

    ``open_requests``: waiting for this person's answer (offers to her or, for a customer
    admin, to her organisation; requests for her organisation's projects).
    ``granted``: grants of her organisation's projects, every state, newest first (for
    admins and agents: every grant of the tenant).
    ``supported``: the projects she (or her organisation) looks after now: active,
    unexpired grants to her or her organisation.
    """

    open_requests: tuple[Grant, ...]
    granted: tuple[Grant, ...]
    supported: tuple[Grant, ...]


def offer_grant(
    s: Session,
    project_id: UUID,
    *,
    grantee_person_id: UUID | None = None,
    grantee_organisation_id: UUID | None = None,
    scope: Iterable[GrantScope | str],
    expires_at: datetime | None = None,
) -> Grant:
    """Offer ``project_id`` to one grantee (a person or an organisation of the tenant, never
    the project's own organisation), within ``scope`` and until ``expires_at`` if given:
    customer admins of the owner, admins. The grantee accepts with ``accept_grant``."""
    ids: list[FieldError] = []
    check.ident(ids, project_id, "project_id")
    check.ident(ids, grantee_person_id, "grantee_person_id", optional=True)
    check.ident(ids, grantee_organisation_id, "grantee_organisation_id", optional=True)
    check.raise_if(ids)
    project = _visible_project(s, project_id)
    if not s.policy.manages_grants_of(s.actor.viewer, project.organisation_id):
        raise PermissionDenied("grant access to this project", "project_id")
    errors: list[FieldError] = []
    if (grantee_person_id is None) == (grantee_organisation_id is None):
        errors.append(
            FieldError(
                "grantee_person_id",
                "give exactly one grantee: grantee_person_id or grantee_organisation_id",
            )
        )
    elif grantee_person_id is not None:
        _check_grantee_person(s, grantee_person_id, project, errors)
    elif grantee_organisation_id is not None:
        _check_grantee_organisation(s, grantee_organisation_id, project, errors)
    scopes = _scope(scope, errors)
    _expiry(s, expires_at, errors)
    check.raise_if(errors)
    grant = Grant(
        tenant_id=s.tenant_id,
        id=s.new_id(),
        project_id=project.id,
        organisation_id=project.organisation_id,
        grantee_person_id=grantee_person_id,
        grantee_organisation_id=grantee_organisation_id,
        scope=scopes,
        expires_at=expires_at,
        state=GrantState.OFFERED,
        created_by=s.person.id,
        created_at=s.now,
    )
    s.uow.grants.add(grant)
    s.directory_changed()
    return grant


def accept_grant(s: Session, grant_id: UUID) -> Grant:
    """Accept an offered grant: the grantee person herself, or a customer admin of the
    grantee organisation. From now on (until it expires or is revoked) the grantee reads
    the project."""
    grant = _visible_grant(s, grant_id)
    if not s.policy.answers_for_grantee(s.actor.viewer, grant):
        raise PermissionDenied("accept a grant made to someone else", "grant_id")
    _still_open(s, grant, GrantState.OFFERED, "is not an open offer")
    return _decide(s, grant, GrantState.ACTIVE)


@attrs.frozen(kw_only=True)
class OfferRecipient:
    """Someone an offer's link goes to: the grantee person, or each customer admin of the
    grantee organisation."""

    person_id: UUID
    name: str
    email: str


@attrs.frozen(kw_only=True)
class GrantOfferMessage:
    """What ``ticketkit_grant_offer`` plugins get: the offer, whom to send its link to, and
    the token to build it from (the credential: never log or store it). ``message_id`` is
    the idempotency key of this sending."""

    tenant_id: UUID
    message_id: UUID
    grant_id: UUID
    project_id: UUID
    project_name: str
    #: The organisation offering its project.
    organisation_name: str
    scope: frozenset[GrantScope]
    expires_at: datetime | None
    recipients: tuple[OfferRecipient, ...]
    token: str = attrs.field(repr=False)


@attrs.frozen(kw_only=True)
class GrantOfferSent:
    """What ``HelpDesk.send_grant_offer`` returns: the offer (without its token), whom it
    went to, the plugins that took it and the failures of the others. Nobody got it when
    ``delivered_to`` is empty: send it again (a new token; the earlier one stops working).
    ``deferred``: handed over at the host's commit, as ``InvitationSent.deferred`` says."""

    grant: Grant
    recipients: tuple[UUID, ...]
    delivered_to: tuple[str, ...]
    failures: tuple[PluginFailure, ...]
    deferred: bool = False


@attrs.frozen(kw_only=True)
class IssuedOffer:
    """An offer with its new token's hash stored, and the message holding the token until
    the plugins have it."""

    grant: Grant
    message: GrantOfferMessage


def issue_offer_token(s: Session, grant_id: UUID) -> IssuedOffer:
    """Issue a fresh token for an open offer (the owner's side: customer admins of the
    project's organisation, admins), storing only its hash; an earlier token of the offer
    stops working. The message holds the token for the plugins, sent once committed for good."""
    grant = _visible_grant(s, grant_id)
    if not s.policy.manages_grants_of(s.actor.viewer, grant.organisation_id):
        raise PermissionDenied("send an offer of another organisation's project", "grant_id")
    _still_open(s, grant, GrantState.OFFERED, "is not an open offer")
    secret = new_secret()
    grant = attrs.evolve(grant, offer_token_hash=hash_secret(s.tenant_id, grant.id, secret))
    s.uow.grants.save(grant)
    project = s.uow.projects.get(grant.project_id)
    owner = s.uow.organisations.get(grant.organisation_id)
    assert project is not None and owner is not None  # a grant's project and owner stay
    message = GrantOfferMessage(
        tenant_id=s.tenant_id,
        message_id=s.new_id(),
        grant_id=grant.id,
        project_id=project.id,
        project_name=project.name,
        organisation_name=owner.name,
        scope=grant.scope,
        expires_at=grant.expires_at,
        recipients=tuple(
            OfferRecipient(person_id=p.id, name=p.name, email=p.email)
            for p in _grantee_people(s, grant)
        ),
        token=token_for(grant.id, secret),
    )
    return IssuedOffer(grant=grant, message=message)


def accept_grant_by_token(s: Session, token: str) -> Grant:
    """Accept an offer by the token of its link (``send_grant_offer``): the grantee herself,
    or a customer admin of the grantee organisation, signed in. A token that is no offer's
    (tampered, superseded by a newer sending, another tenant's) is a ``ValidationError``
    naming ``token``; an offer answered, revoked or expired meanwhile too."""
    parsed = parse_token(token)
    grant = s.uow.grants.get(parsed[0]) if parsed is not None else None
    if (
        parsed is None
        or grant is None
        or not secret_matches(s.tenant_id, grant.id, parsed[1], grant.offer_token_hash)
    ):
        raise ValidationError.single("token", "is not the token of an offer")
    if not s.policy.answers_for_grantee(s.actor.viewer, grant):
        raise PermissionDenied("accept a grant made to someone else", "token")
    if grant.state is not GrantState.OFFERED:
        raise ValidationError.single("token", f"the offer is no longer open ({grant.state})")
    if grant.expires_at is not None and s.now >= grant.expires_at:
        raise ValidationError.single("token", "the offer has expired")
    return _decide(s, grant, GrantState.ACTIVE)


def _grantee_people(s: Session, grant: Grant) -> list[Person]:
    """Who answers for the grantee: the person, or the grantee organisation's active
    customer admins, by name."""
    if grant.grantee_person_id is not None:
        found = s.uow.persons.get(grant.grantee_person_id)
        return [found] if found is not None and found.active else []
    admins = s.uow.persons.list(
        all_of(
            Eq("organisation_id", grant.grantee_organisation_id),
            Eq("role", Role.CUSTOMER_ADMIN),
            Eq("active", True),
        )
    )
    return sorted(admins, key=lambda p: (p.name, p.id))


def request_grant(
    s: Session,
    project_number: int,
    scope: Iterable[GrantScope | str],
    *,
    expires_at: datetime | None = None,
) -> Grant:
    """Ask, as a supporter's customer admin, for access to another organisation's project
    by its number, for one's own organisation. The owner accepts or declines it."""
    errors: list[FieldError] = []
    check.number(errors, project_number, "project_number")
    check.raise_if(errors)
    if s.actor.viewer.is_staff or not s.actor.may(_MANAGE):
        raise PermissionDenied("request access to a project", "project_number")
    project = s.uow.projects.by_number(project_number)
    if project is None:
        errors.append(FieldError("project_number", "no project has this number"))
    elif project.organisation_id == s.person.organisation_id:
        errors.append(FieldError("project_number", "is a project of your own organisation"))
    elif _pending_or_active(s, project, s.person.organisation_id):
        errors.append(
            FieldError("project_number", "your organisation has asked for or holds it already")
        )
    scopes = _scope(scope, errors)
    _expiry(s, expires_at, errors)
    check.raise_if(errors)
    assert project is not None
    grant = Grant(
        tenant_id=s.tenant_id,
        id=s.new_id(),
        project_id=project.id,
        organisation_id=project.organisation_id,
        grantee_organisation_id=s.person.organisation_id,
        scope=scopes,
        expires_at=expires_at,
        state=GrantState.REQUESTED,
        created_by=s.person.id,
        created_at=s.now,
    )
    s.uow.grants.add(grant)
    s.directory_changed()
    return grant


def accept_grant_request(s: Session, grant_id: UUID) -> Grant:
    """Accept a supporter's request: customer admins of the project's owner, admins."""
    return _answer_request(s, grant_id, GrantState.ACTIVE)


def decline_grant_request(s: Session, grant_id: UUID) -> Grant:
    """Decline a supporter's request: customer admins of the project's owner, admins."""
    return _answer_request(s, grant_id, GrantState.DECLINED)


def revoke_grant(s: Session, grant_id: UUID) -> Grant:
    """End a grant (offered, requested or active): the owner side at any time, and the
    grantee, who gives it up. Access ends with this call's commit."""
    grant = _visible_grant(s, grant_id)
    viewer = s.actor.viewer
    owner = s.policy.manages_grants_of(viewer, grant.organisation_id)
    if not owner and not s.policy.answers_for_grantee(viewer, grant):
        raise PermissionDenied("revoke this grant", "grant_id")
    if grant.state not in (*OPEN_STATES, GrantState.ACTIVE):
        raise ValidationError.single("grant_id", f"has ended already ({grant.state.value})")
    return _decide(s, grant, GrantState.REVOKED)


def list_grants(s: Session) -> GrantOverview:
    """The overviews of seed 001: open requests waiting for this person, the grants of her
    organisation's projects, and the projects she supports now (see ``GrantOverview``)."""
    viewer = s.actor.viewer
    seen = sorted(
        s.uow.grants.list(s.actor.grants), key=lambda g: (g.created_at, g.id), reverse=True
    )
    waiting = []
    for g in seen:
        if (g.state is GrantState.OFFERED and s.policy.answers_for_grantee(viewer, g)) or (
            g.state is GrantState.REQUESTED
            and s.policy.manages_grants_of(viewer, g.organisation_id)
        ):
            waiting.append(g)
    if viewer.is_staff:
        granted = seen
        supported: list[Grant] = []
    else:
        granted = [g for g in seen if g.organisation_id == viewer.organisation_id]
        supported = [
            g
            for g in seen
            if g.active_at(s.now) and g.for_grantee(viewer.person_id, viewer.organisation_id)
        ]
    return GrantOverview(
        open_requests=tuple(waiting), granted=tuple(granted), supported=tuple(supported)
    )


# -- shared steps ---------------------------------------------------------------------------


def _visible_project(s: Session, project_id: UUID) -> Project:
    project = s.uow.projects.get(project_id)
    if project is None or not s.actor.reads("projects", project):
        raise NotFound("Project", project_id)
    return project


def _visible_grant(s: Session, grant_id: UUID) -> Grant:
    """The grant, if the person is party to it (``NotFound`` alike otherwise)."""
    check.require_ident(grant_id, "grant_id")
    grant = s.uow.grants.get(grant_id)
    if grant is None or not s.actor.reads("grants", grant):
        raise NotFound("Grant", grant_id)
    return grant


def _answer_request(s: Session, grant_id: UUID, state: GrantState) -> Grant:
    grant = _visible_grant(s, grant_id)
    if not s.policy.manages_grants_of(s.actor.viewer, grant.organisation_id):
        raise PermissionDenied("answer a request for another organisation's project", "grant_id")
    _still_open(s, grant, GrantState.REQUESTED, "is not an open request")
    return _decide(s, grant, state)


def _still_open(s: Session, grant: Grant, state: GrantState, message: str) -> None:
    if grant.state is not state:
        raise ValidationError.single("grant_id", f"{message} ({grant.state.value})")
    if grant.expires_at is not None and s.now >= grant.expires_at:
        raise ValidationError.single("grant_id", "has expired")


def _decide(s: Session, grant: Grant, state: GrantState) -> Grant:
    decided = grant.decide(state, by=s.person.id, at=s.now)
    s.uow.grants.decide(decided, expected=grant.state)
    s.directory_changed()
    return decided


def _check_grantee_person(
    s: Session, person_id: UUID, project: Project, errors: list[FieldError]
) -> None:
    person = s.uow.persons.get(person_id)
    if person is None or not person.active:
        errors.append(FieldError("grantee_person_id", "is not an active person of this tenant"))
    elif person.role.is_staff:
        errors.append(FieldError("grantee_person_id", "staff read every project already"))
    elif person.organisation_id == project.organisation_id:
        errors.append(FieldError("grantee_person_id", "belongs to the project's own organisation"))
    elif person.organisation_id == s.person.organisation_id:
        errors.append(FieldError("grantee_person_id", "belongs to your own organisation"))


def _check_grantee_organisation(
    s: Session, organisation_id: UUID, project: Project, errors: list[FieldError]
) -> None:
    organisation = s.uow.organisations.get(organisation_id)
    field = "grantee_organisation_id"
    if organisation is None:
        errors.append(FieldError(field, "is not an organisation of this tenant"))
    elif organisation_id == project.organisation_id:
        errors.append(FieldError(field, "is the project's own organisation"))
    elif organisation_id == s.person.organisation_id:
        errors.append(FieldError(field, "is your own organisation"))


def _scope(value: object, errors: list[FieldError]) -> frozenset[GrantScope]:
    """The scopes named by ``value``: a non-empty collection of scope names (never a
    string, never billing)."""
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        errors.append(FieldError("scope", "must be a collection of scopes"))
        return frozenset()
    items = list(value)
    if not items or len(items) > _MAX_SCOPES:
        errors.append(FieldError("scope", "name at least one scope"))
        return frozenset()
    found: set[GrantScope] = set()
    for item in items:
        if isinstance(item, str) and item.strip().lower() == "billing":
            errors.append(
                FieldError("scope", "there is no billing scope: a grant never reaches billing")
            )
            return frozenset()
        try:
            found.add(GrantScope(item))
        except ValueError:
            allowed = [m.value for m in GrantScope]
            errors.append(
                FieldError("scope", f"unknown scope {item!r}; expected some of {allowed}")
            )
            return frozenset()
    return frozenset(found)


def _expiry(s: Session, value: object, errors: list[FieldError]) -> None:
    if not check.instant(errors, value, "expires_at", optional=True):
        return
    if value <= s.now:  # type: ignore[operator]
        errors.append(FieldError("expires_at", "must be in the future"))


def _pending_or_active(s: Session, project: Project, organisation_id: UUID) -> bool:
    """Whether ``organisation_id`` has an open request or offer, or an unexpired active
    grant, for ``project``."""
    for g in s.uow.grants.list(Eq("project_id", project.id)):
        if g.grantee_organisation_id != organisation_id:
            continue
        if g.state in OPEN_STATES or g.active_at(s.now):
            return True
    return False


__all__ = [
    "GrantOfferMessage",
    "GrantOfferSent",
    "GrantOverview",
    "OfferRecipient",
    "accept_grant",
    "accept_grant_by_token",
    "accept_grant_request",
    "decline_grant_request",
    "issue_offer_token",
    "list_grants",
    "offer_grant",
    "request_grant",
    "revoke_grant",
]
