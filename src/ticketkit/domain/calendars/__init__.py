"""Business-hour calendars: when a support team works, and exact business-time arithmetic.

A :class:`Calendar` is a frozen value: a weekly schedule of local wall-clock hours in an IANA
time zone, holidays (explicit dates and regional ones from the ``holidays`` package) and
special days with hours of their own. Every SLA clock stands on its four operations:
``is_open``, ``next_opening``, ``add`` and ``elapsed`` (and their batch forms).

How it is fast: per calendar and year, the opening hours are turned once into sorted UTC
intervals (integer microseconds) with running sums of business time; every question is then
answered by bisection. Nothing steps through minutes or days. The semantics are written down
in ``docs/calendars.md``; the property tests hold this package to a minute-by-minute
reference.

The parts: ``values`` (the inputs and their validation), ``instants`` (datetimes as integer
microseconds), ``years`` (the compiled years and their arithmetic), ``model`` (``Calendar``)
and ``serialization`` (the storage form).
"""

from ticketkit.domain.calendars.model import Calendar
from ticketkit.domain.calendars.serialization import calendar_from_dict, calendar_to_dict
from ticketkit.domain.calendars.values import (
    DAY,
    WEEKDAYS,
    HolidayRegion,
    Hours,
    HoursInput,
    SpecialDay,
)
from ticketkit.domain.calendars.years import MAX_CACHED_YEARS, MAX_CLOSED_YEARS

__all__ = [
    "DAY",
    "MAX_CACHED_YEARS",
    "MAX_CLOSED_YEARS",
    "WEEKDAYS",
    "Calendar",
    "HolidayRegion",
    "Hours",
    "HoursInput",
    "SpecialDay",
    "calendar_from_dict",
    "calendar_to_dict",
]
