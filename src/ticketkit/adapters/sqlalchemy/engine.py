"""Engines tuned for ticketkit: SQLite with WAL and a writer at a time, PostgreSQL on psycopg 3.

SQLite engines start write transactions with ``BEGIN IMMEDIATE``: a writer takes the lock up
front, so two writers queue on ``busy_timeout`` instead of failing half-way. Read-only
transactions opt into a plain ``BEGIN`` through the ``SQLITE_BEGIN`` execution option.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

BUSY_TIMEOUT_MS = 10_000
#: SQLite's WAL pages between automatic checkpoints (SQLite's own default is 1,000, 4 MB).
#: A checkpoint copies each page changed since the last one back into the database file and
#: syncs it, paid by the commit that crosses the mark. Ten times the interval copies a page
#: written by many commits (an index's right-hand end, the ticket counter) once instead of
#: up to ten times: one unit of work per ticket ran 8-10 % faster. The price: a WAL file
#: of typically up to 40 MB, and a checkpoint every few hundred tickets that takes about 0.1 s.
WAL_AUTOCHECKPOINT_PAGES = 10_000
_MAX_PRAGMA_INT = 2**31 - 1
#: Connection execution option choosing how the SQLite "begin" hook starts a transaction:
#: ``"immediate"`` (the default: take the write lock now), ``"deferred"`` (read snapshot) or
#: ``"none"`` (no transaction: each statement reads on its own, for read-only units of work).
SQLITE_BEGIN = "ticketkit_sqlite_begin"


_encode_json = json.JSONEncoder().encode


def json_dumps(value: Any) -> str:
    """``json.dumps`` for JSON columns, with the empty dict and list (most custom fields and
    delivery lists) answered without the encoder's setup."""
    if not value:
        if type(value) is dict:
            return "{}"
        if type(value) is list:
            return "[]"
    return _encode_json(value)


_DECODER = json.JSONDecoder()
_decode_json = _DECODER.decode
#: The decoder's scanner (C), which its ``decode`` calls; not in the type stubs.
_scan_json: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def _decode_text(data: str) -> Any:
    """One JSON text by the decoder's (C) scanner itself: ``decode`` adds two Python calls
    and a whitespace match per value, which stored JSON (ours, or PostgreSQL's output)
    never needs. Anything else (whitespace around, extra data, an error) goes to
    ``decode``, which answers or raises as ``json.loads`` does."""
    try:
        value, end = _scan_json(data, 0)
    except StopIteration:
        return _decode_json(data)
    return value if end == len(data) else _decode_json(data)


def json_loads(data: str | bytes | bytearray | memoryview) -> Any:
    """``json.loads`` for JSON columns (PostgreSQL hands over UTF-8 bytes, SQLite text), with
    the empty dict and list answered directly: every ticket row carries three JSON values,
    and listing a page reads dozens of them."""
    if type(data) is str:
        if data == "{}":
            return {}
        if data == "[]":
            return []
        return _decode_text(data)
    if not isinstance(data, bytes | bytearray | memoryview):
        # As json.loads does: SQLAlchemy's SQLite JSON reader relies on this TypeError to
        # pass through numbers that SQLite's NUMERIC affinity stored as numbers.
        raise TypeError(f"the JSON object must be str or bytes, not {type(data).__name__}")
    raw = bytes(data)
    if raw == b"{}":
        return {}
    if raw == b"[]":
        return []
    # What json.loads does with UTF-8 bytes, without first sniffing for UTF-16 and -32.
    return _decode_text(raw.decode("utf-8", "surrogatepass"))


def _sqlite_connect_hook(in_memory: bool, checkpoint: int) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Hand transaction control to SQLAlchemy (the pysqlite recipe): the driver must not
        # emit its own BEGIN, ours is emitted by the "begin" hook below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute(f"PRAGMA wal_autocheckpoint={checkpoint}")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    return on_connect


