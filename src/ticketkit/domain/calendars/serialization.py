"""The storage form of a calendar: plain dicts, lists and strings for JSON, and back
(validated like any other input)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from ticketkit.domain.calendars.model import Calendar
from ticketkit.domain.calendars.values import WEEKDAYS, HolidayRegion, SpecialDay, _hours_tuple
from ticketkit.errors import ValidationError


def calendar_to_dict(calendar: Calendar) -> dict[str, Any]:
    """The storage form of a calendar (pinned by a golden JSON test)."""
    return {
        "zone": calendar.zone,
        "week": {
            name: [str(h) for h in hours]
            for name, hours in zip(WEEKDAYS, calendar.week, strict=True)
        },
        "holidays": sorted(d.isoformat() for d in calendar.holidays),
        "holiday_regions": [
            {"country": r.country, "subdivision": r.subdivision} for r in calendar.holiday_regions
        ],
        "special_days": [
            {"date": s.date.isoformat(), "hours": [str(h) for h in s.hours]}
            for s in calendar.special_days
        ],
    }


def calendar_from_dict(data: Mapping[str, Any]) -> Calendar:
    """A calendar back from :func:`calendar_to_dict`'s form (validated like any other)."""
    week = data.get("week")
    if not isinstance(week, Mapping):
        raise ValidationError.single("week", "must map weekdays to lists of hours")
    unknown = set(week) - set(WEEKDAYS)
    if unknown:
        raise ValidationError.single("week", f"unknown weekdays {sorted(unknown)}")
    regions = []
    for i, raw in enumerate(_list(data, "holiday_regions")):
        if not isinstance(raw, Mapping) or "country" not in raw:
            raise ValidationError.single(f"holiday_regions[{i}].country", "is missing")
        regions.append(HolidayRegion(raw["country"], raw.get("subdivision")))
    specials = []
    for i, raw in enumerate(_list(data, "special_days")):
        if not isinstance(raw, Mapping):
            raise ValidationError.single(f"special_days[{i}]", "must be a date with hours")
        day = _iso_date(raw.get("date"), f"special_days[{i}].date")
        specials.append(SpecialDay(day, _hours_tuple(raw.get("hours", []), f"special_days.{day}")))
    return Calendar(
        zone=data.get("zone", ""),
        week=tuple(_hours_tuple(week.get(name, []), f"week.{name}") for name in WEEKDAYS),
        holidays=frozenset(_iso_date(d, "holidays") for d in _list(data, "holidays")),
        holiday_regions=tuple(regions),
        special_days=tuple(specials),
    )


def _list(data: Mapping[str, Any], field: str) -> list[Any]:
    value = data.get(field, [])
    if not isinstance(value, list):
        raise ValidationError.single(field, "must be a list")
    return value


def _iso_date(value: object, field: str) -> date:
    try:
        return date.fromisoformat(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValidationError.single(field, f"{value!r} is not a date like 2026-12-24") from None
