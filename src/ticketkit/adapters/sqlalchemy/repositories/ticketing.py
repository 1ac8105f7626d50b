"""The SQL repositories of ticketing: tickets (updates checked against the stored version,
and the pages of a ticket list read one index range per value), their comments and their
history events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    UnaryExpression,
    bindparam,
    func,
    select,
    union_all,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import ReadOnlyColumnCollection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.selectable import Alias

from ticketkit.adapters.sqlalchemy import tables
from ticketkit.adapters.sqlalchemy.compile import _guard, _plain, column
from ticketkit.adapters.sqlalchemy.mapping import COMMENTS, EVENTS, TICKETS
from ticketkit.domain.events import Event
from ticketkit.domain.model import Comment, Ticket
from ticketkit.errors import Conflict
from ticketkit.policy.predicates import And, In, Predicate, all_of
from ticketkit.ports.repositories import (
    CommentRepository,
    EventRepository,
    OrderBy,
    TicketRepository,
)

if TYPE_CHECKING:
    from ticketkit.adapters.sqlalchemy.unit_of_work import SqlUnitOfWork, Staged


_t = tables.tickets
_UPDATE_TICKET = _t.update().where(
    _t.c.tenant_id == bindparam("w_tenant"),
    _t.c.id == bindparam("w_id"),
    _t.c.version == bindparam("w_version"),
)


class Tickets(TicketRepository):
    """Tickets: buffered adds, updates checked against the stored version at once."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def next_number(self, project_id: UUID) -> int:
        return self._uow._next_number(project_id)

    def add(self, ticket: Ticket) -> None:
        self._uow._stage(TICKETS, ticket)
        self._uow._followers.opened(ticket.id)

    def get(self, ident: UUID, *, for_update: bool = False) -> Ticket | None:
        uow = self._uow
        found = uow._get_for_update(ident) if for_update else uow._get(TICKETS, ident)
        return found.copy() if found is not None else None

    def update(self, ticket: Ticket, *, expected_version: int) -> None:
        uow = self._uow
        uow._check_tenant(ticket)
        staged: Staged[Ticket] = uow._staged[TICKETS.kind]
        buffered = staged.added.get(ticket.id)
        if buffered is not None:
            if buffered.version != expected_version:
                raise Conflict("Ticket", ticket.id, expected_version)
            staged.added[ticket.id] = ticket
            return
        params = TICKETS.to_row(uow._conv, ticket)
        del params["tenant_id"], params["id"]
        params.update(w_tenant=uow.tenant_id, w_id=ticket.id, w_version=expected_version)
        if uow._connector.writer().execute(_UPDATE_TICKET, params).rowcount != 1:
            raise Conflict("Ticket", ticket.id, expected_version)
        staged.known[ticket.id] = ticket

    def query(self, where: Predicate, order: Sequence[OrderBy], limit: int) -> list[Ticket]:
        if limit < 0:
            raise ValueError("limit: must not be negative")
        uow = self._uow
        split = _split(where) if order else None
        if split is None:
            # PostgreSQL plans a list of many values by its own statistics (a LATERAL read
            # of each value's cut range was measured: docs/performance.md, issue 18).
            if order and uow._connector.engine.dialect.name == "sqlite":
                through = _many(where, order)
                if through is not None:
                    return self._query_pinned(through, where, order, limit)
            return self._query_plain(where, order, limit)
        # One index range per value, read in its index's order; the page is the first
        # ``limit`` rows of them all (``_split_page``), the statement kept per shape.
        rest, attr, values = split
        uow._flush(TICKETS)
        dialect = uow._connector.engine.dialect.name
        plain = sorted((_plain(v) for v in values if v is not None), key=str)
        shape = (len(plain), None in values, tuple(order), limit)
        stmt = _kept(
            ("split", dialect, uow.tenant_id, rest, attr, *shape),
            lambda: _split_page(
                uow._where(_t, rest),
                attr,
                count=len(plain),
                with_none=None in values,
                order=order,
                limit=limit,
                dialect=dialect,
            ),
        )
        return self._page(stmt, {f"split_{i}": value for i, value in enumerate(plain)})

    def _query_plain(self, where: Predicate, order: Sequence[OrderBy], limit: int) -> list[Ticket]:
        """The page of one statement, kept per tenant, predicate (its values included),
        order and limit: a person's first page is the same statement call after call, and
        one built anew costs SQLAlchemy its construction, its cache key and the extraction
        of its parameters each time (a fifth to a third of a guest's page on SQLite)."""
        uow = self._uow
        uow._flush(TICKETS)
        dialect = uow._connector.engine.dialect.name
        stmt = _kept(
            ("plain", dialect, uow.tenant_id, where, tuple(order), limit),
            lambda: (
                select(_t).where(uow._where(_t, where)).order_by(*_ticket_order(order)).limit(limit)
            ),
        )
        return self._page(stmt)

    def _page(self, stmt: Select[Any], params: dict[str, Any] | None = None) -> list[Ticket]:
        """The tickets ``stmt`` reads, in its order (``all()`` fetches them in one call)."""
        uow = self._uow
        conv = uow._conv
        rows = uow._connector.reader().execute(stmt, params).all()
        return [TICKETS.from_row(conv, row) for row in rows]

    def _query_pinned(
        self, source: Alias, where: Predicate, order: Sequence[OrderBy], limit: int
    ) -> list[Ticket]:
        """The page read off ``source``'s index (``_pinned``): SQLite reads each value's
        range in the index's order and leaves it once the page cannot gain from it, then
        sorts the few rows read."""
        uow = self._uow
        uow._flush(TICKETS)
        table = cast(Table, source)  # an alias of the tickets answers the same columns
        stmt = (
            select(source)
            .where(uow._where(table, where))
            .order_by(*_ticket_order(order, source.c))
            .limit(limit)
        )
        return self._page(stmt)

    def count(self, where: Predicate) -> int:
        uow = self._uow
        uow._flush(TICKETS)
        stmt = select(func.count()).select_from(_t).where(uow._where(_t, where))
        return int(uow._connector.reader().execute(stmt).scalar_one())


