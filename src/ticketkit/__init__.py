"""ticketkit: an embeddable, typed help-desk core.

The names a host app needs most are re-exported here; everything else lives in its layer
(``domain``, ``policy``, ``ports``, ``adapters``, ``application``, ``hooks``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ticketkit.application import (
        DESCRIPTION_TEMPLATES,
        UNSET,
        Batch,
        Bootstrap,
        CommentDraft,
        DeliveryMode,
        Description,
        HelpDesk,
        NotificationMessage,
        Page,
        PersonView,
        SettingView,
        TicketActions,
        TicketSort,
        TicketTypeView,
        TicketView,
        TimelineEntry,
        Unset,
        make_view_converter,
        to_json_data,
    )
    from ticketkit.clock import Clock, ManualClock, SystemClock
    from ticketkit.domain import (
        SETTINGS,
        Actor,
        ChildSharing,
        FieldKind,
        FieldSpec,
        Group,
        OrganisationKind,
        Priority,
        Role,
        Setting,
        SettingRegistry,
        Status,
        StatusCategory,
        Visibility,
        Workflow,
    )
    from ticketkit.domain.calendars import Calendar, HolidayRegion, Hours, SpecialDay
    from ticketkit.errors import (
        Conflict,
        FieldError,
        NotFound,
        PermissionDenied,
        StorageError,
        TicketkitError,
        ValidationError,
    )
    from ticketkit.hooks import Plugins, Signals, hookimpl

# Imported on first use, so that ``import ticketkit.domain`` stays free of pluggy,
# blinker and SQLAlchemy (the core packages must not need them).
_EXPORTS: dict[str, str] = {
    "Actor": "ticketkit.domain",
    "ChildSharing": "ticketkit.domain",
    "SETTINGS": "ticketkit.domain",
    "Setting": "ticketkit.domain",
    "SettingRegistry": "ticketkit.domain",
    "SettingView": "ticketkit.application",
    "Batch": "ticketkit.application",
    "Bootstrap": "ticketkit.application",
    "Calendar": "ticketkit.domain.calendars",
    "Clock": "ticketkit.clock",
    "CommentDraft": "ticketkit.application",
    "DESCRIPTION_TEMPLATES": "ticketkit.application",
    "Description": "ticketkit.application",
    "DeliveryMode": "ticketkit.application",
    "Conflict": "ticketkit.errors",
    "FieldError": "ticketkit.errors",
    "FieldKind": "ticketkit.domain",
    "FieldSpec": "ticketkit.domain",
    "Group": "ticketkit.domain",
    "HelpDesk": "ticketkit.application",
    "HolidayRegion": "ticketkit.domain.calendars",
    "Hours": "ticketkit.domain.calendars",
    "ManualClock": "ticketkit.clock",
    "NotFound": "ticketkit.errors",
    "NotificationMessage": "ticketkit.application",
    "OrganisationKind": "ticketkit.domain",
    "Page": "ticketkit.application",
    "PersonView": "ticketkit.application",
    "TicketActions": "ticketkit.application",
    "TicketTypeView": "ticketkit.application",
    "PermissionDenied": "ticketkit.errors",
    "Plugins": "ticketkit.hooks",
    "Priority": "ticketkit.domain",
    "Role": "ticketkit.domain",
    "Signals": "ticketkit.hooks",
    "SpecialDay": "ticketkit.domain.calendars",
    "Status": "ticketkit.domain",
    "StorageError": "ticketkit.errors",
    "StatusCategory": "ticketkit.domain",
    "SystemClock": "ticketkit.clock",
    "TicketSort": "ticketkit.application",
    "TicketView": "ticketkit.application",
    "TicketkitError": "ticketkit.errors",
    "TimelineEntry": "ticketkit.application",
    "UNSET": "ticketkit.application",
    "Unset": "ticketkit.application",
    "ValidationError": "ticketkit.errors",
    "Visibility": "ticketkit.domain",
    "Workflow": "ticketkit.domain",
    "hookimpl": "ticketkit.hooks",
    "make_view_converter": "ticketkit.application",
    "to_json_data": "ticketkit.application",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ticketkit' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "DESCRIPTION_TEMPLATES",
    "SETTINGS",
    "UNSET",
    "Actor",
    "Batch",
    "Bootstrap",
    "Calendar",
    "ChildSharing",
    "Clock",
    "CommentDraft",
    "Conflict",
    "DeliveryMode",
    "Description",
    "FieldError",
    "FieldKind",
    "FieldSpec",
    "Group",
    "HelpDesk",
    "HolidayRegion",
    "Hours",
    "ManualClock",
    "NotFound",
    "NotificationMessage",
    "OrganisationKind",
    "Page",
    "PermissionDenied",
    "PersonView",
    "Plugins",
    "Priority",
    "Role",
    "Setting",
    "SettingRegistry",
    "SettingView",
    "Signals",
    "SpecialDay",
    "Status",
    "StatusCategory",
    "StorageError",
    "SystemClock",
    "TicketActions",
    "TicketSort",
    "TicketTypeView",
    "TicketView",
    "TicketkitError",
    "TimelineEntry",
    "Unset",
    "ValidationError",
    "Visibility",
    "Workflow",
    "hookimpl",
    "make_view_converter",
    "to_json_data",
]
