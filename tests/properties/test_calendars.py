"""Calendars against a minute-by-minute reference.

The reference knows nothing of folds, bisection or cached years: it converts every minute of
a window from UTC to local wall-clock time and reads the documented rule off that table. An
opening is the first minute at which the clock reads the opening time or later; a closing is
the minute from which on it never again reads earlier than the closing time. Random
calendars (1-3 intervals a day, closed weekdays, night shifts, holidays, special days) in
zones with odd offsets and daylight-saving rules are then held to it around their
transitions, at openings and closings, and in the skipped and repeated hours.
"""

from __future__ import annotations

import functools
import itertools
import os
from bisect import bisect_left
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ticketkit.domain.calendars import Calendar, Hours, SpecialDay
from ticketkit.errors import ValidationError

MINUTE = timedelta(minutes=1)
WINDOW_DAYS = 12
#: Dates around which each zone does something unusual (or, for UTC, a year boundary).
ANCHORS = {
    "Europe/Berlin": [date(2026, 3, 29), date(2026, 10, 25), date(2026, 12, 31)],
    "America/New_York": [date(2026, 3, 8), date(2026, 11, 1)],
    "Australia/Lord_Howe": [date(2026, 4, 5), date(2026, 10, 4)],  # 30-minute shifts
    "Asia/Kathmandu": [date(2026, 6, 15)],  # +05:45
    "Pacific/Apia": [date(2011, 12, 30), date(2011, 9, 24)],  # a skipped day; DST start
    "UTC": [date(2025, 12, 31)],
}
EXAMPLES = int(os.environ.get("TICKETKIT_CALENDAR_EXAMPLES", "150"))


@functools.lru_cache(maxsize=32)
def wall_clock(zone: str, anchor: date) -> tuple[datetime, list[datetime]]:
    """The window's first UTC minute and the local reading of every minute in it."""
    tz = ZoneInfo(zone)
    start = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC) - timedelta(days=4)
    minutes = WINDOW_DAYS * 24 * 60
    return start, [
        (start + i * MINUTE).astimezone(tz).replace(tzinfo=None) for i in range(minutes + 1)
    ]


class Reference:
    """Which minutes of the window are business minutes, read off the wall-clock table."""

    def __init__(self, spec: dict[str, object], zone: str, anchor: date) -> None:
        self.start, local = wall_clock(zone, anchor)
        rising = list(accumulate(local, max))  # first minute reading >= x: bisect this
        settled = list(reversed(list(accumulate(reversed(local), min))))  # never below x after
        week: list[list[tuple[int, int]]] = spec["week"]  # type: ignore[assignment]
        holidays: set[date] = spec["holidays"]  # type: ignore[assignment]
        specials: dict[date, list[tuple[int, int]]] = spec["specials"]  # type: ignore[assignment]
        self.open = bytearray(len(local) - 1)
        self.boundaries: list[int] = []
        day = local[0].date() - timedelta(days=2)
        while day <= local[-1].date():
            if day in specials:
                hours = specials[day]
            elif day in holidays:
                hours = []
            else:
                hours = week[day.weekday()]
            midnight = datetime(day.year, day.month, day.day)
            for s, e in hours:
                opening = midnight + s * MINUTE
                closing = midnight + (e if e > s else e + 1440) * MINUTE
                first = bisect_left(rising, opening)
                last = bisect_left(settled, closing)
                for i in range(max(first, 0), min(last, len(self.open))):
                    self.open[i] = 1
                self.boundaries += [first, last]
            day += timedelta(days=1)
        self.boundaries = sorted(b for b in self.boundaries if 0 <= b < len(self.open))

    def minute(self, i: int) -> datetime:
        return self.start + i * MINUTE

    def index(self, t: datetime) -> int:
        return (t - self.start) // MINUTE

    def is_open(self, i: int) -> bool:
        return bool(self.open[i])

    def next_opening(self, i: int) -> int | None:
        found = self.open.find(1, i)
        return None if found < 0 else found

    def add(self, i: int, minutes: int) -> int | None:
        if minutes == 0:
            return i
        for j in range(i, len(self.open)):
            if self.open[j]:
                minutes -= 1
                if minutes == 0:
                    return j + 1
        return None

    def elapsed(self, i: int, j: int) -> int:
        return sum(self.open[i:j])

    def available(self, i: int) -> int:
        return sum(self.open[i:])


@functools.lru_cache(maxsize=32)
def jumps(zone: str, anchor: date) -> tuple[int, ...]:
    """The window's minutes at which the clock jumps (forward or back)."""
    _, local = wall_clock(zone, anchor)
    found = [i + 1 for i, (a, b) in enumerate(itertools.pairwise(local)) if b - a != MINUTE]
    return tuple(found) or (4 * 1440,)


@functools.lru_cache(maxsize=32)
def clock_changes(zone: str, anchor: date) -> tuple[int, ...]:
    """Minutes of the day at which the window's clock jumps: the reading it would have
    shown next, and the one it shows instead."""
    _, local = wall_clock(zone, anchor)
    found = {0, 1440}
    for before, after in itertools.pairwise(local):
        if after - before != MINUTE:
            for reading in (before + MINUTE, after):
                found.add(reading.hour * 60 + reading.minute)
    return tuple(sorted(found))


def _day_hours(draw: st.DrawFn, favourites: tuple[int, ...]) -> list[tuple[int, int]]:
    count = draw(st.integers(0, 3))
    # An interval ending at 24:00 is drawn as ending at 1440. Times of day at which the
    # zone changes its clock come up often.
    minute = st.one_of(st.integers(0, 1440), st.sampled_from(favourites))
    cuts = sorted(draw(st.sets(minute, min_size=2 * count, max_size=2 * count)))
    return list(zip(cuts[::2], cuts[1::2], strict=True))


