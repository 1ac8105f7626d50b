"""Settings: typed values a tenant sets once, and many of which a customer organisation may
set for itself and the organisations below it (seed 002: global settings, changeable per
customer; per-customer branding).

A ``Setting`` describes one value: its name (``"invitations.expiry"``), its type, default,
one line of documentation, and whether an organisation may override it. ``SETTINGS`` holds
every setting ticketkit knows. Values travel to storage in their JSON form, made and read
with cattrs; ``Setting.parse`` takes a value a host passes in, typed or in its JSON form,
and refuses one of the wrong type or out of range with a ``ValidationError`` naming it.

Which value counts (``resolve``): the nearest override walking from an organisation up its
parents, else the tenant's value, else the default.
"""

from __future__ import annotations

import enum
import math
import re
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final, TypeAlias, TypeVar
from uuid import UUID

import attrs
import cattrs

from ticketkit.domain import invitations
from ticketkit.domain.text import check_text
from ticketkit.errors import ValidationError

T = TypeVar("T")

#: What a host may pass as a setting's value: the typed value, or its JSON form (an
#: enumeration's value, a duration's number of seconds, None where a setting allows it).
SettingInput: TypeAlias = bool | int | float | str | timedelta | enum.Enum | None

#: A setting's name: dotted lower-case words, the first naming its area.
_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

MAX_DISPLAY_NAME: Final = 200
MAX_URL: Final = 2000


class ChildSharing(enum.StrEnum):
    """Whether the customer admins and guests of a parent organisation see the projects of
    the organisations below it (the policy's rule: ``Policy.viewer``)."""

    OFF = "off"
    READ = "read"
    READ_WRITE = "read_write"


def _make_converter() -> cattrs.Converter:
    """The converter of setting values to their JSON form and back: enums by value,
    durations as a number of seconds (a whole number when they are whole seconds)."""
    conv = cattrs.Converter()
    conv.register_unstructure_hook(enum.Enum, lambda v: v.value)
    conv.register_unstructure_hook(timedelta, seconds_of)
    conv.register_structure_hook(timedelta, lambda v, _: timedelta(seconds=v))
    return conv


def seconds_of(value: timedelta) -> int | float:
    """A duration's JSON form: its number of seconds, whole where it is whole."""
    if value.microseconds == 0:
        return value.days * 86_400 + value.seconds
    return value.total_seconds()


_CONVERTER = _make_converter()


def _is_enum(hint: Any) -> bool:
    return isinstance(hint, type) and issubclass(hint, enum.Enum)


#: The value types a setting may have: its Python type (what ``parse`` returns), and the
#: words the docs name it by.
_TYPE_NAMES: dict[Any, str] = {
    bool: "bool",
    str: "text",
    str | None: "text or None",
    timedelta: "duration",
}


@attrs.frozen(kw_only=True)
class Setting:
    """One setting ticketkit knows: name, value type, default, documentation line, whether
    an organisation may override it, and what a value must meet beyond its type
    (``check`` answers the problem, or None)."""

    name: str
    type: Any
    default: Any
    doc: str
    overridable: bool
    check: Callable[[Any], str | None] | None = attrs.field(default=None, eq=False)

    def __attrs_post_init__(self) -> None:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"setting name {self.name!r} must be dotted lower-case words")
        if not (self.type in _TYPE_NAMES or _is_enum(self.type)):
            raise ValueError(f"setting {self.name}: no rule for values of type {self.type!r}")
        if "\n" in self.doc or not self.doc.strip():
            raise ValueError(f"setting {self.name}: its documentation is one line")
        self.parse(self.default)  # a default that fails its own checks is a bug

    @property
    def type_name(self) -> str:
        """How the docs name the value type: ``bool``, ``text``, ``duration``, or an
        enumeration's values (``off | read | read_write``)."""
        if _is_enum(self.type):
            return " | ".join(str(m.value) for m in self.type)
        return _TYPE_NAMES[self.type]

    def parse(self, value: object, field: str = "value") -> Any:
        """``value`` as this setting's type, from the typed value or its JSON form (an
        enumeration's value, a duration's number of seconds); a ``ValidationError`` naming
        ``field`` for one of the wrong type or out of range."""
        typed = self._typed(value, field)
        problem = self.check(typed) if self.check is not None else None
        if problem is not None:
            raise ValidationError.single(field, problem)
        return typed

    def _typed(self, value: object, field: str) -> Any:
        hint = self.type
        if _is_enum(hint):
            try:
                return hint(value)
            except (ValueError, TypeError):
                allowed = [m.value for m in hint]
                raise ValidationError.single(
                    field, f"unknown value {value!r}; expected one of {allowed}"
                ) from None
        if hint is bool:
            if isinstance(value, bool):
                return value
            raise ValidationError.single(field, "must be True or False")
        if hint is timedelta:
            if isinstance(value, timedelta):
                return value
            if (
                isinstance(value, int | float)
                and not isinstance(value, bool)
                and math.isfinite(value)
                and abs(value) < 1e12
            ):
                return timedelta(seconds=value)
            raise ValidationError.single(field, "must be a timedelta or a number of seconds")
        if value is None and hint == str | None:
            return None
        if not isinstance(value, str):
            raise ValidationError.single(
                field, "must be text or None" if hint == str | None else "must be text"
            )
        return value

    def dump(self, value: Any) -> Any:
        """The JSON form of a value of this setting (as stored)."""
        return _CONVERTER.unstructure(value, unstructure_as=self.type)

    def load(self, raw: Any) -> Any:
        """A value of this setting from its JSON form (as stored)."""
        if raw is None or self.type is bool or self.type is str or self.type == str | None:
            return raw
        return _CONVERTER.structure(raw, self.type)


