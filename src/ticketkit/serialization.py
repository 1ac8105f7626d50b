"""The project's one cattrs converter: JSON-ready dicts at the edges, typed objects inside.

Built by a function (never the global converter) so hosts can extend their own copy.
Custom field values are tagged where JSON has no type of its own (numbers stay exact).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn, override

from ticketkit.domain.calendars import Calendar, calendar_from_dict, calendar_to_dict
from ticketkit.domain.events import EVENT_TYPES, Event
from ticketkit.domain.model import FieldValue


def encode_field_value(value: FieldValue | None) -> Any:
    """A JSON-ready form of one custom field value."""
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, date):
        return {"date": value.isoformat()}
    if isinstance(value, tuple):
        return list(value)
    return value


def decode_field_value(raw: Any) -> FieldValue | None:
    if isinstance(raw, dict):
        if "decimal" in raw:
            return Decimal(raw["decimal"])
        if "date" in raw:
            return date.fromisoformat(raw["date"])
        raise ValueError(f"unknown tagged field value {raw!r}")
    if isinstance(raw, list):
        return tuple(str(x) for x in raw)
    if raw is None or isinstance(raw, str):
        return raw
    raise ValueError(f"unexpected field value {raw!r}")


def encode_fields(values: Mapping[str, FieldValue | None]) -> dict[str, Any]:
    return {k: encode_field_value(v) for k, v in values.items()}


def decode_fields(raw: Mapping[str, Any]) -> dict[str, FieldValue]:
    out: dict[str, FieldValue] = {}
    for k, v in raw.items():
        decoded = decode_field_value(v)
        if decoded is not None:
            out[k] = decoded
    return out


def make_converter() -> cattrs.Converter:
    """A converter for domain objects to and from JSON-compatible data."""
    conv = cattrs.Converter()
    conv.register_unstructure_hook(UUID, str)
    conv.register_structure_hook(UUID, lambda v, _: v if isinstance(v, UUID) else UUID(v))
    conv.register_unstructure_hook(datetime, lambda v: v.isoformat())
    conv.register_structure_hook(
        datetime, lambda v, _: v if isinstance(v, datetime) else datetime.fromisoformat(v)
    )
    conv.register_unstructure_hook(date, lambda v: v.isoformat())
    conv.register_structure_hook(
        date, lambda v, _: v if isinstance(v, date) else date.fromisoformat(v)
    )
    conv.register_unstructure_hook(enum.Enum, lambda v: v.value)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_structure_hook(Decimal, lambda v, _: Decimal(str(v)))
    field_value_types = (FieldValue, FieldValue | None)
    conv.register_unstructure_hook_func(lambda t: t in field_value_types, encode_field_value)
    conv.register_structure_hook_func(
        lambda t: t in field_value_types, lambda v, _: decode_field_value(v)
    )
    conv.register_unstructure_hook(Calendar, calendar_to_dict)
    conv.register_structure_hook(Calendar, lambda v, _: calendar_from_dict(v))
    transitions = frozenset[tuple[str, str]]
    conv.register_structure_hook_func(lambda t: t == transitions, _structure_transitions)
    conv.register_unstructure_hook_func(lambda t: t == transitions, _unstructure_transitions)
    return conv


def _unstructure_transitions(value: frozenset[tuple[str, str]]) -> list[list[str]]:
    return [list(pair) for pair in sorted(value)]


def _structure_transitions(value: Any, _: object) -> frozenset[tuple[str, str]]:
    return frozenset((str(a), str(b)) for a, b in value)


def event_to_dict(conv: cattrs.Converter, event: Event) -> dict[str, Any]:
    """The wire and storage form of a history event, tagged with its ``kind``."""
    data: dict[str, Any] = conv.unstructure(event, unstructure_as=type(event))
    data["kind"] = event.kind
    return data


def event_from_dict(conv: cattrs.Converter, data: Mapping[str, Any]) -> Event:
    body = dict(data)
    cls = EVENT_TYPES[body.pop("kind")]
    return conv.structure(body, cls)


#: id(converter) -> (converter, each event class's unstructure function without the
#: attributes every event has), for converters given to ``generate_event_data``. Holding
#: the converter keeps its id unique while cached.
_DATA_ENCODERS: dict[
    int, tuple[cattrs.Converter, dict[type[Event], Callable[[Event], dict[str, Any]]]]
] = {}
_COMMON = {a.name: override(omit=True) for a in attrs.fields(Event)}
_COMMON_KEYS = (*_COMMON, "kind")


def generate_event_data(conv: cattrs.Converter) -> None:
    """Let ``event_data`` generate a payload-only function per event class for ``conv``.

    For a converter nobody customises afterwards (the one ``SqlStorage`` builds for itself):
    the generated functions follow the hooks ``conv`` has when each is generated."""
    if len(_DATA_ENCODERS) >= 64:
        _DATA_ENCODERS.clear()
    _DATA_ENCODERS[id(conv)] = (conv, {})


def event_data(conv: cattrs.Converter, event: Event) -> dict[str, Any]:
    """The attributes particular to ``event``'s kind, unstructured: the storage form of an
    event's payload (``event_to_dict`` minus the attributes of ``Event`` itself and ``kind``).

    With a converter given to ``generate_event_data``, generated once per event class, so
    the common attributes are never converted only to be thrown away; with any other
    converter (a host's own), the whole event goes through it, so all its hooks apply."""
    cached = _DATA_ENCODERS.get(id(conv))
    if cached is None or cached[0] is not conv:
        data = event_to_dict(conv, event)
        for key in _COMMON_KEYS:
            data.pop(key, None)
        return data
    encoders, cls = cached[1], type(event)
    encode = encoders.get(cls)
    if encode is None:
        # Typed loosely: mypy would match the overrides against the generator's own options.
        build: Callable[..., Callable[[Event], dict[str, Any]]] = make_dict_unstructure_fn
        encode = encoders[cls] = build(cls, conv, **_COMMON)
    return encode(event)
