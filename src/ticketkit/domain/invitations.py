"""Magic-link invitations: how a guest logs in without a password (seed 000).

An invitation is a secret token for one person. Only a hash of it is stored: the token
itself goes once to the notifier plugins (which build the link) and never into a table. A
token is single use, expires, and is closed for good when a newer invitation supersedes it
or the person's access is withdrawn.

A token reads ``<invitation id, 32 hex digits>.<secret>``: the id finds the row, the
secret (256 random bits from ``secrets``) is compared with its hash in constant time.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from ticketkit.domain.model import _aware
from ticketkit.domain.tokens import (
    MAX_TOKEN_LENGTH,
    hash_secret,
    new_secret,
    parse_token,
    secret_matches,
    token_for,
)

#: How long an invitation stays valid unless the desk is told otherwise.
DEFAULT_EXPIRY = timedelta(days=7)
#: Bounds of an invitation's validity.
MIN_EXPIRY = timedelta(minutes=1)
MAX_EXPIRY = timedelta(days=90)


class Closed(enum.StrEnum):
    """Why an invitation can no longer be redeemed (besides expiry)."""

    #: Redeemed: a token is single use.
    USED = "used"
    #: A newer invitation of the same person replaced it.
    SUPERSEDED = "superseded"
    #: The person's access was withdrawn (deactivated).
    WITHDRAWN = "withdrawn"


class InvitationState(enum.StrEnum):
    """Where an invitation stands, for an overview: usable, or why not."""

    OPEN = "open"
    EXPIRED = "expired"
    USED = "used"
    SUPERSEDED = "superseded"
    WITHDRAWN = "withdrawn"


@attrs.frozen(kw_only=True)
class Invitation:
    """A stored invitation: who it is for, the hash of its token, and its life."""

    tenant_id: UUID
    id: UUID
    person_id: UUID
    #: SHA-256 (hex) of the token's secret, bound to the tenant and the invitation's id.
    token_hash: str = attrs.field(repr=False)
    created_by: UUID
    created_at: datetime = attrs.field(validator=_aware)
    expires_at: datetime = attrs.field(validator=_aware)
    closed_at: datetime | None = None
    closed: Closed | None = None

    def open_at(self, now: datetime) -> bool:
        """Whether the token may still be redeemed at ``now``."""
        return self.closed is None and now < self.expires_at

    def state_at(self, now: datetime) -> InvitationState:
        """Open, or the reason it can no longer be redeemed (closing outranks expiry)."""
        if self.closed is not None:
            return InvitationState(self.closed.value)
        return InvitationState.OPEN if now < self.expires_at else InvitationState.EXPIRED


def matches(invitation: Invitation, secret: str) -> bool:
    """Whether ``secret`` is the invitation's, compared in constant time."""
    return secret_matches(invitation.tenant_id, invitation.id, secret, invitation.token_hash)


__all__ = [
    "DEFAULT_EXPIRY",
    "MAX_EXPIRY",
    "MAX_TOKEN_LENGTH",
    "MIN_EXPIRY",
    "Closed",
    "Invitation",
    "InvitationState",
    "hash_secret",
    "matches",
    "new_secret",
    "parse_token",
    "token_for",
]
