"""A calendar compiled per local year into sorted UTC intervals with running sums of business
time, cached and shared between equal calendars; the arithmetic (``add``, elapsed time, next
opening) is bisection on those lists."""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import attrs

from ticketkit.domain.calendars.instants import _EPOCH_ORDINAL, _US, _instant, _micros
from ticketkit.domain.calendars.values import DAY
from ticketkit.errors import ValidationError

if TYPE_CHECKING:
    from ticketkit.domain.calendars.model import Calendar

#: A calendar that yields no business time for this many years in a row is refused while
#: searching (its holidays close every open day): an error, never an endless loop.
MAX_CLOSED_YEARS = 10
#: Year blocks kept per calendar; older ones are rebuilt on demand.
MAX_CACHED_YEARS = 16


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
