"""Checks of values a host passes in, shared by every capability module.

Each check appends a ``FieldError`` naming the field instead of raising, so an operation can
report every bad field at once with ``raise_if`` before it writes anything.
"""

from __future__ import annotations

import enum
import itertools
import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Final, TypeVar
from uuid import UUID

from ticketkit.domain.fields import FieldSpec
from ticketkit.domain.model import Actor
from ticketkit.domain.text import check_text
from ticketkit.errors import FieldError, ValidationError

MAX_NAME: Final = 200
_CHANNEL = re.compile(r"^[a-z][a-z0-9_.-]{0,31}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

E = TypeVar("E", bound=enum.Enum)
T = TypeVar("T")


def actor(value: object) -> Actor:
    """The acting person: an ``Actor`` of two UUIDs, or a ``ValidationError`` naming
    ``actor`` (a ``Person``, an id or an ``Actor`` of text ids is none)."""
    if not isinstance(value, Actor):
        raise ValidationError.single(
            "actor", "must be an Actor (pass Person.actor), the acting person first"
        )
    if not (isinstance(value.tenant_id, UUID) and isinstance(value.person_id, UUID)):
        raise ValidationError.single("actor", "must be an Actor of two UUIDs")
    return value


def ident(errors: list[FieldError], value: object, field: str, *, optional: bool = False) -> bool:
    """Whether ``value`` is an id (a UUID; None too where ``optional``); notes why not.

    Decided by the value's type alone, before anything is looked up, so the answer tells
    nothing about what exists: a UUID that names nothing is the operation's ``NotFound``.
    """
    if isinstance(value, UUID) or (optional and value is None):
        return True
    errors.append(FieldError(field, "must be a UUID"))
    return False


def instant(errors: list[FieldError], value: object, field: str, *, optional: bool = False) -> bool:
    """Check that ``value`` is a timezone-aware ``datetime`` (or None when ``optional``);
    True when it is one."""
    if value is None and optional:
        return False
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        errors.append(FieldError(field, "must be a timezone-aware datetime"))
        return False
    return True


def require_ident(value: object, field: str) -> None:
    """``ValidationError`` naming ``field`` unless ``value`` is a UUID (see ``ident``)."""
    errors: list[FieldError] = []
    ident(errors, value, field)
    raise_if(errors)


def flag(errors: list[FieldError], value: object, field: str) -> None:
    """A yes or no: ``True`` or ``False``, nothing that merely counts as one."""
    if not isinstance(value, bool):
        errors.append(FieldError(field, "must be True or False"))


def version(errors: list[FieldError], value: object, field: str = "expected_version") -> None:
    """An expected version: None (no check) or a whole number from 0 (no bool)."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        errors.append(FieldError(field, "must be None or a whole number from 0"))


def instance(
    errors: list[FieldError], value: object, cls: type[T], field: str, *, optional: bool = False
) -> bool:
    """Whether ``value`` is a ``cls`` (None too where ``optional``); notes why not."""
    if isinstance(value, cls) or (optional and value is None):
        return True
    errors.append(FieldError(field, f"must be a {cls.__name__}"))
    return False


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
    # Names are stored trimmed, so the length that counts is the trimmed one.
    text(errors, field, value.strip() if isinstance(value, str) else value, MAX_NAME)
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
    except (ValueError, TypeError):
        allowed = [m.value for m in cls]
        errors.append(FieldError(field, f"unknown value {value!r}; expected one of {allowed}"))
        return None


#: Custom fields one ticket type may have.
MAX_FIELD_SPECS = 100


def field_specs(errors: list[FieldError], value: object) -> tuple[FieldSpec, ...]:
    """A ticket type's fields: ``FieldSpec`` values of distinct names, at most
    ``MAX_FIELD_SPECS``; every problem noted under ``fields``, beside the other fields'."""
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        errors.append(FieldError("fields", "must be a list of FieldSpec values"))
        return ()
    specs = list(itertools.islice(value, MAX_FIELD_SPECS + 1))
    if len(specs) > MAX_FIELD_SPECS:
        errors.append(FieldError("fields", f"must be at most {MAX_FIELD_SPECS} fields"))
        return ()
    if not all(isinstance(f, FieldSpec) for f in specs):
        errors.append(FieldError("fields", "must be FieldSpec values"))
        return ()
    names = [f.name for f in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        errors.append(FieldError("fields", f"duplicate field names {dupes}"))
    return tuple(specs)


#: Values one filter may name: far below PostgreSQL's parameter limit, and more than a
#: workflow has statuses.
MAX_FILTER_VALUES = 100


def idents(errors: list[FieldError], value: object, field: str, *, maximum: int) -> list[UUID]:
    """A collection of at most ``maximum`` UUIDs, as a list without repeats."""
    if isinstance(value, str | bytes | bytearray | Mapping) or not isinstance(value, Iterable):
        errors.append(FieldError(field, "must be a list of UUIDs"))
        return []
    items = list(itertools.islice(value, maximum + 1))
    if len(items) > maximum:
        errors.append(FieldError(field, f"must name at most {maximum} ids"))
        return []
    if not all(isinstance(i, UUID) for i in items):
        errors.append(FieldError(field, "must be a list of UUIDs"))
        return []
    return list(dict.fromkeys(items))


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


def limit(errors: list[FieldError], value: object, maximum: int, field: str = "limit") -> None:
    """A page size: an integer from 1 to ``maximum`` (a bool is no number here)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        errors.append(FieldError(field, f"must be an integer from 1 to {maximum}"))


def number(errors: list[FieldError], value: object, field: str) -> None:
    """Notes a ticket number that is not a positive integer a database column holds."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        errors.append(FieldError(field, "must be a positive whole number"))
