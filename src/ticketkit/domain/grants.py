"""Delegation grants: a customer lends one project to a technical supporter (seed 001).

A grant gives one grantee (a person, or an organisation of the tenant) access to one
project of another organisation, within a scope and until an optional expiry. It starts
either *offered* by the project's owner (the grantee accepts) or *requested* by the
supporter by the project's number (the owner accepts or declines); an active grant can be
revoked by the owner at any time, or given up by the grantee.

A grant never reaches billing: there is no billing scope. Expiry needs no job: the policy
reads ``expires_at`` against the injected clock whenever it resolves a viewer.
"""

from __future__ import annotations

import enum
from datetime import datetime
from uuid import UUID

import attrs

from ticketkit.domain.model import _aware, optional_aware


class GrantScope(enum.StrEnum):
    """What a grant lets its grantee do on the project's tickets (every scope reads)."""

    READ = "read"
    #: Public comments on the project's tickets.
    COMMENT = "comment"
    #: Open tickets in the project.
    CREATE_TICKETS = "create_tickets"
    #: Change the tickets' public fields, as the owner's customer admin may.
    ADMINISTER = "administer"


class GrantState(enum.StrEnum):
    """Where a grant is in its life."""

    #: Offered by the owner, waiting for the grantee.
    OFFERED = "offered"
    #: Requested by the supporter, waiting for the owner.
    REQUESTED = "requested"
    #: In force (until it expires, when it has an expiry).
    ACTIVE = "active"
    #: The other side said no.
    DECLINED = "declined"
    #: Ended by the owner, or given up by the grantee.
    REVOKED = "revoked"


#: The states a grant waits for an answer in.
OPEN_STATES = frozenset({GrantState.OFFERED, GrantState.REQUESTED})


def _scopes(value: frozenset[GrantScope]) -> frozenset[GrantScope]:
    """Every scope implies read."""
    return frozenset(value) | {GrantScope.READ}


@attrs.frozen(kw_only=True)
class Grant:
    """One delegation of access to a project, and who did what to it when."""

    tenant_id: UUID
    id: UUID
    project_id: UUID
    #: The organisation granting: the project's owner.
    organisation_id: UUID
    grantee_person_id: UUID | None = None
    grantee_organisation_id: UUID | None = None
    scope: frozenset[GrantScope] = attrs.field(converter=_scopes)
    expires_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    state: GrantState
    created_by: UUID
    created_at: datetime = attrs.field(validator=_aware)
    #: Who accepted, declined or revoked it last, and when.
    decided_by: UUID | None = None
    decided_at: datetime | None = attrs.field(default=None, validator=optional_aware)
    #: The hash of the token last sent for this offer (``domain/tokens.py``): the grantee
    #: accepts by token with it. Never the token itself; None when none was sent.
    offer_token_hash: str | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        if (self.grantee_person_id is None) == (self.grantee_organisation_id is None):
            raise ValueError("a grant has exactly one grantee: a person or an organisation")

    def active_at(self, now: datetime) -> bool:
        """Whether the grant gives access at ``now`` (at the instant of expiry: no)."""
        return self.state is GrantState.ACTIVE and (
            self.expires_at is None or now < self.expires_at
        )

    def for_grantee(self, person_id: UUID, organisation_id: UUID) -> bool:
        """Whether the person (of ``organisation_id``) is the grantee or of it."""
        return self.grantee_person_id == person_id or (
            self.grantee_organisation_id is not None
            and self.grantee_organisation_id == organisation_id
        )

    def decide(self, state: GrantState, *, by: UUID, at: datetime) -> Grant:
        """The grant moved to ``state`` by ``by`` at ``at``."""
        return attrs.evolve(self, state=state, decided_by=by, decided_at=at)

    @property
    def terms(self) -> GrantTerms:
        """What the policy reads of this grant once it is active."""
        return GrantTerms(
            id=self.id,
            project_id=self.project_id,
            organisation_id=self.organisation_id,
            scope=self.scope,
            expires_at=self.expires_at,
            grantee_person_id=self.grantee_person_id,
            grantee_organisation_id=self.grantee_organisation_id,
        )


@attrs.frozen(kw_only=True)
class GrantTerms:
    """What resolving access reads of an active grant: the project, the grant naming it,
    the scope, the expiry and the grantee. A store reads only these columns: whole grants
    cost a supporter with 50 of them a millisecond per call, these a tenth of that."""

    id: UUID
    project_id: UUID
    #: The granting organisation: the project's owner.
    organisation_id: UUID
    #: As stored: read included.
    scope: frozenset[GrantScope]
    expires_at: datetime | None
    grantee_person_id: UUID | None
    grantee_organisation_id: UUID | None

    def active_at(self, now: datetime) -> bool:
        """Whether the (active) grant gives access at ``now`` (at the instant of expiry: no)."""
        return self.expires_at is None or now < self.expires_at

    def for_grantee(self, person_id: UUID, organisation_id: UUID) -> bool:
        """Whether the person (of ``organisation_id``) is the grantee or of it."""
        return self.grantee_person_id == person_id or (
            self.grantee_organisation_id is not None
            and self.grantee_organisation_id == organisation_id
        )


def encode_scope(scope: frozenset[GrantScope]) -> str:
    """A scope's stored form: its values, sorted, comma-separated."""
    return ",".join(sorted(s.value for s in scope))


def decode_scope(text: str) -> frozenset[GrantScope]:
    return frozenset(GrantScope(s) for s in text.split(",") if s)


__all__ = [
    "OPEN_STATES",
    "Grant",
    "GrantScope",
    "GrantState",
    "GrantTerms",
    "decode_scope",
    "encode_scope",
]
