"""Secret tokens for links a host sends (magic-link invitations, grant offers): at least
128 bits from ``secrets``, stored only as a hash bound to their tenant and row, compared in
constant time.

A token is ``<row id hex>.<secret>``: the id finds the row, the secret proves the holder
was sent it. The stored hash covers tenant, row and secret, so a hash copied to another
row or tenant matches nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final
from uuid import UUID

#: The longest text taken for a token (a real one is 32 + 1 + 43 characters).
MAX_TOKEN_LENGTH: Final = 200


def new_secret() -> str:
    """A fresh secret: 256 bits from ``secrets``, URL-safe."""
    return secrets.token_urlsafe(32)


def hash_secret(tenant_id: UUID, row_id: UUID, secret: str) -> str:
    """The stored form of a secret, bound to its tenant and row."""
    data = f"{tenant_id.hex}:{row_id.hex}:{secret}".encode()
    return hashlib.sha256(data).hexdigest()


def token_for(row_id: UUID, secret: str) -> str:
    """The token a host puts in its link."""
    return f"{row_id.hex}.{secret}"


def parse_token(token: object) -> tuple[UUID, str] | None:
    """The row id and secret of ``token``, or None when it is not one."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    ident, dot, secret = token.partition(".")
    if not dot or len(ident) != 32 or not secret or not secret.isascii():
        return None
    try:
        return UUID(hex=ident), secret
    except ValueError:
        return None


def secret_matches(tenant_id: UUID, row_id: UUID, secret: str, stored: str | None) -> bool:
    """Whether ``secret`` is the one whose hash is ``stored``, compared in constant time
    (None, no token issued: never)."""
    if stored is None:
        return False
    return hmac.compare_digest(hash_secret(tenant_id, row_id, secret), stored)


__all__ = [
    "MAX_TOKEN_LENGTH",
    "hash_secret",
    "new_secret",
    "parse_token",
    "secret_matches",
    "token_for",
]
