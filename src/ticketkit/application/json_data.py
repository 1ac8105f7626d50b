"""JSON-ready data from the views handed to a person, and from nothing else.

``to_json_data`` takes what an operation returned to someone (a ticket view, a timeline
entry, a notification message, a page, lists of them) and refuses the domain's own objects
(``Ticket``, ``Person``, a bare ``Event``): those carry what the policy keeps from most
readers, and a view is already cut to the person it was made for. So serialised data
never holds more than its reader may see.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any, TypeAlias, get_args, overload

import attrs
import cattrs
from cattrs.gen import make_dict_unstructure_fn

from ticketkit.application.directory import SeatReport
from ticketkit.application.invitations import InvitationSent, InvitationView
from ticketkit.application.views import (
    UNSET,
    Description,
    NotificationMessage,
    Page,
    PersonView,
    SettingView,
    TicketActions,
    TicketTypeView,
    TicketView,
    TimelineEntry,
)
from ticketkit.domain.events import Event
from ticketkit.domain.model import Comment, Project
from ticketkit.domain.settings import seconds_of
from ticketkit.serialization import make_converter

#: What ``to_json_data`` serialises: the projections operations hand to a person, and the
#: comments and projects they read (which have no part hidden from a reader). Never an
#: ``InvitationMessage`` nor a ``GrantOfferMessage``: their tokens are credentials, for the
#: plugins alone.
View: TypeAlias = (
    TicketView
    | TimelineEntry
    | Description
    | NotificationMessage
    | Page
    | PersonView
    | TicketTypeView
    | TicketActions
    | SettingView
    | InvitationView
    | InvitationSent
    | SeatReport
    | Comment
    | Project
)
VIEW_TYPES: tuple[type, ...] = get_args(View)


def make_view_converter() -> cattrs.Converter:
    """The project's converter (``serialization.make_converter``) with events written whole:
    each with its own kind's attributes and its ``kind``, where a view declares only
    ``Event`` (plain cattrs would write the attributes every event has, and drop the rest)."""
    conv = make_converter()
    encoders: dict[type[Event], Callable[[Event], dict[str, Any]]] = {}

    def unstructure_event(event: Event) -> dict[str, Any]:
        cls = type(event)
        encode = encoders.get(cls)
        if encode is None:
            encode = encoders[cls] = make_dict_unstructure_fn(cls, conv)
        data = encode(event)
        data["kind"] = event.kind
        return data

    conv.register_unstructure_hook_func(
        lambda t: isinstance(t, type) and issubclass(t, Event), unstructure_event
    )
    # Durations as a number of seconds, as settings store them.
    conv.register_unstructure_hook(timedelta, seconds_of)

    def unstructure_setting(view: SettingView) -> dict[str, Any]:
        # A value not stored (UNSET) is left out: None is a value some settings take.
        return {
            field.name: conv.unstructure(getattr(view, field.name))
            for field in attrs.fields(SettingView)
            if getattr(view, field.name) is not UNSET
        }

    conv.register_unstructure_hook(SettingView, unstructure_setting)
    return conv


@functools.cache
def _default_converter() -> cattrs.Converter:
    return make_view_converter()


@overload
def to_json_data(
    view: Sequence[View], *, converter: cattrs.Converter | None = None
) -> list[dict[str, Any]]: ...


@overload
def to_json_data(view: View, *, converter: cattrs.Converter | None = None) -> dict[str, Any]: ...


def to_json_data(
    view: View | Sequence[View], *, converter: cattrs.Converter | None = None
) -> dict[str, Any] | list[dict[str, Any]]:
    """``view`` (or a list of views) as data ``json.dumps`` takes: ids and decimals as
    strings, times in ISO 8601, enums by value, tuples as lists, and every event with its
    own attributes and ``kind``. Custom field values keep the project's tagged form
    (``{"decimal": "2.5"}``, ``{"date": "2026-05-22"}``), so they read back exactly.

    Anything but a view (see ``View``) is a ``TypeError``: serialise what an operation
    handed to the person, never the domain's objects. ``converter`` is one made by
    ``make_view_converter`` and extended by the host."""
    conv = converter or _default_converter()
    if isinstance(view, list | tuple):
        return [_one(item, conv) for item in view]
    return _one(view, conv)


def _one(view: object, conv: cattrs.Converter) -> dict[str, Any]:
    if not isinstance(view, VIEW_TYPES):
        allowed = ", ".join(t.__name__ for t in VIEW_TYPES)
        raise TypeError(
            f"to_json_data serialises the views operations hand to a person ({allowed}), "
            f"not {type(view).__name__}"
        )
    data: dict[str, Any] = conv.unstructure(view, unstructure_as=type(view))
    return data
