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
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from uuid import UUID

import attrs

from ticketkit.domain.model import _aware

#: How long an invitation stays valid unless the desk is told otherwise.
DEFAULT_EXPIRY = timedelta(days=7)
#: Bounds of an invitation's validity.
MIN_EXPIRY = timedelta(minutes=1)
MAX_EXPIRY = timedelta(days=90)
#: The longest string read as a token (anything longer is not one).
MAX_TOKEN_LENGTH = 200


class Closed(enum.StrEnum):
    """Why an invitation can no longer be redeemed (besides expiry)."""

    #: Redeemed: a token is single use.
    USED = "used"
    #: A newer invitation of the same person replaced it.
    SUPERSEDED = "superseded"
    #: The person's access was withdrawn (deactivated).
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


def new_secret() -> str:
    """A fresh secret: 256 bits from ``secrets``, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_secret(tenant_id: UUID, invitation_id: UUID, secret: str) -> str:
    """The stored form of a secret, bound to its tenant and invitation: a hash copied to
    another row or tenant matches nothing."""
    data = f"{tenant_id.hex}:{invitation_id.hex}:{secret}".encode()
    return hashlib.sha256(data).hexdigest()


def token_for(invitation_id: UUID, secret: str) -> str:
    """The token a host puts in its link."""
    return f"{invitation_id.hex}.{secret}"


def parse_token(token: object) -> tuple[UUID, str] | None:
    """The invitation id and secret of ``token``, or None when it is not one."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    ident, dot, secret = token.partition(".")
    if not dot or len(ident) != 32 or not secret or not secret.isascii():
        return None
    try:
        return UUID(hex=ident), secret
    except ValueError:
        return None


def matches(invitation: Invitation, secret: str) -> bool:
    """Whether ``secret`` is the invitation's, compared in constant time."""
    given = hash_secret(invitation.tenant_id, invitation.id, secret)
    return hmac.compare_digest(given, invitation.token_hash)


__all__ = [
    "DEFAULT_EXPIRY",
    "MAX_EXPIRY",
    "MIN_EXPIRY",
    "Closed",
    "Invitation",
    "hash_secret",
    "matches",
    "new_secret",
    "parse_token",
    "token_for",
]
