"""Business-hour calendars: when a support team works, and exact business-time arithmetic.

A :class:`Calendar` is a frozen value: a weekly schedule of local wall-clock hours in an IANA
time zone, holidays (explicit dates and regional ones from the ``holidays`` package) and
special days with hours of their own. Every SLA clock stands on its four operations:
``is_open``, ``next_opening``, ``add`` and ``elapsed`` (and their batch forms).

How it is fast: per calendar and year, the opening hours are turned once into sorted UTC
intervals (integer microseconds) with running sums of business time; every question is then
answered by bisection. Nothing steps through minutes or days. The semantics are written down
in ``docs/calendars.md``; the property tests hold this module to a minute-by-minute
reference.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from ticketkit.errors import FieldError, ValidationError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY = 86_400
#: A calendar that yields no business time for this many years in a row is refused while
#: searching (its holidays close every open day): an error, never an endless loop.
MAX_CLOSED_YEARS = 10
#: Year blocks kept per calendar; older ones are rebuilt on demand.
MAX_CACHED_YEARS = 16

_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
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
        if not (isinstance(self.start, int) and 0 <= self.start < DAY):
            errors.append(FieldError("start", "must be a time of day from 00:00 to 23:59:59"))
        if not (isinstance(self.end, int) and 0 < self.end <= DAY):
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


def _week(value: Iterable[Iterable[Hours]]) -> tuple[tuple[Hours, ...], ...]:
    return tuple(tuple(sorted(day)) for day in value)


def _dates(value: Iterable[date]) -> frozenset[date]:
    return frozenset(value)


def _regions(value: Iterable[HolidayRegion]) -> tuple[HolidayRegion, ...]:
    return tuple(value)


def _special_days(value: Iterable[SpecialDay]) -> tuple[SpecialDay, ...]:
    return tuple(sorted(value, key=lambda s: getattr(s, "date", date.min)))


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


@attrs.frozen(kw_only=True, cache_hash=True)
class Calendar:
    """Business hours in a time zone, with holidays and special days. Build one with
    :meth:`create` or :meth:`always`; instants in, instants (UTC) and durations out."""

    zone: str
    #: Seven entries, Monday first; an interval belongs to the day it starts on.
    week: tuple[tuple[Hours, ...], ...] = attrs.field(converter=_week)
    holidays: frozenset[date] = attrs.field(default=frozenset(), converter=_dates)
    holiday_regions: tuple[HolidayRegion, ...] = attrs.field(default=(), converter=_regions)
    special_days: tuple[SpecialDay, ...] = attrs.field(default=(), converter=_special_days)
    _tz: ZoneInfo = attrs.field(init=False, eq=False, repr=False, hash=False)
    _specials: dict[date, tuple[Hours, ...]] = attrs.field(
        init=False, eq=False, repr=False, hash=False
    )
    _years: _Years = attrs.field(init=False, eq=False, repr=False, hash=False)

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "_tz", _zone(self.zone))
        self._validate()  # also sets _specials, which checking special days needs
        object.__setattr__(self, "_years", _shared_years(self))

    # -- construction -------------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        zone: str,
        week: Mapping[str, HoursInput],
        *,
        holidays: Iterable[date] = (),
        holiday_regions: Iterable[HolidayRegion | str] = (),
        special_days: Mapping[date, HoursInput] | None = None,
    ) -> Calendar:
        """A calendar from readable parts::

            Calendar.create(
                "Europe/Berlin",
                {"mon-fri": ["08:00-12:00", "13:00-17:00"]},
                holiday_regions=["DE-BY"],
                special_days={date(2026, 12, 24): "09:00-12:00"},
            )

        ``week`` keys are weekdays or ranges (``"mon-fri"``); days not named are closed.
        Regions are ``HolidayRegion`` values or ``"DE"`` / ``"DE-BY"`` strings.
        """
        days: list[list[Hours]] = [[] for _ in WEEKDAYS]
        for key, value in week.items():
            hours = _hours_tuple(value, f"week.{key}")
            for day in _weekday_keys(key):
                days[day].extend(hours)
        regions = []
        for i, given in enumerate(holiday_regions):
            if isinstance(given, str):
                country, _, sub = given.partition("-")
                regions.append(HolidayRegion(country, sub or None))
            elif isinstance(given, HolidayRegion):
                regions.append(given)
            else:
                raise ValidationError.single(f"holiday_regions[{i}]", "a region like DE-BY")
        specials = tuple(
            SpecialDay(day, _hours_tuple(value, f"special_days.{day}"))
            for day, value in sorted((special_days or {}).items())
        )
        return cls(
            zone=zone,
            week=tuple(tuple(sorted(d)) for d in days),
            holidays=frozenset(holidays),
            holiday_regions=tuple(regions),
            special_days=specials,
        )

    @classmethod
    def always(cls, zone: str = "UTC") -> Calendar:
        """Open around the clock, every day (24/7)."""
        return cls(zone=zone, week=tuple((Hours(0, DAY),) for _ in WEEKDAYS))

    def _validate(self) -> None:
        errors: list[FieldError] = []
        if not isinstance(self.week, tuple) or len(self.week) != 7:
            raise ValidationError.single("week", "needs seven days of hours, Monday first")
        for day, hours in enumerate(self.week):
            if not all(isinstance(h, Hours) for h in hours):
                errors.append(FieldError(f"week.{WEEKDAYS[day]}", "must hold Hours values"))
        if errors:
            raise ValidationError(errors)
        for day in range(7):
            own = [h.segments()[0] for h in self.week[day]]
            spill = [s for h in self.week[day - 1] if (s := h.segments()[1]) is not None]
            self._check_overlaps(f"week.{WEEKDAYS[day]}", own + spill, errors)
        seen: set[date] = set()
        for special in self.special_days:
            if not isinstance(special, SpecialDay):
                errors.append(FieldError("special_days", "must hold SpecialDay values"))
                continue
            field = f"special_days.{special.date}"
            if special.date in seen:
                errors.append(FieldError(field, "appears twice"))
            seen.add(special.date)
            self._check_overlaps(field, [h.segments()[0] for h in special.hours], errors)
        if not all(isinstance(d, date) and not isinstance(d, datetime) for d in self.holidays):
            errors.append(FieldError("holidays", "must be dates"))
        for i, region in enumerate(self.holiday_regions):
            try:
                _check_region(region, f"holiday_regions[{i}]")
            except ValidationError as exc:
                errors.extend(exc.errors)
        if not any(self.week) and not any(s.hours for s in self.special_days):
            errors.append(FieldError("week", "no business hours at all"))
        if errors:
            raise ValidationError(errors)
        object.__setattr__(self, "_specials", {s.date: s.hours for s in self.special_days})
        for special in self.special_days:
            # A special day's hours meet the night shift of the day before, and its own night
            # shift meets the day after: neither may overlap (holidays counted).
            before, after = special.date - timedelta(days=1), special.date + timedelta(days=1)
            spill_in = [x for h in self.hours_on(before) if (x := h.segments()[1]) is not None]
            own = [h.segments()[0] for h in special.hours]
            self._check_overlaps(f"special_days.{special.date}", own + spill_in, errors)
            spill_out = [x for h in special.hours if (x := h.segments()[1]) is not None]
            next_own = [h.segments()[0] for h in self.hours_on(after)]
            self._check_overlaps(f"special_days.{special.date}", next_own + spill_out, errors)
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _check_overlaps(field: str, spans: list[tuple[int, int]], errors: list[FieldError]) -> None:
        spans = sorted(spans)
        for (s1, e1), (s2, e2) in itertools.pairwise(spans):
            if s2 < e1:
                first = f"{_format_time(s1)}-{_format_time(e1)}"
                second = f"{_format_time(s2)}-{_format_time(e2)}"
                errors.append(FieldError(field, f"{first} overlaps {second}"))

    # -- the day plan -------------------------------------------------------------------------

    def hours_on(self, day: date) -> tuple[Hours, ...]:
        """The hours that start on ``day``: a special day's, none on a holiday, else the
        weekday's."""
        special = self._specials.get(day)
        if special is not None:
            return special
        if day in self.holidays or any(
            day in _region_holidays(r.country, r.subdivision, day.year)
            for r in self.holiday_regions
        ):
            return ()
        return self.week[day.weekday()]

    # -- single instants ----------------------------------------------------------------------

    def is_open(self, instant: datetime) -> bool:
        """Whether business hours are running at ``instant``."""
        u = _in_range(_micros(instant, "instant"), "instant")
        block = self._years.block_at(u)
        i = bisect_right(block.starts, u) - 1
        return i >= 0 and u < block.ends[i]

    def next_opening(self, instant: datetime) -> datetime:
        """``instant`` itself when open, else the moment business hours next begin."""
        u = _in_range(_micros(instant, "instant"), "instant")
        try:
            return _instant(self._years.next_open(u))
        except _OutOfRange:
            raise ValidationError.single("instant", "no opening before the year 9999") from None

    def add(self, instant: datetime, duration: timedelta) -> datetime:
        """The instant (UTC) at which ``duration`` of business time has passed since
        ``instant``; counting starts at the next opening when ``instant`` is closed."""
        u = _micros(instant, "instant")
        if not _FIRST <= u < _LAST:  # _in_range, inlined with _instant below: the hot path
            _in_range(u, "instant")
        d = _span(duration, "duration")
        try:
            return _EPOCH + _ONE_US * self._years.add(u, d)
        except _OutOfRange:
            raise ValidationError.single("duration", "reaches beyond the year 9998") from None

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """Business time between ``start`` and ``end`` (``end`` not before ``start``)."""
        s = _in_range(_micros(start, "start"), "start")
        e = _in_range(_micros(end, "end"), "end")
        if e < s:
            raise ValidationError.single("end", "is before start")
        return timedelta(microseconds=self._years.between(s, e))

    # -- many instants ------------------------------------------------------------------------

    def add_many(
        self, instants: Iterable[datetime], duration: timedelta | Iterable[timedelta]
    ) -> list[datetime]:
        """``add`` for many instants, with one duration or one per instant (for listings
        and sweeps): the same answers, without the per-call overhead."""
        us = [
            _in_range(_micros(t, f"instants[{i}]"), f"instants[{i}]")
            for i, t in enumerate(instants)
        ]
        spans = _spans(duration, len(us))
        years = self._years
        out = []
        for i, (u, d) in enumerate(zip(us, spans, strict=True)):
            try:
                out.append(_instant(years.add(u, d)))
            except _OutOfRange:
                field = "duration" if isinstance(duration, timedelta) else f"durations[{i}]"
                raise ValidationError.single(field, "reaches beyond the year 9998") from None
        return out

    def elapsed_many(
        self, starts: Iterable[datetime], end: datetime | Iterable[datetime]
    ) -> list[timedelta]:
        """``elapsed`` from many starts to one end (a sweep at "now") or to one end each."""
        ss = [_in_range(_micros(t, f"starts[{i}]"), f"starts[{i}]") for i, t in enumerate(starts)]
        single = isinstance(end, datetime)
        if isinstance(end, datetime):
            es = [_in_range(_micros(end, "end"), "end")] * len(ss)
        else:
            es = [_in_range(_micros(t, f"ends[{i}]"), f"ends[{i}]") for i, t in enumerate(end)]
            if len(es) != len(ss):
                raise ValidationError.single("ends", f"{len(es)} ends for {len(ss)} starts")
        out = []
        years = self._years
        for i, (s, e) in enumerate(zip(ss, es, strict=True)):
            if e < s:
                field = "end" if single else f"ends[{i}]"
                raise ValidationError.single(field, f"is before starts[{i}]")
            out.append(timedelta(microseconds=years.between(s, e)))
        return out