#: Columns whose "one of several values" filter a ticket list splits into one index range
#: per value (a customer's projects, the unsolved categories, a few statuses or assignees):
#: no index yields the rows of several values in one sort order, so the database would
#: otherwise read and sort every matching ticket to find the first page.
_SPLIT_COLUMNS = ("project_id", "status_category", "status", "assignee_id")
#: More values than this are read as one range and sorted.
_MAX_SPLIT = 32


def _split(where: Predicate) -> tuple[Predicate, str, frozenset[object]] | None:
    """The first ``In`` of ``_SPLIT_COLUMNS`` among the conjuncts of ``where``, and the
    rest of ``where``; None when there is none to split."""
    parts = where.parts if isinstance(where, And) else (where,)
    for attr in _SPLIT_COLUMNS:
        for i, part in enumerate(parts):
            if isinstance(part, In) and part.attr == attr and len(part.values) <= _MAX_SPLIT:
                return all_of(*parts[:i], *parts[i + 1 :]), attr, part.values
    return None


#: Page statements by what shapes them: a split page's (``_split_page``) with its values
#: aside, a plain page's (``Tickets._query_plain``) with them. At most ``_PAGES_LIMIT``;
#: a full map starts again empty.
_PAGES: dict[tuple[Any, ...], Select[Any]] = {}
_PAGES_LIMIT = 1024


def _kept(key: tuple[Any, ...], build: Callable[[], Select[Any]]) -> Select[Any]:
    """The statement kept for ``key``, built (and kept) the first time."""
    stmt = _PAGES.get(key)
    if stmt is None:
        if len(_PAGES) >= _PAGES_LIMIT:
            _PAGES.clear()
        stmt = _PAGES[key] = build()
    return stmt


def _split_page(
    rest: ColumnElement[bool],
    attr: str,
    *,
    count: int,
    with_none: bool,
    order: Sequence[OrderBy],
    limit: int,
    dialect: str,
) -> Select[Any]:
    """The first page of the tickets matching ``rest`` and one of ``count`` values of
    ``attr`` (bound as ``split_0``, ``split_1``, ...; and NULL with ``with_none``): one
    index range per value, read in its index's order. SQLite merges the ranges (MERGE
    (UNION ALL)) and stops at the limit. PostgreSQL plans no merge for a UNION ALL: there
    each range is cut at ``limit`` first, and only those few rows are sorted.

    Built once per shape and kept (``_PAGES``): building a union of 20 arms and
    keying it for SQLAlchemy's statement cache cost some 10 ms a page, its database time
    0.3 ms (docs/performance.md, issue 18); the statement object keeps its cache key."""
    col = column(_t, attr)
    matches: list[ColumnElement[bool]] = [
        _guard(col, col == bindparam(f"split_{i}")) for i in range(count)
    ]
    if with_none:
        matches.append(col.is_(None))
    arms: list[Select[Any]] = []
    for match in matches:
        arm = select(_t).where(rest, match)
        if dialect == "postgresql":
            arm = select(arm.order_by(*_ticket_order(order)).limit(limit).subquery())
        arms.append(arm)
    merged = union_all(*arms).subquery()
    return select(merged).order_by(*_ticket_order(order, merged.c)).limit(limit)


class _IndexedBy(Alias):
    """The tickets table read through one named index (SQLite's ``INDEXED BY``); other
    databases see the plain table. The index is the subclass's, so it is part of the
    statement's cache key."""

    inherit_cache = True
    index = ""