def _week(draw: st.DrawFn, favourites: tuple[int, ...]) -> list[list[tuple[int, int]]]:
    """Seven days; some get a night shift that ends before the next day's first opening."""
    week = [_day_hours(draw, favourites) for _ in range(7)]
    for day, hours in enumerate(week):
        latest = hours[-1][1] if hours else 0
        following = week[(day + 1) % 7]
        earliest = min((s for s, _ in following), default=420)
        if latest < 1439 and earliest > 1 and draw(st.booleans()):
            start = draw(st.integers(max(latest, 1080), 1439))
            hours.append((start, draw(st.integers(1, min(earliest, 420)))))
    return week


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, object], str, date]:
    zone = draw(st.sampled_from(sorted(ANCHORS)))
    anchor = draw(st.sampled_from(ANCHORS[zone]))
    favourites = clock_changes(zone, anchor)
    week = _week(draw, favourites)
    near = st.one_of(st.just(anchor), st.integers(-4, 7).map(lambda d: anchor + timedelta(days=d)))
    holidays = draw(st.sets(near, max_size=3))
    specials = {day: _day_hours(draw, favourites) for day in draw(st.sets(near, max_size=2))}
    return {"week": week, "holidays": holidays, "specials": specials}, zone, anchor


def _hours(pairs: list[tuple[int, int]]) -> tuple[Hours, ...]:
    return tuple(Hours(s * 60, (e if e else 1440) * 60) for s, e in pairs)


def build(spec: dict[str, object], zone: str) -> Calendar:
    week: list[list[tuple[int, int]]] = spec["week"]  # type: ignore[assignment]
    specials: dict[date, list[tuple[int, int]]] = spec["specials"]  # type: ignore[assignment]
    return Calendar(
        zone=zone,
        week=tuple(_hours(day) for day in week),
        holidays=frozenset(spec["holidays"]),  # type: ignore[arg-type]
        special_days=tuple(SpecialDay(day, _hours(h)) for day, h in specials.items()),
    )


def calendar_or_reject(spec: dict[str, object], zone: str) -> Calendar:
    try:
        return build(spec, zone)
    except ValidationError:
        assume(False)  # a night shift overlapping the next day, or no hours at all
        raise


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(case=cases(), data=st.data())
def test_calendar_agrees_with_the_minute_by_minute_reference(
    case: tuple[dict[str, object], str, date], data: st.DataObject
) -> None:
    spec, zone, anchor = case
    calendar = calendar_or_reject(spec, zone)
    ref = Reference(spec, zone, anchor)
    last = len(ref.open)
    # Instants: anywhere, exactly at openings and closings, and within 90 minutes of the
    # clock's jumps (in the skipped and the repeated hour).
    near_jump = st.sampled_from(jumps(zone, anchor)).flatmap(
        lambda j: st.integers(max(j - 90, 0), min(j + 90, last - 1))
    )
    picks = st.one_of(
        st.integers(0, last - 1),
        st.sampled_from(ref.boundaries or [0]),
        near_jump,
    )
    for _ in range(6):
        i = data.draw(picks)
        t = ref.minute(i)
        assert calendar.is_open(t) == ref.is_open(i), t
        opening = ref.next_opening(i)
        if opening is not None:
            assert calendar.next_opening(t) == ref.minute(opening), t
        available = ref.available(i)
        choice = data.draw(st.integers(0, 2))
        if choice == 0 or not available:
            minutes = data.draw(st.integers(0, min(available, 3000)))
        elif choice == 1:  # used up exactly at a closing time
            ends = [b for b in ref.boundaries if b > i and not ref.open[b] and ref.open[b - 1]]
            minutes = ref.elapsed(i, data.draw(st.sampled_from(ends))) if ends else 0
        else:
            minutes = available
        due = ref.add(i, minutes)
        assert due is not None
        d = timedelta(minutes=minutes)
        got = calendar.add(t, d)
        assert got == ref.minute(due), (t, d)
        assert calendar.elapsed(t, got) == d
        j = data.draw(st.integers(i, last))
        assert calendar.elapsed(t, ref.minute(j)) == timedelta(minutes=ref.elapsed(i, j))


@settings(max_examples=max(EXAMPLES // 2, 10), deadline=None)
@given(case=cases(), data=st.data())
def test_add_is_monotonic_in_both_arguments_and_inverted_by_elapsed(
    case: tuple[dict[str, object], str, date], data: st.DataObject
) -> None:
    spec, zone, anchor = case
    calendar = calendar_or_reject(spec, zone)
    start, _ = wall_clock(zone, anchor)
    seconds = st.integers(0, WINDOW_DAYS * 86_400)
    t1, t2 = sorted(start + timedelta(seconds=data.draw(seconds)) for _ in range(2))
    d1, d2 = sorted(timedelta(seconds=data.draw(st.integers(0, 40 * 3600))) for _ in range(2))
    try:
        a11, a12, a21 = calendar.add(t1, d1), calendar.add(t1, d2), calendar.add(t2, d1)
    except ValidationError:
        assume(False)  # sparse calendars may run out of business time for years
        raise
    assert a11 <= a12 and a11 <= a21
    assert a11 >= t1
    assert calendar.elapsed(t1, a11) == d1
    assert calendar.elapsed(t1, a12) == d2
    assert calendar.add_many([t1, t2], [d1, d1]) == [a11, a21]
    assert calendar.elapsed_many([t1, t2], a21) == [
        calendar.elapsed(t1, a21),
        calendar.elapsed(t2, a21),
    ]