# -- instants and durations as integer microseconds ------------------------------------------


def _micros(value: datetime, field: str) -> int:
    try:
        # Subtracting an aware datetime from a naive one (or a non-datetime) is a TypeError:
        # the one check every call needs, done by the arithmetic itself.
        return (value - _EPOCH) // _ONE_US
    except TypeError:
        if isinstance(value, datetime):
            message = "must be timezone-aware (a naive datetime is an error)"
        else:
            message = "must be a datetime"
        raise ValidationError.single(field, message) from None


def _instant(u: int) -> datetime:
    return _EPOCH + _ONE_US * u


_FIRST = (datetime(2, 1, 2, tzinfo=UTC) - _EPOCH) // _ONE_US
_LAST = (datetime(9998, 12, 30, tzinfo=UTC) - _EPOCH) // _ONE_US


def _in_range(u: int, field: str) -> int:
    if not _FIRST <= u < _LAST:
        raise ValidationError.single(field, "outside the supported years 2 to 9998")
    return u


def _span(value: timedelta, field: str) -> int:
    if not isinstance(value, timedelta):
        raise ValidationError.single(field, "must be a timedelta")
    if value.days < 0:
        raise ValidationError.single(field, "must not be negative")
    return value // _ONE_US


def _spans(value: timedelta | Iterable[timedelta], count: int) -> list[int]:
    if isinstance(value, timedelta):
        return [_span(value, "duration")] * count
    if not isinstance(value, Iterable):
        raise ValidationError.single("duration", "must be a timedelta or one per instant")
    spans = [_span(v, f"durations[{i}]") for i, v in enumerate(value)]
    if len(spans) != count:
        raise ValidationError.single("durations", f"{len(spans)} durations for {count} instants")
    return spans


