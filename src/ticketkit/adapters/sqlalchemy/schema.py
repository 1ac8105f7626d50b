"""The relational schema of ticketkit: its own ``MetaData`` so hosts can migrate it alone.

Every table leads its primary key and every index with ``tenant_id``; references between
tables are composite ``(tenant_id, ...)`` foreign keys, so no row can point across tenants.
Foreign keys are ``DEFERRABLE INITIALLY DEFERRED``: the storage adapter buffers inserts and
flushes one table at a time, and the database checks every reference at commit.
"""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Dialect,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.dialects.sqlite import DATETIME
from sqlalchemy.types import TypeDecorator, TypeEngine

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class _SQLiteUTCText(DATETIME):
    """SQLite's side of ``UTCDateTime``: fixed-width ISO text (``YYYY-MM-DD HH:MM:SS.ffffff``),
    which sorts and compares as time; parsed with the C-implemented ``fromisoformat``."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)  # type: ignore[no-untyped-call]

    def bind_processor(self, dialect: Dialect) -> None:
        return None

    def result_processor(self, dialect: Dialect, coltype: object) -> Any:
        parse = datetime.fromisoformat

        def process(value: str | None) -> datetime | None:
            return None if value is None else parse(value)

        return process


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
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


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


def _text() -> TypeEngine[str]:
    # PostgreSQL compares with the "C" collation so ordering and ranges match Python's
    # code-point comparison (and SQLite's BINARY collation) on every backend.
    return String().with_variant(String(collation="C"), "postgresql")


def _json() -> TypeEngine[Any]:
    return JSON().with_variant(JSONB(), "postgresql")


def _fk(table: str, local: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id", local],
        [f"{table}.tenant_id", f"{table}.id"],
        deferrable=True,
        initially="DEFERRED",
    )


def _tenant_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["tenant_id"], ["tenants.tenant_id"], deferrable=True, initially="DEFERRED"
    )


def _ids() -> list[Column[Any]]:
    return [
        Column("tenant_id", Id(), nullable=False),
        Column("id", Id(), nullable=False),
    ]


def _ordinal() -> Column[int]:
    # An increasing stamp the adapter writes in insertion order: listings come out in the
    # order rows were written, as they do from the memory adapter.
    return Column("ordinal", BigInteger(), nullable=False)


tenants = Table(
    "tenants",
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("name", _text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id"),
)

ticket_counters = Table(
    "ticket_counters",
    metadata,
    Column("tenant_id", Id(), nullable=False),
    Column("last_number", BigInteger(), nullable=False),
    PrimaryKeyConstraint("tenant_id"),
    _tenant_fk(),
    CheckConstraint("last_number >= 0", name="last_number_not_negative"),
)

organisations = Table(
    "organisations",
    metadata,
    *_ids(),
    Column("name", _text(), nullable=False),
    Column("kind", _text(), nullable=False),
    Column("parent_id", Id(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    _ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    _tenant_fk(),
    _fk("organisations", "parent_id"),
    Index(None, "tenant_id", "parent_id"),
)

persons = Table(
    "persons",
    metadata,
    *_ids(),
    Column("organisation_id", Id(), nullable=False),
    Column("name", _text(), nullable=False),
    Column("email", _text(), nullable=False),
    Column("role", _text(), nullable=False),
    Column("active", Boolean(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    _ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    _fk("organisations", "organisation_id"),
    Index(None, "tenant_id", "organisation_id"),
)

projects = Table(
    "projects",
    metadata,
    *_ids(),
    Column("organisation_id", Id(), nullable=False),
    Column("name", _text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    _ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    _fk("organisations", "organisation_id"),
    Index(None, "tenant_id", "organisation_id"),
)

ticket_types = Table(
    "ticket_types",
    metadata,
    *_ids(),
    Column("name", _text(), nullable=False),
    Column("fields", _json(), nullable=False),
    Column("description_template", _text(), nullable=False),
    Column("workflow", _json(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    _ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    _tenant_fk(),
)

tickets = Table(
    "tickets",
    metadata,
    *_ids(),
    Column("number", BigInteger(), nullable=False),
    Column("project_id", Id(), nullable=False),
    Column("type_id", Id(), nullable=False),
    Column("title", _text(), nullable=False),
    Column("description", _text(), nullable=False),
    Column("fields", _json(), nullable=False),
    Column("status", _text(), nullable=False),
    Column("status_category", _text(), nullable=False),
    Column("priority", _text(), nullable=False),
    Column("requester_id", Id(), nullable=False),
    Column("assignee_id", Id(), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("public_updated_at", UTCDateTime(), nullable=False),
    Column("version", Integer(), nullable=False),
    Column("event_seq", Integer(), nullable=False),
    Column("comment_tally", _json(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    UniqueConstraint("tenant_id", "number"),
    _fk("projects", "project_id"),
    _fk("ticket_types", "type_id"),
    _fk("persons", "requester_id"),
    _fk("persons", "assignee_id"),
    CheckConstraint("number > 0", name="number_positive"),
    CheckConstraint("version > 0", name="version_positive"),
    Index(None, "tenant_id", "project_id", "number"),
    Index(None, "tenant_id", "assignee_id", "number"),
    Index(None, "tenant_id", "status_category", "number"),
    Index(None, "tenant_id", "requester_id", "number"),
    Index(None, "tenant_id", "updated_at", "number"),
    Index(None, "tenant_id", "public_updated_at", "number"),
)

comments = Table(
    "comments",
    metadata,
    *_ids(),
    Column("ticket_id", Id(), nullable=False),
    Column("author_id", Id(), nullable=False),
    Column("organisation_id", Id(), nullable=False),
    Column("body", _text(), nullable=False),
    Column("visibility", _text(), nullable=False),
    Column("channel", _text(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    _ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    _fk("tickets", "ticket_id"),
    _fk("persons", "author_id"),
    Index(None, "tenant_id", "ticket_id", "visibility", "organisation_id"),
)

events = Table(
    "events",
    metadata,
    *_ids(),
    Column("ticket_id", Id(), nullable=False),
    Column("seq", Integer(), nullable=False),
    Column("kind", _text(), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor_id", Id(), nullable=False),
    Column("organisation_id", Id(), nullable=False),
    Column("visibility", _text(), nullable=False),
    Column("data", _json(), nullable=False),
    _ordinal(),
    PrimaryKeyConstraint("tenant_id", "id"),
    _fk("tickets", "ticket_id"),
    Index(None, "tenant_id", "ticket_id", "seq"),
)

notifications = Table(
    "notifications",
    metadata,
    *_ids(),
    Column("event_id", Id(), nullable=False),
    Column("ticket_id", Id(), nullable=False),
    Column("recipient_id", Id(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status", _text(), nullable=False),
    Column("attempts", Integer(), nullable=False),
    Column("last_error", _text(), nullable=True),
    Column("delivered_to", _json(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "id"),
    _fk("tickets", "ticket_id"),
    _fk("persons", "recipient_id"),
    Index(None, "tenant_id", "status", "created_at", "id"),
)

__all__ = [
    "NAMING_CONVENTION",
    "UTCDateTime",
    "comments",
    "events",
    "metadata",
    "notifications",
    "organisations",
    "persons",
    "projects",
    "tenants",
    "ticket_counters",
    "ticket_types",
    "tickets",
]
