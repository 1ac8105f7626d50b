"""The inputs of a calendar and their parsing and validation: hours of the day, weekdays,
holiday regions (looked up in the ``holidays`` package), special days and time zones."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from ticketkit.errors import FieldError, ValidationError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 86_400
_TIME = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")


def _parse_time(text: str, field: str, errors: list[FieldError]) -> int | None:
    found = _TIME.match(text.strip()) if isinstance(text, str) else None
    if found is None:
        errors.append(FieldError(field, f"{text!r} is not a time of day like 08:00 or 24:00"))
        return None
    hours, minutes, seconds = int(found[1]), int(found[2]), int(found[3] or 0)
    value = hours * 3600 + minutes * 60 + seconds
    if minutes > 59 or seconds > 59 or value > DAY:
        errors.append(FieldError(field, f"{text!r} is outside 00:00-24:00"))
        return None
    return value


def _format_time(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


@attrs.frozen(order=True)
class Hours:
    """Open from ``start`` to ``end``, in seconds after local midnight.

    ``end`` may be 24:00 (``86400``); an ``end`` before ``start`` is a night shift that
    closes at ``end`` on the next day. Build from text with :meth:`parse`.
    """

    start: int
    end: int

    def __attrs_post_init__(self) -> None:
        errors = []
        if isinstance(self.start, bool) or not (
            isinstance(self.start, int) and 0 <= self.start < DAY
        ):
            errors.append(FieldError("start", "must be a time of day from 00:00 to 23:59:59"))
        if isinstance(self.end, bool) or not (isinstance(self.end, int) and 0 < self.end <= DAY):
            errors.append(FieldError("end", "must be a time of day from 00:00:01 to 24:00"))
        elif self.end == self.start:
            errors.append(FieldError("end", "equals start: an interval must not be empty"))
        if errors:
            raise ValidationError(errors)

    @classmethod
    def parse(cls, text: str, *, field: str = "hours") -> Hours:
        """``"08:00-12:00"``, ``"13:00-24:00"`` or ``"22:00-06:00"`` (a night shift).

        An end of ``00:00`` means midnight at the end of the day, as ``24:00`` does."""
        parts = text.split("-") if isinstance(text, str) else []
        errors: list[FieldError] = []
        if len(parts) != 2:
            raise ValidationError.single(field, f"{text!r} is not an interval like 08:00-17:00")
        start = _parse_time(parts[0], field, errors)
        end = _parse_time(parts[1], field, errors)
        if start == DAY:
            errors.append(FieldError(field, f"{text!r} starts at 24:00"))
        if errors or start is None or end is None:
            raise ValidationError(errors)
        if end == 0:
            end = DAY
        if end == start:
            raise ValidationError.single(field, f"{text!r} is empty (start equals end)")
        return cls(start, end)

    @property
    def overnight(self) -> bool:
        """Whether the interval runs past midnight into the next day."""
        return self.end < self.start

    def __str__(self) -> str:
        return f"{_format_time(self.start)}-{_format_time(self.end)}"

    def segments(self) -> tuple[tuple[int, int], tuple[int, int] | None]:
        """The part on its own day and the part spilling into the next day (seconds)."""
        if self.overnight:
            return (self.start, DAY), (0, self.end)
        return (self.start, self.end), None


@attrs.frozen
class HolidayRegion:
    """Public holidays of a country (ISO code such as ``"DE"``) and optionally one of its
    subdivisions (``"BY"``), as the ``holidays`` package knows them."""

    country: str
    subdivision: str | None = None


def _sorted_hours(value: Iterable[Hours]) -> tuple[Hours, ...]:
    return tuple(sorted(value))


@attrs.frozen
class SpecialDay:
    """A date with its own hours (none: closed), overriding holidays and the weekly hours."""

    date: date
    hours: tuple[Hours, ...] = attrs.field(default=(), converter=_sorted_hours)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.date, date) or isinstance(self.date, datetime):
            raise ValidationError.single("special_days", f"{self.date!r} is not a date")
        if not all(isinstance(h, Hours) for h in self.hours):
            raise ValidationError.single(f"special_days.{self.date}", "must hold Hours values")


HoursInput = Hours | str | Iterable[Hours | str]


def _hours_tuple(value: HoursInput, field: str) -> tuple[Hours, ...]:
    if isinstance(value, Hours | str):
        items: Iterable[Hours | str] = [value]
    elif isinstance(value, Iterable):
        items = value
    else:
        raise ValidationError.single(field, f"{value!r} is not hours like '09:00-17:00'")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, Hours):
            out.append(item)
        elif isinstance(item, str):
            out.append(Hours.parse(item, field=f"{field}[{i}]"))
        else:
            raise ValidationError.single(f"{field}[{i}]", f"{item!r} is not like '09:00-17:00'")
    return tuple(sorted(out))


def _weekday_keys(key: str) -> list[int]:
    """``"mon"`` or a range ``"mon-fri"`` as weekday numbers (Monday is 0)."""
    names = key.lower().split("-")
    if not all(n in WEEKDAYS for n in names) or len(names) > 2:
        raise ValidationError.single(f"week.{key}", "not a weekday (mon..sun) or range mon-fri")
    first, last = WEEKDAYS.index(names[0]), WEEKDAYS.index(names[-1])
    if last < first:
        raise ValidationError.single(f"week.{key}", "a weekday range must run forwards")
    return list(range(first, last + 1))


def _zone(name: str) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValidationError.single("zone", "an IANA time zone name such as Europe/Berlin")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError.single("zone", f"unknown time zone {name!r}") from exc


@functools.lru_cache(maxsize=512)
def _region_holidays(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays  # noqa: PLC0415  (loaded only for calendars that use regions)

    return frozenset(holidays.country_holidays(country, subdiv=subdivision, years=year))


def _check_region(region: HolidayRegion, field: str) -> None:
    import holidays  # noqa: PLC0415

    if not isinstance(region, HolidayRegion):
        raise ValidationError.single(field, "a HolidayRegion such as HolidayRegion('DE', 'BY')")
    if not isinstance(region.country, str) or not region.country:
        raise ValidationError.single(f"{field}.country", "an ISO country code such as DE")
    if region.subdivision is not None and not isinstance(region.subdivision, str):
        raise ValidationError.single(f"{field}.subdivision", "a subdivision code such as BY")

    try:
        holidays.country_holidays(region.country, subdiv=region.subdivision)
    except NotImplementedError as exc:  # how the holidays package reports an unknown code
        which = "subdivision" if "subdiv" in str(exc).lower() else "country"
        raise ValidationError.single(f"{field}.{which}", str(exc)) from exc