@compiles(_IndexedBy)
def _render_plain(element: _IndexedBy, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.preparer.format_table(element.element)


@compiles(_IndexedBy, "sqlite")
def _render_indexed_by(element: _IndexedBy, compiler: SQLCompiler, **kw: Any) -> str:
    if not kw.get("asfrom"):
        return compiler.preparer.format_table(element.element)
    table = compiler.preparer.format_table(element.element)
    return f"{table} INDEXED BY {compiler.preparer.quote(element.index)}"


def _through(index: str) -> Alias:
    """The tickets, read through ``index`` on SQLite (under the table's own name)."""
    attrs_ = {"index": index, "inherit_cache": True}
    cls: type[_IndexedBy] = type(f"_IndexedBy_{index}", (_IndexedBy,), attrs_)
    return cls._construct(_t, name=_t.name)


#: The list indexes led by a split column, by (column, sort column): ``(tenant_id, column,
#: sort, id)``.
_PER_VALUE_INDEXES: dict[tuple[str, str], Alias] = {
    (cols[1], cols[2]): _through(str(ix.name))
    for ix in _t.indexes
    if len(cols := [c.name for c in ix.columns]) == 4
    and cols[0] == "tenant_id"
    and cols[1] in ("project_id", "status_category", "status", "assignee_id")
    and cols[3] == "id"
}


def _many(where: Predicate, order: Sequence[OrderBy]) -> Alias | None:
    """For ``where``'s filter to more values of a split column than ``_MAX_SPLIT`` (no
    None among them), the tickets read through the index ``(tenant_id, column, sort, id)``
    that serves ``order`` (SQLite); None when there is none.

    Without statistics SQLite reads such a list off the tenant-wide index in the sort
    order and filters, which stops early only while the values hold many of the tenant's
    tickets (51 of 51 projects: 0.08 ms; 20 small old ones: 30 ms on 100,000 tickets).
    Through the per-value index it reads each value's range in the sort order and leaves
    it as soon as the page cannot gain from it: 0.1-0.2 ms whatever their share.
    """
    keys = [o.attr for o in order]
    if keys[-1] == "id":
        keys.pop()
    if len(keys) != 1 or keys[0] == "id":
        return None
    parts = where.parts if isinstance(where, And) else (where,)
    for attr in _SPLIT_COLUMNS:
        for part in parts:
            if isinstance(part, In) and part.attr == attr and None not in part.values:
                found = _PER_VALUE_INDEXES.get((attr, keys[0]))
                if found is not None:
                    return found
    return None


def _ticket_order(
    order: Sequence[OrderBy], source: ReadOnlyColumnCollection[str, Any] = _t.c
) -> list[UnaryExpression[Any]]:
    """ORDER BY for ``order`` over ``source`` (the tickets' columns, or a union's), ties
    broken by id (as every list index ends).

    NULLs sort as if greater than every value, the same way on SQLite and PostgreSQL.
    """
    clauses: list[UnaryExpression[Any]] = []
    for o in order:
        column(_t, o.attr)  # refuses names the tickets cannot be sorted by
        col = source[o.attr]
        clause = col.desc() if o.descending else col.asc()
        if col.nullable:
            clause = clause.nulls_first() if o.descending else clause.nulls_last()
        clauses.append(clause)
        if o.attr == "id":
            return clauses
    clauses.append(source["id"].asc())
    return clauses


class Comments(CommentRepository):
    """Comments, listed in the order they were written."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def add(self, comment: Comment) -> None:
        self._uow._stage(COMMENTS, comment)

    def get(self, ident: UUID) -> Comment | None:
        return self._uow._get(COMMENTS, ident)

    def for_ticket(self, ticket_id: UUID, where: Predicate) -> list[Comment]:
        return self._uow._select(COMMENTS, where, tables.comments.c.ticket_id == ticket_id)

    def count_by_ticket(self, ticket_ids: Iterable[UUID], where: Predicate) -> dict[UUID, int]:
        ids = list(ticket_ids)
        if not ids:
            return {}
        uow = self._uow
        uow._flush(COMMENTS)
        c = tables.comments
        stmt = (
            select(c.c.ticket_id, func.count())
            .where(uow._where(c, where), c.c.ticket_id.in_(ids))
            .group_by(c.c.ticket_id)
        )
        return {tid: int(n) for tid, n in uow._connector.reader().execute(stmt)}


class Events(EventRepository):
    """History events: common attributes in columns, the rest of each event as JSON."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self._uow = uow

    def add(self, event: Event) -> None:
        self._uow._stage(EVENTS, event)

    def get(self, ident: UUID) -> Event | None:
        return self._uow._get(EVENTS, ident)

    def for_ticket(self, ticket_id: UUID, where: Predicate) -> list[Event]:
        return self._uow._select(EVENTS, where, tables.events.c.ticket_id == ticket_id)


__all__ = [
    "Comments",
    "Events",
    "Tickets",
]
