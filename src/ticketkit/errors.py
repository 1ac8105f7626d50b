"""The one small error hierarchy every public operation raises from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import attrs


class TicketkitError(Exception):
    """Base class of every error ticketkit raises on purpose."""


class NotFound(TicketkitError):
    """The thing does not exist *or* the acting person may not see it.

    Both cases raise the same error with the same message, so callers cannot
    learn whether a ticket exists by probing ids.
    """

    def __init__(self, kind: str, ident: object) -> None:
        super().__init__(f"{kind} {ident} not found")
        self.kind = kind
        self.ident = ident


class PermissionDenied(TicketkitError):
    """The person may see the thing but not do this to it."""

    def __init__(self, action: str, field: str | None = None) -> None:
        where = f" (field {field!r})" if field else ""
        super().__init__(f"not allowed to {action}{where}")
        self.action = action
        self.field = field


@attrs.frozen
class FieldError:
    """One bad input field and what is wrong with it."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class ValidationError(TicketkitError):
    """Input was rejected; ``errors`` names every bad field."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        super().__init__("invalid input: " + "; ".join(str(e) for e in self.errors))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls([FieldError(field, message)])

    @property
    def fields(self) -> Mapping[str, str]:
        """The bad fields and their messages, for forms and API answers."""
        return {e.field: e.message for e in self.errors}


class Conflict(TicketkitError):
    """A write was based on a stale version; nothing was written."""

    def __init__(self, kind: str, ident: object, expected: int | None = None) -> None:
        detail = f" (expected version {expected})" if expected is not None else ""
        super().__init__(f"{kind} {ident} was changed by someone else{detail}")
        self.kind = kind
        self.ident = ident
        self.expected = expected


class StorageError(TicketkitError):
    """The database failed or refused a unit of work; nothing of it was written.

    The message names no SQL and no values, so it can travel to a caller; the driver's own
    error is the ``__cause__``, for the host's logs.
    """


class InvitationRefused(TicketkitError):
    """A magic-link token that cannot be used, and why: ``reason`` is ``"invalid"`` (not a
    token of this tenant, tampered, or unknown), ``"expired"``, ``"used"``, ``"superseded"``
    (a newer invitation replaced it) or ``"withdrawn"`` (the person's access was taken away).
    Nothing was written."""

    MESSAGES = {
        "invalid": "this is not a valid invitation link",
        "expired": "this invitation has expired; ask for a new one",
        "used": "this invitation was used already; ask for a new one",
        "superseded": "a newer invitation replaced this one; use the latest link",
        "withdrawn": "access for this person was withdrawn",
    }

    def __init__(self, reason: str) -> None:
        super().__init__(self.MESSAGES[reason])
        self.reason = reason
