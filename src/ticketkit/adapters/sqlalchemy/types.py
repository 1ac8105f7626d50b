"""ticketkit's column types: the same values on SQLite and PostgreSQL.

Times are timezone-aware UTC on both (``timestamptz``; fixed-width UTC text on SQLite, which
sorts as time), ids are ``uuid.UUID`` (native on PostgreSQL, text parsed once on SQLite),
text compares by code point, and JSON is ``JSONB`` on PostgreSQL.
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Dialect, String, Uuid
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.types import TypeDecorator, TypeEngine


class _SQLiteUTCText(DATETIME):
    """SQLite's side of ``UTCDateTime``: fixed-width naive UTC text
    (``YYYY-MM-DD HH:MM:SS.ffffff``), which sorts and compares as time; read back as an aware
    UTC datetime by the C-implemented ``fromisoformat``."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)  # type: ignore[no-untyped-call]

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            # Parsed with its offset appended, the text comes back aware (``UTC`` itself) in
            # one call: a sixth of the cost of parsing it naive and then ``replace``-ing.
            return None if value is None else parse(value + "+00:00")

        return process


def as_utc(value: datetime) -> datetime:
    """A stored time as aware UTC: a driver's naive datetime is UTC already (ticketkit
    writes only UTC), an aware one is converted."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _utc_text(value: datetime) -> str:
    """SQLite's form of a UTC datetime: ``YYYY-MM-DD HH:MM:SS.ffffff``, the same text as
    ``isoformat(" ", "microseconds")`` without its "+00:00" (which costs twice as much)."""
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031 - the fastest formatting
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


#: UTC datetime -> its text. One operation stamps all the rows it writes with one time (a
#: ticket's three times, its comments, events and notifications), and a batch writes its
#: rows table by table, so each time comes back several times, spread over the whole batch.
_TEXTS: dict[datetime, str] = {}
_TEXTS_MAX = 4096


def _utc_text_cached(value: datetime) -> str:
    text = _TEXTS.get(value)
    if text is None:
        if len(_TEXTS) >= _TEXTS_MAX:
            _TEXTS.clear()
        text = _TEXTS[value] = _utc_text(value)
    return text


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes in, aware UTC datetimes out.

    PostgreSQL stores ``timestamptz``; SQLite stores naive UTC text, which sorts and compares
    correctly because every value is normalised to UTC before it is written.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return _SQLiteUTCText()
        return dialect.type_descriptor(DateTime(timezone=True))

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        to_text = self.process_bind_param

        def process(value: datetime | None) -> str | None:
            # The common case (already UTC) without TypeDecorator's indirection.
            if value is not None and value.tzinfo is UTC:
                return _utc_text_cached(value)
            text: str | None = to_text(value, dialect)
            return text

        return process

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.name == "sqlite":
            # The dialect's text type (``_SQLiteUTCText`` or a host dialect's own) answers
            # aware UTC already, without TypeDecorator's indirection (every ticket row
            # carries three or four times).
            return self.impl_instance.result_processor(dialect, coltype)
        return super().result_processor(dialect, coltype)

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is not UTC:
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"datetime {value!r} must be timezone-aware")
            value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return _utc_text(value)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(value)


#: Ids read back from text (SQLite rows, JSON): tenants, projects, people and organisations
#: repeat on every row, so each text is parsed once.
parse_uuid = functools.lru_cache(maxsize=16384)(uuid.UUID)


class Id(Uuid[uuid.UUID]):
    """``Uuid`` that parses each textual id once (on SQLite, where ids are stored as text);
    PostgreSQL's native uuid needs no parsing."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        if dialect.supports_native_uuid and self.native_uuid:
            return super().result_processor(dialect, coltype)  # type: ignore[no-untyped-call]
        parse = parse_uuid

        def process(value: str | None) -> uuid.UUID | None:
            return None if value is None else parse(value)

        return process


def text_type() -> TypeEngine[str]:
    """Text that orders by code point: PostgreSQL compares with the "C" collation, so
    ordering and ranges match Python's comparison (and SQLite's BINARY collation)."""
    return String().with_variant(String(collation="C"), "postgresql")


def json_type() -> TypeEngine[Any]:
    """JSON, stored as ``JSONB`` on PostgreSQL."""
    return JSON().with_variant(JSONB(), "postgresql")


__all__ = ["Id", "UTCDateTime", "json_type", "parse_uuid", "text_type"]