def _sqlite_begin(conn: Connection) -> None:
    mode = conn.get_execution_options().get(SQLITE_BEGIN, "immediate")
    if mode == "none":
        return
    conn.exec_driver_sql("BEGIN" if mode == "deferred" else "BEGIN IMMEDIATE")


def is_in_memory(engine: Engine) -> bool:
    """Whether ``engine`` is an SQLite database that lives in memory (one connection)."""
    return engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")


def create_sqlite_engine(
    path: str | Path | None,
    *,
    wal_autocheckpoint: int = WAL_AUTOCHECKPOINT_PAGES,
    **kwargs: Any,
) -> Engine:
    """An SQLite engine on a file (WAL, foreign keys on) or, for ``None``, in memory.

    ``wal_autocheckpoint`` is the number of WAL pages after which a commit checkpoints (see
    ``WAL_AUTOCHECKPOINT_PAGES``; 0 turns automatic checkpoints off, for a host that runs
    ``PRAGMA wal_checkpoint`` itself). An in-memory database lives on one pooled
    connection, so its units of work take turns: other threads wait for it, and a second
    one in the same thread fails at once.
    """
    if isinstance(wal_autocheckpoint, bool) or not isinstance(wal_autocheckpoint, int):
        raise TypeError(
            f"wal_autocheckpoint: expected a number of pages, got {wal_autocheckpoint!r}"
        )
    if not 0 <= wal_autocheckpoint <= _MAX_PRAGMA_INT:
        # SQLite reads the pragma as a C int: larger values would silently turn it off.
        raise ValueError(
            f"wal_autocheckpoint: expected 0 to {_MAX_PRAGMA_INT} pages, got {wal_autocheckpoint}"
        )
    in_memory = path is None or str(path) == ":memory:"
    options: dict[str, Any] = {
        "connect_args": {"check_same_thread": False},
        "json_serializer": json_dumps,
        "json_deserializer": json_loads,
        "hide_parameters": True,
    }
    if in_memory:
        url = "sqlite://"
        options.update(
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=0,
            pool_timeout=BUSY_TIMEOUT_MS / 1000,
        )
    else:
        url = URL.create("sqlite+pysqlite", database=str(path)).render_as_string()
        # Each connection keeps its own page cache, and empties it when another connection
        # has written since it last read. The pool's default hands out the connection idle
        # longest: once the delivery thread had opened a second one, a caller's units of
        # work alternated between the two and re-read every page they touched. The one
        # returned last is warm: units of work of one ticket each, timed alone, ran about
        # 10 % faster.
        options["pool_use_lifo"] = True
    options.update(kwargs)
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _sqlite_connect_hook(in_memory, wal_autocheckpoint))
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def create_postgres_engine(url: str | URL, **kwargs: Any) -> Engine:
    """A PostgreSQL engine on psycopg 3 (``postgresql://`` URLs are switched to it)."""
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    # No pool_pre_ping by default: it costs a round trip per unit of work. Pass
    # ``pool_pre_ping=True`` (or ``pool_recycle``) where idle connections get dropped.
    options: dict[str, Any] = {
        "json_serializer": json_dumps,
        "json_deserializer": json_loads,
        # Parameters are user data (names, e-mails, text): not for logs and tracebacks.
        "hide_parameters": True,
    }
    options.update(kwargs)
    return create_engine(parsed, **options)


__all__ = [
    "SQLITE_BEGIN",
    "WAL_AUTOCHECKPOINT_PAGES",
    "create_postgres_engine",
    "create_sqlite_engine",
    "is_in_memory",
    "json_dumps",
    "json_loads",
]


def create_engine_from_url(url: str | URL, **kwargs: Any) -> Engine:
    """An engine for a database URL: ``sqlite:///file`` (``sqlite://``: in memory) or
    ``postgresql://...``; ``ValueError`` for any other database."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return create_sqlite_engine(parsed.database or None, **kwargs)
    if parsed.get_backend_name() == "postgresql":
        return create_postgres_engine(parsed, **kwargs)
    raise ValueError(f"ticketkit runs on SQLite or PostgreSQL, not {parsed.drivername!r}")
