"""The :class:`Calendar` value: construction from readable parts, validation, the plan of
each day, and the public operations on single instants and on many."""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs

from ticketkit.domain.calendars.instants import (
    _EPOCH,
    _FIRST,
    _LAST,
    _ONE_US,
    _in_range,
    _instant,
    _micros,
    _span,
    _spans,
)
from ticketkit.domain.calendars.values import (
    DAY,
    WEEKDAYS,
    HolidayRegion,
    Hours,
    HoursInput,
    SpecialDay,
    _check_region,
    _format_time,
    _hours_tuple,
    _region_holidays,
    _weekday_keys,
    _zone,
)
from ticketkit.domain.calendars.years import _OutOfRange, _shared_years, _Years
from ticketkit.errors import FieldError, ValidationError


def _week(value: Iterable[Iterable[Hours]]) -> tuple[tuple[Hours, ...], ...]:
    return tuple(tuple(sorted(day)) for day in value)


def _dates(value: Iterable[date]) -> frozenset[date]:
    return frozenset(value)


def _regions(value: Iterable[HolidayRegion]) -> tuple[HolidayRegion, ...]:
    return tuple(value)


def _special_days(value: Iterable[SpecialDay]) -> tuple[SpecialDay, ...]:
    return tuple(sorted(value, key=lambda s: getattr(s, "date", date.min)))


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
        errors = []
        if not isinstance(week, Mapping):
            errors.append(FieldError("week", "must map weekdays to hours"))
        parts: tuple[tuple[str, object], ...] = (
            ("holidays", holidays),
            ("holiday_regions", holiday_regions),
        )
        for name, part in parts:
            if isinstance(part, str | bytes | Mapping) or not isinstance(part, Iterable):
                errors.append(FieldError(name, "must be a list"))
        if special_days is not None and not isinstance(special_days, Mapping):
            errors.append(FieldError("special_days", "must map dates to hours"))
        if errors:
            raise ValidationError(errors)
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
