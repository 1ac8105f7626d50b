"""Typed custom fields of a ticket type and the validation of their values."""

from __future__ import annotations

import contextlib
import enum
import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

import attrs

from ticketkit.domain.text import MAX_LABEL, check_text
from ticketkit.domain.values import member
from ticketkit.errors import FieldError, ValidationError

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
MAX_TEXT_FIELD = 4000
MAX_CHOICES = 200
#: Numbers stay exact and fit a NUMERIC(38) column, like money amounts.
MAX_DIGITS = 38


def _label_problem(value: object) -> str | None:
    """What is wrong with a label or a choice, if anything (text checks, as for any input)."""
    if not isinstance(value, str):
        return "must be text"
    return check_text(value, max_length=MAX_LABEL)


class FieldKind(enum.StrEnum):
    TEXT = "text"
    NUMBER = "number"
    SINGLE_CHOICE = "single_choice"
    MULTIPLE_CHOICE = "multiple_choice"
    DATE = "date"


def _field_kind(value: object) -> FieldKind:
    return member(FieldKind, value, "kind")


def _sequence(value: object) -> object:
    """A list or tuple as a tuple (so the value stays hashable); anything else as it is,
    for the checks to refuse by name."""
    return tuple(value) if isinstance(value, list | tuple) else value


@attrs.frozen(kw_only=True)
class FieldSpec:
    """One custom field: its kind, whether it is required, and its choices.

    ``internal`` fields are set and seen only by staff (e.g. an internal cost centre). A bad
    definition raises :class:`ValidationError` naming each bad attribute (its first problem).
    """

    name: str
    label: str
    kind: FieldKind = attrs.field(converter=_field_kind)
    required: bool = False
    choices: tuple[str, ...] = attrs.field(default=(), converter=_sequence)
    internal: bool = False
    max_length: int = MAX_TEXT_FIELD

    def __attrs_post_init__(self) -> None:
        errors = []
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            errors.append(
                FieldError("name", f"{self.name!r} must be lower-case letters, digits and '_'")
            )
        if problem := _label_problem(self.label):
            errors.append(FieldError("label", problem))
        for flag in ("required", "internal"):
            if not isinstance(getattr(self, flag), bool):
                errors.append(FieldError(flag, "must be True or False"))
        if problem := self._choices_problem():
            errors.append(FieldError("choices", problem))
        if (
            isinstance(self.max_length, bool)
            or not isinstance(self.max_length, int)
            or not 1 <= self.max_length <= MAX_TEXT_FIELD
        ):
            errors.append(FieldError("max_length", f"must be between 1 and {MAX_TEXT_FIELD}"))
        if errors:
            raise ValidationError(errors)

    def _choices_problem(self) -> str | None:
        """What is wrong with ``choices`` for this kind of field, if anything."""
        if not isinstance(self.choices, tuple):
            return "must be a list of choices"
        is_choice = self.kind in (FieldKind.SINGLE_CHOICE, FieldKind.MULTIPLE_CHOICE)
        if is_choice and not self.choices:
            return f"field {self.name!r} of kind {self.kind} needs choices"
        if not is_choice and self.choices:
            return f"field {self.name!r} of kind {self.kind} takes none"
        if len(set(self.choices)) != len(self.choices):
            return f"field {self.name!r} has duplicate choices"
        if len(self.choices) > MAX_CHOICES:
            return f"field {self.name!r} has more than {MAX_CHOICES}"
        for choice in self.choices:
            if problem := _label_problem(choice):
                return f"{choice!r} {problem}"
        return None

    def coerce(self, raw: object) -> tuple[object, str | None]:
        """Turn one input value into its typed form, or say what is wrong with it."""
        kind = self.kind
        if kind is FieldKind.TEXT:
            if not isinstance(raw, str):
                return None, "must be text"
            problem = check_text(raw, max_length=self.max_length, allow_empty=not self.required)
            return raw, problem
        if kind is FieldKind.NUMBER:
            if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str | float):
                return None, "must be a number"
            try:
                number = Decimal(str(raw).strip()) if not isinstance(raw, Decimal) else raw
            except InvalidOperation:
                return None, "must be a number"
            if not number.is_finite():
                return None, "must be a finite number"
            if len(number.as_tuple().digits) > MAX_DIGITS or abs(number.adjusted()) > MAX_DIGITS:
                return None, f"must have at most {MAX_DIGITS} digits"
            return number, None
        if kind is FieldKind.DATE:
            if isinstance(raw, date) and not hasattr(raw, "hour"):
                return raw, None
            if isinstance(raw, str):
                with contextlib.suppress(ValueError):
                    return date.fromisoformat(raw), None
            return None, "must be a date (YYYY-MM-DD)"
        if kind is FieldKind.SINGLE_CHOICE:
            if not isinstance(raw, str):
                return None, "must be one of the choices"
            if raw not in self.choices:
                return None, f"unknown choice {raw!r}; expected one of {list(self.choices)}"
            return raw, None
        # MULTIPLE_CHOICE
        if isinstance(raw, str) or not isinstance(raw, list | tuple | set | frozenset):
            return None, "must be a list of choices"
        picked = set()
        for item in raw:
            if not isinstance(item, str) or item not in self.choices:
                return None, f"unknown choice {item!r}; expected any of {list(self.choices)}"
            picked.add(item)
        if self.required and not picked:
            return None, "at least one choice is required"
        return tuple(c for c in self.choices if c in picked), None


def validate_field_values(
    specs: tuple[FieldSpec, ...],
    raw: Mapping[str, object],
    *,
    may_set_internal: bool,
    check_required: bool,
    prefix: str = "fields",
) -> tuple[dict[str, object], list[FieldError], list[str]]:
    """Check input against a schema.

    Returns the typed values, the validation errors (unknown field, wrong type, unknown
    choice, missing required field) and the names of internal fields the person may not set
    (a permission problem, reported separately so the caller can raise the right error).
    An internal field is required only of those who may set it.
    """
    by_name = {s.name: s for s in specs}
    values: dict[str, object] = {}
    errors: list[FieldError] = []
    forbidden: list[str] = []
    for name, value in raw.items():
        spec = by_name.get(name)
        if spec is None or (spec.internal and not may_set_internal):
            # An internal field is reported as unknown to those who may not see it.
            if spec is not None and spec.internal:
                forbidden.append(f"{prefix}.{name}")
            else:
                errors.append(FieldError(f"{prefix}.{name}", "unknown field"))
            continue
        if value is None:
            if spec.required:
                errors.append(FieldError(f"{prefix}.{name}", "is required"))
            else:
                values[name] = None
            continue
        typed, problem = spec.coerce(value)
        if problem:
            errors.append(FieldError(f"{prefix}.{name}", problem))
        else:
            values[name] = typed
    if check_required:
        for spec in specs:
            if spec.internal and not may_set_internal:
                # Never required of someone who may not set it: the error would name a
                # field they may not know of, and they could never satisfy it.
                continue
            if spec.required and spec.name not in raw and spec.name not in values:
                errors.append(FieldError(f"{prefix}.{spec.name}", "is required"))
    return values, errors, forbidden