class SettingRegistry:
    """The settings a help desk knows, by name, in the order they were given."""

    def __init__(self, settings: Sequence[Setting]) -> None:
        by_name: dict[str, Setting] = {}
        for setting in settings:
            if not isinstance(setting, Setting):
                raise TypeError(f"{setting!r} is no Setting")
            if setting.name in by_name:
                raise ValueError(f"setting {setting.name} is registered twice")
            by_name[setting.name] = setting
        self._by_name: Mapping[str, Setting] = by_name

    def get(self, name: str) -> Setting | None:
        return self._by_name.get(name) if isinstance(name, str) else None

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name in self._by_name

    def __iter__(self) -> Iterator[Setting]:
        return iter(self._by_name.values())

    def __len__(self) -> int:
        return len(self._by_name)

    def with_settings(self, *more: Setting) -> SettingRegistry:
        """A registry of these settings and ``more`` (names must stay distinct)."""
        return SettingRegistry([*self, *more])

    def __repr__(self) -> str:
        return f"SettingRegistry({list(self._by_name)!r})"


@attrs.frozen(kw_only=True)
class SettingValue:
    """A stored value: the tenant's (``organisation_id`` None) or an organisation's
    override, in its JSON form, with who set it when."""

    tenant_id: UUID
    name: str
    organisation_id: UUID | None
    value: Any
    updated_at: datetime
    updated_by: UUID


def resolve(
    setting: Setting,
    chain: Sequence[UUID],
    overrides: Mapping[UUID, Any],
    tenant: Any,
    *,
    tenant_set: bool,
) -> Any:
    """The value that counts for the first organisation of ``chain`` (it and its parents,
    nearest first): the nearest override, else the tenant's value (when ``tenant_set``),
    else the default. A setting organisations may not override ignores their overrides."""
    if setting.overridable:
        for organisation_id in chain:
            if organisation_id in overrides:
                return overrides[organisation_id]
    return tenant if tenant_set else setting.default


# -- the checks of ticketkit's settings ------------------------------------------------------


def _expiry(value: timedelta) -> str | None:
    if not invitations.MIN_EXPIRY <= value <= invitations.MAX_EXPIRY:
        return "must be from 1 minute to 90 days"
    return None


def _display_name(value: str) -> str | None:
    return check_text(value, max_length=MAX_DISPLAY_NAME, allow_empty=True)


def _logo_url(value: str | None) -> str | None:
    if value is None:
        return None
    problem = check_text(value, max_length=MAX_URL)
    if problem is not None:
        return problem
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value):
        return "must be a URL without spaces or control characters"
    try:
        parts = urllib.parse.urlsplit(value)
    except ValueError:
        return "must be an https URL"
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https URL"
    return None


def _colour(value: str) -> str | None:
    if not _COLOUR.fullmatch(value):
        return "must be a colour written #rrggbb"
    return None


#: Every setting ticketkit knows.
SETTINGS: Final = SettingRegistry(
    [
        Setting(
            name="sharing.child_organisations",
            type=ChildSharing,
            default=ChildSharing.OFF,
            doc="Whether a parent organisation's customer admins and guests see its child "
            "organisations' projects (read, or read and write).",
            overridable=True,
        ),
        Setting(
            name="invitations.expiry",
            type=timedelta,
            default=invitations.DEFAULT_EXPIRY,
            doc="How long a guest's invitation link stays valid (1 minute to 90 days).",
            overridable=True,
            check=_expiry,
        ),
        Setting(
            name="sla.guests_see_clocks",
            type=bool,
            default=False,
            doc="Whether customers see the SLA clocks of their tickets.",
            overridable=True,
        ),
        Setting(
            name="branding.display_name",
            type=str,
            default="",
            doc="The name the portal shows; empty for the tenant's name.",
            overridable=True,
            check=_display_name,
        ),
        Setting(
            name="branding.logo_url",
            type=str | None,
            default=None,
            doc="The logo the portal shows (an https URL), or None for none.",
            overridable=True,
            check=_logo_url,
        ),
        Setting(
            name="branding.primary_colour",
            type=str,
            default="#1f4e79",
            doc="The portal's main colour, written #rrggbb.",
            overridable=True,
            check=_colour,
        ),
        Setting(
            name="branding.accent_colour",
            type=str,
            default="#f28c28",
            doc="The portal's accent colour (links, buttons), written #rrggbb.",
            overridable=True,
            check=_colour,
        ),
    ]
)

__all__ = [
    "SETTINGS",
    "ChildSharing",
    "Setting",
    "SettingInput",
    "SettingRegistry",
    "SettingValue",
    "resolve",
    "seconds_of",
]
