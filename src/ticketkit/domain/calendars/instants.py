"""Instants and durations as integer microseconds since the epoch (UTC): the conversions
and checks every calendar operation starts with."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from ticketkit.errors import ValidationError

_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


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