# -- per-year blocks of UTC intervals ----------------------------------------------------------


@attrs.frozen
class _Block:
    """One local calendar year as sorted, disjoint UTC intervals ``[starts[i], ends[i])``
    within ``[lo, hi)``, and ``done[i]``: business time from ``lo`` to ``ends[i]``."""

    year: int
    lo: int
    hi: int
    starts: list[int]
    ends: list[int]
    done: list[int]

    total: int

    def position(self, u: int) -> int:
        """Business time from the block's start to ``u`` (``lo <= u <= hi``)."""
        i = bisect_right(self.ends, u)
        if i == len(self.ends):
            return self.total
        if self.starts[i] <= u:
            return self.done[i] - (self.ends[i] - u)
        return self.done[i] - (self.ends[i] - self.starts[i])

    def locate(self, target: int) -> int:
        """The instant at which ``target`` (``0 < target <= total``) business time is done:
        the closing time itself when it is used up exactly there."""
        j = bisect_left(self.done, target)
        return self.ends[j] - (self.done[j] - target)


class _OutOfRange(Exception):
    """A computation needed a year outside 2..9998 (the public methods name the field)."""


class _Years:
    """The lazily built, bounded, thread-safe cache of a calendar's year blocks."""

    def __init__(self, calendar: Calendar) -> None:
        self._calendar = calendar
        self._blocks: dict[int, _Block] = {}
        self._lock = threading.Lock()
        self._last: _Block | None = None

    def block(self, year: int) -> _Block:
        found = self._blocks.get(year)
        if found is None:
            if not 1 < year < 9999:
                raise _OutOfRange(year)
            with self._lock:
                found = self._blocks.get(year)
                if found is None:
                    found = _build_block(self._calendar, year)
                    if len(self._blocks) >= MAX_CACHED_YEARS:
                        del self._blocks[next(iter(self._blocks))]
                    self._blocks[year] = found
        return found

    def block_at(self, u: int) -> _Block:
        last = self._last
        if last is not None and last.lo <= u < last.hi:
            return last
        block = self.block(date.fromordinal(_EPOCH_ORDINAL + u // (DAY * _US)).year)
        while u < block.lo:
            block = self.block(block.year - 1)
        while u >= block.hi:
            block = self.block(block.year + 1)
        self._last = block
        return block

    def _following(self, block: _Block) -> _Block:
        """The next block after ``block`` that has business time, or a clear error."""
        first = block.year + 1
        for _ in range(MAX_CLOSED_YEARS):
            block = self.block(block.year + 1)
            if block.starts:
                return block
        calendar = self._calendar
        field = "holidays" if any(calendar.week) else "special_days"
        raise ValidationError.single(
            field,
            f"no business hours in the {MAX_CLOSED_YEARS} years {first}-{block.year}: "
            "every open day is closed",
        )

    def next_open(self, u: int) -> int:
        block = self.block_at(u)
        i = bisect_right(block.ends, u)
        if i < len(block.ends):
            return max(u, block.starts[i])
        return self._following(block).starts[0]

    def add(self, u: int, d: int) -> int:
        if d == 0:
            return u
        block = self._last
        if block is None or not block.lo <= u < block.hi:
            block = self.block_at(u)
        # block.position(u) and block.locate(target), inlined: calling them costs a third of
        # a deadline's time (bench/calendars.py: 4.0 µs inlined, 6.0 µs with the calls).
        ends, done = block.ends, block.done
        i = bisect_right(ends, u)
        if i < len(ends):
            start = block.starts[i]
            target = done[i] - (ends[i] - (u if start <= u else start)) + d
        else:
            target = block.total + d
        while target > block.total:
            target -= block.total
            block = self._following(block)
            ends, done = block.ends, block.done
        j = bisect_left(done, target)
        return ends[j] - (done[j] - target)

    def between(self, s: int, e: int) -> int:
        first, last = self.block_at(s), self.block_at(e)
        if first.year == last.year:  # not identity: another thread may have rebuilt it
            return last.position(e) - first.position(s)
        total = first.total - first.position(s) + last.position(e)
        for year in range(first.year + 1, last.year):
            total += self.block(year).total
        return total


def _build_block(calendar: Calendar, year: int) -> _Block:
    tz = calendar._tz
    lo = _wall_micros(tz, datetime(year, 1, 1), first=True)
    hi = _wall_micros(tz, datetime(year + 1, 1, 1), first=True)
    spans: list[tuple[int, int]] = []
    day = date(year - 1, 12, 31)  # its night shifts reach into this year
    last = date(year, 12, 31)
    while day <= last:
        midnight = datetime(day.year, day.month, day.day)
        for h in calendar.hours_on(day):
            end_day = midnight + timedelta(days=1) if h.overnight else midnight
            start = _wall_micros(tz, midnight + timedelta(seconds=h.start), first=True)
            end = _wall_micros(tz, end_day + timedelta(seconds=h.end), first=False)
            start, end = max(start, lo), min(end, hi)
            if start < end:
                spans.append((start, end))
        day += timedelta(days=1)
    spans.sort()
    starts: list[int] = []
    ends: list[int] = []
    for start, end in spans:  # merge overlapping and touching spans
        if ends and start <= ends[-1]:
            ends[-1] = max(ends[-1], end)
        else:
            starts.append(start)
            ends.append(end)
    done, total = [], 0
    for start, end in zip(starts, ends, strict=True):
        total += end - start
        done.append(total)
    return _Block(year, lo, hi, starts, ends, done, total)


def _wall_micros(tz: ZoneInfo, local: datetime, *, first: bool) -> int:
    """The instant a wall-clock reading stands for as a boundary of business hours.

    An opening (``first``) is the first instant at which the clock reads ``local`` or
    later; a closing is the instant from which on the clock never again reads earlier than
    ``local``. Readings the clock shows once map to that instant. Of a reading shown twice
    (the repeated hour) an opening takes the first showing and a closing the second, unless
    the clock never fell below it in between. A reading the clock skips maps to the jump."""
    a = _micros(local.replace(tzinfo=tz, fold=0), "local")
    b = _micros(local.replace(tzinfo=tz, fold=1), "local")
    if a == b:
        return a
    early, late = min(a, b), max(a, b)
    if _instant(early).astimezone(tz).replace(tzinfo=None) == local:  # shown twice
        if first:
            return early
        just_before = _instant(late - 1).astimezone(tz).replace(tzinfo=None)
        return late if just_before < local else early
    # Skipped: the jump happens in (early, late]; bisect for it.
    before = _offset_at(tz, early)
    lo, hi = early, late
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _offset_at(tz, mid) == before:
            lo = mid
        else:
            hi = mid
    return hi


def _offset_at(tz: ZoneInfo, u: int) -> timedelta | None:
    return _instant(u).astimezone(tz).utcoffset()


# -- sharing caches between equal calendars ----------------------------------------------------

_SHARED: dict[tuple[object, ...], _Years] = {}
_SHARED_LOCK = threading.Lock()
_MAX_SHARED = 128


def _shared_years(calendar: Calendar) -> _Years:
    """Equal calendars (say, one loaded from storage per request) share one year cache."""
    key = (
        calendar.zone,
        calendar.week,
        calendar.holidays,
        calendar.holiday_regions,
        calendar.special_days,
    )
    with _SHARED_LOCK:
        found = _SHARED.get(key)
        if found is None:
            if len(_SHARED) >= _MAX_SHARED:
                del _SHARED[next(iter(_SHARED))]
            found = _SHARED[key] = _Years(calendar)
        return found


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
