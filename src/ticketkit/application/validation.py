"""Checks of values a host passes in, shared by every capability module.

Each check appends a ``FieldError`` naming the field instead of raising, so an operation can
report every bad field at once with ``raise_if`` before it writes anything.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Final, TypeVar
from uuid import UUID

from ticketkit.domain.text import check_text
from ticketkit.errors import FieldError, ValidationError

MAX_NAME: Final = 200
_CHANNEL = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

E = TypeVar("E", bound=enum.Enum)


def raise_if(errors: list[FieldError]) -> None:
    """Raise one ``ValidationError`` naming every bad field, if there is any."""
    if errors:
        raise ValidationError(errors)


def text(
    errors: list[FieldError],
    name: str,
    value: object,
    max_length: int,
    *,
    allow_empty: bool = False,
) -> bool:
    """Whether ``value`` is acceptable text (see ``check_text``); notes why not."""
    if not isinstance(value, str):
        errors.append(FieldError(name, "must be text"))
        return False
    problem = check_text(value, max_length=max_length, allow_empty=allow_empty)
    if problem:
        errors.append(FieldError(name, problem))
        return False
    return True


def name_errors(field: str, value: object) -> list[FieldError]:
    """The problems of a name (of an organisation, person, project, type)."""
    errors: list[FieldError] = []
    text(errors, field, value, MAX_NAME)
    return errors


def email(errors: list[FieldError], value: object, field: str = "email") -> None:
    """An e-mail address: one @, no spaces, at most 254 characters, and text that every
    backend stores alike (no NUL, no lone surrogates)."""
    if (
        not isinstance(value, str)
        or not _EMAIL.fullmatch(value)
        or check_text(value, max_length=254) is not None
    ):
        errors.append(FieldError(field, "must be an e-mail address"))


def channel(errors: list[FieldError], value: object, field: str = "channel") -> None:
    if not isinstance(value, str) or not _CHANNEL.match(value):
        errors.append(FieldError(field, "must be a short lower-case channel name like 'email'"))


def enum_value(cls: type[E], value: object, field: str, errors: list[FieldError]) -> E | None:
    """``value`` as a member of ``cls`` (members and their values are accepted)."""
    try:
        return cls(value)
    except ValueError:
        allowed = [m.value for m in cls]
        errors.append(FieldError(field, f"unknown value {value!r}; expected one of {allowed}"))
        return None


#: Values one filter may name: far below PostgreSQL's parameter limit, and more than a
#: workflow has statuses.
MAX_FILTER_VALUES = 100


def strings(value: object, field: str, errors: list[FieldError]) -> list[str]:
    """One name or a list of names (at most ``MAX_FILTER_VALUES``), as a list."""
    if isinstance(value, str):
        items: list[object] = [value]
    elif isinstance(value, Iterable) and not isinstance(value, bytes | bytearray | Mapping):
        items = list(itertools.islice(value, MAX_FILTER_VALUES + 1))
    else:
        items = []
    if len(items) > MAX_FILTER_VALUES:
        errors.append(FieldError(field, f"must name at most {MAX_FILTER_VALUES} values"))
        return []
    if not items or not all(
        isinstance(i, str) and check_text(i, max_length=MAX_NAME) is None for i in items
    ):
        errors.append(FieldError(field, "must be a name or a list of names"))
        return []
    return [str(i) for i in items]


def limit(errors: list[FieldError], value: object, maximum: int) -> None:
    """A page size: an integer from 1 to ``maximum`` (a bool is no number here)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        errors.append(FieldError("limit", f"must be an integer from 1 to {maximum}"))


def uuid(errors: list[FieldError], field: str, value: object) -> bool:
    """Whether ``value`` is a UUID (an id a host passes in); notes why not."""
    if isinstance(value, UUID):
        return True
    errors.append(FieldError(field, "must be a UUID"))
    return False


def number(errors: list[FieldError], field: str, value: object) -> None:
    """Notes a ticket number that is not a positive integer a database column holds."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        errors.append(FieldError(field, "must be a positive whole number"))
