"""The form for a new ticket of a ticket type, for any web framework: the inputs a template
renders (with everything an accessible page needs), and a submitted form parsed back into
what ``HelpDesk.create_ticket`` takes.

Each input is named by the field path ticketkit's own errors use (``title``,
``description``, ``fields.<name>``), so a ``ValidationError`` from parsing or from
``create_ticket`` itself lands next to the input it is about. Parsing checks every input
with the library's own rules (``validate_field_values``, ``check_text``) and reports them
all at once, so a missing required field and a number that is none come back together.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, TypeAlias, cast, overload
from uuid import UUID

import attrs

from ticketkit.application.views import TicketTypeView, TicketView
from ticketkit.domain.fields import MAX_TEXT_FIELD, FieldKind, FieldSpec, validate_field_values
from ticketkit.domain.text import MAX_BODY, MAX_TITLE, check_text
from ticketkit.domain.values import FieldValue
from ticketkit.errors import FieldError, ValidationError

#: Text fields up to this many characters get a one-line input, longer ones a text area.
ONE_LINE_MAX = 200

#: The words the form says itself (labels of its own inputs, empty choices, hints), in
#: English; pass ``texts`` to ``ticket_form`` with the same keys to say them otherwise.
FORM_TEXTS: Mapping[str, str] = {
    "title": "Title",
    "description": "Description",
    "choose": "Choose one",
    "none": "None",
    "date_hint": "A date as YYYY-MM-DD",
    "max_length_hint": "At most {max_length} characters",
    "pick_one_or_more": "Pick at least one",
}


class Widget(enum.StrEnum):
    """How an input is drawn: a template switches on this and on nothing else."""

    TEXT = "text"  # <input type="text">
    TEXTAREA = "textarea"
    NUMBER = "number"  # <input type="number" step="any">: exact decimals, no rounding
    DATE = "date"  # <input type="date">, whose value is YYYY-MM-DD
    SELECT = "select"  # one choice; its first choice is the empty one
    CHECKBOXES = "checkboxes"  # any choices: a fieldset whose legend is the label


@attrs.frozen(kw_only=True)
class Choice:
    """One choice of a select or checkbox group: its value (also its label, as ticket
    types define them), whether it is selected now, and its element id (each checkbox
    needs its own, for its ``<label for>``)."""

    value: str
    label: str
    selected: bool
    id: str


@attrs.frozen(kw_only=True)
class FormInput:
    """One input, with all an accessible template needs: ``name`` to submit under, the
    element ``id`` (stable: from the field's name), its ``label``, the ``widget``, whether
    it is ``required``, the current ``value`` (as typed, for one-valued widgets) or the
    ``choices`` with their selected state, the ``error`` and ``hint`` if any, and the ids
    the control's ``aria-describedby`` names (``describedby``)."""

    name: str
    id: str
    label: str
    widget: Widget
    required: bool
    value: str = ""
    choices: tuple[Choice, ...] = ()
    error: str | None = None
    hint: str | None = None
    max_length: int | None = None

    @property
    def error_id(self) -> str:
        """The id of the element that shows ``error``."""
        return f"{self.id}-error"

    @property
    def hint_id(self) -> str:
        """The id of the element that shows ``hint``."""
        return f"{self.id}-hint"

    @property
    def describedby(self) -> str | None:
        """What ``aria-describedby`` names: the hint and the error shown, or None."""
        ids = [i for i, shown in ((self.hint_id, self.hint), (self.error_id, self.error)) if shown]
        return " ".join(ids) or None

    @property
    def values(self) -> tuple[str, ...]:
        """The selected choices' values (a multiple choice's current value)."""
        return tuple(c.value for c in self.choices if c.selected and c.value)


@attrs.frozen(kw_only=True)
class TicketForm:
    """The inputs of a new ticket of one type, in order (title, description, then the
    type's fields), and the errors that belong to no input (``other_errors``: a project or
    type that is not there, say), for a summary at the top."""

    type_id: UUID
    inputs: tuple[FormInput, ...]
    other_errors: tuple[FieldError, ...] = ()

    def __getitem__(self, name: str) -> FormInput:
        for field in self.inputs:
            if field.name == name:
                return field
        raise KeyError(name)

    @property
    def errors(self) -> tuple[FormInput, ...]:
        """The inputs with an error, in order (for an error summary linking to them)."""
        return tuple(i for i in self.inputs if i.error)

    @property
    def has_errors(self) -> bool:
        return bool(self.other_errors) or any(i.error for i in self.inputs)


@attrs.frozen(kw_only=True)
class TicketDraft:
    """A submitted ticket form, checked: the arguments of ``HelpDesk.create_ticket``
    besides the project and the type. ``description`` is None when the form sent none
    (the type's template then stands); ``fields`` holds the typed values of the fields
    filled in (an empty input is left out)."""

    title: str
    description: str | None
    fields: Mapping[str, FieldValue]


class MultiValueForm(Protocol):
    """A submitted form that may hold several values per name: Werkzeug's ``MultiDict``,
    Django's ``QueryDict``."""

    def getlist(self, key: str, /) -> list[Any]: ...


#: What ``parse_ticket_form`` and ``ticket_form`` read: a multi-value form, or a plain
#: mapping of names to a string or a list of strings.
FormData: TypeAlias = MultiValueForm | Mapping[str, Any]


def field_name(spec: FieldSpec) -> str:
    """The name a custom field's input is submitted under: the library's field path."""
    return f"fields.{spec.name}"


def ticket_form(
    ticket_type: TicketTypeView,
    data: FormData | None = None,
    *,
    error: ValidationError | None = None,
    initial: TicketView | None = None,
    id_prefix: str = "ticket-",
    texts: Mapping[str, str] | None = None,
) -> TicketForm:
    """The form for a new ticket of ``ticket_type`` (as ``list_ticket_types`` gave it to
    the acting person: internal fields only for those who may see them).

    Empty, the description holds the type's template. With ``data`` (the form as it was
    submitted) every input keeps what was typed; with ``error`` each field error sits at
    its input, and the others are ``other_errors``. ``initial`` fills it from a ticket.
    """
    words = {**FORM_TEXTS, **(texts or {})}
    messages = {} if error is None else dict(error.fields)
    current = _Current(data, initial)
    inputs = [
        FormInput(
            name="title",
            id=f"{id_prefix}title",
            label=words["title"],
            widget=Widget.TEXT,
            required=True,
            value=current.one("title", ""),
            error=messages.pop("title", None),
            max_length=MAX_TITLE,
        ),
        FormInput(
            name="description",
            id=f"{id_prefix}description",
            label=words["description"],
            widget=Widget.TEXTAREA,
            required=False,
            value=current.one("description", ticket_type.description_template),
            error=messages.pop("description", None),
            max_length=MAX_BODY,
        ),
    ]
    for spec in ticket_type.fields:
        name = field_name(spec)
        input_id = f"{id_prefix}fields-{spec.name}"
        inputs.append(_field_input(spec, input_id, current, words, messages.pop(name, None)))
    return TicketForm(
        type_id=ticket_type.id,
        inputs=tuple(inputs),
        other_errors=tuple(FieldError(field, message) for field, message in messages.items()),
    )


def parse_ticket_form(ticket_type: TicketTypeView, data: FormData) -> TicketDraft:
    """The submitted form as ``create_ticket``'s title, description and typed field
    values, or a ``ValidationError`` naming every bad input by its name (``title``,
    ``fields.sla_level``...), with the library's own messages. Names the form does not
    have (a CSRF token, the project) are ignored."""
    errors: list[FieldError] = []
    title = _single(data, "title", errors)
    description = _single(data, "description", errors)
    # One message per input: its submitted shape's problem, else its value's.
    shape_failed = {e.field for e in errors}
    if title is None:
        title = ""
    if "title" not in shape_failed and (problem := check_text(title, max_length=MAX_TITLE)):
        errors.append(FieldError("title", problem))
    if description is not None:
        description = _newlines(description)
        if problem := check_text(description, max_length=MAX_BODY, allow_empty=True):
            errors.append(FieldError("description", problem))
    raw: dict[str, object] = {}
    for spec in ticket_type.fields:
        name = field_name(spec)
        if spec.kind is FieldKind.MULTIPLE_CHOICE:
            picked = _strings(data, name, errors)
            if picked:
                raw[spec.name] = picked
            continue
        value = _single(data, name, errors)
        if value is None or not value.strip():
            continue  # left empty: not set (required ones are reported below)
        raw[spec.name] = _newlines(value) if spec.kind is FieldKind.TEXT else value
    shape_failed = {e.field for e in errors}
    values, problems, _ = validate_field_values(
        ticket_type.fields, raw, may_set_internal=True, check_required=True
    )
    errors.extend(p for p in problems if p.field not in shape_failed)
    if errors:
        raise ValidationError(errors)
    return TicketDraft(
        title=title,
        description=description,
        # validate_field_values typed each value as its field's kind: a FieldValue.
        fields={k: cast("FieldValue", v) for k, v in values.items() if v is not None},
    )


# -- reading a submitted form --------------------------------------------------------------


@overload
def form_id(data: FormData, name: str) -> UUID: ...
@overload
def form_id(data: FormData, name: str, *, optional: bool) -> UUID | None: ...
def form_id(data: FormData, name: str, *, optional: bool = False) -> UUID | None:
    """The id submitted as ``name`` (a select of projects, people or groups): a
    ``ValidationError`` naming it for anything that is no id, or for none unless
    ``optional`` (then an empty choice is None)."""
    errors: list[FieldError] = []
    value = (_single(data, name, errors) or "").strip()
    if not errors and not value:
        if optional:
            return None
        errors.append(FieldError(name, "is required"))
    if errors:
        raise ValidationError(errors)
    try:
        return UUID(value)
    except ValueError:
        raise ValidationError.single(name, "is not one of the choices") from None


def form_version(data: FormData, name: str = "version") -> int | None:
    """The version of what a form was drawn from, to pass as ``expected_version`` (a
    change seen meanwhile is then a ``Conflict``, 409); None when the form sent none."""
    errors: list[FieldError] = []
    value = (_single(data, name, errors) or "").strip()
    if errors:
        raise ValidationError(errors)
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise ValidationError.single(name, "must be a whole number")
    return int(value)


def form_values(data: FormData, name: str) -> list[object]:
    """Every value submitted under ``name``, from a multi-value form or a plain mapping."""
    getlist = getattr(data, "getlist", None)
    if callable(getlist):
        return list(getlist(name))
    assert isinstance(data, Mapping)
    if name not in data:
        return []
    value = data[name]
    return list(value) if isinstance(value, list | tuple) else [value]


def _strings(data: FormData, name: str, errors: list[FieldError]) -> list[str]:
    values = form_values(data, name)
    if not all(isinstance(v, str) for v in values):
        errors.append(FieldError(name, "must be text"))
        return []
    return [str(v) for v in values]


def _single(data: FormData, name: str, errors: list[FieldError]) -> str | None:
    """The one value submitted under ``name``, None if there is none; more than one, or
    one that is no text, is an error."""
    values = _strings(data, name, errors)
    if len(values) > 1:
        errors.append(FieldError(name, "must be given once"))
        return None
    return values[0] if values else None


def _newlines(text: str) -> str:
    """Browsers send a text area's line breaks as CRLF; ticketkit keeps LF."""
    return text.replace("\r\n", "\n")


# -- building inputs -------------------------------------------------------------------------


@attrs.frozen
class _Current:
    """Where inputs take their current values from: the submitted form, else a ticket."""

    data: FormData | None
    ticket: TicketView | None

    def one(self, name: str, default: str) -> str:
        if self.data is not None:
            values = [v for v in form_values(self.data, name) if isinstance(v, str)]
            return values[0] if values else default
        if self.ticket is not None:
            if name in ("title", "description"):
                return str(getattr(self.ticket, name))
            value = self.ticket.fields.get(name.removeprefix("fields."))
            return "" if value is None else _shown(value)
        return default

    def many(self, name: str) -> set[str]:
        if self.data is not None:
            return {v for v in form_values(self.data, name) if isinstance(v, str)}
        if self.ticket is not None:
            value = self.ticket.fields.get(name.removeprefix("fields."))
            return set(value) if isinstance(value, tuple) else set()
        return set()


def _shown(value: FieldValue) -> str:
    """A typed field value as its input shows it (what parsing reads back)."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):  # a multiple choice's: its checkboxes show it
        return ", ".join(value)
    return value


def _choices(
    input_id: str, values: Iterable[str], selected: set[str], empty: str | None
) -> tuple[Choice, ...]:
    found: list[Choice] = []
    if empty is not None:
        found.append(Choice(value="", label=empty, selected=not selected, id=f"{input_id}-none"))
    found.extend(
        Choice(value=v, label=v, selected=v in selected, id=f"{input_id}-{i}")
        for i, v in enumerate(values, start=1)
    )
    return tuple(found)


def _field_input(
    spec: FieldSpec,
    input_id: str,
    current: _Current,
    words: Mapping[str, str],
    error: str | None,
) -> FormInput:
    """The input of one custom field: its widget by its kind, its current value."""
    name = field_name(spec)
    shared: dict[str, Any] = {
        "name": name,
        "id": input_id,
        "label": spec.label,
        "required": spec.required,
        "error": error,
    }
    if spec.kind is FieldKind.SINGLE_CHOICE:
        now = current.one(name, "")
        picked = {now} if now in spec.choices else set()
        empty = words["choose"] if spec.required else words["none"]
        choices = _choices(input_id, spec.choices, picked, empty)
        return FormInput(widget=Widget.SELECT, choices=choices, **shared)
    if spec.kind is FieldKind.MULTIPLE_CHOICE:
        picked = current.many(name) & set(spec.choices)
        hint = words["pick_one_or_more"] if spec.required else None
        choices = _choices(input_id, spec.choices, picked, None)
        return FormInput(widget=Widget.CHECKBOXES, choices=choices, hint=hint, **shared)
    value = current.one(name, "")
    if spec.kind is FieldKind.NUMBER:
        return FormInput(widget=Widget.NUMBER, value=value, **shared)
    if spec.kind is FieldKind.DATE:
        return FormInput(widget=Widget.DATE, value=value, hint=words["date_hint"], **shared)
    widget = Widget.TEXT if spec.max_length <= ONE_LINE_MAX else Widget.TEXTAREA
    limited = spec.max_length < MAX_TEXT_FIELD
    hint = words["max_length_hint"].format(max_length=spec.max_length) if limited else None
    return FormInput(widget=widget, value=value, max_length=spec.max_length, hint=hint, **shared)


__all__ = [
    "FORM_TEXTS",
    "Choice",
    "FormData",
    "FormInput",
    "MultiValueForm",
    "TicketDraft",
    "TicketForm",
    "Widget",
    "field_name",
    "form_id",
    "form_values",
    "form_version",
    "parse_ticket_form",
    "ticket_form",
]
